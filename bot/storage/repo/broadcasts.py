"""Broadcasts and their deliveries: the durable outbox the sender works through.

Life of a delivery row: pending → claimed (reserved by one worker) → sending (a platform call may
be in flight) → sent | pending again (retry) | failed | blocked | quota | uncertain; pending/claimed →
cancelled. A row in "sending" is never handed out again: if its worker died, nobody knows whether the
message arrived, and a duplicate is worse than a gap we report: it becomes "uncertain" (see
`recover_stale_deliveries`), which staff may choose to re-send (`requeue_uncertain`). `parts_sent`
counts the platform messages of a multi-part message already confirmed, so a retry sends only the rest.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, DateTime, func, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import User, utcnow
from bot.storage.models_staff import (
    BLOCKED,
    CANCELLED,
    CLAIMED,
    FAILED,
    PENDING,
    QUOTA,
    SENDING,
    SENT,
    UNCERTAIN,
    Broadcast,
    Delivery,
)
from bot.storage.repo.workers import is_dead

ACTIVE = ("scheduled", "sending")
AUDIENCE_KEYS = ("province", "sector", "role")
INTERRUPTED = "worker stopped during sending; outcome unknown, not re-sent so nobody gets it twice"


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class FileData:
    filename: str
    mime: str
    data: bytes


@dataclass(frozen=True)
class DeliveryJob:
    """A claimed delivery: who to message for which broadcast."""

    id: int
    broadcast_id: int
    user_id: int
    channel: str
    chat_id: str
    attempts: int
    parts_sent: int = 0


@dataclass(frozen=True)
class BroadcastContent:
    id: int
    kind: str
    survey_id: str | None
    text: str
    attachment: FileData | None


@dataclass(frozen=True)
class BroadcastReport:
    """Progress of one broadcast; the counts always add up to `total`."""

    id: int
    kind: str
    survey_id: str | None
    status: str
    text: str
    created_by: str
    audience: dict[str, str]
    send_at: datetime
    finished_at: datetime | None
    total: int
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def pending(self) -> int:
        return sum(self.counts.get(k, 0) for k in (PENDING, CLAIMED, SENDING))

    def count(self, status: str) -> int:
        return self.counts.get(status, 0)


def clean_audience(audience: dict[str, Any] | None) -> dict[str, str]:
    """Only known, non-empty filters; {} means every subscriber."""
    return {k: str(v) for k, v in (audience or {}).items() if k in AUDIENCE_KEYS and v}


def _audience_where(audience: dict[str, str]) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [User.subscribed.is_(True), User.blocked.is_(False)]
    columns = {"province": User.province, "sector": User.sector, "role": User.role}
    where += [columns[k] == v for k, v in clean_audience(audience).items()]
    return where


async def count_audience(s: AsyncSession, audience: dict[str, Any] | None) -> int:
    """How many people a broadcast with these filters would reach right now."""
    return int(await s.scalar(select(func.count(User.id)).where(*_audience_where(clean_audience(audience)))) or 0)


async def create_broadcast(s: AsyncSession, *, created_by: str, text: str, audience: dict[str, Any] | None,
                           send_at: datetime | None = None, attachment: FileData | None = None,
                           kind: str = "announcement", survey_id: str | None = None) -> int:
    """Create a broadcast and snapshot its recipients: one pending delivery row per person."""
    now = utcnow()
    filters = clean_audience(audience)
    row = Broadcast(created_by=created_by, kind=kind, survey_id=survey_id, text=text, audience=filters,
                    send_at=send_at or now, status="scheduled",
                    attachment_name=attachment.filename if attachment else None,
                    attachment_mime=attachment.mime if attachment else None,
                    attachment_data=attachment.data if attachment else None)
    s.add(row)
    await s.flush()
    recipients = select(literal(row.id), User.id, User.channel, User.chat_id, literal(PENDING), literal(0),
                        literal(now, DateTime(timezone=True))).where(*_audience_where(filters)).order_by(User.id)
    await s.execute(insert(Delivery).from_select(
        ["broadcast_id", "user_id", "channel", "chat_id", "status", "attempts", "next_attempt_at"], recipients))
    row.total = int(await s.scalar(select(func.count(Delivery.id)).where(Delivery.broadcast_id == row.id)) or 0)
    if row.total == 0:
        row.status, row.finished_at = "done", now
    await s.flush()
    return row.id


async def claim_pending_deliveries(s: AsyncSession, worker: str, limit: int, channels: Iterable[str],
                                   *, skip_locked: bool, now: datetime | None = None) -> list[DeliveryJob]:
    """Reserve up to `limit` due rows for `worker`.

    PostgreSQL: `SELECT … FOR UPDATE SKIP LOCKED` so concurrent workers take disjoint rows without
    waiting. SQLite has one writer at a time: the guarded `UPDATE … WHERE status = 'pending'`
    decides, and RETURNING tells us exactly which rows this worker won.
    """
    now = now or utcnow()
    due = (select(Delivery.id).join(Broadcast, Broadcast.id == Delivery.broadcast_id)
           .where(Delivery.status == PENDING, Delivery.next_attempt_at <= now, Delivery.channel.in_(list(channels)),
                  Broadcast.status.in_(ACTIVE), Broadcast.send_at <= now)
           .order_by(Delivery.id).limit(limit))
    if skip_locked:
        ids = list(await s.scalars(due.with_for_update(skip_locked=True, of=Delivery)))
        if not ids:
            return []
        target = Delivery.id.in_(ids)
    else:
        target = Delivery.id.in_(due.correlate(None).scalar_subquery())
    claimed = await s.execute(
        update(Delivery).where(target, Delivery.status == PENDING)
        .values(status=CLAIMED, claimed_by=worker, claimed_at=now)
        .returning(Delivery.id, Delivery.broadcast_id, Delivery.user_id, Delivery.channel, Delivery.chat_id,
                   Delivery.attempts, Delivery.parts_sent))
    jobs = sorted((DeliveryJob(*r) for r in claimed), key=lambda j: j.id)
    await _mark_started(s, {j.broadcast_id for j in jobs}, skip_locked)
    return jobs


async def _mark_started(s: AsyncSession, broadcast_ids: set[int], skip_locked: bool) -> None:
    """scheduled → sending. On PostgreSQL another worker may hold that row: it is doing the same, skip."""
    if not broadcast_ids:
        return
    todo = select(Broadcast.id).where(Broadcast.id.in_(broadcast_ids), Broadcast.status == "scheduled")
    if skip_locked:
        todo = todo.with_for_update(skip_locked=True)
    ids = list(await s.scalars(todo))
    if ids:
        await s.execute(update(Broadcast).where(Broadcast.id.in_(ids)).values(status="sending"))


async def mark_sending(s: AsyncSession, delivery_id: int, worker: str) -> bool:
    """Written before the platform call. False if the row was cancelled or taken away meanwhile."""
    result = await s.execute(update(Delivery).where(Delivery.id == delivery_id, Delivery.status == CLAIMED,
                                                    Delivery.claimed_by == worker)
                             .values(status=SENDING, attempts=Delivery.attempts + 1, claimed_at=utcnow()))
    return result.rowcount == 1  # type: ignore[attr-defined]


async def mark_sending_many(s: AsyncSession, delivery_ids: list[int], worker: str) -> set[int]:
    """`mark_sending` for several rows in one statement; returns the ids that were still this worker's."""
    result = await s.execute(update(Delivery).where(Delivery.id.in_(delivery_ids), Delivery.status == CLAIMED,
                                                    Delivery.claimed_by == worker)
                             .values(status=SENDING, attempts=Delivery.attempts + 1, claimed_at=utcnow())
                             .returning(Delivery.id))
    return set(result.scalars())


