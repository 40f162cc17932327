"""Diacritics put back on Vietnamese names and places typed without them ("nguyen van an" → "Nguyễn Văn An").

A guess from a list of common syllables (knowledge/forms/syllables.yaml); the wizard always asks the user to
confirm the restored spelling, or to retype it with diacritics, before it goes into a document.
"""

from __future__ import annotations

from functools import cache

import yaml

from bot.config import PACKAGE_ROOT
from bot.text import fold

SYLLABLE_FILE = PACKAGE_ROOT / "knowledge" / "forms" / "syllables.yaml"


@cache
def _table() -> dict[str, str]:
    words = yaml.safe_load(SYLLABLE_FILE.read_text(encoding="utf-8")).get("syllables") or []
    table: dict[str, str] = {}
    for word in words:
        table.setdefault(fold(str(word)), str(word))  # the first spelling listed wins
    return table


def has_diacritics(text: str) -> bool:
    """True when a letter of `text` carries a Vietnamese mark (or is đ)."""
    return fold(text) != text.lower()


def restore(text: str) -> str:
    """`text` with each word typed without marks replaced by its most common spelling, when known."""
    out = []
    for word in text.split():
        known = None if has_diacritics(word) or not word.isalpha() else _table().get(fold(word))
        if known is None:
            out.append(word)
        else:
            out.append(known if word[:1].isupper() else known.lower())
    return " ".join(out)


def confirm_question(what: str, typed: str, restored: str) -> str:
    """Ask to confirm a spelling with marks put back (or the bare spelling, when none could be guessed)."""
    if restored != typed:
        return (f"{what} ghi vào hồ sơ phải có dấu: ý bạn là «{restored}»? Nếu chưa đúng, bạn bấm «Nhập lại» và gõ "
                "có dấu.")
    return f"{what} «{typed}» chưa có dấu. Giữ nguyên như vậy? Nếu không, bạn bấm «Nhập lại» và gõ có dấu."
