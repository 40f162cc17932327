"""/cauhoimoi: staff go through the review queue in the chat, a few questions at a time, and teach the
bot with one tap: attach a question to an entry, mark it out of scope, or skip it. Typing words while
an item is open searches the knowledge base for other entries. The daily digest is switched here too.
"""

from __future__ import annotations

from bot.admin.actions import Outcome, Staff, attach_question, dismiss, find_item, queue, search_entries, suggestions
from bot.core.flow import MENU_BUTTON, Command, FlowSpec, Turn
from bot.core.types import Button, Reply
from bot.knowledge.model import Entry
from bot.knowledge.overlay import live_knowledge
from bot.storage.repo import digest
from bot.storage.repo.review import QueueItem
from handlers.qa.answers import short_label

PAGE = 3
REASON_LABELS = {"unanswered": "chưa trả lời", "low": "trả lời chưa chắc", "down": "👎", "pick": "chọn «ý bạn là»"}
EMPTY = "🎉 Không còn câu hỏi nào chờ xem lại."
GONE = "Câu hỏi này đã được xử lý hoặc không còn trong danh sách."
FIND_PROMPT = "Gõ vài từ để tìm mục trong kho kiến thức (ví dụ «quỹ hỗ trợ vay»)."


def describe(item: QueueItem) -> str:
    reasons = ", ".join(f"{n} {REASON_LABELS[r]}" for r, n in item.reasons.most_common())
    return f"«{item.example}» — {item.count} lần ({reasons})"


class ReviewFlow:
    """The review queue for staff; private chats only (questions may contain personal details)."""

    name = "review"
    spec = FlowSpec(commands=(Command("cauhoimoi", "Câu hỏi mới cần xem"),), menu_label="📝 Câu hỏi mới cần xem",
                    staff_only=True, private_only=True)

    async def start(self, turn: Turn, arg: str) -> list[Reply]:
        return await self._page(turn, 0)

    async def handle(self, turn: Turn) -> list[Reply]:
        item = await self._current(turn)
        if item is None:
            return await self._page(turn, 0)
        found = search_entries(live_knowledge(turn.services).kb, turn.incoming.text, rank=turn.services.index)
        if not found:
            return [Reply(f"Không tìm thấy mục nào có «{turn.incoming.text.strip()}». {FIND_PROMPT}",
                          buttons=self._nav(turn))]
        return [self._actions(turn, item, found)]

    async def on_button(self, turn: Turn, action: str, arg: str) -> list[Reply]:
        if action in ("start", "page"):
            return await self._page(turn, int(arg) if arg.isdigit() else 0)
        if action == "digest":
            return await self._digest(turn, arg == "on")
        if action == "open":
            item = await find_item(turn.db, turn.services, arg)
            if item is None:
                return [Reply(GONE, buttons=self._nav(turn))]
            turn.begin(self.name, {"key": item.key, "page": turn.state.data.get("page", 0)})
            return [self._actions(turn, item, suggestions(turn.services, item.example))]
        item = await self._current(turn)
        if item is None:
            return [Reply(GONE, buttons=self._nav(turn))]
        if action == "find":
            return [Reply(FIND_PROMPT, buttons=self._nav(turn))]
        if action == "skip":
            return self._after(turn, await dismiss(turn.db, self._staff(turn), item))
        offered = turn.state.data.get("offered", [])
        index = int(arg) if arg.isdigit() else -1
        if action in ("a", "o") and 0 <= index < len(offered):
            outcome = await attach_question(turn.db, turn.services, self._staff(turn), item, offered[index],
                                            out_of_scope=action == "o")
            return self._after(turn, outcome)
        return [Reply(GONE, buttons=self._nav(turn))]

    @staticmethod
    def _staff(turn: Turn) -> Staff:
        return Staff(turn.incoming.channel, turn.incoming.user_id)

    async def _current(self, turn: Turn) -> QueueItem | None:
        key = turn.state.data.get("key") if turn.state.flow == self.name else None
        return await find_item(turn.db, turn.services, key) if key else None

    async def _page(self, turn: Turn, page: int) -> list[Reply]:
        items = await queue(turn.db, turn.services, limit=200)
        turn.begin(self.name, {"page": page})
        subscribed = await digest.is_subscribed(turn.db, turn.incoming.channel, turn.incoming.user_id)
        toggle = Button("🔕 Tắt tin tóm tắt hằng ngày", "review:digest:off") if subscribed else \
            Button("🔔 Nhận tin tóm tắt hằng ngày", "review:digest:on")
        if not items:
            turn.finish()
            return [Reply(EMPTY, buttons=[toggle, MENU_BUTTON])]
        page = min(page, (len(items) - 1) // PAGE)
        shown = items[page * PAGE:(page + 1) * PAGE]
        lines = [f"{page * PAGE + i}. {describe(item)}" for i, item in enumerate(shown, start=1)]
        buttons = [Button(f"✏️ Xử lý câu {page * PAGE + i}", f"review:open:{item.key}")
                   for i, item in enumerate(shown, start=1)]
        if (page + 1) * PAGE < len(items):
            buttons.append(Button("➡️ Xem thêm", f"review:page:{page + 1}"))
        text = f"📝 {len(items)} câu hỏi chờ xem lại (hỏi nhiều nhất trước):\n\n" + "\n".join(lines)
        return [Reply(text, buttons=[*buttons, toggle, MENU_BUTTON])]

    def _actions(self, turn: Turn, item: QueueItem, entries: list[Entry]) -> Reply:
        declines = suggestions(turn.services, item.example, kind="decline", limit=1)
        answers = [e for e in entries if e.kind == "answer"][:4]
        turn.state.data["offered"] = [e.id for e in answers] + [e.id for e in declines]
        buttons = [Button(f"➕ Gắn vào: {short_label(e, 48)}", f"review:a:{i}") for i, e in enumerate(answers)]
        buttons += [Button(f"🚫 Ngoài phạm vi: {short_label(e, 40)}", f"review:o:{len(answers) + i}")
                    for i, e in enumerate(declines)]
        buttons += [Button("🔎 Tìm mục khác", "review:find"), Button("🗑 Bỏ qua câu này", "review:skip"),
                    Button("⬅️ Danh sách", f"review:page:{turn.state.data.get('page', 0)}")]
        text = (f"{describe(item)}\n\nChọn mục trả lời đúng cho câu này, hoặc bấm «Tìm mục khác» rồi gõ vài từ. "
                "Muốn soạn mục mới: dùng trang quản trị (/quantri).")
        return Reply(text, buttons=buttons)

    def _after(self, turn: Turn, outcome: Outcome) -> list[Reply]:
        if outcome.ok:
            turn.state.data.pop("key", None)
        return [Reply(("✅ " if outcome.ok else "⚠️ ") + outcome.message, buttons=self._nav(turn))]

    @staticmethod
    def _nav(turn: Turn) -> list[Button]:
        return [Button("📝 Danh sách câu hỏi", f"review:page:{turn.state.data.get('page', 0)}"), MENU_BUTTON]

    async def _digest(self, turn: Turn, on: bool) -> list[Reply]:
        incoming = turn.incoming
        if on:
            await digest.subscribe(turn.db, incoming.channel, incoming.user_id, incoming.chat_id)
            text = "🔔 Bạn sẽ nhận tin tóm tắt mỗi ngày lúc 17 giờ: số câu bot chưa trả lời trong ngày."
        else:
            await digest.unsubscribe(turn.db, incoming.channel, incoming.user_id)
            text = "🔕 Đã tắt tin tóm tắt hằng ngày."
        return [Reply(text, buttons=self._nav(turn))]
