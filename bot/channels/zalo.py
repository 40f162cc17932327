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
import re
import secrets
import socket
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from aiohttp import web

from bot.channels.inbox import Inbox, InboxOptions, MemoryInbox, Rejected, clean_json
from bot.channels.zalo_api import MAX_TEXT, ZaloApi, ZaloAuthError, ZaloDownloadError
from bot.config import Config
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
VOICE_EVENT = "message.voice.received"
STICKER_EVENT = "message.sticker.received"
MAX_IMAGE_BYTES = 10 * 1024 * 1024
DOWNLOAD_TIMEOUT = 30.0  # seconds for a whole picture
SECRET_HEADER = "X-Bot-Api-Secret-Token"
WEBHOOK_PATH = "/zalo/webhook"
REPLY_ATTEMPTS = 4  # tries per reply message when Zalo answers 429/5xx or the network fails
DEDUPE_WINDOW_SECONDS = 300  # an update without message_id nor date is a repeat within this window

VOICE_NOTE = ("🎤 Mình đã nhận tin nhắn thoại nhưng chưa nghe được giọng nói. Bạn nhắn câu hỏi bằng chữ "
              "(có dấu hay không dấu đều được), hoặc gõ /menu để xem những việc mình làm được nhé.")
STICKER_NOTE = "😊 Cảm ơn bạn! Bạn cần hỏi gì về hợp tác xã thì cứ nhắn, hoặc gõ /menu để xem menu nhé."
LINK_NOTE = ("🔗 Mình đã nhận đường link{title} nhưng không mở được trang web bên ngoài. Bạn muốn hỏi gì về "
             "nội dung đó? Bạn gõ câu hỏi, hoặc chép đoạn văn bản cần hỏi vào tin nhắn nhé.")

_IMAGE_TYPES = {"image", "photo", "gif"}
_URL_KEYS = ("url", "photo_url", "href", "src", "link")
_ONLY_URL = re.compile(r"^\s*https?://\S+\s*$")
_MENTION_BEFORE_COMMAND = re.compile(r"^@[^/\n]{1,64}?\s+(?=/\w)")


