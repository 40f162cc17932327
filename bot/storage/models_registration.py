"""The registrations table: one HTX/THT founding dossier per row, with its answers and status."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models import Base, utcnow


class Registration(Base):
    """A guided registration. `answers` holds personal data: it is emptied when the user deletes it."""

    __tablename__ = "registrations"
    __table_args__ = (Index("ix_registrations_user", "channel", "user_external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    user_external_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(10))  # htx | tht
    status: Mapped[str] = mapped_column(String(20), default="draft")  # draft | completed | deleted
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    # Where the form stands (step, mode, pending input) while a draft, so it resumes after any interruption.
    wizard_state: Mapped[dict | None] = mapped_column(JSON, nullable=True, default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
