"""Degrade replies for weaker channels: numbered options instead of buttons, split long texts."""

from __future__ import annotations

from dataclasses import replace

from bot.core.markup import to_html, to_plain
from bot.core.types import ChannelCapabilities, Reply
from bot.text import fold, small_number

NUMBERED_HINT = "(Gõ số thứ tự để chọn.)"


def numbered_options(reply: Reply) -> Reply:
    """Put the buttons into the text as "1. …", "2. …"; the dispatcher maps the user's number back."""
    if not reply.buttons:
        return reply
    lines = [f"{i}. {b.label}" for i, b in enumerate(reply.buttons, start=1)]
    text = f"{reply.text}\n\n" + "\n".join(lines) + f"\n\n{NUMBERED_HINT}"
    return replace(reply, text=text, buttons=[])


def split_text(text: str, limit: int) -> list[str]:
    """Split at a paragraph, else a line, else a word boundary so every part fits `limit` characters."""
    parts: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[: limit + 1]
        cut = -1
        for sep in ("\n\n", "\n", " "):
            cut = window.rfind(sep)
            if cut >= limit // 3:
                break
        if cut <= 0:
            cut = limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest or not parts:
        parts.append(rest)
    return parts


def render_for(reply: Reply, caps: ChannelCapabilities) -> list[Reply]:
    """The reply as this channel can show it (links for files are added by the app beforehand)."""
    if not caps.buttons:
        reply = numbered_options(reply)
    texts = [to_html(t) if caps.html else to_plain(t) for t in split_text(reply.text, caps.max_text)]
    out = [Reply(text=t) for t in texts[:-1]]
    out.append(replace(reply, text=texts[-1]))
    return out


def match_option(text: str, options: list[list[str]]) -> str | None:
    """The payload of the offered option the user picked by number ("2") or by its words."""
    if not options:
        return None
    answer = fold(text).strip().strip(".)")
    number = small_number(answer)
    if number is not None:
        index = number - 1
        return options[index][1] if 0 <= index < len(options) else None
    for label, payload in options:
        folded = fold(label)
        if answer and (answer == folded or (len(answer) >= 4 and answer in folded and
                                            sum(answer in fold(o[0]) for o in options) == 1)):
            return payload
    return None
