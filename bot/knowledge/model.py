"""Knowledge-base entries as loaded from YAML."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from bot.text import Lexicon

LAWS = ("2023", "2012", "policy", "local", "general")
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
    file: str = ""
    line: int = 0


@dataclass
class KnowledgeBase:
    entries: list[Entry] = field(default_factory=list)
    lexicon: Lexicon = field(default_factory=Lexicon)

    def by_id(self) -> dict[str, Entry]:
        return {e.id: e for e in self.entries}
