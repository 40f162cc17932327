"""Follow-up questions read in the context of the conversation: "còn THT thì sao?", "nộp ở đâu?".

A conversation's context is a small JSON-able dict kept with the conversation state: the subject words of
the last question answered, the entries answered and when. A fragment (a follow-up marker, or a short
question that names no organisation) is searched together with those subject words; a question that
names its own subject starts fresh. The context expires after `CONTEXT_TTL_SECONDS`.
"""

from __future__ import annotations

import re
from typing import Any

from bot.knowledge.query import ASK_PATTERNS, asks_yes_no

CONTEXT_TTL_SECONDS = 30 * 60
CONTEXT_KEY = "qa_context"

_MARKER_START = re.compile(r"^(the con|vay con|con neu|the thi|vay thi|con ve|con voi|va|the|vay|con|neu)\b")
_MARKER_END = re.compile(r"\b(thi sao|thi the nao|thi ra sao|the nao|thi sao a|sao a|thi sao nhi)\s*$")
# Organisations a question can be about: a follow-up naming another one swaps it in.
_ORGANISATIONS = (
    ("lien hiep hop tac xa", re.compile(r"\b(lien hiep hop tac xa|lien hiep htx|lhhtx|lien hiep)\b")),
    ("to hop tac", re.compile(r"\b(to hop tac|tht)\b")),
    ("hop tac xa", re.compile(r"\b(hop tac xa|htx|hop tac sa)\b")),
)
# How a question asks, and particles: left out of the words carried to the next question.
_ASKING = re.compile(
    r"\b(bao nhieu|may|gi|nao|the nao|nhu the nao|ra sao|ai|o dau|dau a|khi nao|bao gio|bao lau|la gi|"
    r"khong|ko|k|chua|co|duoc|phai|can|cho em hoi|cho hoi|a|vay|nhi|nhe|ha|thi|sao|la|"
    r"co the|hay khong|duoc khong|gom|nhung|cua|theo)\b")
# What a question asks about its subject: a follow-up naming another one replaces it ("vay quỹ cần điều
# kiện gì?" → "thế còn lãi suất?" asks the loan's interest rate, not its conditions).
_ATTRIBUTES = re.compile(
    r"\b(dieu kien|tieu chuan|yeu cau|tieu chi|lai suat|lai vay|toi da|toi thieu|it nhat|ho so|giay to|"
    r"le phi|thoi han|thoi gian|nhiem ky|the chap|tai san bao dam|muc vay|han muc|so luong|thu tuc)\b")
# "không góp vốn": a negation inside the subject is part of it (only a final "không" asks yes or no).
_NEGATION = re.compile(r"\b(khong|chua)\s+(?!(a|ah|vay|nhi|nha|nhe|ha|the|em|anh|chi|ad)\b)(?=[a-z])")
# "họ", "nó", "người đó": the follow-up is about what was just answered ("họ có được biểu quyết không").
_REFERS_BACK = re.compile(r"(^|\s)(ho|no)\s+(co|duoc|phai|can|la|khong|thi|se|muon|lam|bi)\b|"
                          r"\b(nguoi do|nguoi nay|loai nay|loai do|cai do|cai nay|truong hop nay|truong hop do)\b")
_MAX_FRAGMENT_WORDS = 6
_MAX_CARRIED_WORDS = 12


def _words(folded: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9%/]+", " ", folded).split())


def organisation(folded: str) -> str | None:
    """The organisation a question names (HTX, THT or LHHTX), if any."""
    text = _words(folded)
    for name, pattern in _ORGANISATIONS:
        if pattern.search(text):
            return name
    return None


def has_marker(folded: str) -> bool:
    """'còn …', 'thế còn …', '… thì sao?': the question continues the previous one."""
    text = _words(folded)
    return bool(_MARKER_START.search(text) or _MARKER_END.search(text))


def is_fragment(folded: str) -> bool:
    """A question that only makes sense after the previous one."""
    text = _words(folded)
    if not text:
        return False
    if has_marker(text):
        return True
    return len(text.split()) <= _MAX_FRAGMENT_WORDS and organisation(text) is None


