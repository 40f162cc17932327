"""Greeting, menu, help and contact: the first thing every user sees."""

from __future__ import annotations

from bot.core.flow import MENU_BUTTON, Turn
from bot.core.types import Button, Reply

HELP = (
    "Mình trả lời câu hỏi về Luật Hợp tác xã (2012 và 2023), đăng ký HTX/tổ hợp tác, chính sách hỗ trợ, "
    "quỹ hỗ trợ phát triển HTX và tín dụng. Mỗi câu trả lời đều ghi nguồn văn bản và ngày áp dụng.\n\n"
    "Cách dùng:\n"
    "• Gõ câu hỏi bằng lời của bạn, có dấu hay không dấu đều được.\n"
    "• /menu — menu chính\n"
    "• /dangky — hướng dẫn đăng ký thành lập HTX/THT\n"
    "• /huy — huỷ thao tác đang làm\n"
    "• /lienhe — liên hệ Liên minh HTX"
)


class StartFlow:
    """/start, /menu, /trogiup, /lienhe and the menu buttons."""

    name = "start"
    commands = ("start", "menu", "trogiup", "lienhe", "huy")
    menu_label = None

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
        buttons = []
        # Asking questions is what most people come for: it leads the menu.
        flows = sorted(turn.services.flows.values(), key=lambda f: f.name != "qa")
        for flow in flows:
            if flow.menu_label and (not getattr(flow, "staff_only", False) or turn.is_staff):
                buttons.append(Button(flow.menu_label, f"{flow.name}:start"))
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
        return Reply(HELP, buttons=self.menu_buttons(turn))

    def contact(self, turn: Turn) -> Reply:
        return Reply(f"Bạn có thể liên hệ {turn.services.config.bot.contact}. Cán bộ sẽ hướng dẫn trực tiếp.",
                     buttons=[MENU_BUTTON])
