"""What the composition root wraps around each channel, so adapters stay free of metrics and liveness:
proactive sends counted by outcome, a successful poll or webhook call noted as the channel's liveness."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.core.channel import Channel
from bot.core.types import ChatRef, Reply
from bot.metrics import ChannelLiveness, Metrics


class MeteredChannel:
    """A channel as the core sees it: proactive sends counted by outcome; everything else passes through."""

    def __init__(self, channel: Channel, metrics: Metrics) -> None:
        self._channel = channel
        self._metrics = metrics
        self.name = channel.name
        self.capabilities = channel.capabilities

    async def send(self, ref: ChatRef, reply: Reply) -> None:
        try:
            await self._channel.send(ref, reply)
        except Exception as exc:
            self._metrics.proactive_send(self.name, exc)
            raise
        self._metrics.proactive_send(self.name, None)

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._channel, attr)


def observed_poll(poll: Callable[..., Awaitable[Any]], live: ChannelLiveness) -> Callable[..., Awaitable[Any]]:
    """`poll` (a channel API's getUpdates) that notes each call that returned as a successful poll."""
    async def observed(*args: Any, **kwargs: Any) -> Any:
        result = await poll(*args, **kwargs)  # an idle poll (None) is a success too
        live.last_ok = time.monotonic()
        return result

    return observed


def observed_route(route: web.RouteDef, metrics: Metrics, channel: str) -> web.RouteDef:
    """The channel's webhook route, noting each accepted call as the channel's liveness."""
    async def handler(request: web.Request) -> web.StreamResponse:
        response = await route.handler(request)  # type: ignore[misc]
        if response.status < 400:
            metrics.beat(channel)
        return response

    return web.RouteDef(route.method, route.path, handler, route.kwargs)
