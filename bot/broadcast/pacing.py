"""Pacing for broadcasts: an overall messages-per-second schedule and per-chat spacing.

Telegram allows about 30 messages/s to different chats and about 1/s to one chat; going faster earns
429 answers. `SharedRate` hands out evenly spaced send slots per platform for the whole deployment (so
any one-second window holds at most `rate` starts, plus one at the boundary), coordinated through the
database on PostgreSQL; a 429 pauses that platform for every worker. `RateLimiter` is the older
per-process limiter, kept for callers that pace something local.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from sqlalchemy import func, update
from sqlalchemy.dialects import postgresql

from bot.storage.db import Database
from bot.storage.models import RateSlot

MIN_FRACTION = 0.1  # never slow below a tenth of the configured rate
RECOVERY_STEPS = 50  # successes needed to climb from half back to full rate


class RateLimiter:
    """Evenly spaced send slots at `rate` messages per second, shared by all send tasks of a worker."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0:
            raise ValueError("broadcast.rate_per_second must be positive")
        self.base = rate
        self.rate = rate
        self._clock = clock
        self._next = 0.0

    async def acquire(self, messages: int = 1) -> None:
        """Wait for a slot for `messages` platform messages (a reply may be split in several)."""
        now = self._clock()
        start = max(now, self._next)
        self._next = start + messages / self.rate
        if start > now:
            await asyncio.sleep(start - now)

    def slow_down(self) -> None:
        """The platform said "too many requests": halve the pace."""
        self.rate = max(self.base * MIN_FRACTION, self.rate / 2)

    def recover(self) -> None:
        """A success: creep back towards the configured rate."""
        if self.rate < self.base:
            self.rate = min(self.base, self.rate + self.base / (2 * RECOVERY_STEPS))


class ChatSpacing:
    """Remembers when each chat was last messaged, to keep `interval` seconds between messages."""

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self._clock = clock
        self._last: dict[tuple[str, str], float] = {}

    def wait_needed(self, channel: str, chat_id: str) -> float:
        """Seconds until this chat may be messaged again (0 when it may be now)."""
        last = self._last.get((channel, chat_id))
        return 0.0 if last is None else max(0.0, last + self.interval - self._clock())

    def note(self, channel: str, chat_id: str) -> None:
        now = self._clock()
        self._last[(channel, chat_id)] = now
        if len(self._last) > 50_000:  # forget chats that are long past their spacing
            self._last = {k: t for k, t in self._last.items() if t + self.interval > now}


class SharedRate:
    """One platform's send rate for the whole deployment: `rate` messages/s across every worker.

    PostgreSQL: a worker reserves a block of evenly spaced slots by moving the platform's `next_at` in
    `rate_slots` forward in one UPDATE (so blocks of different workers never overlap), and waits for
    each slot. SQLite (one process): the same arithmetic in memory. A slot whose time passed by more than
    `MAX_LATE` is dropped rather than used late, so a stalled worker never bursts. A 429 on this platform
    (only) halves this worker's pace, which successes restore (`slow_down`/`recover`); a long retry_after
    (`pause`) moves every worker's next slot past it.
    """

    MAX_LATE = 0.05  # seconds

    def __init__(self, channel: str, rate: float, db: Database | None = None,
                 clock: Callable[[], float] = time.time, interactive: Callable[[], int] | None = None) -> None:
        """`interactive`: how many interactive replies this process has sent on the platform so far;
        each one takes a broadcast slot, so members' answers keep priority within the same rate."""
        if rate <= 0:
            raise ValueError("broadcast.rate_per_second must be positive")
        self.channel = channel
        self.rate = rate
        self.block = max(1, min(100, int(rate / 20)))  # slots reserved per database round trip
        self._db = db
        self._clock = clock
        self._slots: list[float] = []
        self._lock = asyncio.Lock()
        self._local_next = 0.0
        self._local_pause = 0.0
        self._row_ready = False
        self.factor = 1.0  # < 1 after 429s: this worker reserves its slots further apart
        self._interactive = interactive
        self._interactive_seen = interactive() if interactive else 0

    async def acquire(self) -> None:
        """Wait for this platform's next free slot (one platform message)."""
        async with self._lock:
            while True:
                if not self._slots:
                    pace = self.rate * self.factor
                    start = await self._reserve(self.block, pace)
                    self._slots = [start + i / pace for i in range(self.block)]
                slot = self._slots.pop(0)
                now = self._clock()
                if slot + self.MAX_LATE < now:
                    continue  # missed: using it now would crowd the next second
                if self._interactive is not None:
                    sent = self._interactive()
                    if sent > self._interactive_seen:  # a member's answer went out: it had this slot
                        self._interactive_seen += 1
                        continue
                if slot > now:
                    await asyncio.sleep(slot - now)
                return

    async def pause(self, seconds: float) -> None:
        """The platform said "too many requests": no worker sends on it for `seconds`."""
        until = self._clock() + max(seconds, 1.0 / self.rate)
        self._slots.clear()
        if self._db is None:
            self._local_pause = max(self._local_pause, until)
            return
        await self._ensure_row()
        async with self._db.unit() as s:
            await s.execute(update(RateSlot).where(RateSlot.channel == self.channel)
                            .values(paused_until=func.greatest(RateSlot.paused_until, until)))

    def slow_down(self) -> None:
        """A 429: halve this worker's pace on this platform (not below a tenth)."""
        self.factor = max(MIN_FRACTION, self.factor / 2)
        self._slots.clear()

    def recover(self) -> None:
        """A success: creep back towards the configured pace."""
        if self.factor < 1.0:
            self.factor = min(1.0, self.factor + 1 / (2 * RECOVERY_STEPS))

    async def _reserve(self, n: int, pace: float) -> float:
        now = self._clock()
        span = n / pace
        if self._db is None:
            start = max(self._local_next, self._local_pause, now)
            self._local_next = start + span
            return start
        await self._ensure_row()
        async with self._db.unit() as s:
            end = await s.scalar(
                update(RateSlot).where(RateSlot.channel == self.channel)
                .values(next_at=func.greatest(RateSlot.next_at, RateSlot.paused_until, now) + span)
                .returning(RateSlot.next_at))
        return float(end or now + span) - span

    async def _ensure_row(self) -> None:
        if self._row_ready or self._db is None:
            return
        async with self._db.unit() as s:
            await s.execute(postgresql.insert(RateSlot).values(channel=self.channel, next_at=0.0, paused_until=0.0)
                            .on_conflict_do_nothing(index_elements=["channel"]))
        self._row_ready = True
