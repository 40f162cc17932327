"""The durable broadcast sender: works through delivery rows, paced per platform, surviving crashes.

Each worker loops: claim a batch of due rows (SKIP LOCKED on PostgreSQL, so several workers share the
work), then for each row: wait for the platform's next send slot (one rate per platform for the whole
deployment, see pacing.SharedRate), mark the row "sending" right before its first request, send the
message part by part (recording each confirmed part), and record the outcome. Status writes of all
send tasks are group-committed (status.StatusWriter); each task still waits for its own write.

Crash semantics (at most once per part). Claimed-but-unattempted rows of a dead worker go back to the
queue. A row left "sending" — the request may have reached the platform — becomes *uncertain*: reported
on its own and re-sent only when staff ask (`requeue_uncertain`), because Telegram has no idempotency
key and a duplicate is worse than a reported gap. The same holds for a request that timed out after it
went out (`DeliveryUncertain`). A worker is dead when its heartbeat is older than the lease; a restarted
process on the same machine takes over its predecessor's rows at once.

Outcomes: RetryLater (429, network before sending) → back to pending after `retry_after` (only the
parts not yet sent), and the platform pauses for every worker; other DeliveryError/unexpected errors →
exponential backoff; `max_attempts` ends in "failed"; RecipientBlocked → "blocked" (the user too; never
retried); QuotaExceeded → "quota" for every row queued on that channel, and this worker stops using the
channel for an hour.
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

from bot.broadcast.errors import DeliveryUncertain
from bot.broadcast.pacing import ChatSpacing, SharedRate
from bot.broadcast.status import StatusWriter, locked_unit, write_lock_for
from bot.core.channel import DeliveryError, QuotaExceeded, RecipientBlocked, RetryLater
from bot.core.types import Attachment, Button, ChatRef, Reply
from bot.storage.models import utcnow
from bot.storage.repo import broadcasts as repo
from bot.storage.repo import workers
from bot.storage.repo.broadcasts import BroadcastContent, DeliveryJob

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

SURVEY_BUTTON = "📝 Trả lời khảo sát"
UNSUBSCRIBE_BUTTON = Button("🔕 Tắt thông báo", "profile:unsubscribe")
QUOTA_PAUSE = 3600.0
LONG_PAUSE = 5.0  # a 429 asking for this many seconds or more pauses the platform for every worker
# Sent as a picture; other images (HEIC, TIFF, SVG…) go as documents, which Telegram's sendPhoto would refuse.
PHOTO_MIMES = frozenset({"image/jpeg", "image/png", "image/webp"})


@dataclass
class SenderOptions:
    batch_size: int = 0  # 0: derived from the configured rate
    poll_interval: float = 1.0
    lease: timedelta | None = None  # None: broadcast.lease_seconds
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
        self.heartbeat = max(0.1, cfg.heartbeat_seconds)
        lease = self.options.lease if self.options.lease is not None else timedelta(seconds=cfg.lease_seconds)
        self.lease = max(lease, timedelta(seconds=2 * self.heartbeat))  # a live worker is never taken over
        self.rate = cfg.rate_per_second
        self._rates: dict[str, SharedRate] = {}
        self.spacing = ChatSpacing(cfg.per_chat_interval)
        self.max_attempts = max(1, cfg.max_attempts)
        self.concurrency = self.options.concurrency or min(128, max(4, int(cfg.rate_per_second / 4)))
        self.batch_size = self.options.batch_size or min(500, max(50, int(cfg.rate_per_second)))
        # Rows marked in flight per commit: 1 at ordinary rates (fewest uncertain rows after a crash),
        # more when one commit per message could not keep up with the configured rate.
        self.group = max(1, min(16, int(cfg.rate_per_second // 100)))  # rows marked per commit
        self.sent = 0
        self._content: dict[int, BroadcastContent | None] = {}
        self._parts: dict[tuple[int, str], list[Reply]] = {}
        self._paused: dict[str, float] = {}
        self._in_flight: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(self.concurrency)
        # SQLite has one writer: this process's transactions queue on a lock instead of in SQLite's
        # busy handler, whose growing sleeps would cap throughput far below the configured rate.
        self._write_lock = write_lock_for(app.db)
        self.writer = StatusWriter(lambda: locked_unit(self._write_lock, self.app.db.unit, urgent=True))

    def _unit(self) -> contextlib.AbstractAsyncContextManager[AsyncSession]:
        return locked_unit(self._write_lock, self.app.db.unit)

    def rate_for(self, channel: str) -> SharedRate:
        """This platform's deployment-wide pace (through the database on PostgreSQL)."""
        if channel not in self._rates:
            db = None if self.app.db.is_sqlite else self.app.db
            platform = self.app.channels.get(channel)
            self._rates[channel] = SharedRate(channel, self.rate, db,
                                              interactive=lambda: int(getattr(platform, "interactive_sent", 0)))
        return self._rates[channel]

    async def run(self, stop: asyncio.Event) -> None:
        """Send until `stop` is set; then finish the rows in flight and hand back the rest."""
        log.info("broadcast worker %s started", self.worker_id)
        beating = asyncio.create_task(self._beat_forever())
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
            await self.drain()
            beating.cancel()
            await asyncio.gather(beating, return_exceptions=True)
            async with self._unit() as s:
                released = await repo.release_claims(s, self.worker_id)
                await workers.forget(s, self.worker_id)
                for done in await repo.finish_completed_broadcasts(s):
                    log.info("broadcast %d finished", done)
            log.info("broadcast worker %s stopped (%d sent, %d handed back)", self.worker_id, self.sent, released)

    async def drain(self) -> None:
        """Wait for every send task started so far."""
        while self._in_flight:
            await asyncio.gather(*list(self._in_flight), return_exceptions=True)

    async def _beat_forever(self) -> None:
        while True:
            try:
                async with self._unit() as s:
                    await workers.beat(s, self.worker_id)
            except Exception:  # noqa: BLE001 - a missed beat only risks an early takeover; keep beating
                log.warning("broadcast worker %s: heartbeat failed", self.worker_id)
            await asyncio.sleep(self.heartbeat)

    async def step(self, stop: asyncio.Event) -> bool:
        """Recover rows of dead workers, claim one batch and start sending it. True when there was work.

        Returns once the batch is under way and the pipeline has room, so the next claim overlaps with
        the tail of this batch; `drain()` waits for the rest."""
        async with self._unit() as s:
            await workers.beat(s, self.worker_id)
            if not getattr(self, "_forgot_dead", False):
                self._forgot_dead = True  # once: a restarted process takes over its dead predecessor now
                await workers.forget_dead_local(s, socket.gethostname(), workers.pid_alive)
            released, interrupted = await repo.recover_stale_deliveries(s, self.lease)
            if released or interrupted:
                log.warning("broadcast: %d claims of a stopped worker released, %d sends of it now uncertain",
                            released, interrupted)
            free = self.batch_size - len(self._in_flight)
            jobs = (await repo.claim_pending_deliveries(s, self.worker_id, free, self._channels(),
                                                        skip_locked=not self.app.db.is_sqlite)
                    if free > 0 else [])
        if jobs:
            await self._send_batch(jobs, stop)
        elif self._in_flight:
            await asyncio.wait(list(self._in_flight), return_when=asyncio.FIRST_COMPLETED)
        async with self._unit() as s:
            for done in await repo.finish_completed_broadcasts(s):
                log.info("broadcast %d finished", done)
        return bool(jobs) or bool(self._in_flight)

    async def _anything_open(self) -> bool:
        async with self._unit() as s:
            return await repo.count_open_deliveries(s, self._channels()) > 0

    def _channels(self) -> list[str]:
        now = time.monotonic()
        return [name for name in self.app.channels if self._paused.get(name, 0.0) <= now]

    async def _send_batch(self, jobs: list[DeliveryJob], stop: asyncio.Event) -> None:
        """The pacer. Rows are marked in flight a few at a time (one at ordinary rates) in one commit, the
        next group's commit overlapping the current group's wait for its platform slots; each row's send
        task starts the moment its slot comes (no database wait between slot and request, so the pace
        holds, and at most two groups are marked but not yet sent)."""
        ready: list[tuple[DeliveryJob, list[Reply]]] = []
        for job in jobs:
            if stop.is_set():
                break  # the rest stay claimed and are handed back by run()
            parts = await self._parts_for(job)
            if parts is None or not await self._may_send_now(job):
                continue
            self.spacing.note(job.channel, job.chat_id)  # reserved now: a later row to this chat waits
            ready.append((job, parts))
        groups = [ready[i:i + self.group] for i in range(0, len(ready), self.group)]
        marking = asyncio.create_task(self._mark(groups[0])) if groups else None
        for n, group in enumerate(groups):
            assert marking is not None
            marked = await marking
            marking = asyncio.create_task(self._mark(groups[n + 1])) if n + 1 < len(groups) else None
            for job, parts in group:
                if job.id not in marked:
                    continue
                if stop.is_set():  # marked but not sent: hand it back untouched
                    await self._unmark([job])
                    continue
                await self.rate_for(job.channel).acquire()
                task = asyncio.create_task(self._deliver(job, parts))
                marked.discard(job.id)
                self._in_flight.add(task)
                task.add_done_callback(self._task_done)
        if marking is not None:  # only when stopping early: nothing of it was sent
            leftover = await marking
            await self._unmark([job for job, _ in groups[-1] if job.id in leftover])

    async def _mark(self, group: list[tuple[DeliveryJob, list[Reply]]]) -> set[int]:
        """Take a send slot (concurrency) per row and mark the rows in flight; the ids marked."""
        for _ in group:
            await self._slots.acquire()
        ids = [job.id for job, _ in group]
        try:
            marked = await self.writer.apply(lambda s: repo.mark_sending_many(s, ids, self.worker_id))
        except Exception:
            log.exception("broadcast: could not mark %d deliveries as sending; not sent", len(ids))
            marked = set()
        for _ in range(len(ids) - len(marked)):  # cancelled meanwhile, or not recorded: never sent
            self._slots.release()
        return set(marked)

    async def _unmark(self, jobs: list[DeliveryJob]) -> None:
        for _ in jobs:
            self._slots.release()
        if jobs:
            await self._settle(jobs[0], lambda s: repo.unmark_sending(s, [j.id for j in jobs], self.worker_id))

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        self._slots.release()

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

    async def _parts_for(self, job: DeliveryJob) -> list[Reply] | None:
        """The platform messages of this broadcast on this channel (rendered once per worker)."""
        key = (job.broadcast_id, job.channel)
        if key in self._parts:
            return self._parts[key]
        if job.broadcast_id not in self._content:
            async with self._unit() as s:
                self._content[job.broadcast_id] = await repo.get_content(s, job.broadcast_id)
        content = self._content[job.broadcast_id]
        if content is None:
            async with self._unit() as s:
                await repo.mark_failed(s, job.id, "broadcast no longer exists")
            return None
        reply = broadcast_reply(content, self.app.capabilities(job.channel).buttons)
        # One stored copy of the announcement's file for all recipients (it is not personal data).
        self._parts[key] = await self.app.outgoing_parts(job.channel, reply, f"broadcast:{job.broadcast_id}")
        return self._parts[key]

    async def _deliver(self, job: DeliveryJob, parts: list[Reply]) -> None:
        ref = ChatRef(job.channel, job.chat_id)
        channel = self.app.channels[job.channel]
        rate = self.rate_for(job.channel)
        sent = job.parts_sent
        try:
            content = self._content.get(job.broadcast_id)
            if content is not None and sent == 0:  # numbered options on channels without buttons
                await self.app.remember_options(ref, broadcast_reply(content, channel.capabilities.buttons))
            while sent < len(parts):
                if sent > job.parts_sent:  # the first part's slot was taken by the pacer
                    await rate.acquire()
                self.spacing.note(job.channel, job.chat_id)  # spacing counts from the actual request
                await channel.send(ref, parts[sent])
                sent += 1
                if sent < len(parts):
                    await self.writer.apply(lambda s, n=sent: repo.mark_part_sent(s, job.id, n))
        except Exception as exc:  # every failure is recorded on the row
            if isinstance(exc, RetryLater) and not isinstance(exc, DeliveryUncertain):
                rate.slow_down()
                if exc.retry_after >= LONG_PAUSE:  # a flood limit: every worker waits on this platform
                    await rate.pause(exc.retry_after)
            await self._settle(job, lambda s, e=exc, n=sent: self._record_failure(s, job, e, n))
            return
        await self._settle(job, lambda s: repo.mark_sent(s, job.id, len(parts)))
        self.sent += 1
        rate.recover()

    async def _settle(self, job: DeliveryJob, change: Callable[[AsyncSession], Awaitable[Any]]) -> None:
        """Record the outcome; if the database refuses, the row stays "sending" (never re-sent)."""
        try:
            await self.writer.apply(change)
        except Exception:
            log.exception("broadcast: outcome of delivery %d not recorded", job.id)

    async def _record_failure(self, s: AsyncSession, job: DeliveryJob, exc: Exception, parts_sent: int) -> None:
        attempts = job.attempts + 1
        error = f"{type(exc).__name__}: {exc}"
        if parts_sent != job.parts_sent:
            await repo.mark_part_sent(s, job.id, parts_sent)
        if isinstance(exc, DeliveryUncertain):
            await repo.mark_uncertain(s, job.id, error)
            log.warning("broadcast: delivery %d uncertain (%s); not re-sent", job.id, exc)
        elif isinstance(exc, RecipientBlocked):
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
        if isinstance(exc, RetryLater):
            log.warning("broadcast: %s asked to slow down (%s); retrying in %.1fs", job.channel, exc, exc.retry_after)
        elif not isinstance(exc, DeliveryError):
            log.error("broadcast: unexpected error sending delivery %d", job.id, exc_info=exc)

    def _retry_delay(self, exc: Exception, attempts: int) -> float:
        if isinstance(exc, RetryLater):
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
