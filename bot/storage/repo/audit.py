"""The audit log: every staff action, who did it and when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models_staff import AuditEntry


@dataclass(frozen=True)
class AuditRecord:
    channel: str
    user_external_id: str
    action: str
    detail: dict[str, Any]
    at: datetime


async def record_action(s: AsyncSession, channel: str, user_external_id: str, action: str,
                        **detail: Any) -> None:
    """Append one entry; `detail` must be JSON-serialisable."""
    s.add(AuditEntry(channel=channel, user_external_id=user_external_id, action=action, detail=detail))
    await s.flush()


async def recent_actions(s: AsyncSession, limit: int = 50, action: str | None = None) -> list[AuditRecord]:
    """Newest first, optionally only one kind of action."""
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    rows = await s.scalars(stmt)
    return [AuditRecord(r.channel, r.user_external_id, r.action, dict(r.detail or {}), r.at) for r in rows]
