"""Feedback from members, stored with profile fields for analysis (no identity when anonymous)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models_staff import FeedbackEntry
from bot.storage.repo.users import UserRecord


@dataclass(frozen=True)
class FeedbackRecord:
    id: int
    topic: str
    text: str
    anonymous: bool
    channel: str
    province: str
    sector: str
    role: str
    created_at: datetime


async def save_feedback(s: AsyncSession, user: UserRecord, topic: str, text: str, anonymous: bool) -> int:
    """Store one piece of feedback. Anonymous feedback keeps only province, sector and member/manager:
    commune, channel, staff roles or "runs a cooperative" could point to one person in a small commune."""
    if anonymous:
        role = "manager" if user.role == "manager" else "member"
        row = FeedbackEntry(topic=topic, text=text, anonymous=True, user_id=None, channel="",
                            province=user.province, commune="", sector=user.sector, role=role, runs_coop=False)
    else:
        row = FeedbackEntry(topic=topic, text=text, anonymous=False, user_id=user.id, channel=user.channel,
                            province=user.province, commune=user.commune, sector=user.sector, role=user.role,
                            runs_coop=user.runs_coop)
    s.add(row)
    await s.flush()
    return row.id


async def feedback_by_topic(s: AsyncSession) -> dict[str, list[FeedbackRecord]]:
    """All feedback grouped by topic, oldest first within a topic."""
    rows = await s.scalars(select(FeedbackEntry).order_by(FeedbackEntry.topic, FeedbackEntry.id))
    grouped: dict[str, list[FeedbackRecord]] = {}
    for r in rows:
        grouped.setdefault(r.topic, []).append(FeedbackRecord(r.id, r.topic, r.text, r.anonymous, r.channel,
                                                              r.province, r.sector, r.role, r.created_at))
    return grouped


async def feedback_user_id(s: AsyncSession, feedback_id: int) -> int | None:
    """Who sent it (None when anonymous): for tests and for answering a named sender."""
    return await s.scalar(select(FeedbackEntry.user_id).where(FeedbackEntry.id == feedback_id))
