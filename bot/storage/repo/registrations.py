"""Registrations: drafts saved as the user answers, completed dossiers, deletion on request, export."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import StoredFile, utcnow
from bot.storage.models_registration import Registration


@dataclass(frozen=True)
class RegistrationRecord:
    id: int
    channel: str
    user_external_id: str
    kind: str
    status: str
    answers: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None


def _record(r: Registration) -> RegistrationRecord:
    return RegistrationRecord(r.id, r.channel, r.user_external_id, r.kind, r.status, dict(r.answers or {}),
                              r.created_at, r.updated_at, r.completed_at)


async def start_draft(s: AsyncSession, channel: str, user_id: str, kind: str) -> int:
    row = Registration(channel=channel, user_external_id=user_id, kind=kind, status="draft", answers={})
    s.add(row)
    await s.flush()
    return row.id


async def _own(s: AsyncSession, reg_id: int, channel: str, user_id: str) -> Registration | None:
    """The row only if it belongs to this user: nobody reaches another user's registration by id."""
    row = await s.get(Registration, reg_id)
    if row is None or row.channel != channel or row.user_external_id != user_id or row.status == "deleted":
        return None
    return row


async def save_draft(s: AsyncSession, reg_id: int, channel: str, user_id: str, answers: dict[str, Any],
                     wizard_state: dict[str, Any] | None = None) -> None:
    row = await _own(s, reg_id, channel, user_id)
    if row is not None and row.status == "draft":
        row.answers = dict(answers)
        row.wizard_state = dict(wizard_state) if wizard_state is not None else None


async def draft_state(s: AsyncSession, reg_id: int, channel: str, user_id: str) -> dict[str, Any] | None:
    """Where the user's draft form stands (the only copy of it), or None when there is no such draft."""
    row = await _own(s, reg_id, channel, user_id)
    if row is None or row.status != "draft" or not row.wizard_state:
        return None
    return copy.deepcopy(dict(row.wizard_state))


@dataclass(frozen=True)
class Draft:
    id: int
    kind: str
    wizard_state: dict[str, Any]


async def latest_draft(s: AsyncSession, channel: str, user_id: str) -> Draft | None:
    """The user's most recent unfinished registration that can be resumed, if any."""
    row = await s.scalar(
        select(Registration)
        .where(Registration.channel == channel, Registration.user_external_id == user_id,
               Registration.status == "draft", Registration.wizard_state.is_not(None))
        .order_by(Registration.updated_at.desc(), Registration.id.desc())
        .limit(1)
    )
    return Draft(row.id, row.kind, dict(row.wizard_state)) if row is not None and row.wizard_state else None


async def complete(s: AsyncSession, reg_id: int, channel: str, user_id: str, answers: dict[str, Any]) -> bool:
    row = await _own(s, reg_id, channel, user_id)
    if row is None:
        return False
    row.answers, row.status, row.completed_at = dict(answers), "completed", utcnow()
    row.wizard_state = None
    return True


async def discard(s: AsyncSession, reg_id: int, channel: str, user_id: str) -> None:
    """A cancelled draft is removed entirely: nothing of it is kept."""
    await s.execute(delete(Registration).where(Registration.id == reg_id, Registration.channel == channel,
                                               Registration.user_external_id == user_id,
                                               Registration.status == "draft"))


async def get_registration(s: AsyncSession, reg_id: int, channel: str, user_id: str) -> RegistrationRecord | None:
    row = await _own(s, reg_id, channel, user_id)
    return _record(row) if row else None


async def list_user_registrations(s: AsyncSession, channel: str, user_id: str) -> list[RegistrationRecord]:
    rows = await s.scalars(select(Registration).where(
        Registration.channel == channel, Registration.user_external_id == user_id,
        Registration.status != "deleted").order_by(Registration.id.desc()))
    return [_record(r) for r in rows]


async def erase_user_data(s: AsyncSession, channel: str, user_id: str) -> int:
    """The user's right to deletion: answers wiped (rows kept as "deleted" for counts), files removed."""
    rows = list(await s.scalars(select(Registration).where(
        Registration.channel == channel, Registration.user_external_id == user_id,
        Registration.status != "deleted")))
    for row in rows:
        row.status, row.answers, row.wizard_state = "deleted", {}, None
    await s.execute(delete(StoredFile).where(StoredFile.channel == channel,
                                             StoredFile.owner_external_id == user_id))
    return len(rows)


async def all_registrations(s: AsyncSession, status: str | None = None) -> list[RegistrationRecord]:
    """For the staff export and list commands."""
    stmt = select(Registration).order_by(Registration.id)
    if status:
        stmt = stmt.where(Registration.status == status)
    return [_record(r) for r in await s.scalars(stmt)]
