"""The narrow interface every channel adapter implements."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol

from bot.core.types import ChannelCapabilities, ChatRef, Incoming, Reply

if TYPE_CHECKING:
    from aiohttp import web

# What a user reads when something broke on our side: never silence.
APOLOGY = "Xin lỗi, hệ thống đang gặp sự cố. Bạn vui lòng thử lại sau ít phút."

# The core's entry point as adapters see it: one incoming message in, replies out (already rendered
# for the channel's capabilities by the core).
MessageHandler = Callable[[Incoming], Awaitable[list[Reply]]]


class Channel(Protocol):
    """A messenger adapter: turns platform updates into `Incoming` and `Reply` into platform calls."""

    name: str
    capabilities: ChannelCapabilities

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, ref: ChatRef, reply: Reply) -> None:
        """Deliver one already-rendered reply. Raises `DeliveryError` subclasses on failure."""
        ...

    def web_routes(self) -> list[web.RouteDef]:
        """Routes (webhooks) the composition root mounts on the one shared aiohttp server; [] if none."""
        ...


class DeliveryError(Exception):
    """A send failed. Subclasses tell the broadcaster what to do next."""


class RetryLater(DeliveryError):
    """Rate limited (429) or a transient error: try again after `retry_after` seconds."""

    def __init__(self, retry_after: float, message: str = "") -> None:
        super().__init__(message or f"retry after {retry_after}s")
        self.retry_after = retry_after


class RecipientBlocked(DeliveryError):
    """The user blocked the bot or can no longer be reached (403): stop sending to them."""


class QuotaExceeded(DeliveryError):
    """The platform's message quota for this bot is used up (Zalo's free plan)."""
