"""The daily digest to staff who opted in: "12 câu chưa trả lời hôm nay", sent once a day by the bot."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, time, timedelta, timezone
from typing import Any

from bot.core.types import Button, Reply
from bot.storage.repo import digest, review

log = logging.getLogger(__name__)
VIETNAM = timezone(timedelta(hours=7))
SEND_AT = time(17, 0)  # Vietnam time: end of the working day
CHECK_SECONDS = 60.0


def digest_text(unanswered: int) -> str:
    if unanswered == 0:
        return "📊 Hôm nay bot đã trả lời được mọi câu hỏi. Không có câu nào chờ xem lại."
    return (f"📊 {unanswered} câu chưa trả lời hôm nay. Gõ /cauhoimoi để xem và dạy bot trả lời, "
            "hoặc mở trang quản trị bằng /quantri.")


def start_of_day(now: datetime) -> datetime:
    local = now.astimezone(VIETNAM)
    return datetime.combine(local.date(), time(0, 0), VIETNAM).astimezone(UTC)


async def send_digest_if_due(app: Any, now: datetime | None = None) -> int:
    """Send today's digest once per channel (across processes) after SEND_AT; returns how many staff got it.

    Each process claims the channels it runs, so staff on Zalo get it even when another process runs
    Telegram."""
    now = now or datetime.now(UTC)
    local = now.astimezone(VIETNAM)
    if local.time() < SEND_AT:
        return 0
    async with app.db.unit() as s:
        claimed = [c for c in sorted(app.channels) if await digest.claim_day(s, f"{local.date().isoformat()}/{c}")]
        if not claimed:
            return 0
        unanswered = await review.count_unanswered_since(s, start_of_day(now))
        targets = [(ref, user) for ref, user in await digest.subscribers(s) if ref.channel in claimed]
    reply = Reply(digest_text(unanswered), buttons=[Button("📝 Xem câu hỏi mới", "review:start")])
    sent = 0
    for ref, user_id in targets:
        try:
            await app.send(ref, reply, owner=user_id)
            sent += 1
        except Exception:  # one unreachable staff member must not stop the others
            log.warning("digest to a %s staff member failed", ref.channel)
    return sent


def start_digest_task(app: Any, check_seconds: float = CHECK_SECONDS) -> asyncio.Task[None]:
    """A task beside the bot (`htxbot run …`) that sends the digest each day; cancel it to stop."""

    async def loop() -> None:
        while True:
            try:
                await send_digest_if_due(app)
            except Exception:  # a database hiccup today must not end tomorrow's digest
                log.exception("daily digest failed")
            await asyncio.sleep(check_seconds)

    return asyncio.create_task(loop(), name="staff-digest")
