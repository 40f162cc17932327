"""Pure conversions between Telegram objects and the core's `Incoming`/`Reply` (no network here).

Kept apart from the adapter so the rules that matter to users — who is addressed in a group, how
commands are read, where long answers are cut, what a keyboard looks like — are unit-testable.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from typing import Any

from telegram import BotCommand, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, MessageEntity
from telegram.constants import ChatType

from bot.core.catalogue import CommandMenus
from bot.core.split import split_text
from bot.core.types import Attachment, Button, Incoming, Reply

CHANNEL = "telegram"
MAX_TEXT = 4096  # Telegram's limit for one message's text, in UTF-16 units after entity parsing
MAX_CALLBACK_DATA = 64  # bytes, not characters: Vietnamese letters take 2–3 bytes each
EMPTY_MENTION_TEXT = "/menu"  # "@bot" alone in a group: show the menu rather than nothing
MAX_FILE_BYTES = 10 * 1024 * 1024  # pictures and documents users send; bigger ones are refused politely

_GROUP_TYPES = {ChatType.GROUP, ChatType.SUPERGROUP}
_COMMAND = re.compile(r"^/(?P<name>[A-Za-z0-9_]+)(?:@(?P<bot>[A-Za-z0-9_]+))?(?P<rest>\s.*)?$", re.DOTALL)


# -- updates → Incoming -------------------------------------------------------------------------


def addressed_text(text: str, *, chat_type: str, bot_username: str, mentioned: bool = False,
                   replied_to_bot: bool = False) -> str | None:
    """The text meant for our bot, or None when the message is not for us.

    Private chats: everything. Groups: commands (not those addressed to another bot), messages that
    mention the bot (the mention is stripped) and replies to the bot's messages. "/cmd@OurBot arg"
    becomes "/cmd arg" everywhere so the core sees one spelling of each command.
    """
    text = text.strip()
    command = _COMMAND.match(text)
    in_group = chat_type in _GROUP_TYPES
    if command:
        target = command["bot"]
        if in_group and target and target.lower() != bot_username.lower():
            return None
        return f"/{command['name']}{command['rest'] or ''}".strip()
    if not in_group:
        return text
    if mentioned:
        stripped = re.sub(rf"@{re.escape(bot_username)}\b", " ", text, flags=re.IGNORECASE)
        return " ".join(stripped.split()) or EMPTY_MENTION_TEXT
    if replied_to_bot:
        return text
    return None


def mentions_bot(message: Message, bot_username: str, bot_id: int) -> bool:
    """True when a mention entity names the bot (offsets are UTF-16; PTB's parse_entities handles it)."""
    entities = message.parse_entities([MessageEntity.MENTION, MessageEntity.TEXT_MENTION])
    for entity, value in entities.items():
        if entity.type == MessageEntity.MENTION and value.lower() == f"@{bot_username.lower()}":
            return True
        if entity.type == MessageEntity.TEXT_MENTION and entity.user and entity.user.id == bot_id:
            return True
    return False


def message_to_incoming(message: Message, bot_username: str, bot_id: int) -> Incoming | None:
    """A text message as `Incoming`, or None when it is not addressed to the bot."""
    if message.text is None or message.from_user is None:
        return None
    reply_to = message.reply_to_message
    text = addressed_text(
        message.text,
        chat_type=message.chat.type,
        bot_username=bot_username,
        mentioned=mentions_bot(message, bot_username, bot_id),
        replied_to_bot=bool(reply_to and reply_to.from_user and reply_to.from_user.id == bot_id),
    )
    if text is None:
        return None
    return _incoming(message, text)


@dataclass(frozen=True)
class ReceivedFile:
    """A picture or document in a user's message, before it is downloaded."""

    file_id: str
    filename: str
    mime: str
    kind: str  # "image" | "document"
    size: int | None  # as Telegram reports it; may be missing


def received_file(message: Message) -> ReceivedFile | None:
    """The picture (its largest size) or document a message carries, or None."""
    if message.photo:
        best = max(message.photo, key=lambda p: (p.file_size or 0, p.width * p.height))
        return ReceivedFile(best.file_id, f"anh-{best.file_unique_id}.jpg", "image/jpeg", "image", best.file_size)
    document = message.document
    if document is not None:
        return ReceivedFile(document.file_id, document.file_name or f"tep-{document.file_unique_id}",
                            document.mime_type or "application/octet-stream", "document", document.file_size)
    return None


def media_to_incoming(message: Message, attachment: Attachment | None, bot_username: str) -> Incoming | None:
    """A private picture or document message as `Incoming`: the caption is the text.

    Without the downloaded file (it could not be fetched) the caption is dropped too, so that the core
    sees an empty message rather than a caption whose picture silently went missing.
    """
    if message.from_user is None:
        return None
    if attachment is None:
        return _incoming(message, "")
    text = addressed_text(message.caption or "", chat_type=message.chat.type, bot_username=bot_username)
    return _incoming(message, text or "", attachment)


def _incoming(message: Message, text: str, attachment: Attachment | None = None) -> Incoming:
    user = message.from_user
    assert user is not None
    return Incoming(
        channel=CHANNEL,
        chat_id=str(message.chat.id),
        user_id=str(user.id),
        display_name=user.full_name,
        text=text,
        message_id=f"{message.chat.id}:{message.message_id}",
        attachment=attachment,
        is_private=message.chat.type == "private",
    )


def callback_to_incoming(query: CallbackQuery) -> Incoming | None:
    """A button press as `Incoming` with `payload`; the query id makes redeliveries recognisable.

    Replies go to the chat of the person who pressed: their private chat, or the group the button's
    message is in. A press naming another person's private chat (a forged callback) is answered in the
    presser's own chat, never in the other one.
    """
    if not query.data:
        return None
    message = query.message
    in_group = message is not None and message.chat.type in _GROUP_TYPES
    chat_id = message.chat.id if in_group and message is not None else query.from_user.id
    return Incoming(
        channel=CHANNEL,
        chat_id=str(chat_id),
        user_id=str(query.from_user.id),
        display_name=query.from_user.full_name,
        payload=query.data,
        message_id=query.id,
        is_private=not in_group,
    )


# -- Reply → Bot API calls ---------------------------------------------------------------------


@dataclass(frozen=True)
class Outgoing:
    """One Bot API call to make for a reply: `method` is a `telegram.Bot` coroutine name."""

    method: str  # "send_message" | "send_document" | "send_photo"
    kwargs: dict[str, Any] = field(default_factory=dict)


def build_keyboard(buttons: list[Button]) -> InlineKeyboardMarkup | None:
    """One button per row (labels stay readable on phones); reject callback data Telegram would refuse."""
    if not buttons:
        return None
    for button in buttons:
        size = len(button.payload.encode("utf-8"))
        if not 1 <= size <= MAX_CALLBACK_DATA:
            raise ValueError(
                f"button {button.label!r}: payload is {size} bytes; Telegram allows 1–{MAX_CALLBACK_DATA}"
            )
    return InlineKeyboardMarkup([[InlineKeyboardButton(b.label, callback_data=b.payload)] for b in buttons])


def command_menus(menus: CommandMenus) -> tuple[list[BotCommand], list[BotCommand]]:
    """The command menus for private chats and for groups (generated from the flows' specs: groups lack
    the commands that refuse to run there), for setMyCommands with the all-private and all-group scopes."""
    return ([BotCommand(word, about) for word, about in menus.private],
            [BotCommand(word, about) for word, about in menus.group])


def reply_to_calls(reply: Reply, max_text: int = MAX_TEXT) -> list[Outgoing]:
    """The Bot API calls that deliver `reply`: text parts first, keyboard under the last part, then
    the file. Without text the keyboard goes on the file."""
    markup = build_keyboard(reply.buttons)
    # Texts come from the core already rendered as HTML (escaped, with <b> for bold) and split by the
    # same splitter; splitting again here is a no-op for them and keeps direct callers within the limit.
    parts = split_text(reply.text, max_text, html_text=True, utf16=True)
    calls = [Outgoing("send_message", {"text": part, "parse_mode": "HTML"}) for part in parts]
    if reply.attachment is not None:
        att = reply.attachment
        kind = "photo" if att.kind == "image" else "document"
        calls.append(Outgoing(f"send_{kind}", {kind: io.BytesIO(att.data), "filename": att.filename}))
    if markup is not None and calls:
        target = next((c for c in reversed(calls) if c.method == "send_message"), calls[-1])
        target.kwargs["reply_markup"] = markup
    return calls
