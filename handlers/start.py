"""Greeting, menu, help and contact: the first thing every user sees."""

from __future__ import annotations

from bot.core.catalogue import Catalogue
from bot.core.flow import MENU_BUTTON, Command, FlowSpec, Turn
from bot.core.types import Button, Reply

HELP_INTRO = (
    "Mình trả lời câu hỏi về Luật Hợp tác xã (2012 và 2023), đăng ký HTX/tổ hợp tác, chính sách hỗ trợ, "
    "quỹ hỗ trợ phát triển HTX và tín dụng. Mỗi câu trả lời đều ghi nguồn văn bản và ngày áp dụng.\n\n"
    "Cách dùng:\n"
    "• Gõ câu hỏi bằng lời của bạn, có dấu hay không dấu đều được."
)
STAFF_HEADING = "Việc của cán bộ:"


def help_text(catalogue: Catalogue, *, staff: bool, group: bool) -> str:
    """The help: how to ask, then every listed command this person may use here (from the flows' specs)."""
    shown = catalogue.listed(staff=staff, group=group)
    lines = [HELP_INTRO, *(f"• /{c.word} — {c.about}" for c in shown if not c.staff)]
    staff_lines = [f"• /{c.word} — {c.about}" for c in shown if c.staff]
    if staff_lines:
        lines += ["", STAFF_HEADING, *staff_lines]
    return "\n".join(lines)


class StartFlow:
    """/start, /menu, /trogiup, /lienhe and the menu buttons; the menu and help come from the catalogue."""

    name = "start"
    spec = FlowSpec(commands=(
        Command("start", "Bắt đầu", typed=("bat dau", "start")), Command("menu", "Menu chính", typed=("menu",)),
        Command("trogiup", "Trợ giúp", typed=("tro giup", "help")), Command("lienhe", "Liên hệ Liên minh HTX"),
        Command("huy", "Huỷ thao tác đang làm", typed=("huy", "huy bo"))))

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue

    async def start(self, turn: Turn, arg: str) -> list[Reply]:
        command = turn.command
        if command == "trogiup":
            return [self.help(turn)]
        if command == "lienhe":
            return [self.contact(turn)]
        if command == "huy":
            turn.finish()
            return [Reply("Không có thao tác nào đang làm dở. Bạn cần gì cứ hỏi nhé.", buttons=self.menu_buttons(turn))]
        turn.finish()
        return [self.menu(turn, greet=command == "start")]

    async def handle(self, turn: Turn) -> list[Reply]:
        turn.finish()
        return [self.menu(turn, greet=False)]

    async def on_button(self, turn: Turn, action: str, arg: str) -> list[Reply]:
        if action == "help":
            return [self.help(turn)]
        if action == "contact":
            return [self.contact(turn)]
        return [self.menu(turn, greet=False)]

    def menu_buttons(self, turn: Turn) -> list[Button]:
        """The menu for this person: the flows with a menu label (Q&A first), contact and help."""
        buttons = [Button(e.label, f"{e.flow}:start") for e in self.catalogue.menu(staff=turn.is_staff)]
        buttons.append(Button("📞 Liên hệ Liên minh HTX", "start:contact"))
        buttons.append(Button("ℹ️ Trợ giúp", "start:help"))
        return buttons

    def menu(self, turn: Turn, greet: bool) -> Reply:
        name = turn.incoming.display_name.strip()
        hello = f"Xin chào {name}! " if greet and name else ("Xin chào! " if greet else "")
        text = (f"{hello}Mình là {turn.services.config.bot.name}, trợ lý về hợp tác xã. "
                "Bạn cứ gõ câu hỏi bằng lời của mình, hoặc chọn một mục dưới đây:")
        return Reply(text, buttons=self.menu_buttons(turn))

    def help(self, turn: Turn) -> Reply:
        text = help_text(self.catalogue, staff=turn.is_staff, group=not turn.incoming.is_private)
        return Reply(text, buttons=self.menu_buttons(turn))

    def contact(self, turn: Turn) -> Reply:
        return Reply(f"Bạn có thể liên hệ {turn.services.config.bot.contact}. Cán bộ sẽ hướng dẫn trực tiếp.",
                     buttons=[MENU_BUTTON])
