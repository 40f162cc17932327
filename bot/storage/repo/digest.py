"""Staff who opted in to the daily digest, and which days it went out (once, whichever process sends)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.types import ChatRef
from bot.storage.models_knowledge import DigestRun, DigestSubscription


async def is_subscribed(s: AsyncSession, channel: str, user_id: str) -> bool:
    return await s.scalar(select(DigestSubscription.id).where(
        DigestSubscription.channel == channel, DigestSubscription.user_external_id == user_id)) is not None


async def subscribe(s: AsyncSession, channel: str, user_id: str, chat_id: str) -> None:
    if not await is_subscribed(s, channel, user_id):
        s.add(DigestSubscription(channel=channel, user_external_id=user_id, chat_id=chat_id))
        await s.flush()


async def unsubscribe(s: AsyncSession, channel: str, user_id: str) -> None:
    await s.execute(delete(DigestSubscription).where(DigestSubscription.channel == channel,
                                                     DigestSubscription.user_external_id == user_id))


async def subscribers(s: AsyncSession) -> list[tuple[ChatRef, str]]:
    """(where to send, user id) for every subscriber."""
    rows = await s.scalars(select(DigestSubscription).order_by(DigestSubscription.id))
    return [(ChatRef(r.channel, r.chat_id), r.user_external_id) for r in rows]


async def claim_day(s: AsyncSession, day: str) -> bool:
    """True for the one process that sends the digest of `day` (a date, or "date/channel")."""
    try:
        async with s.begin_nested():
            s.add(DigestRun(day=day))
    except IntegrityError:
        return False
    return True
