"""The staff review queue: questions not answered, answered with low confidence, marked 👎, or resolved
by a "did you mean" pick, grouped by normalised text, most frequent first; and staff decisions on them.

Texts are shown only after `bot.privacy.redact_personal`: members sometimes type ID or phone numbers.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.privacy import redact_personal
from bot.storage.models import QuestionLog
from bot.storage.models_knowledge import AnswerRating, ReviewResolution
from bot.storage.repo.ratings import as_utc

LOOK_BACK = timedelta(days=180)
MAX_ROWS = 5000  # newest signals read per source; the queue is about what members ask now
REASONS = ("unanswered", "low", "down", "pick")


@dataclass
class QueueItem:
    """One group of similar questions waiting for staff."""

    key: str  # short hash of the normalised text: fits in a button payload
    normalised: str
    example: str  # the most recent phrasing, redacted
    count: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    entries: Counter[str] = field(default_factory=Counter)  # entries it was answered with / picked
    last_at: datetime = datetime.min.replace(tzinfo=UTC)

    @property
    def entry_hint(self) -> str | None:
        """The entry members most often got or picked for this question, if any."""
        return self.entries.most_common(1)[0][0] if self.entries else None


def queue_key(normalised: str) -> str:
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()[:12]


async def _resolved_at(s: AsyncSession) -> dict[str, datetime]:
    rows = await s.execute(select(ReviewResolution.normalised, func.max(ReviewResolution.created_at))
                           .group_by(ReviewResolution.normalised))
    return {n: as_utc(at) for n, at in rows.all()}


async def review_queue(s: AsyncSession, low_below: float, limit: int = 50,
                       since: datetime | None = None) -> list[QueueItem]:
    """The queue, most frequent first; a resolved question returns only when asked again after it."""
    since = since or datetime.now(UTC) - LOOK_BACK
    signals: list[tuple[str, str, datetime, str, str | None]] = []
    logged = await s.execute(
        select(QuestionLog.normalised, QuestionLog.raw_text, QuestionLog.created_at, QuestionLog.answered,
               QuestionLog.entry_id)
        .where(QuestionLog.created_at >= since, QuestionLog.normalised != "",
               or_(and_(QuestionLog.answered.is_(False), QuestionLog.entry_id.is_(None)),
                   and_(QuestionLog.answered.is_(True), QuestionLog.score < low_below)))
        .order_by(QuestionLog.id.desc()).limit(MAX_ROWS))
    for normalised, raw, at, answered, entry_id in logged.all():
        signals.append((normalised, raw, as_utc(at), "low" if answered else "unanswered", entry_id))
    rated = await s.execute(
        select(AnswerRating.normalised, AnswerRating.question, AnswerRating.created_at, AnswerRating.verdict,
               AnswerRating.entry_id, AnswerRating.picked_entry_id)
        .where(AnswerRating.created_at >= since, AnswerRating.verdict.in_(("down", "pick")),
               AnswerRating.normalised != "")
        .order_by(AnswerRating.id.desc()).limit(MAX_ROWS))
    for normalised, raw, at, verdict, entry_id, picked in rated.all():
        signals.append((normalised, raw, as_utc(at), verdict, picked if verdict == "pick" else entry_id))
    return _group(signals, await _resolved_at(s))[:limit]


def _group(signals: list[tuple[str, str, datetime, str, str | None]],
           resolved: dict[str, datetime]) -> list[QueueItem]:
    items: dict[str, QueueItem] = {}
    for normalised, raw, at, reason, entry_id in signals:
        if normalised in resolved and at <= resolved[normalised]:
            continue
        item = items.get(normalised)
        if item is None:
            item = items[normalised] = QueueItem(queue_key(normalised), normalised, redact_personal(raw))
        item.count += 1
        item.reasons[reason] += 1
        if entry_id:
            item.entries[entry_id] += 1
        if at > item.last_at:
            item.last_at, item.example = at, redact_personal(raw)
    return sorted(items.values(), key=lambda i: (-i.count, -i.last_at.timestamp(), i.normalised))


async def find_item(s: AsyncSession, key: str, low_below: float) -> QueueItem | None:
    """The queue item with this key, if it is still waiting."""
    return next((i for i in await review_queue(s, low_below, limit=MAX_ROWS) if i.key == key), None)


async def resolve(s: AsyncSession, normalised: str, action: str, entry_id: str | None, created_by: str) -> None:
    """Take a question off the queue (until it is asked again)."""
    s.add(ReviewResolution(normalised=normalised, action=action, entry_id=entry_id, created_by=created_by))
    await s.flush()


async def count_unanswered_since(s: AsyncSession, since: datetime) -> int:
    """Questions the bot could not answer since a moment (declined out-of-scope ones are not counted)."""
    return await s.scalar(select(func.count()).select_from(QuestionLog).where(
        QuestionLog.created_at >= since, QuestionLog.answered.is_(False), QuestionLog.entry_id.is_(None),
        QuestionLog.normalised != "")) or 0
