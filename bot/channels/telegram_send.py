"""One Bot API send, as Telegram wants it handled: flood waits honoured, migrated groups followed.

- `RetryAfter` (HTTP 429, `parameters.retry_after`): an interactive reply waits the time Telegram asks
  and tries again, a bounded number of times and only for short waits; a proactive send (broadcast)
  gets the error back, because its sender paces and retries on its own.
- `ChatMigrated` (`parameters.migrate_to_chat_id`: a group became a supergroup): the same call goes to
  the new chat id, and `on_migrated` lets the channel remember it for later sends.
"""

from __future__ import annotations

import asyncio
import io
import logging
import warnings
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from telegram.error import ChatMigrated, RetryAfter
from telegram.warnings import PTBDeprecationWarning

log = logging.getLogger(__name__)

MAX_RATE_LIMIT_WAIT = 15.0  # seconds an interactive reply may wait, per 429: updates queue behind it
RATE_LIMIT_ATTEMPTS = 3  # sends of one message in all, when Telegram keeps answering 429

SendMethod = Callable[..., Awaitable[Any]]


def retry_seconds(exc: RetryAfter) -> float:
    """RetryAfter.retry_after is an int or a timedelta depending on PTB_TIMEDELTA; read it quietly."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def send_call(method: SendMethod, chat_id: int | str, kwargs: dict[str, Any], *, wait_on_flood: bool,
                    on_migrated: Callable[[int | str, int], None] | None = None,
                    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> int | str:
    """Make one send call; returns the chat id it finally went to. Re-raises what it does not handle."""
    attempts = 0
    migrations = 0
    while True:
        _rewind(kwargs)  # an upload read by a failed attempt must be sent whole the next time
        try:
            await method(chat_id=chat_id, **kwargs)
            return chat_id
        except ChatMigrated as exc:
            migrations += 1
            if migrations > 1:
                raise
            log.info("telegram: chat %s became supergroup %s; sending there", chat_id, exc.new_chat_id)
            if on_migrated is not None:
                on_migrated(chat_id, exc.new_chat_id)
            chat_id = exc.new_chat_id
        except RetryAfter as exc:
            attempts += 1
            seconds = retry_seconds(exc)
            if not wait_on_flood or attempts >= RATE_LIMIT_ATTEMPTS or seconds > MAX_RATE_LIMIT_WAIT:
                raise
            log.warning("telegram: flood control on chat %s; retrying in %.1fs", chat_id, seconds)
            await sleep(seconds)


def _rewind(kwargs: dict[str, Any]) -> None:
    for value in kwargs.values():
        if isinstance(value, io.BytesIO):
            value.seek(0)
