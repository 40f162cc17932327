"""The durable broadcast sender: works through delivery rows, paced, surviving crashes.

Each worker loops: claim a batch of due rows (SKIP LOCKED on PostgreSQL, so several workers share the
work), then for every row, in order: mark it "sending" (committed), call `app.send` (the core's
rendering applies: numbered options, file links), and commit the outcome at once. So every
platform call is preceded by a durable "sending" and followed by a durable result.

Crash semantics (at most once per row). Killed between two rows, or with rows claimed but not yet
attempted: those rows are released (on SIGTERM at once, after a crash when their lease expires) and
sent by the next worker; nobody is missed. The one window left is a hard kill *after* the platform
accepted a message and *before* "sent" was committed (milliseconds per row; at most `concurrency`
rows). Such rows stay in "sending"; after the lease they become "failed: interrupted" instead of
being re-sent, because Telegram has no idempotency key and a duplicate is worse than a reported gap.

Outcomes: RetryLater (429, network) → back to pending after `retry_after`, and the overall pace is
halved; other DeliveryError/unexpected errors → exponential backoff; `max_attempts` ends in "failed";
RecipientBlocked → "blocked" (the user too; never retried); QuotaExceeded → "quota" for every row
queued on that channel, and this worker stops using the channel for an hour.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.broadcast.pacing import ChatSpacing, RateLimiter
from bot.broadcast.status import StatusWriter, locked_unit
from bot.core.channel import DeliveryError, QuotaExceeded, RecipientBlocked, RetryLater
from bot.core.render import render_for
from bot.core.types import Attachment, Button, ChatRef, Reply
from bot.storage.models import utcnow
from bot.storage.repo import broadcasts as repo
from bot.storage.repo.broadcasts import BroadcastContent, DeliveryJob

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

SURVEY_BUTTON = "📝 Trả lời khảo sát"
UNSUBSCRIBE_BUTTON = Button("🔕 Tắt thông báo", "profile:unsubscribe")
QUOTA_PAUSE = 3600.0
# Sent as a picture; other images (HEIC, TIFF, SVG…) go as documents, which Telegram's sendPhoto would refuse.
PHOTO_MIMES = frozenset({"image/jpeg", "image/png", "image/webp"})


@dataclass
class SenderOptions:
    batch_size: int = 50
    poll_interval: float = 1.0
    lease: timedelta = timedelta(minutes=5)
    concurrency: int = 0  # 0: derived from the configured rate
    backoff_base: float = 2.0
    backoff_cap: float = 600.0
    exit_when_idle: bool = False  # stop once nothing is queued (cron-style runs, tests, the bench)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def broadcast_reply(content: BroadcastContent, buttons_supported: bool) -> Reply:
    """The message a recipient sees: the text, the file, and what they can do next."""
    attachment = None
    if content.attachment is not None:
        f = content.attachment
        kind = "image" if f.mime in PHOTO_MIMES else "document"
        attachment = Attachment(f.filename, f.data, f.mime, kind)
    if content.kind == "survey" and content.survey_id:
        button = Button(SURVEY_BUTTON, f"survey:start:{content.survey_id}")
        hint = f"Gõ /khaosat {content.survey_id} để bắt đầu trả lời."
    else:
        button, hint = UNSUBSCRIBE_BUTTON, "Gõ /tatthongbao nếu bạn không muốn nhận thông báo nữa."
    if buttons_supported:
        return Reply(content.text, buttons=[button], attachment=attachment)
    return Reply(f"{content.text}\n\n{hint}", attachment=attachment)


class BroadcastSender:
    """One worker. Holds only caches and pacing in memory; every decision is in the database."""

    def __init__(self, app: App, worker_id: str, options: SenderOptions | None = None) -> None:
        cfg = app.config.broadcast
        self.app = app
        self.worker_id = worker_id
        self.options = options or SenderOptions()
        self.limiter = RateLimiter(cfg.rate_per_second)
        self.spacing = ChatSpacing(cfg.per_chat_interval)
        self.max_attempts = max(1, cfg.max_attempts)
        self.concurrency = self.options.concurrency or min(64, max(4, int(cfg.rate_per_second)))
        self.sent = 0
        self._content: dict[int, BroadcastContent | None] = {}
        self._paused: dict[str, float] = {}
        # SQLite has one writer: this process's transactions queue on a lock instead of in SQLite's
        # busy handler, whose growing sleeps would cap throughput far below the configured rate.
        self._write_lock = asyncio.Lock() if app.db.is_sqlite else None
        self.writer = StatusWriter(self._unit)

    def _unit(self) -> contextlib.AbstractAsyncContextManager[AsyncSession]:
        return locked_unit(self._write_lock, self.app.db.unit)

    async def run(self, stop: asyncio.Event) -> None:
        """Send until `stop` is set; then finish the rows in flight and hand back the rest."""
        log.info("broadcast worker %s started", self.worker_id)
        try:
            while not stop.is_set():
                try:
                    busy = await self.step(stop)
                except Exception:
                    log.exception("broadcast worker %s: step failed; retrying", self.worker_id)
                    busy = False
                if not busy and self.options.exit_when_idle and not await self._anything_open():
                    break
                if not busy:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), self.options.poll_interval)
        finally:
            async with self._unit() as s:
                released = await repo.release_claims(s, self.worker_id)
            log.info("broadcast worker %s stopped (%d sent, %d handed back)", self.worker_id, self.sent, released)

    async def step(self, stop: asyncio.Event) -> bool:
        """Recover stale rows, claim one batch and send it. True when there was work."""
        async with self._unit() as s:
            released, interrupted = await repo.recover_stale_deliveries(s, self.options.lease)
            if released or interrupted:
                log.warning("broadcast: %d stale claims released, %d interrupted sends not retried",
                            released, interrupted)
            jobs = await repo.claim_pending_deliveries(s, self.worker_id, self.options.batch_size,
                                                       self._channels(), skip_locked=not self.app.db.is_sqlite)
        if jobs:
            await self._send_batch(jobs, stop)
        async with self._unit() as s:
            for done in await repo.finish_completed_broadcasts(s):
                log.info("broadcast %d finished", done)
        return bool(jobs)

    async def _anything_open(self) -> bool:
        async with self._unit() as s:
            return await repo.count_open_deliveries(s, self._channels()) > 0

    def _channels(self) -> list[str]:
        now = time.monotonic()
        return [name for name in self.app.channels if self._paused.get(name, 0.0) <= now]

    async def _send_batch(self, jobs: list[DeliveryJob], stop: asyncio.Event) -> None:
        slots = asyncio.Semaphore(self.concurrency)
        tasks: list[asyncio.Task[None]] = []
        for job in jobs:
            if stop.is_set():
                break  # the rest stay claimed and are handed back by run()
            reply = await self._reply_for(job)
            if reply is None or not await self._may_send_now(job):
                continue
            await slots.acquire()
            await self.limiter.acquire(self._message_count(job.channel, reply))
            self.spacing.note(job.channel, job.chat_id)
            task = asyncio.create_task(self._deliver(job, reply))
            task.add_done_callback(lambda _t: slots.release())
            tasks.append(task)
        if tasks:
            await asyncio.gather(*tasks)

    async def _may_send_now(self, job: DeliveryJob) -> bool:
        """Quota-stopped channel or a chat messaged too recently: settle the row without sending."""
        if self._paused.get(job.channel, 0.0) > time.monotonic():
            await self.writer.apply(lambda s: repo.mark_quota(s, job.id, job.channel, "channel quota exhausted"))
            return False
        wait = self.spacing.wait_needed(job.channel, job.chat_id)
        if wait > 0:
            until = utcnow() + timedelta(seconds=wait)
            await self.writer.apply(lambda s: repo.defer_delivery(s, job.id, until))
            return False
        return True

    async def _reply_for(self, job: DeliveryJob) -> Reply | None:
        if job.broadcast_id not in self._content:
            async with self._unit() as s:
                self._content[job.broadcast_id] = await repo.get_content(s, job.broadcast_id)
        content = self._content[job.broadcast_id]
        if content is None:
            async with self._unit() as s:
                await repo.mark_failed(s, job.id, "broadcast no longer exists")
            return None
        return broadcast_reply(content, self.app.capabilities(job.channel).buttons)

    def _message_count(self, channel: str, reply: Reply) -> int:
        """Platform messages this reply becomes: text parts plus the file."""
        return len(render_for(reply, self.app.capabilities(channel))) + (1 if reply.attachment else 0)

    async def _deliver(self, job: DeliveryJob, reply: Reply) -> None:
        try:
            if not await self.writer.apply(lambda s: repo.mark_sending(s, job.id, self.worker_id)):
                return  # cancelled meanwhile
        except Exception:
            log.exception("broadcast: could not mark delivery %d as sending; not sent", job.id)
            return
        try:
            # One stored copy of the announcement's file for all recipients (it is not personal data).
            await self.app.send(ChatRef(job.channel, job.chat_id), reply, file_owner=f"broadcast:{job.broadcast_id}")
        except Exception as exc:  # every failure is recorded on the row
            failure = exc
        else:
            failure = None
        if failure is not None:
            await self._settle(job, lambda s: self._record_failure(s, job, failure))
            return
        await self._settle(job, lambda s: repo.mark_sent(s, job.id))
        self.sent += 1
        self.limiter.recover()

    async def _settle(self, job: DeliveryJob, change: Callable[[AsyncSession], Awaitable[Any]]) -> None:
        """Record the outcome; if the database refuses, the row stays "sending" (never re-sent)."""
        try:
            await self.writer.apply(change)
        except Exception:
            log.exception("broadcast: outcome of delivery %d not recorded", job.id)

    async def _record_failure(self, s: AsyncSession, job: DeliveryJob, exc: Exception) -> None:
        attempts = job.attempts + 1
        error = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, RecipientBlocked):
            await repo.mark_blocked(s, job.id, error)
        elif isinstance(exc, QuotaExceeded):
            self._paused[job.channel] = time.monotonic() + QUOTA_PAUSE
            stopped = await repo.mark_quota(s, job.id, job.channel, error)
            log.warning("broadcast: %s quota exhausted; %d deliveries stopped", job.channel, stopped)
        elif attempts >= self.max_attempts:
            await repo.mark_failed(s, job.id, error)
        else:
            delay = self._retry_delay(exc, attempts)
            await repo.mark_retry(s, job.id, utcnow() + timedelta(seconds=delay), error)
        if not isinstance(exc, DeliveryError):
            log.error("broadcast: unexpected error sending delivery %d", job.id, exc_info=exc)

    def _retry_delay(self, exc: Exception, attempts: int) -> float:
        if isinstance(exc, RetryLater):
            self.limiter.slow_down()
            return max(0.0, exc.retry_after)
        return min(self.options.backoff_cap, self.options.backoff_base * 2 ** (attempts - 1))


async def run_broadcast_worker(app: App, stop: asyncio.Event, worker_id: str,
                               options: SenderOptions | None = None) -> None:
    """Run one worker over every channel registered on `app` until `stop` is set."""
    await BroadcastSender(app, worker_id, options).run(stop)


def start_background_worker(app: App, options: SenderOptions | None = None) -> asyncio.Task[None]:
    """A worker beside the bot (`htxbot run …`). Cancelling the task stops it gracefully: rows in
    flight are finished and recorded, claimed rows are handed back."""
    stop = asyncio.Event()
    inner = asyncio.ensure_future(run_broadcast_worker(app, stop, worker_name(), options))

    async def supervise() -> None:
        try:
            await asyncio.shield(inner)
        except asyncio.CancelledError:
            stop.set()
            await inner
            raise

    return asyncio.create_task(supervise(), name="broadcast-worker")
