"""The inbox dispatcher: handles stored updates per user in order, different users concurrently.

A channel stores each update (`Inbox.store`) before acknowledging it to the platform, then the
dispatcher claims stored rows and gives each to the channel's `process` (parse, run the turn, deliver
the replies). While a row is processed, `REPLY_RECORDER` (see bot/app.py) lets the core keep the turn's
rendered replies with the row in the turn's own transaction; a row claimed again after a crash that
already has replies is delivered from them (`deliver`) instead of running the turn twice.

An update that cannot be parsed (`Rejected`) or whose processing keeps failing is marked rejected and
logged once; intake never waits for it. `stop()` stops claiming, gives rows in progress a short grace
period, then hands every unfinished row back for the next start (or another process).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import re
import socket
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import REPLY_RECORDER
from bot.broadcast.status import StatusWriter, locked_unit, write_lock_for
from bot.config import InboxConfig as InboxOptions
from bot.core.types import Attachment, Button, Reply
from bot.storage.db import Database
from bot.storage.repo import inbox as repo
from bot.storage.repo import workers
from bot.storage.repo.inbox import InboxItem, InboxRow

log = logging.getLogger(__name__)

_SURROGATE = re.compile("[\ud800-\udfff]")
MAX_ATTEMPTS = 3  # a row whose processing raised this often is rejected
KEEP_HANDLED = timedelta(days=7)  # handled updates are kept this long (inspection), then forgotten
PRUNE_EVERY = 3600.0  # seconds


class Rejected(Exception):  # noqa: N818 - a verdict on the update, not a failure of ours
    """The update cannot be turned into a message for the core: store it as rejected and move on."""


Process = Callable[[InboxRow], Awaitable[None]]
Deliver = Callable[[str, list[Reply]], Awaitable[None]]


def encode_replies(chat_id: str, replies: Sequence[Reply]) -> dict[str, Any]:
    """Rendered replies as JSON for the inbox row (file bytes as base64)."""
    out = []
    for r in replies:
        item: dict[str, Any] = {"text": r.text, "buttons": [[b.label, b.payload] for b in r.buttons]}
        if r.attachment is not None:
            a = r.attachment
            item["attachment"] = {"filename": a.filename, "mime": a.mime, "kind": a.kind,
                                  "data": base64.b64encode(a.data).decode("ascii")}
        out.append(item)
    return {"chat_id": chat_id, "replies": out}


def decode_replies(stored: dict[str, Any]) -> tuple[str, list[Reply]]:
    """The inverse of `encode_replies`."""
    replies = []
    for item in stored.get("replies", []):
        att = item.get("attachment")
        attachment = (Attachment(att["filename"], base64.b64decode(att["data"]), att["mime"], att["kind"])
                      if att else None)
        replies.append(Reply(item.get("text", ""), [Button(label, payload) for label, payload in item["buttons"]],
                             attachment))
    return str(stored.get("chat_id", "")), replies


class Inbox:
    """One channel's inbox in one process: `store` before acknowledging, `start`/`stop` the dispatcher."""

    def __init__(self, db: Database, channel: str, worker: str, process: Process, deliver: Deliver,
                 options: InboxOptions | None = None) -> None:
        self.db = db
        self.channel = channel
        self.worker = worker
        self.options = options or InboxOptions()
        self._process = process
        self._deliver = deliver
        self._wake = asyncio.Event()
        self._stopping = False
        self._loop_task: asyncio.Task[None] | None = None
        self._users: dict[str, asyncio.Task[None]] = {}
        self._slots = asyncio.Semaphore(self.options.concurrency)
        self._lock = write_lock_for(db)
        self._writer = StatusWriter(lambda: locked_unit(self._lock, self.db.unit, urgent=True))
        self.handled = 0

    def _unit(self) -> contextlib.AbstractAsyncContextManager[AsyncSession]:
        return locked_unit(self._lock, self.db.unit)

    # ---- intake -----------------------------------------------------------------------------------

    async def store(self, items: Sequence[InboxItem]) -> int:
        """Commit `items` to the database (returns how many were new); only then may the caller ack them."""
        async with self._unit() as s:
            new = await repo.store(s, self.channel, items)
        if new:
            self._wake.set()
        return new

    # ---- lifecycle --------------------------------------------------------------------------------

    def start(self) -> None:
        """Begin dispatching (stored rows left from a previous run included)."""
        if self._loop_task is None:
            self._stopping = False
            self._loop_task = asyncio.create_task(self._run(), name=f"inbox-{self.channel}")

    async def stop(self) -> None:
        """Stop claiming; wait up to `shutdown_grace` for rows in progress, then hand the rest back."""
        self._stopping = True
        self._wake.set()
        if self._loop_task is not None:
            await asyncio.gather(self._loop_task, return_exceptions=True)
            self._loop_task = None
        running = list(self._users.values())
        if running:
            _, late = await asyncio.wait(running, timeout=self.options.shutdown_grace)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        await self._writer.close()
        with contextlib.suppress(Exception):
            async with self.db.unit() as s:
                back = await repo.release(s, self.worker)
                await workers.forget(s, self.worker)
            if back:
                log.info("inbox %s: %d update(s) handed back for the next start", self.channel, back)

    async def idle(self, timeout: float = 30.0) -> bool:
        """Test/bench helper: True once nothing is pending or claimed on this channel."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            async with self.db.unit() as s:
                counts = await repo.counts(s, self.channel)
            if not counts.get(repo.INBOX_PENDING) and not counts.get(repo.INBOX_CLAIMED):
                return True
            await asyncio.sleep(0.05)
        return False

    # ---- dispatching ------------------------------------------------------------------------------

    async def _run(self) -> None:
        lease = timedelta(seconds=self.options.lease_seconds)
        last_beat = 0.0
        last_prune = 0.0
        with contextlib.suppress(Exception):
            async with self.db.unit() as s:  # a restart after a crash takes over the dead process's rows now
                await workers.forget_dead_local(s, socket.gethostname(), workers.pid_alive)
        while not self._stopping:
            try:
                now = time.monotonic()
                if now - last_beat >= self.options.heartbeat_seconds:
                    async with self._unit() as s:
                        await workers.beat(s, self.worker)
                        recovered = await repo.recover_stale(s, lease)
                    if recovered:
                        log.warning("inbox %s: %d update(s) of a stopped worker taken over", self.channel, recovered)
                    last_beat = now
                if now - last_prune >= PRUNE_EVERY:
                    async with self._unit() as s:
                        await repo.prune(s, KEEP_HANDLED)
                    last_prune = now
                free = self.options.concurrency - len(self._users)
                rows: list[InboxRow] = []
                if free > 0:
                    async with self._unit() as s:
                        rows = await repo.claim(s, self.worker, self.channel, free * 4,
                                                postgres=not self.db.is_sqlite)
                self._dispatch(rows)
            except Exception:  # noqa: BLE001 - a database hiccup must not end intake; retry shortly
                log.exception("inbox %s: claiming failed; retrying", self.channel)
                rows = []
            if rows:
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                wait = min(self.options.poll_seconds, self.options.heartbeat_seconds)
                await asyncio.wait_for(self._wake.wait(), wait)

    def _dispatch(self, rows: list[InboxRow]) -> None:
        by_user: dict[str, list[InboxRow]] = defaultdict(list)
        for row in rows:
            by_user[row.user_key].append(row)
        for user, user_rows in by_user.items():
            if user in self._users:  # cannot happen (a user with a claimed row is not claimable); be safe
                log.error("inbox %s: user already in progress; handing rows back", self.channel)
                asyncio.create_task(self._release([r.id for r in user_rows]))
                continue
            task = asyncio.create_task(self._handle_user(user_rows))
            self._users[user] = task
            task.add_done_callback(lambda _t, u=user: self._user_done(u))

    def _user_done(self, user: str) -> None:
        self._users.pop(user, None)
        self._wake.set()  # the user's next rows (and a free slot) may now be claimable

    async def _release(self, ids: list[int]) -> None:
        async with self.db.unit() as s:
            await repo.release(s, self.worker, ids)

    async def _handle_user(self, rows: list[InboxRow]) -> None:
        async with self._slots:
            for n, row in enumerate(rows):
                if not await self._handle_row(row):  # to be retried: the user's later rows wait behind it
                    await self._settle(lambda s, rest=[r.id for r in rows[n + 1:]]: repo.release(s, self.worker, rest))
                    return

    async def _handle_row(self, row: InboxRow) -> bool:
        """Process one row and record its outcome; False when it was handed back to be tried again."""
        try:
            if row.replies is not None:  # the turn ran before a crash; only the answer is missing
                chat_id, replies = decode_replies(row.replies)
                await self._deliver(chat_id, replies)
            else:
                token = REPLY_RECORDER.set(self._recorder(row.id))
                try:
                    await self._process(row)
                finally:
                    REPLY_RECORDER.reset(token)
        except Rejected as exc:
            reason = f"rejected: {exc}"
            log.warning("inbox %s: update %s %s", self.channel, row.update_key, reason)
            await self._settle(lambda s: repo.reject(s, row.id, reason))
            return True
        except asyncio.CancelledError:
            raise  # shutdown: the row stays claimed and is handed back by stop()
        except Exception as exc:  # noqa: BLE001 - one bad update must never stall the others
            if row.attempts >= MAX_ATTEMPTS:
                log.exception("inbox %s: update %s failed %d times; rejected", self.channel, row.update_key,
                              row.attempts)
                reason = f"{type(exc).__name__}: {exc}"
                await self._settle(lambda s: repo.reject(s, row.id, reason))
                return True
            log.warning("inbox %s: update %s failed (%s); will retry", self.channel, row.update_key,
                        type(exc).__name__)
            await self._settle(lambda s: repo.release(s, self.worker, [row.id]))
            return False
        await self._settle(lambda s: repo.finish(s, [row.id]))
        self.handled += 1
        return True

    async def _settle(self, change: Callable[[AsyncSession], Awaitable[Any]]) -> None:
        try:
            await self._writer.apply(change)
        except Exception:  # noqa: BLE001 - the row stays claimed; a later start takes it over
            log.exception("inbox %s: could not record a result", self.channel)

    @staticmethod
    def _recorder(row_id: int) -> Callable[[AsyncSession, str, list[Reply]], Awaitable[None]]:
        async def record(s: AsyncSession, chat_id: str, replies: list[Reply]) -> None:
            await repo.record_replies(s, row_id, encode_replies(chat_id, replies))
        return record


class MemoryInbox:
    """The same contract without a database (tests, send-only helpers): per-user order, nothing durable."""

    def __init__(self, channel: str, process: Process, options: InboxOptions | None = None) -> None:
        self.channel = channel
        self.options = options or InboxOptions()
        self._process = process
        self._tails: dict[str, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(self.options.concurrency)
        self._seen: dict[str, None] = {}
        self.handled = 0

    async def store(self, items: Sequence[InboxItem]) -> int:
        new = 0
        for item in items:
            if item.key in self._seen:
                continue
            self._seen[item.key] = None
            if len(self._seen) > 10_000:
                self._seen.pop(next(iter(self._seen)))
            new += 1
            row = InboxRow(0, self.channel, item.key, item.user_key, item.payload, 1, None)
            task = asyncio.create_task(self._after(self._tails.get(item.user_key), row))
            self._tails[item.user_key] = task
            self._tasks.add(task)
            task.add_done_callback(lambda t, u=item.user_key: self._done(u, t))
        return new

    def _done(self, user: str, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if self._tails.get(user) is task:
            del self._tails[user]

    async def _after(self, previous: asyncio.Task[None] | None, row: InboxRow) -> None:
        if previous is not None:
            await asyncio.gather(previous, return_exceptions=True)
        async with self._slots:
            try:
                await self._process(row)
                self.handled += 1
            except Rejected as exc:
                log.warning("inbox %s: update %s rejected: %s", self.channel, row.update_key, exc)
            except Exception:  # noqa: BLE001 - one bad update must never stall the others
                log.exception("inbox %s: update %s failed", self.channel, row.update_key)

    def start(self) -> None:
        return None

    async def drain(self) -> None:
        """Wait until every update stored so far has been processed."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def stop(self) -> None:
        """Give updates in progress `shutdown_grace` seconds, then cancel them."""
        if self._tasks:
            _, late = await asyncio.wait(list(self._tasks), timeout=self.options.shutdown_grace)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)


def clean_json(value: Any) -> Any:
    """The payload with lone UTF-16 surrogates replaced (they cannot be stored or sent as UTF-8)."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {clean_json(k): clean_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_json(v) for v in value]
    return value
