"""The Zalo adapter: Zalo Bot API updates → `Incoming`, the core's replies → `sendMessage`.

A message travels the same road as on every channel: update → `parse_update` → `Incoming` →
`handler` (the core's `App.handle`) → `Reply` list, already rendered by the core for our capabilities
(no buttons → numbered options, files → links) → `send`. The adapter knows Zalo's JSON and nothing
about cooperatives. Updates arrive by long polling (`getUpdates`, one update per call, HTTP 408 when
idle) or by webhook (`POST /zalo/webhook`, secret header). Every update is stored in the durable inbox
(bot/channels/inbox.py) before the next poll or before the webhook's 200, then handled from there per
user in order. Zalo has no offset/acknowledgement, so an update can come back; the inbox stores each
`message_id` once (and the core deduplicates too). An update that is not a usable user message is
stored as rejected. An image event's picture is downloaded here (size cap, timeout) and handed to the
core as `Incoming.attachment`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import mimetypes
import os
import posixpath
import secrets
import socket
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from aiohttp import web

from bot.channels.inbox import Inbox, InboxOptions, MemoryInbox, Rejected, clean_json
from bot.channels.zalo_api import MAX_TEXT, ZaloApi, ZaloAuthError, ZaloDownloadError
from bot.config import Config, ConfigError
from bot.core.channel import APOLOGY, DeliveryError, MessageHandler, QuotaExceeded, RetryLater
from bot.core.locks import KeyedLocks
from bot.core.render import split_text
from bot.core.types import Attachment, ChannelCapabilities, ChatRef, Incoming, Reply
from bot.storage.repo.inbox import InboxItem, InboxRow

if TYPE_CHECKING:
    from bot.storage.db import Database

log = logging.getLogger(__name__)

TEXT_EVENT = "message.text.received"
IMAGE_EVENT = "message.image.received"
MAX_IMAGE_BYTES = 10 * 1024 * 1024
DOWNLOAD_TIMEOUT = 30.0  # seconds for a whole picture
SECRET_HEADER = "X-Bot-Api-Secret-Token"
WEBHOOK_PATH = "/zalo/webhook"
REPLY_ATTEMPTS = 4  # tries per reply message when Zalo answers 429/5xx or the network fails


def parse_update(update: Any) -> Incoming | None:
    """Map one Zalo update to an `Incoming`; None (logged) when it is not a usable user message.

    Only `message.text.received` carries text. Images, stickers and unsupported events become an
    `Incoming` with empty text so the core can answer politely that only text is understood; for an
    image `ZaloChannel` then adds the downloaded picture and its caption (see `parse_image`).
    """
    message = update.get("message") if isinstance(update, dict) else None
    if not isinstance(message, dict):
        log.warning("zalo: skipped an update without a message (event %r)", _event(update))
        return None
    chat = message.get("chat") if isinstance(message.get("chat"), dict) else {}
    sender = message.get("from") if isinstance(message.get("from"), dict) else {}
    chat_id = _id(chat.get("id"))
    if not chat_id:
        log.warning("zalo: skipped an update without chat.id (event %r)", _event(update))
        return None
    if sender.get("is_bot") is True:
        return None
    event = _event(update)
    text = message.get("text")
    # The official getUpdates sample has no event_name at all: a plain `text` then means a text message.
    is_text = isinstance(text, str) and (event == TEXT_EVENT or event is None)
    name = sender.get("display_name") or sender.get("name") or sender.get("first_name") or ""
    return Incoming(
        channel="zalo",
        chat_id=chat_id,
        user_id=_id(sender.get("id")) or chat_id,
        display_name=str(name),
        text=text.strip() if is_text and isinstance(text, str) else "",
        message_id=_id(message.get("message_id")),
        is_private=str(chat.get("chat_type") or "PRIVATE").upper() != "GROUP",
    )


def parse_image(update: Any) -> tuple[str, str] | None:
    """(photo_url, caption) of an image event, or None. `parse_update` gives its `Incoming` empty text;
    the channel fills in the caption and the picture once it is downloaded."""
    message = update.get("message") if isinstance(update, dict) else None
    if _event(update) != IMAGE_EVENT or not isinstance(message, dict):
        return None
    url, caption = message.get("photo_url"), message.get("caption")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        return None
    return url, caption.strip() if isinstance(caption, str) else ""


def image_name(url: str, content_type: str) -> tuple[str, str]:
    """A file name and MIME type for a downloaded picture, from the URL's path and the served type."""
    base = posixpath.basename(urlsplit(url).path)
    guessed = mimetypes.guess_type(base)[0] or ""
    if not guessed.startswith("image/"):
        base, guessed = "", ""
    mime = content_type if content_type.startswith("image/") else guessed or "image/jpeg"
    return base or f"anh-zalo{mimetypes.guess_extension(mime) or '.jpg'}", mime