async def unmark_sending(s: AsyncSession, delivery_ids: list[int], worker: str) -> None:
    """Rows marked in flight whose request never started (the worker is stopping): claimed again, with
    the attempt given back, so that `release_claims` hands them to the next worker."""
    await s.execute(update(Delivery).where(Delivery.id.in_(delivery_ids), Delivery.status == SENDING,
                                           Delivery.claimed_by == worker)
                    .values(status=CLAIMED, attempts=Delivery.attempts - 1))


async def _set(s: AsyncSession, delivery_id: int, **values: Any) -> None:
    await s.execute(update(Delivery).where(Delivery.id == delivery_id).values(**values))


async def mark_sent(s: AsyncSession, delivery_id: int, parts: int = 1) -> None:
    await _set(s, delivery_id, status=SENT, sent_at=utcnow(), error=None, parts_sent=parts)


async def mark_part_sent(s: AsyncSession, delivery_id: int, parts_sent: int) -> None:
    """Part `parts_sent` of a multi-part message was confirmed; the row stays in flight."""
    await _set(s, delivery_id, parts_sent=parts_sent)


async def mark_uncertain(s: AsyncSession, delivery_id: int, error: str) -> None:
    """The request went out but no answer came: it may have arrived. Reported, never re-sent blindly."""
    await _set(s, delivery_id, status=UNCERTAIN, error=error[:500], claimed_by=None)


