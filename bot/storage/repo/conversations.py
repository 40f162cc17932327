"""Per-(channel, user) conversation state: the active flow, its data and the options last offered."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import Conversation, ProcessedMessage


@dataclass
class ConversationState:
    """Mutable during a turn; saved at its end."""

    flow: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    options: list[list[str]] = field(default_factory=list)  # [[label, payload], ...]


async def load_conversation(s: AsyncSession, channel: str, user_id: str, lock: bool) -> ConversationState:
    """Load the state, creating the row if needed; with `lock`, hold a row lock (PostgreSQL) for the turn."""
    stmt = select(Conversation).where(Conversation.channel == channel, Conversation.user_external_id == user_id)
    if lock:
        stmt = stmt.with_for_update()
    row = await s.scalar(stmt)
    if row is None:
        try:
            async with s.begin_nested():
                s.add(Conversation(channel=channel, user_external_id=user_id, flow="", data={}, options=[]))
        except IntegrityError:
            pass
        row = await s.scalar(stmt)
        assert row is not None
    return ConversationState(flow=row.flow, data=dict(row.data or {}), options=list(row.options or []))


async def save_conversation(s: AsyncSession, channel: str, user_id: str, state: ConversationState) -> None:
    row = await s.scalar(select(Conversation).where(Conversation.channel == channel,
                                                    Conversation.user_external_id == user_id))
    if row is None:
        row = Conversation(channel=channel, user_external_id=user_id)
        s.add(row)
    row.flow = state.flow
    row.data = state.data
    row.options = state.options


async def offer_options(s: AsyncSession, channel: str, user_id: str, options: list[list[str]]) -> None:
    """Remember options offered outside a turn (an announcement's buttons), unless a flow is active."""
    state = await load_conversation(s, channel, user_id, lock=False)
    if not state.flow:
        state.options = options
        await save_conversation(s, channel, user_id, state)


async def forget_conversation(s: AsyncSession, channel: str, user_id: str) -> None:
    await s.execute(delete(Conversation).where(Conversation.channel == channel,
                                               Conversation.user_external_id == user_id))


async def claim_message(s: AsyncSession, channel: str, message_id: str) -> bool:
    """Record that a platform message is being handled; False if it was handled before."""
    try:
        async with s.begin_nested():
            s.add(ProcessedMessage(channel=channel, message_id=message_id[:128]))
    except IntegrityError:
        return False
    return True
