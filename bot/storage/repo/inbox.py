"""The durable inbox: platform updates stored before they are acknowledged, then handled from here.

Life of a row: pending → claimed (one worker handles it; its replies are recorded with the turn) →
done | rejected. A claimed row whose worker stopped beating goes back to pending; if its replies were
already recorded, the next worker delivers those instead of running the turn again. One user's rows are
handed out in order and never to two workers at once: a row is claimable only while no other row of the
same user is claimed. On PostgreSQL, claims take a transaction-level advisory lock (so that check and
the claim are one step across processes) and `FOR UPDATE SKIP LOCKED`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, exists, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.storage.models import (
    INBOX_CLAIMED,
    INBOX_DONE,
    INBOX_PENDING,
    INBOX_REJECTED,
    InboxUpdate,
    utcnow,
)
from bot.storage.repo.workers import is_dead

_CLAIM_LOCK = 0x68747862  # advisory lock key: one inbox claim at a time across processes ("htxb")


@dataclass(frozen=True)
class InboxItem:
    """An update as received: its platform key, whose it is, and the raw JSON."""

    key: str
    user_key: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class InboxRow:
    """A claimed update."""

    id: int
    channel: str
    update_key: str
    user_key: str
    payload: dict[str, Any]
    attempts: int
    replies: dict[str, Any] | None


async def store(s: AsyncSession, channel: str, items: Sequence[InboxItem]) -> int:
    """Insert updates not seen before (same channel and key: ignored). Returns how many were new."""
    if not items:
        return 0
    now = utcnow()
    rows = [{"channel": channel, "update_key": i.key[:128], "user_key": i.user_key[:128], "payload": i.payload,
             "status": INBOX_PENDING, "attempts": 0, "received_at": now} for i in items]
    dialect = s.bind.dialect.name if s.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(InboxUpdate).values(rows).on_conflict_do_nothing(index_elements=["channel", "update_key"])
    result = await s.execute(stmt)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def claim(s: AsyncSession, worker: str, channel: str, limit: int, *, postgres: bool) -> list[InboxRow]:
    """Reserve up to `limit` pending rows of users who have nothing claimed, oldest first."""
    if postgres:
        await s.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CLAIM_LOCK})
    other = aliased(InboxUpdate)
    busy_user = exists().where(other.channel == InboxUpdate.channel, other.user_key == InboxUpdate.user_key,
                               other.status == INBOX_CLAIMED)
    due = (select(InboxUpdate.id).where(InboxUpdate.status == INBOX_PENDING, InboxUpdate.channel == channel,
                                        ~busy_user)
           .order_by(InboxUpdate.id).limit(limit))
    if postgres:
        ids = list(await s.scalars(due.with_for_update(skip_locked=True, of=InboxUpdate)))
        if not ids:
            return []
        target = InboxUpdate.id.in_(ids)
    else:
        target = InboxUpdate.id.in_(due.scalar_subquery())
    result = await s.execute(
        update(InboxUpdate).where(target, InboxUpdate.status == INBOX_PENDING)
        .values(status=INBOX_CLAIMED, claimed_by=worker, attempts=InboxUpdate.attempts + 1)
        .returning(InboxUpdate.id, InboxUpdate.channel, InboxUpdate.update_key, InboxUpdate.user_key,
                   InboxUpdate.payload, InboxUpdate.attempts, InboxUpdate.replies))
    return sorted((InboxRow(*r) for r in result), key=lambda r: r.id)


async def record_replies(s: AsyncSession, row_id: int, replies: dict[str, Any]) -> None:
    """Keep the turn's rendered replies with the row (called inside the turn's transaction)."""
    await s.execute(update(InboxUpdate).where(InboxUpdate.id == row_id).values(replies=replies))


async def finish(s: AsyncSession, row_ids: Sequence[int]) -> None:
    """Handled and answered."""
    if row_ids:
        await s.execute(update(InboxUpdate).where(InboxUpdate.id.in_(list(row_ids)))
                        .values(status=INBOX_DONE, handled_at=utcnow(), claimed_by=None))


async def reject(s: AsyncSession, row_id: int, error: str) -> None:
    """Cannot be parsed or handled: kept for inspection, never tried again."""
    await s.execute(update(InboxUpdate).where(InboxUpdate.id == row_id)
                    .values(status=INBOX_REJECTED, error=error[:500], handled_at=utcnow(), claimed_by=None))


async def release(s: AsyncSession, worker: str, row_ids: Sequence[int] | None = None) -> int:
    """Hand claimed rows back (shutdown, or a failure worth another try). Returns how many."""
    where = [InboxUpdate.claimed_by == worker, InboxUpdate.status == INBOX_CLAIMED]
    if row_ids is not None:
        where.append(InboxUpdate.id.in_(list(row_ids)))
    result = await s.execute(update(InboxUpdate).where(*where).values(status=INBOX_PENDING, claimed_by=None))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def recover_stale(s: AsyncSession, lease: timedelta) -> int:
    """Rows claimed by workers that stopped beating go back to pending. Returns how many."""
    result = await s.execute(update(InboxUpdate)
                             .where(InboxUpdate.status == INBOX_CLAIMED, is_dead(InboxUpdate.claimed_by, lease))
                             .values(status=INBOX_PENDING, claimed_by=None))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def prune(s: AsyncSession, older_than: timedelta) -> int:
    """Forget handled updates (done or rejected) received more than `older_than` ago. Returns how many."""
    result = await s.execute(delete(InboxUpdate).where(InboxUpdate.status.in_((INBOX_DONE, INBOX_REJECTED)),
                                                       InboxUpdate.received_at < utcnow() - older_than))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def counts(s: AsyncSession, channel: str | None = None) -> dict[str, int]:
    """Rows per status (optionally for one channel)."""
    stmt = select(InboxUpdate.status, func.count(InboxUpdate.id)).group_by(InboxUpdate.status)
    if channel:
        stmt = stmt.where(InboxUpdate.channel == channel)
    return {k: int(v) for k, v in (await s.execute(stmt)).all()}


__all__ = ["INBOX_CLAIMED", "INBOX_DONE", "INBOX_PENDING", "INBOX_REJECTED", "InboxItem", "InboxRow", "claim",
           "counts", "finish", "prune", "record_replies", "reject", "release", "recover_stale", "store"]