async def mark_retry(s: AsyncSession, delivery_id: int, next_attempt_at: datetime, error: str) -> None:
    """The platform refused for now (429, network): hand the row back, due at `next_attempt_at`."""
    await _set(s, delivery_id, status=PENDING, next_attempt_at=next_attempt_at, error=error[:500],
               claimed_by=None, claimed_at=None)


async def requeue_uncertain(s: AsyncSession, broadcast_id: int) -> int:
    """Staff chose to re-send to recipients whose delivery is uncertain (from the part that was in
    flight). Returns how many; the broadcast is sending again if it had finished."""
    result = await s.execute(update(Delivery).where(Delivery.broadcast_id == broadcast_id,
                                                    Delivery.status == UNCERTAIN)
                             .values(status=PENDING, next_attempt_at=utcnow(), claimed_by=None, claimed_at=None,
                                     error="re-sent at staff request after an uncertain outcome"))
    count = int(result.rowcount or 0)  # type: ignore[attr-defined]
    if count:
        await s.execute(update(Broadcast).where(Broadcast.id == broadcast_id, Broadcast.status == "done")
                        .values(status="sending", finished_at=None))
    return count


async def mark_failed(s: AsyncSession, delivery_id: int, error: str) -> None:
    await _set(s, delivery_id, status=FAILED, error=error[:500])


async def mark_blocked(s: AsyncSession, delivery_id: int, error: str) -> None:
    """The user blocked the bot: this row, their other queued rows, and the user are marked."""
    user_id = await s.scalar(update(Delivery).where(Delivery.id == delivery_id)
                             .values(status=BLOCKED, error=error[:500]).returning(Delivery.user_id))
    if user_id is not None:
        await s.execute(update(User).where(User.id == user_id).values(blocked=True))
        await s.execute(update(Delivery).where(Delivery.user_id == user_id, Delivery.status == PENDING)
                        .values(status=BLOCKED, error="recipient blocked the bot"))


async def mark_quota(s: AsyncSession, delivery_id: int, channel: str, error: str) -> int:
    """The channel's message quota is used up: stop every queued row on it. Returns rows stopped."""
    await _set(s, delivery_id, status=QUOTA, error=error[:500])
    result = await s.execute(update(Delivery).where(Delivery.channel == channel, Delivery.status == PENDING)
                             .values(status=QUOTA, error="channel quota exhausted"))
    return int(result.rowcount or 0) + 1  # type: ignore[attr-defined]


async def defer_delivery(s: AsyncSession, delivery_id: int, until: datetime) -> None:
    """Give back a claimed row untouched (chat pacing), without counting an attempt."""
    await s.execute(update(Delivery).where(Delivery.id == delivery_id, Delivery.status == CLAIMED)
                    .values(status=PENDING, next_attempt_at=until, claimed_by=None, claimed_at=None))


