"""The one splitter for every channel: cut a RENDERED reply into messages the platform accepts.

Platforms measure what the user sees, not what we send: Telegram allows 4,096 characters of text
*after* entity parsing (tags do not count, `&amp;` counts as one character, and lengths are UTF-16
code units, so an emoji outside the basic plane counts twice); Zalo allows 2,000 characters of plain
text. A cut prefers a paragraph break, then a line break, then a space; it never falls inside a tag
or an entity, and a bold run that has to be cut is closed at the end of one part and reopened at the
start of the next, so every part is well-formed HTML on its own.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

_MARKUP = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)[^<>]*>|&(?:#[0-9]+|#[xX][0-9A-Fa-f]+|[A-Za-z]+);")
_SEPARATORS = ("\n\n", "\n", " ")


@dataclass(frozen=True)
class _Atom:
    """A tag (zero width) or one visible character, which may be written as an entity."""

    raw: str
    width: int
    char: str = ""  # the visible character; "" for a tag
    opens: str = ""  # tag name when this is an opening tag
    closes: str = ""  # tag name when this is a closing tag


def visible_length(text: str, *, html_text: bool = False, utf16: bool = False) -> int:
    """The length a platform counts: tags dropped and entities read when `html_text`; UTF-16 units when `utf16`."""
    return sum(a.width for a in _atoms(text, html_text, utf16))


def split_text(text: str, limit: int, *, html_text: bool = False, utf16: bool = False) -> list[str]:
    """Cut `text` into parts of at most `limit` (as measured by `visible_length`); [] for blank text.

    Boundaries: paragraph, else line, else word (when that keeps at least a third of the part), else
    any of them, else a hard cut between two characters (a single word longer than `limit`). With
    `html_text`, open tags are closed at the end of a part and reopened at the start of the next one.
    """
    atoms = _atoms(text.strip(), html_text, utf16)
    ends = _prefix_widths(atoms)
    parts: list[str] = []
    carried: list[_Atom] = []  # tags open at the end of the previous part, reopened in the next
    start, total = 0, len(atoms)
    while start < total:
        start = _skip_blank(atoms, start)
        if start >= total:
            break
        cut, resume = _find_cut(atoms, ends, start, limit)
        while cut > start and atoms[cut - 1].opens:  # an opening tag with nothing after it moves on
            cut -= 1
            resume = min(resume, cut)
        body = list(atoms[start:cut])
        while resume < total and atoms[resume].closes:  # a closing tag right after the cut stays here
            body.append(atoms[resume])
            resume += 1
        text_part, carried = _compose(carried, _trim_end(body))
        if text_part is not None:
            parts.append(text_part)
        start = resume
    return parts


def _atoms(text: str, html_text: bool, utf16: bool) -> list[_Atom]:
    out: list[_Atom] = []
    position = 0
    if html_text:
        for match in _MARKUP.finditer(text):
            out.extend(_chars(text[position:match.start()], utf16))
            raw = match.group(0)
            if raw.startswith("&"):
                char = html.unescape(raw)
                out.append(_Atom(raw, _width(char, utf16), char=char))
            elif match.group(1):
                out.append(_Atom(raw, 0, closes=match.group(2).lower()))
            else:
                out.append(_Atom(raw, 0, opens=match.group(2).lower()))
            position = match.end()
    out.extend(_chars(text[position:], utf16))
    return out


def _chars(text: str, utf16: bool) -> list[_Atom]:
    return [_Atom(c, _width(c, utf16), char=c) for c in text]


def _width(chars: str, utf16: bool) -> int:
    return len(chars.encode("utf-16-le")) // 2 if utf16 else len(chars)


def _prefix_widths(atoms: list[_Atom]) -> list[int]:
    ends = [0]
    for atom in atoms:
        ends.append(ends[-1] + atom.width)
    return ends


def _skip_blank(atoms: list[_Atom], index: int) -> int:
    while index < len(atoms) and atoms[index].char.isspace():
        index += 1
    return index


def _find_cut(atoms: list[_Atom], ends: list[int], start: int, limit: int) -> tuple[int, int]:
    """(end of this part, start of the next) for a part beginning at `start`."""
    fits = start
    while fits < len(atoms) and ends[fits + 1] - ends[start] <= limit:
        fits += 1
    if fits == len(atoms):
        return fits, fits
    if fits == start:  # one character wider than the limit: it cannot be split further
        return start + 1, start + 1
    early: tuple[int, int] | None = None  # a boundary that leaves a short part: better than a hard cut
    for separator in _SEPARATORS:
        size = len(separator)
        for cut in range(fits, start, -1):  # the separator's first character sits at `cut`
            if cut + size <= len(atoms) and "".join(a.char for a in atoms[cut:cut + size]) == separator:
                if ends[cut] - ends[start] >= limit // 3:
                    return cut, cut + size
                early = early or (cut, cut + size)
                break
    return early or (fits, fits)


def _trim_end(body: list[_Atom]) -> list[_Atom]:
    """Drop whitespace at the end of a part (closing tags after it are kept)."""
    trailing_tags: list[_Atom] = []
    while body and (body[-1].closes or body[-1].char.isspace()):
        atom = body.pop()
        if atom.closes:
            trailing_tags.append(atom)
    return body + trailing_tags[::-1]


def _compose(carried: list[_Atom], body: list[_Atom]) -> tuple[str | None, list[_Atom]]:
    """The part's text with reopened and closing tags, and the tags still open after it."""
    stack = list(carried)
    for atom in body:
        if atom.opens:
            stack.append(atom)
        elif atom.closes and stack and stack[-1].opens == atom.closes:
            stack.pop()
    if not any(a.char for a in body):
        return None, stack
    closing = "".join(f"</{a.opens}>" for a in reversed(stack))
    return "".join(a.raw for a in carried) + "".join(a.raw for a in body) + closing, stack
