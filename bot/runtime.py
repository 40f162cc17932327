"""The composition root: config → channels checked → knowledge, flows, dispatcher, storage (the App) →
channels → one aiohttp server → broadcast worker; started in that order and stopped in reverse.

`htxbot run`, `htxbot broadcast work`, the console and the tests all build the application here.
What a channel needs from the root: an entry in CHANNEL_FACTORIES (built with `Runtime.handle` as its
message handler), and the interface in bot/core/channel.py — `start()`, `stop()`, `send(ref, reply)`,
`web_routes()`; a channel that polls may offer `wait()` (returns or raises when polling ends by
itself). The root adds metrics and liveness at the edges (around `handle`, `send`, the poll call and
the webhook routes), so adapters stay free of both.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import signal
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.app import App
from bot.config import Config, ConfigError
from bot.core.channel import Channel
from bot.core.dispatcher import Dispatcher
from bot.core.flow import Services
from bot.core.types import Incoming, Reply
from bot.errors import StartupError
from bot.knowledge.loader import load_valid_knowledge
from bot.knowledge.search import SearchIndex
from bot.metrics import Metrics
from bot.observed import MeteredChannel, observed_poll, observed_route
from bot.storage.db import Database, DatabaseUnavailable

log = logging.getLogger(__name__)

Handle = Callable[[Incoming], Awaitable[list[Reply]]]


def configured_channels(config: Config) -> list[str]:
    """The messengers configured (a token; for the Zalo OA its app id), in a fixed order."""
    from bot.channels.zalo_oa import is_configured

    configured = {"zalo_oa": is_configured(config)}
    return [name for name in CHANNELS if configured.get(name, bool(getattr(getattr(config, name), "token", "")))]


async def build_app(config: Config, *, migrate: bool = True) -> App:
    """Knowledge (validated, refusing to start on problems) → flows → dispatcher → database → App."""
    from handlers.registry import build_flows

    kb = load_valid_knowledge(config.knowledge.path)
    index = SearchIndex(kb, config.search.threshold, config.search.ambiguity_margin)
    services = Services(config=config, index=index)
    flows = build_flows(services)
    db = await open_database(config, migrate=migrate)
    services.extras["db"] = db
    return App(config, db, services, Dispatcher(flows.ordered, flows.fallback), dossiers=flows.dossiers)


async def open_database(config: Config, *, migrate: bool = True) -> Database:
    """Connect (a one-line StartupError if the server is unreachable), then apply migrations."""
    _refuse_to_orphan_old_database(config)
    db = Database(config.database.url, config.database.echo, config.database.schema)
    try:
        await db.connect_check()
        if migrate:
            await db.upgrade()
    except DatabaseUnavailable as exc:
        await db.close()
        raise StartupError(f"database.url: {exc}") from exc
    except BaseException:
        await db.close()
        raise
    return db


def _refuse_to_orphan_old_database(config: Config) -> None:
    """Before the data directory, the default SQLite file was data/htxbot.db under the current folder.
    Starting where such a file exists, with nothing configured and no database in the data directory
    yet, would silently begin an empty database: refuse, saying what to set."""
    old = config.database.legacy_sqlite
    new = config.database.url.partition(":///")[2]
    if old and not Path(new).exists():
        raise StartupError(f"database.data_dir: {old} exists (the old default place) but the database in "
                           f"the data directory ({new}) does not; move the file there, or set "
                           f"HTXBOT_DATABASE__DATA_DIR={Path(old).parent}")


class Runtime:
    """One running bot process. `await Runtime(config, ["telegram", "zalo"]).run()` until a signal.

    `app` may be given (already built; then not closed here). `send_only` opens the channels without
    receiving anything (the standalone broadcast worker). `serve_web` starts the shared aiohttp server
    (webhooks, /files links, /healthz, /metrics). `worker` runs the broadcast sender beside the bot.
    """

    def __init__(self, config: Config, channels: Sequence[str], *, app: App | None = None,
                 serve_web: bool = True, worker: bool | None = None, send_only: bool = False) -> None:
        unknown = [name for name in channels if name not in CHANNELS]
        if unknown:
            raise ConfigError(f"unknown channel {unknown[0]!r} (known: {', '.join(CHANNELS)})")
        self.config = config
        self.names = list(channels)
        self.send_only = send_only
        self.serve_web = serve_web
        self.worker = config.broadcast.worker_in_bot if worker is None else worker
        self.metrics = Metrics()
        self.app = app
        self._owns_app = app is None
        self.channels: list[Channel] = []
        self.web_runner: web.AppRunner | None = None
        self._worker_task: asyncio.Task[None] | None = None
        self._digest_task: asyncio.Task[None] | None = None
        self.resources = contextlib.AsyncExitStack()

    # ---- start and stop --------------------------------------------------------------------------

    async def start(self) -> None:
        """Everything in order; on any failure what was started is stopped again before raising."""
        try:
            for name in self.names:  # tokens and secrets checked before the database is touched
                CHANNEL_CHECKS[name](self.config)
            if self.app is None:
                self._announce_settings()
                self.app = await build_app(self.config)
            for name in self.names:  # built on the database: durable inbox, Zalo OA tokens
                self.channels.append(await self._construct(name))
            self.metrics.watch_questions(self.app.db.session_class)
            for channel in self.channels:
                self.app.register_channel(MeteredChannel(channel, self.metrics))  # type: ignore[arg-type]
            if self.serve_web:  # up before the channels register webhooks, in case the platform checks the URL
                await self._start_web()
            for channel in self.channels:
                await self._start_channel(channel)
            if self.worker and self.channels:
                from bot.broadcast.sender import start_background_worker

                self._worker_task = start_background_worker(self.app)
            if self.channels and not self.send_only:
                from bot.admin.digest import start_digest_task

                self._digest_task = start_digest_task(self.app)  # "N câu chưa trả lời hôm nay" to staff
        except BaseException:
            await self.stop()
            raise

    def _announce_settings(self) -> None:
        db = self.config.database
        log.info("data directory %s; database %s", db.data_dir, db.url.rpartition("@")[2])
        if not self.config.web.link_secret and not self.send_only:
            log.warning("web.link_secret is not set: file download links will stop working when this process "
                        "restarts and are not valid in other workers; set HTXBOT_WEB__LINK_SECRET")

    async def stop(self) -> None:
        """Worker, web server, channels (finishing what they accepted), database — in that order."""
        for task in (self._digest_task, self._worker_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._worker_task = self._digest_task = None
        try:
            if self.web_runner is not None:  # no new webhooks; the channels then finish what they accepted
                await self.web_runner.cleanup()
                self.web_runner = None
            await self.resources.aclose()  # channels' stop() and their API clients, in reverse order
        finally:
            self.resources = contextlib.AsyncExitStack()
            if self.app is not None and self._owns_app:
                await self.app.close()

    async def wait(self) -> None:
        """Until cancelled, or until a channel's polling ends by itself (its error is raised)."""
        waiters = [asyncio.ensure_future(ch.wait()) for ch in self.channels if hasattr(ch, "wait")]
        waiters.append(asyncio.ensure_future(asyncio.Event().wait()))
        try:
            done, _ = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
        finally:
            for task in waiters:
                task.cancel()
            await asyncio.gather(*waiters, return_exceptions=True)

    async def run(self) -> None:
        """Start, run until cancelled (or a channel ends), stop."""
        await self.start()
        try:
            await self.wait()
        finally:
            await self.stop()

    # ---- channels --------------------------------------------------------------------------------

    async def handle(self, incoming: Incoming) -> list[Reply]:
        """The core's `handle` as the channels see it (counted in /metrics): one message in, replies out."""
        assert self.app is not None, "a channel received a message before the application was built"
        started = time.monotonic()
        replies = await self.app.handle(incoming)
        self.metrics.turn(incoming.channel, len(replies), time.monotonic() - started)
        return replies

    async def _construct(self, name: str) -> Channel:
        """Build one channel (validating its config; no network yet); its clean-up goes on the stack."""
        return await CHANNEL_FACTORIES[name](self)

    async def _telegram(self) -> Channel:
        from bot.channels.telegram import TelegramChannel
        from handlers.registry import catalogue

        tg = self.config.telegram
        if self.send_only:  # webhook mode without a URL: nothing polls, nothing steals updates
            tg = replace(tg, mode="webhook", webhook_url="", webhook_secret=secrets.token_urlsafe(16))
        assert self.app is not None
        # A send-only worker receives nothing: no inbox rows of its own to take over (db=None).
        channel = TelegramChannel(tg, self.handle, db=None if self.send_only else self.app.db,
                                  inbox=self.config.inbox, menus=catalogue().telegram_menus())
        mode = "send-only" if self.send_only else tg.mode
        self.metrics.watch_channel("telegram", mode)
        if mode == "polling":
            channel.on_poll = lambda: self.metrics.beat("telegram")
        self.resources.push_async_callback(_stop_quietly, channel)
        return channel  # type: ignore[return-value]

    async def _zalo(self) -> Channel:
        from bot.channels.zalo import ZaloChannel
        from bot.channels.zalo_api import ZaloApi

        assert self.app is not None
        zc = self.config.zalo
        mode = "send-only" if self.send_only else zc.mode
        live = self.metrics.watch_channel("zalo", mode)
        api = await self.resources.enter_async_context(ZaloApi(zc.token, zc.base_url))
        if mode == "polling":
            api.get_updates = observed_poll(api.get_updates, live)  # type: ignore[method-assign]
        if mode == "send-only":
            channel = ZaloChannel(api, self.handle, mode="webhook")
        else:
            channel = ZaloChannel(api, self.handle, mode=zc.mode, webhook_url=zc.webhook_url,
                                  webhook_secret=zc.webhook_secret, typing=zc.typing_indicator,
                                  db=self.app.db, inbox=self.config.inbox)
        self.resources.push_async_callback(_stop_quietly, channel)
        return channel  # type: ignore[return-value]

    async def _zalo_oa(self) -> Channel:
        from bot.channels.zalo_oa import admin_alert, build_channel

        assert self.app is not None, "the Zalo OA channel keeps its tokens in the database"
        mode = "send-only" if self.send_only else "webhook"
        self.metrics.watch_channel("zalo_oa", mode)
        channel = build_channel(self.config, self.app.db, self.handle, admin_alert(self.app))
        self.resources.push_async_callback(_stop_quietly, channel)
        return channel  # type: ignore[return-value]

    async def _start_channel(self, channel: Channel) -> None:
        """Start one channel; an unreachable platform becomes a one-line StartupError naming it."""
        from bot.channels.zalo_api import ZaloAuthError

        section = getattr(self.config, channel.name)
        base_url = getattr(section, "base_url", None) or getattr(section, "openapi_base", "")
        try:
            await channel.start()
        except (ConfigError, ZaloAuthError):
            raise  # already one line naming the key
        except Exception as exc:  # noqa: BLE001 - network errors differ per library
            raise StartupError(f"{channel.name}: cannot reach the platform at {base_url}: "
                               f"{type(exc).__name__}: {exc}".splitlines()[0]) from exc
        log.info("%s: started (%s)", channel.name, self.metrics.liveness[channel.name].mode)

    # ---- web server ------------------------------------------------------------------------------

    async def _start_web(self) -> None:
        from bot.channels.web import build_web_app, serve

        assert self.app is not None
        routes: list[web.RouteDef] = []
        if not self.send_only:
            for channel in self.channels:
                routes.extend(observed_route(r, self.metrics, channel.name) for r in channel.web_routes())
        web_app = build_web_app(self.app, routes, metrics=self.metrics)
        host, port = self.config.web.host, self.config.web.port
        try:
            self.web_runner = await serve(web_app, host, port)
        except OSError as exc:
            raise StartupError(f"web.port: cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
        log.info("web server on %s:%s (%s)", host, port,
                 ", ".join(sorted({r.path for r in routes})) or "no webhooks")


# How each channel is built, by name; the config section of the same name must have a `token`.
# A factory builds the channel with `runtime.handle` as its message handler, validates its config
# without network calls, registers clean-up on `runtime.resources`, and calls
# `runtime.metrics.watch_channel(name, mode)` ("polling", "webhook" or "send-only").
ChannelFactory = Callable[[Runtime], Awaitable[Channel]]
CHANNEL_FACTORIES: dict[str, ChannelFactory] = {
    "telegram": Runtime._telegram,
    "zalo": Runtime._zalo,
    "zalo_oa": Runtime._zalo_oa,
}
CHANNELS = tuple(CHANNEL_FACTORIES)


def _check_telegram(config: Config) -> None:
    from bot.channels.telegram import _validate

    _validate(config.telegram)


def _check_zalo(config: Config) -> None:
    zc = config.zalo
    if not zc.token:
        raise ConfigError("zalo.token: not set; put the bot token from Zalo Bot Creator in "
                          "HTXBOT_ZALO__TOKEN (or a file named by HTXBOT_ZALO__TOKEN_FILE)")
    if zc.mode == "webhook" and not 8 <= len(zc.webhook_secret) <= 256:
        raise ConfigError("zalo.webhook_secret: webhook mode needs 8-256 characters in "
                          "HTXBOT_ZALO__WEBHOOK_SECRET")


def _check_zalo_oa(config: Config) -> None:
    from bot.channels.zalo_oa import check_config

    check_config(config)


# Each channel's configuration, checked (no network, no database) before the database is opened; the
# channels themselves are built afterwards, on it.
CHANNEL_CHECKS: dict[str, Callable[[Config], None]] = {
    "telegram": _check_telegram, "zalo": _check_zalo, "zalo_oa": _check_zalo_oa,
}


async def _stop_quietly(channel: Any) -> None:
    try:
        await channel.stop()
    except Exception:  # noqa: BLE001 - shutdown goes on for the other parts
        log.exception("%s: error while stopping", getattr(channel, "name", channel))


async def run_until_signalled(main: Awaitable[None]) -> None:
    """Run `main`; SIGINT/SIGTERM cancel it so that shutdown (channels, web, database) runs in order."""
    task = asyncio.ensure_future(main)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)
    try:
        await task
    except asyncio.CancelledError:
        log.info("stopped by signal")
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
