"""Questions and answers over the knowledge base; the fallback for any free text."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.core.flow import MENU_BUTTON, Command, FlowSpec, Services, Turn
from bot.core.types import Button, Reply
from bot.knowledge.model import TOPICS, Entry
from bot.knowledge.search import SearchResult
from bot.storage.repo.questions import log_question
from bot.text import clean, has_letters
from handlers import answer_rating
from handlers.answers import format_answer, short_label

MAX_QUESTION_CHARS = 500  # longer messages are searched on their beginning only
TOPIC_LABELS = {
    "luat-chung": "Luật Hợp tác xã", "thanh-vien": "Thành viên", "von-tai-chinh": "Vốn, tài chính, phân phối",
    "quan-tri": "Quản trị, đại hội", "dang-ky": "Đăng ký HTX", "to-hop-tac": "Tổ hợp tác",
    "to-chuc-lai": "Giải thể, tổ chức lại", "chinh-sach": "Chính sách hỗ trợ", "quy-tin-dung": "Vốn vay, quỹ, tín dụng",
    "chuong-trinh": "Nghị quyết, chương trình", "dia-phuong": "Số liệu địa phương",
    "sap-xep-2025": "Sắp xếp bộ máy 2025",
}


@dataclass
class Answer:
    """The outcome of asking one question: what the user sees and how it was understood."""

    replies: list[Reply]
    answered: bool
    entry: Entry | None = None
    score: float = 0.0
    normalised: str = ""
    result: SearchResult | None = field(default=None, repr=False)


def examples_hint() -> str:
    return "ví dụ: «lập HTX cần bao nhiêu người», «vay vốn quỹ hỗ trợ HTX», «hồ sơ đăng ký HTX gồm gì»"


def dont_know(services: Services) -> Reply:
    contact = services.config.bot.contact
    return Reply(
        "Xin lỗi, mình chưa có câu trả lời chắc chắn cho câu hỏi này nên không muốn đoán. "
        "Câu hỏi đã được ghi lại để cán bộ bổ sung.\n\n"
        f"Bạn có thể hỏi lại bằng cách khác ({examples_hint()}), xem menu, hoặc liên hệ {contact}.",
        buttons=[MENU_BUTTON, Button("❓ Xem các chủ đề", "qa:topics")],
    )


def entry_reply(services: Services, entry: Entry) -> Reply:
    buttons = []
    by_id = services.index.kb.by_id()
    for rel in entry.related[:2]:
        if rel in by_id:
            buttons.append(Button(short_label(by_id[rel]), f"qa:e:{rel}"))
    buttons.append(MENU_BUTTON)
    return Reply(format_answer(entry), buttons=buttons)


def answer_question(services: Services, text: str) -> Answer:
    """Search and compose the reply. Pure: no storage, so `htxbot ask` can use it too."""
    question = clean(text)[:MAX_QUESTION_CHARS]
    if not has_letters(question):
        reply = Reply("Mình chưa đọc được câu hỏi. Bạn gõ câu hỏi bằng chữ giúp mình nhé, " + examples_hint() + ".",
                      buttons=[MENU_BUTTON])
        return Answer([reply], answered=False)
    result = services.index.search(question)
    normalised = " ".join(result.query_tokens)
    best = result.best
    if best is None:
        top = result.hits[0] if result.hits else None
        return Answer([dont_know(services)], False, None, top.score if top else 0.0, normalised, result)
    entry = best.entry
    if entry.kind == "decline":
        reply = Reply(f"{entry.answer.strip()}\n\nLiên hệ: {services.config.bot.contact}.", buttons=[MENU_BUTTON])
        return Answer([reply], False, entry, best.score, normalised, result)
    reply = entry_reply(services, entry)
    runner = result.runner_up
    if runner is not None and runner.entry.kind == "answer" and entry.kind != "decline":
        # A close second: answer with the best, and ask whether the other one was meant.
        reply = Reply(f"{reply.text}\n\n🔎 Nếu ý bạn là «{short_label(runner.entry)}», hãy chọn bên dưới.",
                      buttons=[Button(short_label(runner.entry), f"qa:e:{runner.entry.id}"), *reply.buttons])
    return Answer([reply], True, entry, best.score, normalised, result)


class QAFlow:
    """Free text → the best knowledge-base answer, or an honest "I don't know" logged for staff."""

    name = "qa"
    spec = FlowSpec(commands=(Command("hoi", "Đặt câu hỏi"),), menu_label="❓ Hỏi đáp về HTX")

    async def start(self, turn: Turn, arg: str) -> list[Reply]:
        if arg:
            return await self._ask(turn, arg)
        return [Reply("Mời bạn gõ câu hỏi bằng lời của mình, có dấu hay không dấu đều được, " + examples_hint() + ".",
                      buttons=[Button("❓ Xem các chủ đề", "qa:topics"), MENU_BUTTON])]

    async def handle(self, turn: Turn) -> list[Reply]:
        return await self._ask(turn, turn.incoming.text)

    async def _ask(self, turn: Turn, text: str) -> list[Reply]:
        if (verdict := await answer_rating.typed_verdict(turn, text)) is not None:  # hook: typed "sai rồi"
            return verdict
        answer = answer_question(turn.services, text)
        entry_id = answer.entry.id if answer.entry else None
        await log_question(turn.db, turn.incoming.channel, turn.incoming.user_id, clean(text), answer.normalised,
                           entry_id, answer.score, answer.answered)
        return await answer_rating.with_rating(turn, text, answer)  # hook: 👍/👎, "did you mean" picks

    async def on_button(self, turn: Turn, action: str, arg: str) -> list[Reply]:
        services = turn.services
        if action == "e":
            entry = services.index.kb.by_id().get(arg)
            if entry is None:
                return [Reply("Nội dung này không còn nữa. Mời bạn hỏi lại.", buttons=[MENU_BUTTON])]
            return [entry_reply(services, entry)]
        if action == "topics":
            present = {e.topic for e in services.index.entries if e.kind == "answer"}
            buttons = [Button(TOPIC_LABELS[t], f"qa:t:{t}") for t in TOPICS if t in present and t in TOPIC_LABELS]
            return [Reply("Chọn một chủ đề:", buttons=[*buttons, MENU_BUTTON])]
        if action == "t":
            entries = [e for e in services.index.entries if e.topic == arg and e.kind == "answer"][:10]
            buttons = [Button(short_label(e), f"qa:e:{e.id}") for e in entries]
            return [Reply(f"Một số câu hỏi về «{TOPIC_LABELS.get(arg, arg)}»:", buttons=[*buttons, MENU_BUTTON])]
        if action == "none":
            return [dont_know(services)]
        return await self.start(turn, "")