def parse_update(update: Any, bot_names: Sequence[str] = (), now: float | None = None) -> Incoming | None:
    """Map one Zalo update to an `Incoming`; None (logged) when it is not a usable user message.

    A text message (`message.text.received`, or a `text` without any `event_name` as in the getUpdates
    sample) carries its text; in a group a leading mention of the bot ("@Bot HTX /menu") is removed
    (`bot_names`: the names getMe gave). Pictures, voice, stickers and unsupported events become an
    `Incoming` with empty text: `ZaloChannel` fills in a picture and its caption (see `parse_image`)
    or answers with `media_note`. An update without `message_id` gets one derived from its chat,
    sender, content and date (or, without a date, the current time window), so a redelivery is
    recognised by the core like any other.
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
    is_text = isinstance(text, str) and (event == TEXT_EVENT or event is None) and not _media_url(message)
    is_private = str(chat.get("chat_type") or "PRIVATE").upper() != "GROUP"
    clean = text.strip() if is_text and isinstance(text, str) else ""
    if clean and not is_private:
        clean = strip_bot_mention(clean, bot_names)
    if clean and _ONLY_URL.match(clean):
        clean = ""  # a pasted link alone: answered by media_note, not searched as a question
    name = sender.get("display_name") or sender.get("name") or sender.get("first_name") or ""
    user_id = _id(sender.get("id")) or chat_id
    return Incoming(
        channel="zalo",
        chat_id=chat_id,
        user_id=user_id,
        display_name=str(name),
        text=clean,
        message_id=_id(message.get("message_id")) or _content_key(event, message, chat_id, user_id, now),
        is_private=is_private,
    )


def parse_image(update: Any) -> tuple[str, str] | None:
    """(picture URL, caption) of a picture message, or None.

    The picture may be in `photo` (a URL, or an object with `url`), `photo_url`, or an `attachments`
    entry of type image; an update without `event_name` counts as a picture when it has one of them.
    `parse_update` gives its `Incoming` empty text; the channel fills in the caption and the picture once
    it is downloaded. Only http(s) URLs are ever returned.
    """
    message = update.get("message") if isinstance(update, dict) else None
    event = _event(update)
    if not isinstance(message, dict) or event not in (IMAGE_EVENT, None):
        return None
    url = _media_url(message)
    if url is None:
        return None
    caption = message.get("caption")
    if not isinstance(caption, str):
        caption = message.get("text")  # attachments-style messages put the words in `text`
    return url, caption.strip() if isinstance(caption, str) else ""


def media_note(update: Any) -> str | None:
    """What to answer a voice message, a sticker or a shared link, which the core cannot read; else None."""
    message = update.get("message") if isinstance(update, dict) else None
    if not isinstance(message, dict):
        return None
    event = _event(update)
    if event == VOICE_EVENT or isinstance(message.get("voice_url"), str):
        return VOICE_NOTE
    link = _link(message)
    if link is not None:
        title = link.get("title")
        return LINK_NOTE.format(title=f" «{title.strip()}»" if isinstance(title, str) and title.strip() else "")
    text = message.get("text")
    if isinstance(text, str) and _ONLY_URL.match(text) and event in (TEXT_EVENT, None):
        return LINK_NOTE.format(title="")
    if event == STICKER_EVENT:
        return STICKER_NOTE
    return None


def strip_bot_mention(text: str, bot_names: Sequence[str] = ()) -> str:
    """A group message without its leading "@<bot name>": "@Bot HTX /menu" → "/menu".

    Zalo groups are mention-gated, so every message the bot sees there starts with its name. A known
    name is removed wherever the text continues; an unknown one only when a command follows it.
    """
    if not text.startswith("@"):
        return text
    for name in sorted((n for n in bot_names if n), key=len, reverse=True):
        head = f"@{name}"
        if text[:len(head)].casefold() == head.casefold() and text[len(head):len(head) + 1] in ("", " ", ",", ":"):
            return text[len(head):].lstrip(" ,:") or "/menu"
    return _MENTION_BEFORE_COMMAND.sub("", text, count=1)


def updates_in(body: Any) -> list[dict[str, Any]]:
    """The updates in a getUpdates answer or webhook body: a bare update, `{ok, result}` with one
    update or a list of them, or a plain list."""
    result = unwrap_webhook_body(body)
    if isinstance(result, dict) and result.get("ok") is True and isinstance(result.get("result"), list):
        result = result["result"]
    items = result if isinstance(result, list) else [result]
    return [item for item in items if isinstance(item, dict)]


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


def _media_url(message: dict[str, Any]) -> str | None:
    """The picture's http(s) URL from `photo`, `photo_url` or an image attachment, if any."""
    candidates: list[Any] = [message.get("photo"), message.get("photo_url")]
    attachments = message.get("attachments")
    if isinstance(attachments, list):
        candidates += [a.get("payload") for a in attachments
                       if isinstance(a, dict) and str(a.get("type", "")).lower() in _IMAGE_TYPES]
    for candidate in candidates:
        if isinstance(candidate, list) and candidate:  # sizes, smallest first (Telegram style)
            candidate = candidate[-1]
        if isinstance(candidate, dict):
            candidate = next((candidate[k] for k in _URL_KEYS if isinstance(candidate.get(k), str)), None)
        if isinstance(candidate, str) and candidate.startswith(("https://", "http://")):
            return candidate
    return None


def _link(message: dict[str, Any]) -> dict[str, Any] | None:
    attachments = message.get("attachments")
    if not isinstance(attachments, list):
        return None
    for attachment in attachments:
        if isinstance(attachment, dict) and str(attachment.get("type", "")).lower() == "link":
            payload = attachment.get("payload")
            return payload if isinstance(payload, dict) else {}
    return None


