"""The learned overlay: YAML knowledge plus what staff taught the bot, merged and kept live.

Staff actions are stored in the database (bot/storage/repo/knowledge.py). Every process keeps its
search index equal to "YAML + overlay": `refresh_knowledge` is called at the start of each turn and
reads the overlay's version at most every POLL_SECONDS; when it changed, the merged knowledge base is
rebuilt and `services.index` swapped in one assignment (readers keep the index they already hold).
The YAML wins: a learned phrasing already in its entry, or a learned entry whose id the YAML has
(after `htxbot kb export` was merged), changes nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.flow import Services
from bot.knowledge.loader import Problem, _build_entry, _cross_checks
from bot.knowledge.model import Entry, KnowledgeBase
from bot.knowledge.search import SearchIndex
from bot.storage.repo import knowledge as learned
from bot.text import has_letters, normalise

POLL_SECONDS = 2.0
OVERLAY_FILE = "(học từ cán bộ)"
EXTRAS_KEY = "live_knowledge"


@dataclass(frozen=True)
class Overlay:
    """What staff added: (entry id, question) phrasings and raw new entries (YAML-shaped dicts)."""

    phrasings: tuple[tuple[str, str], ...] = ()
    entries: tuple[dict[str, Any], ...] = ()


def build_entry(raw: dict[str, Any]) -> tuple[Entry | None, list[Problem]]:
    """Validate one YAML-shaped entry with the loader's own rules (the same as `kb check`)."""
    problems: list[Problem] = []
    entry = _build_entry(raw, OVERLAY_FILE, 0, {}, problems)
    return entry, problems


def merge(base: KnowledgeBase, overlay: Overlay) -> KnowledgeBase:
    """YAML entries with learned phrasings appended, then learned entries the YAML does not have."""
    entries = list(base.entries)
    known = {e.id for e in entries}
    for raw in overlay.entries:
        entry, problems = build_entry(raw)
        if entry is not None and not problems and entry.id not in known:
            entries.append(entry)
            known.add(entry.id)
    owner = {normalise(q, base.lexicon): e.id for e in entries for q in e.questions}
    extra: dict[str, list[str]] = {}
    for entry_id, question in overlay.phrasings:
        key = normalise(question, base.lexicon)
        if entry_id in known and key and key not in owner:
            owner[key] = entry_id
            extra.setdefault(entry_id, []).append(question.strip())
    merged = [replace(e, questions=(*e.questions, *extra[e.id])) if e.id in extra else e for e in entries]
    return KnowledgeBase(entries=merged, lexicon=base.lexicon)


def phrasing_problem(kb: KnowledgeBase, entry_id: str, question: str) -> str | None:
    """Why `question` cannot become a phrasing of `entry_id` (None when it can)."""
    if not has_letters(question) or not normalise(question, kb.lexicon):
        return "Câu hỏi trống hoặc không có chữ."
    by_id = kb.by_id()
    if entry_id not in by_id:
        return f"Không có mục «{entry_id}» trong kho kiến thức."
    key = normalise(question, kb.lexicon)
    for entry in kb.entries:
        if any(normalise(q, kb.lexicon) == key for q in entry.questions):
            return None if entry.id == entry_id else f"Câu này đã là một cách hỏi của mục «{entry.id}»."
    return None


def draft_problems(kb: KnowledgeBase, raw: dict[str, Any], today: date | None = None) -> list[str]:
    """Every reason a drafted entry may not go live: the loader's checks plus its cross-checks."""
    entry, problems = build_entry(raw)
    messages = [p.message for p in problems]
    if entry is None:
        return messages
    if entry.id in kb.by_id():
        messages.append(f"duplicate id '{entry.id}' (already in the knowledge base)")
    candidate = KnowledgeBase(entries=[*kb.entries, entry], lexicon=kb.lexicon)
    messages += [p.message for p in _cross_checks(candidate, today or date.today())
                 if p.file == OVERLAY_FILE or f"'{entry.id}'" in p.message]
    return list(dict.fromkeys(messages))


async def load_overlay(s: AsyncSession) -> Overlay:
    phrasings = tuple((p.entry_id, p.question) for p in await learned.learned_phrasings(s))
    entries = tuple(e.data for e in await learned.learned_entries(s))
    return Overlay(phrasings, entries)


class LiveKnowledge:
    """Keeps `services.index` equal to the YAML knowledge base plus the current overlay."""

    def __init__(self, services: Services, base: KnowledgeBase, poll_seconds: float = POLL_SECONDS) -> None:
        self.services = services
        self.base = base
        self.poll_seconds = poll_seconds
        self.version: int | None = None
        self._checked = 0.0

    @property
    def kb(self) -> KnowledgeBase:
        """The merged knowledge base currently answering questions."""
        return self.services.index.kb

    async def refresh(self, s: AsyncSession, force: bool = False) -> bool:
        """Rebuild the index if the overlay changed; True when it did. Cheap when called often."""
        now = time.monotonic()
        if not force and self.version is not None and now - self._checked < self.poll_seconds:
            return False
        self._checked = now
        version = await learned.current_version(s)
        if version == self.version and not force:
            return False
        overlay = await load_overlay(s)
        config = self.services.config
        index = SearchIndex(merge(self.base, overlay), config.search.threshold, config.search.ambiguity_margin)
        self.services.index = index  # one assignment: a turn in progress keeps the index it holds
        self.version = version
        return True


def live_knowledge(services: Services) -> LiveKnowledge:
    """This process's LiveKnowledge; created on first use from the YAML index built at start-up."""
    live = services.extras.get(EXTRAS_KEY)
    if live is None:
        live = services.extras[EXTRAS_KEY] = LiveKnowledge(services, services.index.kb)
    return live


async def refresh_knowledge(services: Services, s: AsyncSession) -> None:
    """The per-turn hook: pick up staff changes made by any process within POLL_SECONDS."""
    await live_knowledge(services).refresh(s)