def unwrap_webhook_body(body: Any) -> Any:
    """Zalo may post the bare update or `{"ok": true, "result": update}`; return the update."""
    if isinstance(body, dict) and body.get("ok") is True and isinstance(body.get("result"), dict):
        return body["result"]
    return body


class ZaloChannel:
    """One Zalo bot. `start()` checks the token and begins polling (or prepares the webhook)."""

    name = "zalo"
    # images=False although Zalo shows pictures: sendPhoto takes only a public URL, never bytes, so
    # the core must turn a generated image into a link exactly as it does for documents.
    capabilities = ChannelCapabilities(max_text=MAX_TEXT, buttons=False, documents=False, images=False)

    def __init__(self, api: ZaloApi, handler: MessageHandler, *, mode: str = "polling",
                 webhook_url: str = "", webhook_secret: str = "", poll_timeout: int = 30,
                 poll_floor: float = 1.0, backoff_base: float = 1.0, backoff_cap: float = 30.0,
                 typing: bool = True, db: Database | None = None, worker: str = "",
                 inbox: InboxOptions | None = None) -> None:
        self.api = api
        self.handler = handler
        self.mode = mode
        self.webhook_url = webhook_url
        self._secret = webhook_secret
        self.poll_timeout = poll_timeout
        self.poll_floor = poll_floor
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.typing = typing
        self.bot_info: dict[str, Any] = {}
        self._poller: asyncio.Task[None] | None = None
        self._polls_started = 0
        self.interactive_sent = 0  # answers to members: the broadcaster yields a slot for each
        # Serialise one chat's messages (and a redelivery behind its original); idle chats are forgotten.
        self._locks = KeyedLocks()
        worker = worker or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.inbox: Inbox | MemoryInbox = (
            Inbox(db, self.name, worker, self._process_row, self._deliver_stored, inbox)
            if db is not None else MemoryInbox(self.name, self._process_row, inbox))

    def __repr__(self) -> str:
        return f"ZaloChannel(mode={self.mode!r})"

    # ---- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Validate the token (raises ZaloAuthError), then poll or register the webhook."""
        self.bot_info = await self.api.get_me()
        self.inbox.start()
        if self.mode == "webhook":
            if self.webhook_url:
                await self.api.set_webhook(self.webhook_url, self._secret)
            log.info("zalo: webhook mode, listening on %s", WEBHOOK_PATH)
            return
        await self.api.delete_webhook()  # getUpdates is refused while a webhook is set
        self._poller = asyncio.create_task(self._poll_loop(), name="zalo-poll")
        log.info("zalo: polling as %s", self.bot_info.get("account_name") or "bot")

    async def wait(self) -> None:
        """Block until polling ends: forever unless cancelled or the token is rejected (re-raised)."""
        if self._poller is None:
            await asyncio.Event().wait()
        else:
            await asyncio.shield(self._poller)

    async def stop(self) -> None:
        """Stop polling; finish updates in progress within the grace period, hand the rest back."""
        if self._poller is not None:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)
            self._poller = None
        await self.inbox.stop()

    async def drain(self, timeout: float = 30.0) -> None:
        """Wait until every update received so far has been stored, handled and answered (tests)."""
        if self._poller is not None and not self._poller.done():
            started = self._polls_started  # a later poll means what came before it is stored
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout
            while self._polls_started <= started and not self._poller.done() and loop.time() < deadline:
                await asyncio.sleep(0.005)
        if isinstance(self.inbox, MemoryInbox):
            await self.inbox.drain()
        else:
            await self.inbox.idle(timeout)

    # ---- receiving -------------------------------------------------------------------------------

    async def _poll_loop(self) -> None:
        failures = 0
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            self._polls_started += 1
            try:
                update = await self.api.get_updates(self.poll_timeout)
            except ZaloAuthError:
                log.error("zalo: the token was rejected while polling; stopping")
                raise
            except (RetryLater, DeliveryError) as exc:
                failures += 1
                delay = self._backoff(failures, exc)
                log.warning("zalo: getUpdates failed (%s); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                continue
            failures = 0
            if update is None:  # idle poll (408): ask again right away
                continue
            await self._store_until_done(update)
            wait = self.poll_floor - (loop.time() - started)
            if wait > 0:
                await asyncio.sleep(wait)

    def _backoff(self, failures: int, exc: Exception) -> float:
        """Exponential from `backoff_base`, at least what Zalo asked for, at most `backoff_cap`."""
        delay = self.backoff_base * 2 ** (failures - 1)
        if isinstance(exc, RetryLater):
            delay = max(delay, exc.retry_after)
        return min(self.backoff_cap, delay)

    async def _store_until_done(self, update: Any) -> None:
        """Polling: store the update before polling again (retrying while the database refuses)."""
        failures = 0
        while True:
            try:
                await self.inbox.store([inbox_item(update)])
                return
            except Exception as exc:  # noqa: BLE001 - keep the update in hand until it is stored
                failures += 1
                delay = self._backoff(failures, exc)
                log.warning("zalo: could not store an update (%s); retrying in %.1fs", type(exc).__name__, delay)
                await asyncio.sleep(delay)

    async def _process_row(self, row: InboxRow) -> None:
        """A stored update: parsed (or rejected: not a usable user message) and answered."""
        incoming = parse_update(row.payload)
        if incoming is None:
            raise Rejected(f"not a user message (event {_event(row.payload)!r})")
        await self._process(incoming, parse_image(row.payload))

    async def _deliver_stored(self, chat_id: str, replies: list[Reply]) -> None:
        """Replies a turn produced before a crash, delivered on restart."""
        for reply in replies:
            await self._deliver(ChatRef(self.name, chat_id), reply)

    async def _process(self, incoming: Incoming, image: tuple[str, str] | None = None) -> None:
        """One message, in order per chat: ask the core, deliver its replies, apologise on failure."""
        async with self._locks.hold(incoming.chat_id):
            if image is not None:
                incoming = await self._with_image(incoming, *image)
            if self.typing and incoming.text:
                await self._quietly(self.api.send_chat_action(incoming.chat_id, "typing"))
            try:
                replies = await self.handler(incoming)
            except Exception:
                log.exception("zalo: handling message %s failed", incoming.message_id)
                replies = [Reply(APOLOGY)]
            for reply in replies:
                await self._deliver(incoming.ref, reply)

    async def _with_image(self, incoming: Incoming, url: str, caption: str) -> Incoming:
        """The picture downloaded into `attachment`, its caption as text; unchanged (empty, logged) on failure."""
        try:
            data, content_type = await self.api.download(url, MAX_IMAGE_BYTES, DOWNLOAD_TIMEOUT)
        except ZaloDownloadError as exc:
            log.warning("zalo: could not download the picture of message %s: %s", incoming.message_id, exc)
            return incoming
        filename, mime = image_name(url, content_type)
        return replace(incoming, text=caption, attachment=Attachment(filename, data, mime, "image"))

    async def _deliver(self, ref: ChatRef, reply: Reply) -> None:
        """Send one reply, retrying transient failures a few times; never raise into the loop."""
        for attempt in range(1, REPLY_ATTEMPTS + 1):
            try:
                await self.send(ref, reply)
                self.interactive_sent += 1
                return
            except RetryLater as exc:
                if attempt == REPLY_ATTEMPTS:
                    log.error("zalo: gave up sending to %s: %s", ref.chat_id, exc)
                    return
                await asyncio.sleep(self._backoff(attempt, exc))
            except QuotaExceeded as exc:
                log.error("zalo: the bot's monthly message quota is used up; reply to %s lost: %s",
                          ref.chat_id, exc)
                return
            except DeliveryError as exc:
                log.error("zalo: cannot send to %s: %s", ref.chat_id, exc)
                return

    async def _quietly(self, call: Any) -> None:
        try:
            await call
        except DeliveryError as exc:
            log.debug("zalo: optional call failed: %s", exc)

    # ---- sending ---------------------------------------------------------------------------------

    async def send(self, ref: ChatRef, reply: Reply) -> None:
        """Deliver one rendered reply as one or more ≤2,000-character messages.

        Raises RetryLater (429/5xx/network), QuotaExceeded, RecipientBlocked or another DeliveryError.
        A reply split in several messages that fails half-way raises after the parts already sent.
        """
        if reply.attachment is not None:
            # Our capabilities make the core turn every file into a link; one arriving here anyway
            # cannot be uploaded (Zalo has no documents and takes photos by URL only).
            log.warning("zalo: dropped attachment %r (no upload on Zalo)", reply.attachment.filename)
        for piece in split_text(reply.text, MAX_TEXT):
            if piece:
                await self.api.send_message(ref.chat_id, piece)

    # ---- webhook ---------------------------------------------------------------------------------

    def web_routes(self) -> list[web.RouteDef]:
        """Routes to mount on the project's aiohttp server (see bot/channels/web.py)."""
        return [web.post(WEBHOOK_PATH, self._on_webhook)]

    async def _on_webhook(self, request: web.Request) -> web.Response:
        """Check the secret in constant time, answer at once, handle the update in the background."""
        given = request.headers.get(SECRET_HEADER, "")
        if not self._secret or not hmac.compare_digest(given.encode(), self._secret.encode()):
            log.warning("zalo: webhook call with a missing or wrong secret from %s", request.remote)
            return web.json_response({"ok": False, "description": "Forbidden"}, status=403)
        try:
            body = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError):
            return web.json_response({"ok": False, "description": "Malformed JSON"}, status=400)
        if not isinstance(body, dict):
            return web.json_response({"ok": False, "description": "Expected a JSON object"}, status=400)
        try:  # stored before the 200: a crash after it loses nothing
            await self.inbox.store([inbox_item(unwrap_webhook_body(body))])
        except Exception:  # noqa: BLE001 - not stored: let Zalo deliver it again
            log.exception("zalo: could not store a webhook update")
            return web.json_response({"ok": False, "description": "Try again"}, status=503)
        return web.json_response({"ok": True})


