"""Telegram adapter: python-telegram-bot 22 in, `Incoming` to the core, `Reply` back out.

PTB is used as an HTTP client and update router: no persistence, no ConversationHandler, no Updater
(conversation state is the core's, in SQL). Updates reach the durable inbox first (bot/channels/inbox.py):
polling is our own loop that stores each batch of raw update JSON before asking for the next offset
(which is what confirms them to Telegram), and the webhook stores the update before answering 200. The
inbox then hands stored rows back here (`_process_row`): parsed with `Update.de_json` (an unparsable
update is rejected, logged once, skipped) and routed by `Application.process_update`, per user in order,
different users concurrently. A message's road: `_on_message`/`_on_file`/`_on_callback` →
`telegram_convert` → `handle` (the core) → `_deliver`. Pictures and documents in private chats (up to
10 MB) are downloaded here and reach the core as `Incoming.attachment` with the caption as text.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx
from aiohttp import web
from telegram import BotCommandScopeAllGroupChats, BotCommandScopeAllPrivateChats, Update
from telegram.constants import ChatAction
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    filters,
)
from telegram.ext import MessageHandler as PTBMessageHandler

from bot.broadcast.errors import DeliveryUncertain
from bot.channels.inbox import Inbox, InboxOptions, MemoryInbox, Rejected, clean_json
from bot.channels.telegram_convert import (
    MAX_FILE_BYTES,
    MAX_TEXT,
    ReceivedFile,
    callback_to_incoming,
    command_menus,
    media_to_incoming,
    message_to_incoming,
    received_file,
    reply_to_calls,
)
from bot.channels.telegram_send import retry_seconds as _retry_seconds
from bot.channels.telegram_send import send_call
from bot.config import ConfigError, TelegramConfig
from bot.core.catalogue import NO_MENUS, CommandMenus
from bot.core.channel import APOLOGY, DeliveryError, MessageHandler, RecipientBlocked, RetryLater
from bot.core.types import Attachment, ChannelCapabilities, ChatRef, Incoming, Reply
from bot.storage.repo.inbox import InboxItem, InboxRow

if TYPE_CHECKING:
    from bot.app import App
    from bot.config import Config
    from bot.storage.db import Database

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
TEXT_ONLY = "Hiện mình chỉ đọc được tin nhắn dạng chữ. Bạn vui lòng gõ câu hỏi nhé."
TOO_LARGE = (f"Tệp bạn gửi lớn hơn {MAX_FILE_BYTES // (1024 * 1024)} MB nên mình chưa nhận được. "
             "Bạn vui lòng gửi ảnh hoặc tệp nhỏ hơn nhé.")
_ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
_SECRET_CHARS = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_TRANSIENT_RETRY = 2.0  # seconds before retrying after a timeout or network error
POLL_TIMEOUT = 10  # seconds Telegram may hold an empty getUpdates (long polling)
_POLL_BACKOFF_CAP = 30.0
_TYPING_DELAY = 0.5  # show "typing…" only when an answer takes longer than this
_DOWNLOAD_TIMEOUT = 60.0  # seconds to read a user's file (up to MAX_FILE_BYTES)


class TelegramChannel:
    """The "telegram" channel: start/stop, route updates to `handle`, and `send` proactive replies."""

    name = "telegram"
    capabilities = ChannelCapabilities(max_text=MAX_TEXT, buttons=True, documents=True, images=True,
                                       html=True, utf16=True)

    def __init__(self, config: TelegramConfig, handle: MessageHandler, *, db: Database | None = None,
                 worker: str = "", inbox: InboxOptions | None = None, menus: CommandMenus = NO_MENUS) -> None:
        """`db`: keep the durable inbox there (without it, updates are handled from memory: tests, tools).
        `menus`: the command menus for private chats and groups (the dispatcher's catalogue makes them)."""
        _validate(config)
        # PTB 22 warns on every RetryAfter unless told to use timedelta values; we read both forms.
        os.environ.setdefault("PTB_TIMEDELTA", "true")
        self._config = config
        self._handle = handle
        self._redactor = _TokenRedactor(config.token)
        self._menus = menus
        self._migrated: dict[str, int] = {}  # group chat id -> its supergroup's id (ChatMigrated)
        builder = (
            ApplicationBuilder()
            .token(config.token)
            .base_url(config.base_url)
            .base_file_url(config.base_file_url)
            .read_timeout(config.read_timeout)
            # max_retries=0: a 429 must reach the broadcaster, which paces and retries itself.
            .rate_limiter(AIORateLimiter(overall_max_rate=config.max_rate_per_second, max_retries=0))
        )
        builder = builder.updater(None)  # we poll ourselves, storing every update before confirming it
        self.application: Application[Any, Any, Any, Any, Any, Any] = builder.build()
        new_message = filters.UpdateType.MESSAGE
        private = new_message & filters.ChatType.PRIVATE
        self.application.add_handler(PTBMessageHandler(new_message & filters.TEXT, self._on_message))
        # PTB runs the first matching handler of a group: pictures and documents before the "text only" note.
        self.application.add_handler(
            PTBMessageHandler(private & (filters.PHOTO | filters.Document.ALL), self._on_file)
        )
        self.application.add_handler(PTBMessageHandler(private & ~filters.TEXT, self._on_other))
        self.application.add_handler(CallbackQueryHandler(self._on_callback))
        self.application.add_error_handler(self._on_error)
        # PTB logs every 429 as an ERROR with a traceback; the broadcaster logs one WARNING line instead.
        logging.getLogger("telegram.ext.AIORateLimiter").addFilter(_quiet_rate_limit)
        self.inbox: Inbox | MemoryInbox = (
            Inbox(db, self.name, worker or _default_worker(), self._process_row, self._deliver_stored, inbox)
            if db is not None else MemoryInbox(self.name, self._process_row, inbox))
        self._poller: asyncio.Task[None] | None = None
        self.on_poll: Callable[[], None] | None = None
        self.interactive_sent = 0  # answers to members: the broadcaster yields a slot for each
        self.confirmed_offset = 0  # the last getUpdates offset sent: everything before it is confirmed

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect (getMe), register the Vietnamese command menu, then poll or set the webhook."""
        logging.getLogger("httpx").addFilter(self._redactor)  # httpx logs request URLs with the token
        app = self.application
        try:
            await app.initialize()
        except InvalidToken:  # PTB's message quotes the token: replace it, and drop the chain
            await self.stop()
            raise ConfigError(
                f"telegram.token: rejected by the Bot API at {self._config.base_url}; "
                "check HTXBOT_TELEGRAM__TOKEN"
            ) from None
        try:
            private_menu, group_menu = command_menus(self._menus)
            await app.bot.set_my_commands(private_menu, scope=BotCommandScopeAllPrivateChats())
            await app.bot.set_my_commands(group_menu, scope=BotCommandScopeAllGroupChats())
            await app.start()
            self.inbox.start()
            if self._config.mode == "polling":
                await app.bot.delete_webhook()  # getUpdates is refused while a webhook is set
                self._poller = asyncio.create_task(self._poll_loop(), name="telegram-poll")
            elif self._config.webhook_url:
                await app.bot.set_webhook(
                    self._config.webhook_url,
                    secret_token=self._config.webhook_secret,
                    allowed_updates=_ALLOWED_UPDATES,
                )
        except BaseException:
            await self.stop()
            raise
        log.info("telegram: started as @%s in %s mode", app.bot.username, self._config.mode)

    async def stop(self) -> None:
        """Stop polling (nothing unstored is confirmed), finish or hand back updates in progress, close."""
        app = self.application
        try:
            if self._poller is not None:
                self._poller.cancel()
                await asyncio.gather(self._poller, return_exceptions=True)
                self._poller = None
            await self.inbox.stop()
            if app.running:
                await app.stop()
            await app.shutdown()
            await app.bot.shutdown()  # no-op after a clean shutdown; closes clients a failed start opened
        finally:
            logging.getLogger("httpx").removeFilter(self._redactor)

    def web_routes(self) -> list[web.RouteDef]:
        """Routes for the shared aiohttp server (webhook mode)."""
        return [web.post(WEBHOOK_PATH, self._on_webhook)]

    # -- proactive sends ---------------------------------------------------------------------

    async def send(self, ref: ChatRef, reply: Reply) -> None:
        """Deliver one reply to a stored reference, translating PTB errors for the broadcaster."""
        try:
            await self._deliver(ref.chat_id, reply, interactive=False)
        except RetryAfter as exc:
            raise RetryLater(_retry_seconds(exc), "telegram: rate limited") from exc
        except Forbidden as exc:
            raise RecipientBlocked(f"telegram: {exc.message}") from exc
        except BadRequest as exc:  # before NetworkError: BadRequest subclasses it but is permanent
            if "chat not found" in exc.message.lower():
                raise RecipientBlocked(f"telegram: {exc.message}") from exc
            raise DeliveryError(f"telegram: {exc.message}") from exc
        except NetworkError as exc:  # TimedOut included
            if _may_have_arrived(exc):
                raise DeliveryUncertain(f"telegram: no answer after sending ({exc.message})") from exc
            raise RetryLater(_TRANSIENT_RETRY, f"telegram: {exc.message}") from exc

    async def _deliver(self, chat_id: int | str, reply: Reply, interactive: bool = True) -> None:
        """Send a reply's calls; an interactive reply waits out short flood waits (see telegram_send)."""
        bot = self.application.bot
        methods = {"send_message": bot.send_message, "send_document": bot.send_document,
                   "send_photo": bot.send_photo}
        target: int | str = self._migrated.get(str(chat_id), chat_id)
        for call in reply_to_calls(reply, self.capabilities.max_text):
            target = await send_call(methods[call.method], target, call.kwargs, wait_on_flood=interactive,
                                     on_migrated=self._remember_migration)
            if interactive:
                self.interactive_sent += 1

    def _remember_migration(self, old_chat_id: int | str, new_chat_id: int) -> None:
        self._migrated[str(old_chat_id)] = new_chat_id

    # -- intake ------------------------------------------------------------------------------

    async def _poll_loop(self) -> None:
        """getUpdates → store the batch → only then ask again with the offset that confirms it.

        getUpdates is called over plain HTTP (not PTB's `Bot.get_updates`): we need the raw JSON, to
        store it before anything tries to parse it.
        """
        url = f"{self.application.bot.base_url}/getUpdates"
        failures = 0
        async with httpx.AsyncClient(timeout=httpx.Timeout(10.0, read=POLL_TIMEOUT + 10)) as client:
            while True:
                body: dict[str, Any] = {"timeout": POLL_TIMEOUT, "allowed_updates": _ALLOWED_UPDATES}
                if self.confirmed_offset:
                    body["offset"] = self.confirmed_offset
                try:
                    updates = await _get_updates(client, url, body)
                    if updates:
                        await self.inbox.store([_inbox_item(u) for u in updates])
                except asyncio.CancelledError:
                    raise
                except _PollRefused as exc:
                    failures += 1
                    delay = exc.retry_after or min(_POLL_BACKOFF_CAP, 0.5 * 2 ** min(failures, 8))
                    log.warning("telegram: getUpdates refused (%s); retrying in %.1fs", exc, delay)
                    await asyncio.sleep(delay)
                    continue
                except Exception as exc:  # noqa: BLE001 - network, bad JSON, database: back off, never spin
                    failures += 1
                    delay = min(_POLL_BACKOFF_CAP, 0.5 * 2 ** min(failures, 8))
                    log.warning("telegram: getUpdates or storing failed (%s); retrying in %.1fs",
                                type(exc).__name__, delay)
                    await asyncio.sleep(delay)
                    continue
                failures = 0
                if self.on_poll is not None:
                    self.on_poll()  # a getUpdates answered and its updates stored: /healthz sees polling alive
                ids = [u["update_id"] for u in updates if isinstance(u.get("update_id"), int)]
                if ids:
                    self.confirmed_offset = max(max(ids) + 1, self.confirmed_offset)

    async def _process_row(self, row: InboxRow) -> None:
        """A stored update: parsed (or rejected) and routed through PTB's handlers to the core."""
        try:
            update = Update.de_json(_normalised(row.payload), self.application.bot)
        except Exception as exc:  # noqa: BLE001 - whatever PTB cannot read is rejected, never retried
            raise Rejected(f"unparsable update ({type(exc).__name__})") from None
        if update is None:
            raise Rejected("empty update")
        await self.application.process_update(update)

    async def _deliver_stored(self, chat_id: str, replies: list[Reply]) -> None:
        """Replies a turn produced before a crash, delivered on restart."""
        for reply in replies:
            await self._deliver(chat_id, reply, interactive=True)

    # -- updates -----------------------------------------------------------------------------

    async def _on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.message
        bot = context.bot
        if message is None:
            return
        incoming = message_to_incoming(message, bot.username, bot.id)
        if incoming is None:
            return
        await self._answer(incoming, typing_in=message.chat.id)

    async def _on_file(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A picture or document in a private chat: downloaded and handed to the core with its caption."""
        message = update.message
        found = received_file(message) if message is not None else None
        if message is None or found is None:
            return
        with contextlib.suppress(TelegramError):
            await context.bot.send_chat_action(message.chat.id, ChatAction.TYPING)
        try:
            attachment = await self._download(context.bot, found, message.chat.id)
        except _TooLarge:
            await message.reply_text(TOO_LARGE)
            return
        incoming = media_to_incoming(message, attachment, context.bot.username)
        if incoming is not None:
            await self._answer(incoming)

    async def _download(self, bot: Any, found: ReceivedFile, chat_id: int) -> Attachment | None:
        """The file's bytes, or None (logged) when Telegram would not give them.

        Raises _TooLarge, before downloading whenever a size is known (the message's, then getFile's).
        """
        if found.size is not None and found.size > MAX_FILE_BYTES:
            raise _TooLarge
        try:
            file = await bot.get_file(found.file_id)
            if file.file_size is not None and file.file_size > MAX_FILE_BYTES:
                raise _TooLarge
            data = await file.download_as_bytearray(read_timeout=_DOWNLOAD_TIMEOUT)
        except (TelegramError, RuntimeError) as exc:
            log.warning("telegram: could not download the %s sent in chat %s: %s", found.kind, chat_id,
                        self._redactor.redact(str(exc)))
            return None
        if len(data) > MAX_FILE_BYTES:
            raise _TooLarge
        return Attachment(found.filename, bytes(data), found.mime, found.kind)

    async def _on_other(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Voice notes, stickers, videos in a private chat: say what the bot can read instead of silence."""
        if update.message is not None:
            await update.message.reply_text(TEXT_ONLY)

    async def _on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        # Answered alongside the turn (it stops the client's spinner), not before it: one round trip less.
        answering = asyncio.create_task(self._answer_query(query))
        try:
            incoming = callback_to_incoming(query)
            if incoming is not None:
                await self._answer(incoming)
        finally:
            await answering

    @staticmethod
    async def _answer_query(query: Any) -> None:
        try:
            await query.answer()
        except TelegramError as exc:  # "query is too old" after a restart: the press still counts
            log.info("telegram: could not answer callback %s: %s", query.id, exc.message)

    async def _answer(self, incoming: Incoming, typing_in: int | None = None) -> None:
        typing = asyncio.create_task(self._typing_later(typing_in)) if typing_in is not None else None
        try:
            replies = await self._handle(incoming)
        finally:
            if typing is not None:
                typing.cancel()
        for reply in replies:
            await self._deliver(incoming.chat_id, reply, interactive=True)

    async def _typing_later(self, chat_id: int) -> None:
        """"typing…" only for a slow answer; a courtesy, never a reason to fail."""
        await asyncio.sleep(_TYPING_DELAY)
        with contextlib.suppress(TelegramError):
            await self.application.bot.send_chat_action(chat_id, ChatAction.TYPING)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log with context (never the token) and apologise to the user rather than stay silent.

        No apology after a flood wait or a timeout: the answer may already have arrived (a timeout) or an
        apology would hit the same limit (RetryAfter); a blocked user cannot read one.
        """
        chat = update.effective_chat if isinstance(update, Update) else None
        update_id = update.update_id if isinstance(update, Update) else None
        error = context.error
        if isinstance(error, RetryAfter):
            log.warning("telegram: rate limited while answering update %s (chat %s); retry after %.0fs",
                        update_id, chat.id if chat else None, _retry_seconds(error))
            return
        transient = isinstance(error, NetworkError) and not isinstance(error, BadRequest)
        log.error(
            "telegram: error handling update %s (chat %s): %s",
            update_id, chat.id if chat else None, self._redactor.redact(repr(error)),
            exc_info=None if transient else error,  # a traceback helps only for our own bugs
        )
        if chat is None or isinstance(error, (Forbidden, RetryAfter, TimedOut)):
            return
        try:
            await context.bot.send_message(chat.id, APOLOGY)
        except TelegramError as exc:
            log.warning("telegram: could not send the apology to chat %s: %s", chat.id, exc.message)

    async def _on_webhook(self, request: web.Request) -> web.Response:
        """Accept an update from Telegram only with the right secret header; queue it and return fast."""
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self._config.webhook_secret.encode()):
            log.warning("telegram: webhook request from %s with a missing or wrong secret", request.remote)
            return web.Response(status=403, text="forbidden")
        try:
            data = await request.json()
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                raise ValueError("not an update")
        except (ValueError, UnicodeDecodeError):  # JSONDecodeError is a ValueError
            return web.Response(status=400, text="bad update")
        try:  # stored before the 200: a crash after it loses nothing
            await self.inbox.store([_inbox_item(data)])
        except Exception:  # noqa: BLE001 - not stored: let Telegram deliver it again
            log.exception("telegram: could not store webhook update %s", data.get("update_id"))
            return web.Response(status=503, text="try again")
        return web.Response(text="ok")


class _PollRefused(Exception):
    """getUpdates answered with an error (429, 409 conflict, 5xx…)."""

    def __init__(self, message: str, retry_after: float = 0.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


async def _get_updates(client: httpx.AsyncClient, url: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    """One getUpdates call: the raw update dicts, or _PollRefused (never an exception quoting the URL)."""
    try:
        response = await client.post(url, json=body)
    except httpx.HTTPError as exc:
        raise _PollRefused(f"network: {type(exc).__name__}") from None
    try:
        data = response.json()
    except ValueError:
        raise _PollRefused(f"HTTP {response.status_code}, not JSON") from None
    if response.status_code != 200 or not isinstance(data, dict) or data.get("ok") is not True:
        data = data if isinstance(data, dict) else {}
        params = data.get("parameters") if isinstance(data.get("parameters"), dict) else {}
        retry = params.get("retry_after") if isinstance(params.get("retry_after"), (int, float)) else 0
        raise _PollRefused(f"{response.status_code} {str(data.get('description', ''))[:200]}", float(retry))
    result = data.get("result")
    return [u for u in result if isinstance(u, dict)] if isinstance(result, list) else []


def _quiet_rate_limit(record: logging.LogRecord) -> bool:
    """Drop PTB's "Rate limit hit" ERROR records: a 429 is reported (once, as a WARNING) by whoever acts on it."""
    return not (record.exc_info and isinstance(record.exc_info[1], RetryAfter))


def _may_have_arrived(exc: NetworkError) -> bool:
    """A network failure after the request was written (read timeout, connection dropped while waiting
    for the answer): Telegram may have delivered the message. Connect and pool failures, and answers
    from the server (5xx), mean it did not."""
    cause = exc.__cause__
    if isinstance(cause, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
        return False
    return isinstance(cause, (httpx.ReadTimeout, httpx.WriteTimeout, httpx.ReadError, httpx.RemoteProtocolError))


def _inbox_item(update: dict[str, Any]) -> InboxItem:
    """An update for the inbox: keyed by update_id, ordered per sender (chat when there is no sender)."""
    update = clean_json(update)
    update_id = update.get("update_id")
    if isinstance(update_id, int):
        key = str(update_id)
    else:
        key = "nokey:" + hashlib.sha256(json.dumps(update, sort_keys=True, default=str).encode()).hexdigest()[:32]
    user = "?"
    for kind in ("callback_query", "message", "edited_message"):
        body = update.get(kind)
        if isinstance(body, dict):
            sender, chat = body.get("from"), body.get("chat")
            who = sender.get("id") if isinstance(sender, dict) else None
            who = who if who is not None else (chat.get("id") if isinstance(chat, dict) else None)
            if isinstance(who, (int, str)) and not isinstance(who, bool):
                user = str(who)
            break
    return InboxItem(key, user, update)


def _normalised(update: dict[str, Any]) -> dict[str, Any]:
    """A message `text` that is not a string (a number, a list) is read as its JSON text, not an error."""
    message = update.get("message")
    if isinstance(message, dict) and "text" in message and not isinstance(message["text"], str):
        text = message["text"]
        fixed = text if text is None else json.dumps(text, ensure_ascii=False)
        return {**update, "message": {**message, "text": fixed}}
    return update


def _default_worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def _validate(config: TelegramConfig) -> None:
    if not config.token:
        raise ConfigError(
            "telegram.token: missing; set HTXBOT_TELEGRAM__TOKEN (or HTXBOT_TELEGRAM__TOKEN_FILE)"
        )
    if config.mode == "webhook" and not _SECRET_CHARS.match(config.webhook_secret):
        raise ConfigError(
            "telegram.webhook_secret: webhook mode needs 1–256 characters of A-Z a-z 0-9 _ -; "
            "set HTXBOT_TELEGRAM__WEBHOOK_SECRET"
        )


class _TooLarge(Exception):
    """A user's file is over MAX_FILE_BYTES: they get TOO_LARGE instead of an answer."""


class _TokenRedactor(logging.Filter):
    """Replaces the bot token in log records (httpx logs full request URLs at INFO)."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self._token = token

    def redact(self, text: str) -> str:
        return text.replace(self._token, "<token>") if self._token else text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self._token and self._token in message:
            record.msg, record.args = self.redact(message), None
        return True


async def run_telegram(app: App, config: Config) -> None:
    """Run this channel alone on an open App until cancelled (the composition root does the work)."""
    from bot.runtime import Runtime

    await Runtime(config, ["telegram"], app=app, serve_web=config.telegram.mode == "webhook", worker=False).run()
