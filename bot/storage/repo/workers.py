"""Process heartbeats: rows claimed by a worker whose heartbeat is stale belong to nobody and are taken over."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from bot.storage.models import WorkerBeat, utcnow


async def beat(s: AsyncSession, worker: str, now: datetime | None = None) -> None:
    """Record that `worker` is alive (insert or refresh its row, in one statement)."""
    now = now or utcnow()
    dialect = s.bind.dialect.name if s.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(WorkerBeat).values(worker=worker, beat_at=now)
    await s.execute(stmt.on_conflict_do_update(index_elements=["worker"], set_={"beat_at": now}))


async def forget(s: AsyncSession, worker: str) -> None:
    """A worker that stopped cleanly: its row goes (its claims were handed back before)."""
    await s.execute(delete(WorkerBeat).where(WorkerBeat.worker == worker))


def is_dead(claimed_by: InstrumentedAttribute[str | None], lease: timedelta,
            now: datetime | None = None) -> ColumnElement[bool]:
    """SQL condition: the claiming worker has not beaten within `lease` (or never registered)."""
    cutoff = (now or utcnow()) - lease
    alive = select(WorkerBeat.worker).where(WorkerBeat.beat_at >= cutoff)
    return or_(claimed_by.is_(None), claimed_by.not_in(alive))


async def forget_dead_local(s: AsyncSession, hostname: str, pid_alive: Callable[[int], bool]) -> list[str]:
    """Drop the beats of workers on this host whose process is gone (named "host:pid:…"), so that a
    restarted process takes over their rows at once instead of after the lease."""
    gone = []
    for worker in await s.scalars(select(WorkerBeat.worker).where(WorkerBeat.worker.like(f"{hostname}:%"))):
        parts = worker.split(":")
        if len(parts) >= 2 and parts[1].isdigit() and not pid_alive(int(parts[1])):
            gone.append(worker)
    if gone:
        await s.execute(delete(WorkerBeat).where(WorkerBeat.worker.in_(gone)))
    return gone


def pid_alive(pid: int) -> bool:
    """True when a process with this id exists on this machine."""
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
