"""Pacing for broadcasts: an overall messages-per-second schedule and per-chat spacing.

Telegram allows about 30 messages/s to different chats and about 1/s to one chat; going faster earns
429 answers. The overall limiter hands out evenly spaced send slots (so any one-second window holds
at most `rate` starts, plus one at the boundary); a 429 halves the rate and successes bring it back.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

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
