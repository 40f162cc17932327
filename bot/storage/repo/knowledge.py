"""The learned knowledge overlay: phrasings and entries staff added, and the version every process polls."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models_knowledge import KnowledgeVersion, LearnedEntry, LearnedPhrasing
from bot.storage.repo.ratings import as_utc

VERSION_ROW = 1


@dataclass(frozen=True)
class LearnedPhrasingRecord:
    id: int
    entry_id: str
    question: str
    created_by: str
    created_at: datetime
    exported_at: datetime | None


@dataclass(frozen=True)
class LearnedEntryRecord:
    id: int
    entry_id: str
    topic: str
    data: dict[str, Any]
    created_by: str
    created_at: datetime
    exported_at: datetime | None


async def current_version(s: AsyncSession) -> int:
    """The overlay's version: 0 before the first change."""
    return await s.scalar(select(KnowledgeVersion.version).where(KnowledgeVersion.id == VERSION_ROW)) or 0


async def bump_version(s: AsyncSession) -> None:
    """Tell every process the overlay changed (they poll `current_version`)."""
    result = await s.execute(update(KnowledgeVersion).where(KnowledgeVersion.id == VERSION_ROW)
                             .values(version=KnowledgeVersion.version + 1, updated_at=datetime.now(UTC)))
    if result.rowcount:  # type: ignore[attr-defined]
        return
    try:
        async with s.begin_nested():
            s.add(KnowledgeVersion(id=VERSION_ROW, version=1))
    except IntegrityError:  # another process created the row meanwhile
        await bump_version(s)


async def add_phrasing(s: AsyncSession, entry_id: str, question: str, created_by: str) -> None:
    s.add(LearnedPhrasing(entry_id=entry_id, question=question, created_by=created_by))
    await s.flush()


async def add_entry(s: AsyncSession, entry_id: str, topic: str, data: dict[str, Any], created_by: str) -> None:
    s.add(LearnedEntry(entry_id=entry_id, topic=topic, data=data, created_by=created_by))
    await s.flush()


async def entry_exists(s: AsyncSession, entry_id: str) -> bool:
    return await s.scalar(select(LearnedEntry.id).where(LearnedEntry.entry_id == entry_id)) is not None


async def learned_phrasings(s: AsyncSession) -> list[LearnedPhrasingRecord]:
    rows = await s.scalars(select(LearnedPhrasing).order_by(LearnedPhrasing.id))
    return [LearnedPhrasingRecord(r.id, r.entry_id, r.question, r.created_by, as_utc(r.created_at),
                                  as_utc(r.exported_at) if r.exported_at else None) for r in rows]


async def learned_entries(s: AsyncSession) -> list[LearnedEntryRecord]:
    rows = await s.scalars(select(LearnedEntry).order_by(LearnedEntry.id))
    return [LearnedEntryRecord(r.id, r.entry_id, r.topic, dict(r.data or {}), r.created_by, as_utc(r.created_at),
                               as_utc(r.exported_at) if r.exported_at else None) for r in rows]


async def mark_exported(s: AsyncSession, phrasing_ids: list[int], entry_ids: list[int]) -> None:
    """Note when learned changes were written to the YAML (they stay applied until the YAML has them)."""
    now = datetime.now(UTC)
    if phrasing_ids:
        await s.execute(update(LearnedPhrasing).where(LearnedPhrasing.id.in_(phrasing_ids)).values(exported_at=now))
    if entry_ids:
        await s.execute(update(LearnedEntry).where(LearnedEntry.id.in_(entry_ids)).values(exported_at=now))