def inbox_item(update: Any) -> InboxItem:
    """An update for the inbox, keyed by its message_id (Zalo redelivers), ordered per sender."""
    update = clean_json(update) if isinstance(update, dict) else {"unexpected": clean_json(update)}
    message = update.get("message") if isinstance(update.get("message"), dict) else {}
    message_id = _id(message.get("message_id"))
    key = f"m:{message_id}" if message_id else "nokey:" + hashlib.sha256(
        json.dumps(update, sort_keys=True, default=str).encode()).hexdigest()[:32]
    sender = message.get("from") if isinstance(message.get("from"), dict) else {}
    chat = message.get("chat") if isinstance(message.get("chat"), dict) else {}
    return InboxItem(key, _id(sender.get("id")) or _id(chat.get("id")) or "?", update)


def _event(update: Any) -> str | None:
    event = update.get("event_name") if isinstance(update, dict) else None
    return event if isinstance(event, str) else None


def _id(value: Any) -> str | None:
    """Zalo ids are strings; accept numbers too, reject anything else."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    return str(value) or None


class CoreApp(Protocol):
    """What the adapter needs from the core (bot.app.App)."""

    async def handle(self, incoming: Incoming) -> list[Reply]: ...

    def register_channel(self, channel: Any) -> None: ...


async def run_zalo(app: CoreApp, config: Config, *, serve_web: bool = True) -> None:
    """Run the Zalo bot until cancelled: polling or webhook per `zalo.mode`, then stop cleanly.

    The project's web server (health check, file links, and in webhook mode /zalo/webhook) is served
    on `web.host:web.port` too, because on Zalo documents can only be delivered as links to it.
    Raises ConfigError for a missing token/secret and ZaloAuthError when Zalo rejects the token.
    """
    zc = config.zalo
    if not zc.token:
        raise ConfigError("zalo.token: not set; put the bot token from Zalo Bot Creator in "
                          "HTXBOT_ZALO__TOKEN (or a file named by HTXBOT_ZALO__TOKEN_FILE)")
    webhook = zc.mode == "webhook"
    if webhook and not 8 <= len(zc.webhook_secret) <= 256:
        raise ConfigError("zalo.webhook_secret: webhook mode needs 8-256 characters in "
                          "HTXBOT_ZALO__WEBHOOK_SECRET")
    async with ZaloApi(zc.token, zc.base_url) as api:
        channel = ZaloChannel(api, app.handle, mode=zc.mode, webhook_url=zc.webhook_url,
                              webhook_secret=zc.webhook_secret, typing=zc.typing_indicator,
                              db=getattr(app, "db", None), inbox=getattr(app, "config", config).inbox)
        app.register_channel(channel)
        runner: web.AppRunner | None = None
        try:
            if serve_web or webhook:  # up before setWebhook, in case Zalo checks the URL
                runner = await _serve(app, config, channel.web_routes() if webhook else [])
            await channel.start()
            await channel.wait()
        finally:
            await channel.stop()
            if runner is not None:
                await runner.cleanup()


async def _serve(app: CoreApp, config: Config, routes: list[web.RouteDef]) -> web.AppRunner:
    from bot.channels.web import build_web_app, serve  # the shared server: /healthz, /files/…

    runner = await serve(build_web_app(app, routes), config.web.host, config.web.port)  # type: ignore[arg-type]
    log.info("web server on %s:%s", config.web.host, config.web.port)
    return runner
