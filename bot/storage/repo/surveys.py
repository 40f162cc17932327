"""Survey launches and responses: one response per user per survey, resumable until completed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import utcnow
from bot.storage.models_staff import SurveyResponse, SurveyRun
from bot.storage.repo.users import UserRecord

IN_PROGRESS, COMPLETED = "in_progress", "completed"


@dataclass(frozen=True)
class ResponseRecord:
    user_id: int
    status: str
    answers: dict[str, Any]
    province: str
    sector: str
    role: str
    completed_at: datetime | None


async def record_launch(s: AsyncSession, survey_id: str, broadcast_id: int, launched_by: str) -> None:
    s.add(SurveyRun(survey_id=survey_id, broadcast_id=broadcast_id, launched_by=launched_by))
    await s.flush()


async def response_status(s: AsyncSession, survey_id: str, user_id: int) -> str | None:
    """None (never started), "in_progress" or "completed"."""
    return await s.scalar(select(SurveyResponse.status).where(SurveyResponse.survey_id == survey_id,
                                                              SurveyResponse.user_id == user_id))


async def save_progress(s: AsyncSession, survey_id: str, user: UserRecord, answers: dict[str, Any]) -> None:
    """Create or update the in-progress response (a completed one is never changed)."""
    row = await s.scalar(select(SurveyResponse).where(SurveyResponse.survey_id == survey_id,
                                                      SurveyResponse.user_id == user.id))
    if row is None:
        try:
            async with s.begin_nested():
                s.add(SurveyResponse(survey_id=survey_id, user_id=user.id, answers=answers, status=IN_PROGRESS))
        except IntegrityError:
            pass
        return
    if row.status == IN_PROGRESS:
        row.answers = dict(answers)


async def complete_response(s: AsyncSession, survey_id: str, user: UserRecord, answers: dict[str, Any]) -> bool:
    """Mark the response completed with the final answers; False if it was completed already."""
    await save_progress(s, survey_id, user, answers)
    row = await s.scalar(select(SurveyResponse).where(SurveyResponse.survey_id == survey_id,
                                                      SurveyResponse.user_id == user.id))
    if row is None or row.status == COMPLETED:
        return False
    row.answers, row.status, row.completed_at = dict(answers), COMPLETED, utcnow()
    row.province, row.sector, row.role = user.province, user.sector, user.role
    await s.flush()
    return True


async def completed_responses(s: AsyncSession, survey_id: str) -> list[ResponseRecord]:
    rows = await s.scalars(select(SurveyResponse).where(SurveyResponse.survey_id == survey_id,
                                                        SurveyResponse.status == COMPLETED)
                           .order_by(SurveyResponse.completed_at, SurveyResponse.id))
    return [ResponseRecord(r.user_id, r.status, dict(r.answers or {}), r.province, r.sector, r.role, r.completed_at)
            for r in rows]


async def count_in_progress(s: AsyncSession, survey_id: str) -> int:
    rows = await s.scalars(select(SurveyResponse.id).where(SurveyResponse.survey_id == survey_id,
                                                           SurveyResponse.status == IN_PROGRESS))
    return len(list(rows))


async def in_progress_answers(s: AsyncSession, survey_id: str, user_id: int) -> dict[str, Any] | None:
    """What an unfinished response holds (the flow keeps its wizard state there for resuming)."""
    answers = await s.scalar(select(SurveyResponse.answers).where(
        SurveyResponse.survey_id == survey_id, SurveyResponse.user_id == user_id,
        SurveyResponse.status == IN_PROGRESS))
    return dict(answers) if answers is not None else None
