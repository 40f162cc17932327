"""Staff actions on the review queue, shared by the chat (/cauhoimoi) and the web console.

Each action is validated against the live knowledge base, stored in the overlay, audited, takes the
question off the queue, bumps the knowledge version (other processes pick it up within seconds) and
rebuilds this process's index at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.flow import Services
from bot.knowledge.model import Entry, KnowledgeBase
from bot.knowledge.overlay import draft_problems, live_knowledge, phrasing_problem
from bot.knowledge.search import SearchIndex
from bot.privacy import redact_personal
from bot.storage.repo import audit, review
from bot.storage.repo import knowledge as learned
from bot.text import fold

LOW_CONFIDENCE_BAND = 0.06  # answers scoring below threshold + band count as low-confidence


@dataclass(frozen=True)
class Staff:
    """Who acts: their channel and id (the web console signs in as the chat account)."""

    channel: str
    user_id: str

    @property
    def ref(self) -> str:
        return f"{self.channel}:{self.user_id}"


@dataclass(frozen=True)
class Outcome:
    ok: bool
    message: str


def low_confidence_below(services: Services) -> float:
    return services.index.threshold + LOW_CONFIDENCE_BAND


async def queue(s: AsyncSession, services: Services, limit: int = 50) -> list[review.QueueItem]:
    """The review queue as staff see it (texts redacted)."""
    return await review.review_queue(s, low_confidence_below(services), limit)


async def find_item(s: AsyncSession, services: Services, key: str) -> review.QueueItem | None:
    return await review.find_item(s, key, low_confidence_below(services))


def search_entries(kb: KnowledgeBase, words: str, kind: str | None = None, limit: int = 8,
                   rank: SearchIndex | None = None) -> list[Entry]:
    """Entries whose id, phrasings or answer contain every word typed (accents optional), best first."""
    needles = fold(words).split()
    if not needles:
        return []
    found = []
    for entry in kb.entries:
        if kind and entry.kind != kind:
            continue
        haystack = fold(" ".join([entry.id, *entry.questions, entry.answer]))
        if all(n in haystack for n in needles):
            found.append(entry)
    if rank is not None:  # the search engine's order first, then the rest as in the files
        order = {h.entry.id: i for i, h in enumerate(rank.search(words, limit=len(found) or 1).hits)}
        found.sort(key=lambda e: order.get(e.id, len(order)))
    return found[:limit]


def suggestions(services: Services, question: str, kind: str = "answer", limit: int = 4) -> list[Entry]:
    """The entries the search engine finds closest to a question, of one kind."""
    hits = services.index.search(question, limit=20).hits
    return [h.entry for h in hits if h.entry.kind == kind][:limit]


async def _went_live(s: AsyncSession, services: Services) -> None:
    await learned.bump_version(s)
    await live_knowledge(services).refresh(s, force=True)


async def attach_question(s: AsyncSession, services: Services, staff: Staff, item: review.QueueItem,
                          entry_id: str, question: str | None = None, out_of_scope: bool = False) -> Outcome:
    """Make the question a new phrasing of an entry (a decline entry when `out_of_scope`)."""
    kb = live_knowledge(services).kb
    text = redact_personal((question or item.example).strip())
    entry = kb.by_id().get(entry_id)
    if entry is not None and out_of_scope != (entry.kind == "decline"):
        wanted = "mục từ chối (ngoài phạm vi)" if out_of_scope else "mục trả lời"
        return Outcome(False, f"«{entry_id}» không phải {wanted}.")
    problem = phrasing_problem(kb, entry_id, text)
    if problem:
        return Outcome(False, problem)
    action = "out_of_scope" if out_of_scope else "attach"
    await learned.add_phrasing(s, entry_id, text, staff.ref)
    await review.resolve(s, item.normalised, action, entry_id, staff.ref)
    await audit.record_action(s, staff.channel, staff.user_id, f"kb_{action}", entry=entry_id, question=text)
    await _went_live(s, services)
    return Outcome(True, f"Đã thêm «{text}» làm cách hỏi của mục «{entry_id}». Bot trả lời ngay từ bây giờ.")


async def dismiss(s: AsyncSession, staff: Staff, item: review.QueueItem) -> Outcome:
    """Take a question off the queue without changing the knowledge base."""
    await review.resolve(s, item.normalised, "dismiss", None, staff.ref)
    await audit.record_action(s, staff.channel, staff.user_id, "kb_dismiss", question=item.example)
    return Outcome(True, "Đã bỏ qua câu hỏi này.")


async def draft_entry(s: AsyncSession, services: Services, staff: Staff, raw: dict[str, Any],
                      item: review.QueueItem | None = None) -> Outcome:
    """Validate a new entry with the `kb check` rules; when clean, it goes live at once."""
    raw = {k: v for k, v in raw.items() if v not in (None, "", [])}
    raw.setdefault("reviewed", date.today().isoformat())
    raw["questions"] = [redact_personal(q) for q in raw.get("questions", [])]
    raw.setdefault("basis", _basis_from_sources(raw))
    problems = draft_problems(live_knowledge(services).kb, raw)
    if problems or await learned.entry_exists(s, str(raw.get("id"))):
        return Outcome(False, "Chưa lưu được mục mới:\n" + "\n".join(f"• {p}" for p in problems or
                                                                      ["mã mục đã có trong phần học thêm"]))
    entry_id = str(raw["id"])
    await learned.add_entry(s, entry_id, str(raw.get("topic", "")), raw, staff.ref)
    if item is not None:
        await review.resolve(s, item.normalised, "new_entry", entry_id, staff.ref)
    await audit.record_action(s, staff.channel, staff.user_id, "kb_new_entry", entry=entry_id)
    await _went_live(s, services)
    return Outcome(True, f"Đã thêm mục mới «{entry_id}». Bot trả lời ngay từ bây giờ.")


def _basis_from_sources(raw: dict[str, Any]) -> list[dict[str, str]]:
    """The staff member who drafts a rule names the document and article they read it in: that reading,
    on the review date, is the entry's basis (as `kb check` asks of every rule-stating entry)."""
    return [{"doc": str(src["doc"]), "article": str(src["article"]), "checked": str(raw["reviewed"])}
            for src in raw.get("sources") or [] if isinstance(src, dict) and src.get("doc") and src.get("article")]
