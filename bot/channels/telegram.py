"""Telegram adapter: python-telegram-bot 22 in, `Incoming` to the core, `Reply` back out.

PTB is used only as an HTTP client and update router: no persistence, no ConversationHandler
(conversation state is the core's, in SQL). Polling uses PTB's Updater; webhook mode builds the
Application without one and feeds it from our own aiohttp route, so Telegram and Zalo share one
web server. Updates are processed one at a time (PTB's default), in arrival order. A message's
road: `_on_message`/`_on_file`/`_on_callback` → `telegram_convert` → `handle` (the core) → `_deliver`.
Pictures and documents in private chats (up to 10 MB) are downloaded here and reach the core as
`Incoming.attachment` with the caption as text; bigger ones get a polite size note.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import os
import re
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from bot.app import App
    from bot.config import Config

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
TEXT_ONLY = "Hiện mình chỉ đọc được tin nhắn dạng chữ. Bạn vui lòng gõ câu hỏi nhé."
TOO_LARGE = (f"Tệp bạn gửi lớn hơn {MAX_FILE_BYTES // (1024 * 1024)} MB nên mình chưa nhận được. "
             "Bạn vui lòng gửi ảnh hoặc tệp nhỏ hơn nhé.")
_ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
_SECRET_CHARS = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_TRANSIENT_RETRY = 2.0  # seconds before retrying after a timeout or network error
_DOWNLOAD_TIMEOUT = 60.0  # seconds to read a user's file (up to MAX_FILE_BYTES)


class TelegramChannel:
    """The "telegram" channel: start/stop, route updates to `handle`, and `send` proactive replies."""

    name = "telegram"
    capabilities = ChannelCapabilities(max_text=MAX_TEXT, buttons=True, documents=True, images=True,
                                       html=True, utf16=True)

    def __init__(self, config: TelegramConfig, handle: MessageHandler, *,
                 menus: CommandMenus = NO_MENUS) -> None:
        """`menus`: the command menus for private chats and groups (the dispatcher's catalogue makes them)."""
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
            # max_retries=0: a 429 must reach the broadcaster, which paces and retries itself.
            .rate_limiter(AIORateLimiter(overall_max_rate=config.max_rate_per_second, max_retries=0))
        )
        if config.mode == "webhook":
            builder = builder.updater(None)
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
            if app.updater is not None:
                await app.updater.start_polling(allowed_updates=_ALLOWED_UPDATES)
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
        """Stop polling, let queued updates finish, close the HTTP client."""
        app = self.application
        try:
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
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
            await self._deliver(ref.chat_id, reply)
        except RetryAfter as exc:
            raise RetryLater(_retry_seconds(exc), "telegram: rate limited") from exc
        except Forbidden as exc:
            raise RecipientBlocked(f"telegram: {exc.message}") from exc
        except BadRequest as exc:  # before NetworkError: BadRequest subclasses it but is permanent
            if "chat not found" in exc.message.lower():
                raise RecipientBlocked(f"telegram: {exc.message}") from exc
            raise DeliveryError(f"telegram: {exc.message}") from exc
        except NetworkError as exc:  # TimedOut included
            raise RetryLater(_TRANSIENT_RETRY, f"telegram: {exc.message}") from exc

    async def _deliver(self, chat_id: int | str, reply: Reply, interactive: bool = False) -> None:
        """Send a reply's calls; an interactive reply waits out short flood waits (see telegram_send)."""
        bot = self.application.bot
        methods = {"send_message": bot.send_message, "send_document": bot.send_document,
                   "send_photo": bot.send_photo}
        target: int | str = self._migrated.get(str(chat_id), chat_id)
        for call in reply_to_calls(reply, self.capabilities.max_text):
            target = await send_call(methods[call.method], target, call.kwargs, wait_on_flood=interactive,
                                     on_migrated=self._remember_migration)

    def _remember_migration(self, old_chat_id: int | str, new_chat_id: int) -> None:
        self._migrated[str(old_chat_id)] = new_chat_id

    # -- updates -----------------------------------------------------------------------------

    async def _on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.message
        bot = context.bot
        if message is None:
            return
        incoming = message_to_incoming(message, bot.username, bot.id)
        if incoming is None:
            return
        with contextlib.suppress(TelegramError):  # "typing…" is a courtesy, never a reason to fail
            await bot.send_chat_action(message.chat.id, ChatAction.TYPING)
        await self._answer(incoming)

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
        try:  # answer first: it stops the client's spinner even if handling fails later
            await query.answer()
        except BadRequest as exc:  # "query is too old" after a restart: the press still counts
            log.info("telegram: could not answer callback %s: %s", query.id, exc.message)
        incoming = callback_to_incoming(query)
        if incoming is not None:
            await self._answer(incoming)

    async def _answer(self, incoming: Incoming) -> None:
        for reply in await self._handle(incoming):
            await self._deliver(incoming.chat_id, reply, interactive=True)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log with context (never the token) and apologise to the user rather than stay silent.

        No apology after a flood wait or a timeout: the answer may already have arrived (a timeout) or an
        apology would hit the same limit (RetryAfter); a blocked user cannot read one.
        """
        chat = update.effective_chat if isinstance(update, Update) else None
        update_id = update.update_id if isinstance(update, Update) else None
        error = context.error
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
            update = Update.de_json(data, self.application.bot)
        except (ValueError, TypeError, KeyError, AttributeError):  # JSONDecodeError is a ValueError
            return web.Response(status=400, text="bad update")
        await self.application.update_queue.put(update)
        return web.Response(text="ok")


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
