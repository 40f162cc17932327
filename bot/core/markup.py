"""The one piece of formatting replies may carry: **bold**. Rendered as HTML where the channel has it,
removed elsewhere, so nobody ever sees stray asterisks."""

from __future__ import annotations

import html
import re

_BOLD = re.compile(r"\*\*([^*\n]+?)\*\*")


def to_plain(text: str) -> str:
    return _BOLD.sub(r"\1", text).replace("**", "")


def to_html(text: str) -> str:
    """Escape everything (user-typed names included), then turn **x** into <b>x</b>."""
    return _BOLD.sub(r"<b>\1</b>", html.escape(text, quote=False)).replace("**", "")
