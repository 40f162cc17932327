"""The question log: what users asked and whether the bot could answer."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.privacy import redact_personal
from bot.storage.models import QuestionLog

MAX_LOGGED_CHARS = 2000


@dataclass(frozen=True)
class UnansweredQuestion:
    normalised: str
    example: str
    count: int


async def log_question(s: AsyncSession, channel: str, user_id: str, raw: str, normalised: str,
                       entry_id: str | None, score: float, answered: bool) -> None:
    """Keep the question with ID-card and phone numbers and e-mail addresses masked (truncated: a
    50,000-character message is kept as its first 2,000)."""
    s.add(QuestionLog(channel=channel, user_external_id=user_id, raw_text=redact_personal(raw[:MAX_LOGGED_CHARS]),
                      normalised=redact_personal(normalised[:MAX_LOGGED_CHARS]), entry_id=entry_id, score=score,
                      answered=answered))


async def most_frequent_unanswered(s: AsyncSession, limit: int = 50) -> list[UnansweredQuestion]:
    """Unanswered questions grouped by their normalised form, most frequent first."""
    stmt = (
        select(QuestionLog.normalised, func.min(QuestionLog.raw_text), func.count())
        .where(QuestionLog.answered.is_(False), QuestionLog.normalised != "")
        .group_by(QuestionLog.normalised)
        .order_by(func.count().desc(), QuestionLog.normalised)
        .limit(limit)
    )
    return [UnansweredQuestion(n, ex, c) for n, ex, c in (await s.execute(stmt)).all()]


async def recent_questions(s: AsyncSession, limit: int = 20) -> list[QuestionLog]:
    return list(await s.scalars(select(QuestionLog).order_by(QuestionLog.id.desc()).limit(limit)))
