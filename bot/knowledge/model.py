"""Knowledge-base entries as loaded from YAML."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from bot.text import Lexicon

LAWS = ("2023", "2012", "policy", "local", "general")
RULE_LAWS = ("2023", "policy")  # entries that state a rule must record the text they were checked against
REPEALED_LAW_END = date(2024, 6, 30)  # the 2012 law's last day (Law 17/2023 Art. 114)
KINDS = ("answer", "smalltalk", "decline")
TOPICS = (
    "luat-chung", "thanh-vien", "von-tai-chinh", "quan-tri", "dang-ky", "to-hop-tac", "to-chuc-lai",
    "chinh-sach", "quy-tin-dung", "chuong-trinh", "dia-phuong", "sap-xep-2025", "tro-chuyen",
    "ngoai-pham-vi",
)


@dataclass(frozen=True)
class Source:
    doc: str
    article: str = ""
    date: date | None = None

    def cite(self) -> str:
        parts = [self.doc]
        if self.article:
            parts.append(self.article)
        text = ", ".join(parts)
        if self.date:
            text += f" (ngày {self.date:%d/%m/%Y})"
        return text


@dataclass(frozen=True)
class Basis:
    """What a rule was checked against: document, article and clause, and the day of the check.

    `secondary` names the secondary source (a news site, a summary) that was read because the primary
    text was not available; such a basis does not count as checked against a primary text.
    """

    doc: str
    article: str
    checked: date
    secondary: str = ""

    @property
    def primary(self) -> bool:
        """True when the document itself was read."""
        return not self.secondary


@dataclass(frozen=True)
class Entry:
    id: str
    topic: str
    law: str
    questions: tuple[str, ...]
    answer: str
    kind: str = "answer"
    sources: tuple[Source, ...] = ()
    valid_from: date | None = None
    valid_to: date | None = None
    today: str = ""
    unconfirmed: str = ""
    reviewed: date | None = None
    related: tuple[str, ...] = ()
    basis: tuple[Basis, ...] = ()
    file: str = ""
    line: int = 0

    @property
    def checked_against_primary(self) -> bool:
        """True when at least one basis is a primary text that was read."""
        return any(b.primary for b in self.basis)


@dataclass
class KnowledgeBase:
    entries: list[Entry] = field(default_factory=list)
    lexicon: Lexicon = field(default_factory=Lexicon)

    def by_id(self) -> dict[str, Entry]:
        return {e.id: e for e in self.entries}
