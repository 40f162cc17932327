"""Shared helpers for the staff-tool tests: a real App on SQLite, a dialogue driver and a
scriptable channel whose send() raises the core's delivery errors."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict, deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.app import App
from bot.config import Config
from bot.core.channel import DeliveryError
from bot.core.types import ChannelCapabilities, ChatRef, Incoming, Reply
from tests.conftest import make_config as base_config

ADMIN = "admin1"


def make_config(tmp_path: Path, **broadcast: Any) -> Config:
    """The shared test config (fixture knowledge base, SQLite in tmp_path) with one admin."""
    config = base_config(tmp_path)
    config.staff.admins = [f"test:{ADMIN}"]
    config.broadcast.rate_per_second = broadcast.get("rate", 1000.0)
    config.broadcast.per_chat_interval = broadcast.get("per_chat", 1.0)
    config.broadcast.max_attempts = broadcast.get("max_attempts", 5)
    return config


class Chat:
    """Talk to the real App as one or more users of the "test" channel."""

    def __init__(self, app: App, channel: str = "test") -> None:
        self.app = app
        self.channel = channel
        self.last: dict[str, list[Reply]] = {}

    async def say(self, user: str, text: str, name: str = "") -> list[Reply]:
        replies = await self.app.handle(Incoming(self.channel, user, user, name or f"Người {user}", text=text))
        self.last[user] = replies
        return replies

    async def press(self, user: str, payload: str) -> list[Reply]:
        replies = await self.app.handle(Incoming(self.channel, user, user, f"Người {user}", payload=payload))
        self.last[user] = replies
        return replies

    async def press_offered(self, user: str, prefix: str) -> list[Reply]:
        """Press the button the bot offered this user last whose payload starts with `prefix`."""
        offered = [p for p in self.payloads(self.last.get(user, [])) if p.startswith(prefix)]
        assert len(offered) == 1, f"{prefix!r} offered {len(offered)} times"
        return await self.press(user, offered[0])

    @staticmethod
    def text(replies: list[Reply]) -> str:
        return "\n".join(r.text for r in replies)

    @staticmethod
    def payloads(replies: list[Reply]) -> list[str]:
        return [b.payload for r in replies for b in r.buttons]


class ScriptedChannel:
    """A channel that records deliveries (with timestamps) and raises scripted errors per chat."""

    def __init__(self, name: str = "test", capabilities: ChannelCapabilities | None = None) -> None:
        self.name = name
        self.capabilities = capabilities or ChannelCapabilities()
        self.delivered: list[tuple[float, str, Reply]] = []
        self.attempts: dict[str, int] = defaultdict(int)
        self.failures: dict[str, deque[DeliveryError]] = defaultdict(deque)
        self._changed = asyncio.Condition()

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def fail(self, chat_id: str, *errors: DeliveryError) -> None:
        self.failures[chat_id].extend(errors)

    async def send(self, ref: ChatRef, reply: Reply) -> None:
        self.attempts[ref.chat_id] += 1
        if self.failures[ref.chat_id]:
            raise self.failures[ref.chat_id].popleft()
        self.delivered.append((time.monotonic(), ref.chat_id, reply))
        async with self._changed:
            self._changed.notify_all()

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(predicate), timeout)

