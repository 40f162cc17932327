"""Degrade replies for weaker channels: numbered options instead of buttons, split long texts.

`split_text` (bot.core.split) is re-exported here: it is the one splitter every channel uses.
"""

from __future__ import annotations

from dataclasses import replace

from bot.core.markup import to_html, to_plain
from bot.core.split import split_text
from bot.core.types import ChannelCapabilities, Reply
from bot.text import fold, small_number

__all__ = ["match_option", "numbered_options", "render_for", "split_text"]

NUMBERED_HINT = "(Gõ số thứ tự để chọn.)"


def numbered_options(reply: Reply) -> Reply:
    """Put the buttons into the text as "1. …", "2. …"; the dispatcher maps the user's number back."""
    if not reply.buttons:
        return reply
    lines = [f"{i}. {b.label}" for i, b in enumerate(reply.buttons, start=1)]
    text = f"{reply.text}\n\n" + "\n".join(lines) + f"\n\n{NUMBERED_HINT}"
    return replace(reply, text=text, buttons=[])


def render_for(reply: Reply, caps: ChannelCapabilities) -> list[Reply]:
    """The reply as this channel can show it (links for files are added by the app beforehand)."""
    if not caps.buttons:
        reply = numbered_options(reply)
    rendered = to_html(reply.text) if caps.html else to_plain(reply.text)
    # Split AFTER rendering, by the platform's own measure, so no part can end inside a tag.
    texts = split_text(rendered, caps.max_text, html_text=caps.html, utf16=caps.utf16) or [""]
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
