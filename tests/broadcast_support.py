"""Helpers for broadcast tests and the bench: a timestamping fake Telegram server, seeding users,
driving a worker to completion, and the observed send rate.

The Telegram adapter wraps PTB's AIORateLimiter, whose default overall cap is 30 messages/s (the real
platform's). The broadcaster paces itself, so tests that configure a faster pace lift PTB's cap with
`telegram.max_rate_per_second = 0`.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bot.app import App
from bot.broadcast.sender import BroadcastSender
from bot.storage.repo import broadcasts, users
from tests.fakes.telegram_server import ApiCall, FakeTelegramServer

FIRST_CHAT = 100_000


class TimedFakeTelegram(FakeTelegramServer):
    """The fake Bot API, also noting when each call arrived (monotonic seconds)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.times: dict[int, float] = {}

    def _record(self, call: ApiCall) -> None:
        self.times[id(call)] = time.monotonic()
        super()._record(call)

    def send_times(self) -> list[float]:
        """Arrival times of every sendMessage attempt, accepted or refused."""
        return sorted(self.times[id(c)] for c in self.calls_to("sendMessage"))

    def delivered_chats(self) -> list[int]:
        return [int(c.params["chat_id"]) for c in self.calls_to("sendMessage") if c.status == 200]


async def seed_users(app: App, channel: str, count: int, first: int = FIRST_CHAT) -> list[str]:
    """`count` subscribed users whose chat id equals their user id."""
    ids = [str(first + i) for i in range(count)]
    async with app.db.unit() as s:
        for uid in ids:
            await users.touch_user(s, channel, uid, uid, f"Thành viên {uid}")
    return ids


async def run_until_done(sender: BroadcastSender, broadcast_id: int, timeout: float = 60.0) -> None:
    """Drive one worker step by step until the broadcast has nothing in flight."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        busy = await sender.step(stop)
        async with sender.app.db.unit() as s:
            report = await broadcasts.broadcast_report(s, broadcast_id)
        assert report is not None
        if report.status in ("done", "cancelled"):
            return
        if not busy:  # only retries not yet due: wait for the earliest, bounded
            await _yield_until_due(sender, loop.time() + 0.05)
    raise AssertionError(f"broadcast {broadcast_id} not done within {timeout}s")


async def _yield_until_due(sender: BroadcastSender, until: float) -> None:
    """Retries are scheduled in wall-clock time; give the loop to other tasks until `until`."""
    loop = asyncio.get_running_loop()
    event = asyncio.Event()
    handle = loop.call_at(until, event.set)
    try:
        await event.wait()
    finally:
        handle.cancel()


def max_in_window(times: list[float], window: float = 1.0) -> int:
    """The most sends that started within any `window` seconds."""
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best