def subject_words(folded: str) -> str:
    """The words of a question that say what it is about (how it asks and particles removed; a negation
    inside it, "không góp vốn", kept)."""
    text = _words(_MARKER_END.sub(" ", _MARKER_START.sub(" ", _words(folded))))
    text = _NEGATION.sub(lambda m: f"{m.group(1)}_", text)
    text = _ASKING.sub(" ", text).replace("_", " ")
    return " ".join(text.split()[-_MAX_CARRIED_WORDS:])


def asked_words(folded: str) -> str:
    """How a question asks what it asks ("bao nhieu", "o dau", "may ngay"): kept for a follow-up that
    names only another organisation, subject or law version ("còn THT thì sao?")."""
    text = _words(folded)
    spans = sorted(((m.start(), m.end()) for pattern in ASK_PATTERNS.values() for m in pattern.finditer(text)),
                   key=lambda span: (span[0], -span[1]))
    kept: list[str] = []
    end = -1
    for start, stop in spans:
        if start >= end:  # overlapping matches ("may" in "may ngay"): the longer one
            kept.append(text[start:stop].strip())
            end = stop
    return " ".join(dict.fromkeys(kept))


def asks_something(folded: str) -> bool:
    """The fragment says itself what it asks (how many, where, when, who, how, what, yes or no)."""
    return bool(asked_words(folded)) or asks_yes_no(_words(_MARKER_END.sub(" ", _words(folded))))


def refers_back(folded: str) -> bool:
    """The follow-up points back at what was just answered ("họ …", "người đó …")."""
    return bool(_REFERS_BACK.search(_words(folded)))


def names_attribute(folded: str) -> bool:
    """The words name what is asked about a subject ("lãi suất", "điều kiện", "hồ sơ"), not the subject."""
    return bool(_ATTRIBUTES.search(_words(folded)))


def combine(context_words: str, fragment_folded: str, context_asked: str = "") -> str:
    """The question to search for a fragment: the earlier subject words with the fragment's, the
    organisation swapped when the fragment names another one ("còn THT thì sao?"), and what the earlier
    question asked when the fragment asks nothing itself."""
    fragment = _words(fragment_folded)
    fragment = _MARKER_END.sub(" ", _MARKER_START.sub(" ", fragment)).strip()
    carried = context_words
    named = organisation(fragment)
    if named:
        for _, pattern in _ORGANISATIONS:
            carried = pattern.sub(" ", carried)
        carried = " ".join(carried.split())
    if _ATTRIBUTES.search(fragment):
        carried = " ".join(_ATTRIBUTES.sub(" ", carried).split())
    asked = "" if asks_something(fragment) else context_asked
    return " ".join(f"{carried} {fragment} {asked}".split())


def without_subjects(context_words: str, alternatives: list[str]) -> str:
    """The earlier subject words with these subject phrases taken out ("tiền thuê đất" when the follow-up
    asks about "thuế" instead)."""
    text = f" {context_words} "
    for phrase in sorted(alternatives, key=len, reverse=True):
        text = text.replace(f" {phrase} ", " ")
    return " ".join(text.split())


def refocus(context_words: str, fragment_folded: str) -> str:
    """The words to carry on after a follow-up that named its own subject ("thủ tục giải thể thế nào"):
    that subject, with the organisation of the conversation when the fragment names none."""
    own = subject_words(fragment_folded)
    if organisation(own) is None:
        named = organisation(context_words)
        if named:
            own = f"{named} {own}"
    return own


def fresh(context: dict[str, Any] | None, now: float) -> dict[str, Any] | None:
    """The context if it is still recent enough to read a follow-up in, else None."""
    if not isinstance(context, dict) or not context.get("words"):
        return None
    try:
        at = float(context.get("at", 0))
    except (TypeError, ValueError):
        return None
    # A clock set back (another worker, a time sync) must not make a fresh context look stale.
    return context if abs(now - at) <= CONTEXT_TTL_SECONDS else None


def new_context(words: str, entry_ids: list[str], now: float, asked: str = "") -> dict[str, Any]:
    """What is kept after an answer: its subject words, what it asked, the entries answered and when."""
    context: dict[str, Any] = {"words": words, "entries": entry_ids[:3], "at": round(now, 1)}
    if asked:
        context["asked"] = asked
    return context
