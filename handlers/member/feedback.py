"""/gopy: anyone leaves feedback at any time: topic (knowledge/feedback/topics.yaml), free text,
and whether to send it anonymously (then only the profile fields are kept, never who sent it)."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.config import PACKAGE_ROOT
from bot.core.flow import MENU_BUTTON as MENU
from bot.core.flow import Command, FlowSpec, Services, Turn
from bot.core.types import Button, Reply
from bot.storage.repo import feedback
from bot.text import clean

MIN_CHARS, MAX_CHARS = 5, 3000


def load_topics(services: Services) -> dict[str, str]:
    """Topic id → label, from the configured knowledge folder, else the shipped one."""
    for folder in (Path(services.config.knowledge.path), PACKAGE_ROOT / "knowledge"):
        path = folder / "feedback" / "topics.yaml"
        if path.is_file():
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            return {str(t["id"]): str(t["label"]) for t in raw.get("topics", [])}
    return {"other": "Ý kiến khác"}


class FeedbackFlow:
    """Topic → text → anonymity → thanks. State: {"step", "topic", "text"}."""

    name = "feedback"
    spec = FlowSpec(commands=(Command("gopy", "Góp ý, kiến nghị", typed=("gop y",)),),
                    menu_label="💬 Góp ý, kiến nghị", private_only=True)

    def __init__(self, services: Services) -> None:
        self.topics = load_topics(services)

    async def start(self, turn: Turn, arg: str) -> list[Reply]:
        turn.begin(self.name, {"step": "topic"})
        buttons = [Button(label, f"feedback:topic:{tid}") for tid, label in self.topics.items()]
        return [Reply("Cảm ơn bạn muốn góp ý! Ý kiến được chuyển tới cán bộ Liên minh HTX để tổng hợp, "
                      "kiến nghị khi đối thoại chính sách. Bạn góp ý về chủ đề nào?", buttons=buttons)]

    async def on_button(self, turn: Turn, action: str, arg: str) -> list[Reply]:
        if action == "start":
            return await self.start(turn, "")
        step = turn.state.data.get("step") if turn.state.flow == self.name else None
        if action == "topic" and step == "topic" and arg in self.topics:
            turn.state.data.update(step="text", topic=arg)
            return [Reply(f"Chủ đề: {self.topics[arg]}. Mời bạn gõ ý kiến của mình (khó khăn, đề xuất…).")]
        if action == "anon" and step == "anonymous":
            return await self._save(turn, anonymous=arg == "yes")
        return [Reply("Lựa chọn này đã cũ. Gõ /gopy để góp ý.", buttons=[MENU])]

    async def handle(self, turn: Turn) -> list[Reply]:
        data = turn.state.data
        text = clean(turn.incoming.text)
        if data.get("step") == "topic":
            return await self.start(turn, "")
        if data.get("step") == "text":
            if len(text) < MIN_CHARS:
                return [Reply("Ý kiến hơi ngắn. Bạn viết rõ hơn một chút nhé.")]
            data.update(step="anonymous", text=text[:MAX_CHARS])
            return [Reply("Bạn muốn gửi kèm tên hay gửi ẩn danh? Khi ẩn danh, mình chỉ giữ tỉnh, lĩnh vực, "
                          "vai trò trong hồ sơ để tổng hợp, không lưu bạn là ai.",
                          buttons=[Button("👤 Gửi kèm tên", "feedback:anon:no"),
                                   Button("🕶 Gửi ẩn danh", "feedback:anon:yes")])]
        return [Reply("Bạn chọn một nút bên dưới nhé.",
                      buttons=[Button(label, payload) for label, payload in turn.state.options] or [MENU])]

    async def _save(self, turn: Turn, anonymous: bool) -> list[Reply]:
        data = turn.state.data
        await feedback.save_feedback(turn.db, turn.user, data["topic"], data["text"], anonymous)
        turn.finish()
        how = "ẩn danh" if anonymous else "kèm tên bạn"
        return [Reply(f"Đã ghi nhận góp ý ({how}) về «{self.topics.get(data['topic'], data['topic'])}». "
                      "Cảm ơn bạn!", buttons=[MENU])]
