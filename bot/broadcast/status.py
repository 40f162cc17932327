"""Group commit for delivery status changes.

Every platform call must be preceded by a committed "sending" and followed by a committed outcome.
One commit per change costs an fsync each on SQLite, which caps a worker near 100 messages/s. Send
tasks therefore hand their change to a `StatusWriter` and wait for it: changes that arrive while a
commit is running are committed together in the next transaction. Each task still waits for its
own change to be durable, so the at-most-once reasoning in `sender.py` is unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

Change = Callable[[AsyncSession], Awaitable[Any]]
UnitFactory = Callable[[], contextlib.AbstractAsyncContextManager[AsyncSession]]


class StatusWriter:
    """Commits queued changes in batches; `apply` returns when the caller's change is committed."""

    def __init__(self, unit: UnitFactory, max_batch: int = 200) -> None:
        self._unit = unit
        self._max_batch = max_batch
        self._queue: list[tuple[Change, asyncio.Future[Any]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def apply(self, change: Change) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append((change, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_all())
        return await future

    async def _flush_all(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[: self._max_batch], self._queue[self._max_batch:]
            try:
                async with self._unit() as s:
                    results = [await change(s) for change, _ in batch]
            except Exception as exc:  # noqa: BLE001 — every waiter learns that its change was not saved
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)

    async def close(self) -> None:
        if self._flusher is not None:
            with contextlib.suppress(Exception):
                await self._flusher


class WriteLock:
    """A FIFO lock whose urgent waiters go first: recording that a message went out (which closes the
    window in which a crash would send it again) must not queue behind a row of conversation turns."""

    def __init__(self) -> None:
        self._held = False
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._normal: deque[asyncio.Future[None]] = deque()

    @contextlib.asynccontextmanager
    async def hold(self, urgent: bool = False) -> AsyncIterator[None]:
        if self._held or self._urgent or self._normal:
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            (self._urgent if urgent else self._normal).append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._pass_on()  # it was handed to us as we were cancelled: hand it on
                else:
                    (self._urgent if urgent else self._normal).remove(waiter)
                raise
        else:
            self._held = True
        try:
            yield
        finally:
            self._pass_on()

    def _pass_on(self) -> None:
        for queue in (self._urgent, self._normal):
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    waiter.set_result(None)  # still held: ownership moves to the waiter
                    return
        self._held = False


@contextlib.asynccontextmanager
async def locked_unit(lock: WriteLock | None, unit: UnitFactory, urgent: bool = False) -> AsyncIterator[AsyncSession]:
    """A unit of work, taken under `lock` when given (SQLite: one writer per process at a time)."""
    async with contextlib.AsyncExitStack() as stack:
        if lock is not None:
            await stack.enter_async_context(lock.hold(urgent))
        yield await stack.enter_async_context(unit())


_WRITE_LOCKS: weakref.WeakKeyDictionary[Any, WriteLock] = weakref.WeakKeyDictionary()


def write_lock_for(db: Any) -> WriteLock | None:
    """SQLite has one writer: this process's write transactions (turns, inbox, broadcaster) queue on one
    asyncio lock instead of in SQLite's busy handler, whose growing sleeps cap throughput. None on
    PostgreSQL (row locks there)."""
    if not getattr(db, "is_sqlite", False):
        return None
    lock = _WRITE_LOCKS.get(db)
    if lock is None:
        lock = _WRITE_LOCKS[db] = WriteLock()
    return lock
