"""What the real Bot API refuses, for the fake server: HTML it cannot parse, texts too long, bad buttons.

Written from the Bot API documentation (core.telegram.org/bots/api, "Formatting options" and the
`sendMessage` / `InlineKeyboardButton` parameter texts), not from what our client sends:
- parse_mode HTML knows only the tags b, strong, i, em, u, ins, s, strike, del, span class="tg-spoiler",
  tg-spoiler, a href, tg-emoji emoji-id, code, pre, blockquote; tags must nest properly; `<`, `>` and `&`
  outside a tag or entity must be escaped; named entities are only &lt; &gt; &amp; &quot; (numeric ones
  are all allowed). Telegram answers 400 "Bad Request: can't parse entities: …".
- text: 1-4096 characters after entity parsing; caption: 0-1024. Entity offsets and lengths are UTF-16
  code units, and so is this count.
- callback_data: 1-64 bytes; Telegram answers 400 "Bad Request: BUTTON_DATA_INVALID".
The checks are independent of the bot's own splitter (bot/core/split.py) on purpose.
"""

from __future__ import annotations

import html
import re
from typing import Any

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_BYTES = 64
TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a", "tg-emoji",
        "code", "pre", "blockquote"}
NAMED_ENTITIES = {"lt", "gt", "amp", "quot"}
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)((?:\s+[A-Za-z-]+(?:=(?:\"[^\"]*\"|'[^']*'|[^\s>]+))?)*)\s*>")
_ENTITY = re.compile(r"&(?:#([0-9]{1,7})|#[xX]([0-9A-Fa-f]{1,6})|([A-Za-z]+));")


class EntityError(ValueError):
    """The text is not HTML Telegram can parse; the message is Telegram's description."""


def parse_html(text: str) -> str:
    """The visible text Telegram would show for `text` with parse_mode HTML; raises EntityError."""
    visible: list[str] = []
    open_tags: list[str] = []
    index = 0
    raw = text.encode("utf-8")
    while index < len(text):
        char = text[index]
        offset = len(text[:index].encode("utf-8"))
        if char == "<":
            match = _TAG.match(text, index)
            if match is None:
                raise EntityError(f"Bad Request: can't parse entities: unexpected \"<\" at byte offset {offset}")
            closing, name = match.group(1) == "/", match.group(2).lower()
            if name not in TAGS:
                kind = "end" if closing else "start"
                raise EntityError(f"Bad Request: can't parse entities: unsupported {kind} tag \"{name}\" "
                                  f"at byte offset {offset}")
            if closing:
                if not open_tags or open_tags[-1] != name:
                    raise EntityError(f"Bad Request: can't parse entities: unmatched end tag at byte offset "
                                      f"{offset}, expected \"</{open_tags[-1] if open_tags else ''}>\", "
                                      f"found \"</{name}>\"")
                open_tags.pop()
            else:
                open_tags.append(name)
            index = match.end()
        elif char == "&":
            match = _ENTITY.match(text, index)
            if match is None or (match.group(3) and match.group(3) not in NAMED_ENTITIES):
                raise EntityError(f"Bad Request: can't parse entities: unsupported HTML entity at byte offset "
                                  f"{offset}")
            visible.append(html.unescape(match.group(0)))
            index = match.end()
        elif char == ">":
            raise EntityError(f"Bad Request: can't parse entities: unexpected \">\" at byte offset {offset}")
        else:
            visible.append(char)
            index += 1
    if open_tags:
        raise EntityError(f"Bad Request: can't parse entities: can't find end tag corresponding to start tag "
                          f"\"{open_tags[-1]}\" (of {len(raw)} bytes)")
    return "".join(visible)


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units, as Telegram counts it."""
    return len(text.encode("utf-16-le")) // 2


def check_request(method: str, params: dict[str, Any]) -> str | None:
    """Telegram's 400 description for a call it would refuse, or None when it would accept it."""
    markup = params.get("reply_markup")
    if isinstance(markup, dict):
        for row in markup.get("inline_keyboard") or []:
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode("utf-8")) <= MAX_CALLBACK_BYTES:
                    return "Bad Request: BUTTON_DATA_INVALID"
    if method == "sendMessage":
        return _check_text(params.get("text"), params.get("parse_mode"), MAX_TEXT, "message text", True)
    if method in ("sendPhoto", "sendDocument") and params.get("caption") is not None:
        return _check_text(params.get("caption"), params.get("parse_mode"), MAX_CAPTION, "message caption", False)
    return None


def _check_text(value: Any, parse_mode: Any, limit: int, what: str, required: bool) -> str | None:
    text = "" if value is None else str(value)
    if str(parse_mode or "").upper() == "HTML":
        try:
            text = parse_html(text)
        except EntityError as exc:
            return str(exc)
    if required and not text.strip():
        return f"Bad Request: {what} is empty"
    if utf16_length(text) > limit:
        return f"Bad Request: {what} is too long"
    return None