async def release_claims(s: AsyncSession, worker: str) -> int:
    """On shutdown: rows this worker reserved but never attempted go back to the queue."""
    result = await s.execute(update(Delivery).where(Delivery.claimed_by == worker, Delivery.status == CLAIMED)
                             .values(status=PENDING, claimed_by=None, claimed_at=None))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def recover_stale_deliveries(s: AsyncSession, lease: timedelta, now: datetime | None = None) -> tuple[int, int]:
    """Rows held by a worker whose heartbeat is older than `lease` (or that never beat): it is gone.

    Claimed-but-unattempted rows go back to pending (safe). Rows left in "sending" become uncertain:
    the platform may have delivered them, and re-sending could message someone twice.
    """
    dead = is_dead(Delivery.claimed_by, lease, now)
    released = await s.execute(update(Delivery).where(Delivery.status == CLAIMED, dead)
                               .values(status=PENDING, claimed_by=None, claimed_at=None))
    interrupted = await s.execute(update(Delivery).where(Delivery.status == SENDING, dead)
                                  .values(status=UNCERTAIN, error=INTERRUPTED, claimed_by=None))
    return int(released.rowcount or 0), int(interrupted.rowcount or 0)  # type: ignore[attr-defined]


async def finish_completed_broadcasts(s: AsyncSession) -> list[int]:
    """Broadcasts with nothing left in flight become "done"."""
    open_rows = select(Delivery.id).where(Delivery.broadcast_id == Broadcast.id,
                                          Delivery.status.in_((PENDING, CLAIMED, SENDING))).exists()
    ids = list(await s.scalars(select(Broadcast.id).where(Broadcast.status == "sending", ~open_rows)))
    if ids:
        await s.execute(update(Broadcast).where(Broadcast.id.in_(ids)).values(status="done", finished_at=utcnow()))
    return ids


async def cancel_broadcast(s: AsyncSession, broadcast_id: int) -> BroadcastReport | None:
    """Stop a scheduled or running broadcast; rows already being sent finish. None if not cancellable."""
    row = await s.get(Broadcast, broadcast_id)
    if row is None or row.status not in ACTIVE:
        return None
    row.status, row.finished_at = "cancelled", utcnow()
    await s.execute(update(Delivery).where(Delivery.broadcast_id == broadcast_id,
                                           Delivery.status.in_((PENDING, CLAIMED)))
                    .values(status=CANCELLED, claimed_by=None))
    await s.flush()
    return await broadcast_report(s, broadcast_id)


async def get_content(s: AsyncSession, broadcast_id: int) -> BroadcastContent | None:
    row = await s.get(Broadcast, broadcast_id)
    if row is None:
        return None
    attachment = (FileData(row.attachment_name, row.attachment_mime or "application/octet-stream",
                           row.attachment_data) if row.attachment_name and row.attachment_data is not None else None)
    return BroadcastContent(row.id, row.kind, row.survey_id, row.text, attachment)


async def broadcast_report(s: AsyncSession, broadcast_id: int) -> BroadcastReport | None:
    row = await s.get(Broadcast, broadcast_id)
    if row is None:
        return None
    counts = dict((await s.execute(select(Delivery.status, func.count(Delivery.id))
                                   .where(Delivery.broadcast_id == broadcast_id).group_by(Delivery.status))).all())
    return _report(row, {k: int(v) for k, v in counts.items()})


def _report(row: Broadcast, counts: dict[str, int]) -> BroadcastReport:
    return BroadcastReport(row.id, row.kind, row.survey_id, row.status, row.text, row.created_by,
                           dict(row.audience or {}), as_utc(row.send_at),
                           as_utc(row.finished_at) if row.finished_at else None, row.total, counts)


async def list_broadcasts(s: AsyncSession, limit: int = 20) -> list[BroadcastReport]:
    """Newest first, with counts."""
    rows = list(await s.scalars(select(Broadcast).order_by(Broadcast.id.desc()).limit(limit)))
    out = []
    for row in rows:
        counts = dict((await s.execute(select(Delivery.status, func.count(Delivery.id))
                                       .where(Delivery.broadcast_id == row.id).group_by(Delivery.status))).all())
        out.append(_report(row, {k: int(v) for k, v in counts.items()}))
    return out



async def count_open_deliveries(s: AsyncSession, channels: Iterable[str]) -> int:
    """Rows still queued or in flight on these channels, in broadcasts that are not over."""
    return int(await s.scalar(
        select(func.count(Delivery.id)).join(Broadcast, Broadcast.id == Delivery.broadcast_id)
        .where(Delivery.status.in_((PENDING, CLAIMED, SENDING)), Delivery.channel.in_(list(channels)),
               Broadcast.status.in_(ACTIVE))) or 0)
