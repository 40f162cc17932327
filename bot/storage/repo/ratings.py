"""Answers shown by the Q&A flow and members' verdicts on them (👍, 👎, a "did you mean" pick)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.privacy import redact_personal
from bot.storage.models_knowledge import AnswerOffer, AnswerRating

MAX_TEXT = 2000
VERDICTS = ("up", "down", "pick")


@dataclass(frozen=True)
class OfferRecord:
    id: int
    channel: str
    user_external_id: str
    question: str
    normalised: str
    entry_id: str | None
    runner_up_id: str | None
    score: float
    created_at: datetime


def as_utc(value: datetime) -> datetime:
    """SQLite returns naive datetimes for timezone-aware columns: they are UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _record(o: AnswerOffer) -> OfferRecord:
    return OfferRecord(o.id, o.channel, o.user_external_id, o.question, o.normalised, o.entry_id,
                       o.runner_up_id, o.score, as_utc(o.created_at))


async def record_offer(s: AsyncSession, channel: str, user_id: str, question: str, normalised: str,
                       entry_id: str | None, runner_up_id: str | None, score: float) -> int:
    """Keep an answer that was shown (ID and phone numbers masked, as in the question log, so both group
    under the same key); its id goes into the rating buttons."""
    offer = AnswerOffer(channel=channel, user_external_id=user_id, question=redact_personal(question[:MAX_TEXT]),
                        normalised=redact_personal(normalised[:MAX_TEXT]), entry_id=entry_id, runner_up_id=runner_up_id,
                        score=score)
    s.add(offer)
    await s.flush()
    return offer.id


async def get_offer(s: AsyncSession, offer_id: int) -> OfferRecord | None:
    offer = await s.get(AnswerOffer, offer_id)
    return _record(offer) if offer else None


async def latest_offer(s: AsyncSession, channel: str, user_id: str, within: timedelta) -> OfferRecord | None:
    """The user's last question (every question gets an offer row), if asked within `within`."""
    offer = await s.scalar(select(AnswerOffer).where(AnswerOffer.channel == channel,
                                                     AnswerOffer.user_external_id == user_id)
                           .order_by(AnswerOffer.id.desc()).limit(1))
    if offer is None or as_utc(offer.created_at) < datetime.now(UTC) - within:
        return None
    return _record(offer)


async def rate(s: AsyncSession, offer: OfferRecord, verdict: str, picked_entry_id: str | None = None) -> bool:
    """Record a verdict; 👍 and 👎 replace each other. False when this verdict was already recorded."""
    if verdict not in VERDICTS:
        raise ValueError(f"unknown verdict {verdict!r}")
    kinds = ("up", "down") if verdict in ("up", "down") else ("pick",)
    existing = await s.scalar(select(AnswerRating).where(AnswerRating.offer_id == offer.id,
                                                         AnswerRating.verdict.in_(kinds)))
    if existing is not None:
        if existing.verdict == verdict and existing.picked_entry_id == picked_entry_id:
            return False
        existing.verdict, existing.picked_entry_id = verdict, picked_entry_id
        existing.created_at = datetime.now(UTC)
        return True
    s.add(AnswerRating(offer_id=offer.id, verdict=verdict, question=offer.question, normalised=offer.normalised,
                       entry_id=offer.entry_id, picked_entry_id=picked_entry_id, channel=offer.channel,
                       user_external_id=offer.user_external_id))
    await s.flush()
    return True


async def rating_counts(s: AsyncSession, since: datetime | None = None) -> dict[str, int]:
    """How many of each verdict (since a moment, or ever)."""
    stmt = select(AnswerRating.verdict, func.count()).group_by(AnswerRating.verdict)
    if since is not None:
        stmt = stmt.where(AnswerRating.created_at >= since)
    return {v: n for v, n in (await s.execute(stmt)).all()}