def _content_key(event: str | None, message: dict[str, Any], chat_id: str, user_id: str,
                 now: float | None) -> str:
    """A stable id for an update without `message_id`: same chat, sender, content and time → same id."""
    date = message.get("date")
    when = str(date) if isinstance(date, (int, str)) and not isinstance(date, bool) and str(date) else (
        f"window-{int((time.time() if now is None else now) // DEDUPE_WINDOW_SECONDS)}")
    content = {k: message.get(k) for k in ("text", "caption", "photo", "photo_url", "voice_url", "sticker",
                                             "url", "attachments") if message.get(k) is not None}
    raw = json.dumps([event, chat_id, user_id, when, content], ensure_ascii=False, sort_keys=True, default=str)
    return "h-" + hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]


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

    def _bot_names(self) -> list[str]:
        """The names getMe gave: a leading mention of one of them is removed in groups."""
        return [str(self.bot_info.get(k) or "") for k in ("display_name", "account_name", "name")]

    async def _store_until_done(self, update: Any) -> None:
        """Polling: store the update before polling again (retrying while the database refuses)."""
        failures = 0
        while True:
            try:
                await self.inbox.store([inbox_item(one) for one in updates_in(update)])
                return
            except Exception as exc:  # noqa: BLE001 - keep the update in hand until it is stored
                failures += 1
                delay = self._backoff(failures, exc)
                log.warning("zalo: could not store an update (%s); retrying in %.1fs", type(exc).__name__, delay)
                await asyncio.sleep(delay)

    async def _process_row(self, row: InboxRow) -> None:
        """A stored update: parsed (or rejected: not a usable user message) and answered."""
        incoming = parse_update(row.payload, self._bot_names())
        if incoming is None:
            raise Rejected(f"not a user message (event {_event(row.payload)!r})")
        await self._process(incoming, parse_image(row.payload), media_note(row.payload))

    async def _deliver_stored(self, chat_id: str, replies: list[Reply]) -> None:
        """Replies a turn produced before a crash, delivered on restart."""
        for reply in replies:
            await self._deliver(ChatRef(self.name, chat_id), reply)

    async def _process(self, incoming: Incoming, image: tuple[str, str] | None = None,
                       note: str | None = None) -> None:
        """One message, in order per chat: ask the core, deliver its replies, apologise on failure."""
        async with self._locks.hold(incoming.chat_id):
            if image is not None:
                incoming = await self._with_image(incoming, *image)
            if self.typing and incoming.text:
                await self._quietly(self.api.send_chat_action(incoming.chat_id, "typing"))
            try:  # voice, stickers and links: the core cannot read them, so say what we can do
                replies = [Reply(note)] if note and not incoming.text else await self.handler(incoming)
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
            await self.inbox.store([inbox_item(one) for one in updates_in(body)])
        except Exception:  # noqa: BLE001 - not stored: let Zalo deliver it again
            log.exception("zalo: could not store a webhook update")
            return web.json_response({"ok": False, "description": "Try again"}, status=503)
        return web.json_response({"ok": True})


def inbox_item(update: Any) -> InboxItem:
    """An update for the inbox, keyed by its message_id (Zalo redelivers), ordered per sender."""
    update = clean_json(update) if isinstance(update, dict) else {"unexpected": clean_json(update)}
    message = update.get("message") if isinstance(update.get("message"), dict) else {}
    message_id = _id(message.get("message_id"))
    sender = message.get("from") if isinstance(message.get("from"), dict) else {}
    chat = message.get("chat") if isinstance(message.get("chat"), dict) else {}
    chat_id = _id(chat.get("id"))
    if not message_id and chat_id:  # no id: the same content in the same time window is one message
        message_id = _content_key(_event(update), message, chat_id, _id(sender.get("id")) or chat_id, None)
    key = f"m:{message_id}" if message_id else "nokey:" + hashlib.sha256(
        json.dumps(update, sort_keys=True, default=str).encode()).hexdigest()[:32]
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
    """Run this channel alone on an open App until cancelled (the composition root does the work).

    Raises ConfigError for a missing token/secret and ZaloAuthError when Zalo rejects the token."""
    from bot.runtime import Runtime

    await Runtime(config, ["zalo"], app=app, serve_web=serve_web or config.zalo.mode == "webhook",  # type: ignore[arg-type]
                  worker=False).run()
