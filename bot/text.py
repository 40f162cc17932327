"""Vietnamese text normalisation for search: NFC, lower-case, diacritics folding, abbreviations.

Farmers type on phones without diacritics, with Telex or VNI keys left in ("hopwj", "la6p5"), with
abbreviations and in capitals; the index and the question are both decoded (see `bot.vn_input`) and
reduced to the same folded, expanded form of ASCII syllables.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from bot.vn_input import decode_typing

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff]")
_NON_WORD = re.compile(r"[^a-z0-9%]+")
# "50tr", "17/2023/qh15", "nd-cp": keep document numbers together as one token.
_DOC_NUMBER = re.compile(r"\b(\d{1,4})\s*/\s*(\d{4})(?:\s*/\s*([a-z0-9-]+))?")


def clean(text: str) -> str:
    """Remove control and zero-width characters and collapse white space; keep the user's text."""
    text = unicodedata.normalize("NFC", text or "")
    text = _CONTROL.sub(" ", text)
    return " ".join(text.split())


def fold(text: str) -> str:
    """Lower-case and strip Vietnamese diacritics (đ → d)."""
    text = unicodedata.normalize("NFD", text.lower()).replace("đ", "d")
    return "".join(c for c in text if unicodedata.category(c) != "Mn")


def _doc_token(match: re.Match[str]) -> str:
    number, year, suffix = match.group(1), match.group(2), match.group(3)
    token = f" {number}/{year} "
    if suffix:
        token += " " + suffix.replace("-", " ") + " "
    return token


@dataclass
class Lexicon:
    """Abbreviations to expand, and multi-syllable terms that name one concept.

    A compound term ("to hop tac") is added as an extra token ("to_hop_tac") next to its syllables, so
    "tổ hợp tác" and "hợp tác xã" no longer look alike just because they share "hợp tác".
    """

    abbreviations: dict[str, str] = field(default_factory=dict)
    compounds: list[str] = field(default_factory=list)
    _by_first: dict[str, list[tuple[str, ...]]] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        for term in sorted(set(self.compounds), key=lambda t: -len(t.split())):
            parts = tuple(term.split())
            if len(parts) > 1:
                self._by_first.setdefault(parts[0], []).append(parts)

    def expand(self, piece: str) -> list[str]:
        expansion = self.abbreviations.get(piece)
        return expansion.split() if expansion else [piece]

    def with_compounds(self, toks: list[str]) -> list[str]:
        """The tokens plus one token per compound term found (longest first, not overlapping)."""
        extra: list[str] = []
        i = 0
        while i < len(toks):
            for parts in self._by_first.get(toks[i], ()):
                if tuple(toks[i:i + len(parts)]) == parts:
                    extra.append("_".join(parts))
                    i += len(parts)
                    break
            else:
                i += 1
        return toks + extra


def tokens(text: str, lexicon: Lexicon | None = None) -> list[str]:
    """Folded syllables, Telex/VNI decoded, abbreviations expanded, compound terms added; "92/2024" whole."""
    folded = fold(decode_typing(clean(text)))
    folded = _DOC_NUMBER.sub(_doc_token, folded)
    out: list[str] = []
    for raw in folded.split():
        if "/" in raw and raw[0].isdigit():
            out.extend([raw, raw.split("/")[0]])  # "92/2024" also matches a bare "nghị định 92"
            continue
        for piece in _NON_WORD.split(raw):
            if not piece:
                continue
            out.extend(lexicon.expand(piece) if lexicon else [piece])
    return lexicon.with_compounds(out) if lexicon else out


def normalise(text: str, lexicon: Lexicon | None = None) -> str:
    """The searchable form of a text: its tokens joined by spaces."""
    return " ".join(tokens(text, lexicon))


def bigrams(toks: list[str]) -> list[str]:
    return [f"{a} {b}" for a, b in zip(toks, toks[1:], strict=False)]


def has_letters(text: str) -> bool:
    """True when the text contains at least one letter or digit (not only emoji or punctuation)."""
    return any(c.isalnum() for c in text)


def small_number(text: str, max_digits: int = 9) -> int | None:
    """The integer written with ASCII digits only ("12"), else None. "²" and "①" pass `isdigit()` but
    are not numbers a user meant, and a 30-digit "choice" is not one either."""
    text = text.strip()
    if 0 < len(text) <= max_digits and text.isascii() and text.isdigit():
        return int(text)
    return None
