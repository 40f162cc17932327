"""The one message type in (`Incoming`) and the one reply type out (`Reply`)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Button:
    """A choice offered to the user. `payload` comes back in `Incoming.payload` when pressed."""

    label: str
    payload: str


@dataclass(frozen=True)
class Attachment:
    """A file (document) or picture (image): generated and sent with a reply, or received from a user."""

    filename: str
    data: bytes = field(repr=False)  # may be megabytes: keep it out of logs and reprs
    mime: str
    kind: str = "document"  # "document" or "image"


@dataclass
class Reply:
    """What a flow answers. Channels render it; flows never send anything themselves."""

    text: str
    buttons: list[Button] = field(default_factory=list)
    attachment: Attachment | None = None


@dataclass(frozen=True)
class ChatRef:
    """A stored conversation reference: enough to message a user later (broadcasts, surveys)."""

    channel: str
    chat_id: str


@dataclass(frozen=True)
class Incoming:
    """One user message or button press, as the core sees it on every channel.

    `is_staff` is never taken from the platform: the core resolves it from config and the database.
    `attachment` is a picture or file the user sent, already downloaded by the adapter (the core never
    fetches URLs); `text` is then its caption. Only flows whose spec `accepts_files` see it.
    """

    channel: str
    chat_id: str
    user_id: str
    display_name: str = ""
    text: str = ""
    payload: str | None = None
    message_id: str | None = None
    is_staff: bool = False
    is_private: bool = True  # a one-to-one chat with the bot (False in a group)
    attachment: Attachment | None = None

    @property
    def ref(self) -> ChatRef:
        return ChatRef(self.channel, self.chat_id)


@dataclass(frozen=True)
class ChannelCapabilities:
    """What a channel can show; the core degrades replies for weaker channels."""

    max_text: int = 4096
    buttons: bool = True
    documents: bool = True
    images: bool = True
    html: bool = False  # text is sent as HTML (bold); otherwise as plain text
    utf16: bool = False  # `max_text` counts UTF-16 code units of the visible text (Telegram)
