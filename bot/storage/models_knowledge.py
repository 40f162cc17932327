"""Tables of the knowledge loop: answers shown and how members rated them, the staff review queue's
resolutions, learned phrasings and entries (the overlay beside the YAML), its version counter, the
web console's sign-in links and sessions, and the daily digest's subscribers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models import Base, utcnow


class AnswerOffer(Base):
    """One answer the Q&A flow showed, kept so that a later 👍/👎 or "did you mean" pick refers to it."""

    __tablename__ = "answer_offers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    user_external_id: Mapped[str] = mapped_column(String(64))
    question: Mapped[str] = mapped_column(Text)
    normalised: Mapped[str] = mapped_column(Text, default="")
    entry_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    runner_up_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class AnswerRating(Base):
    """A member's verdict on an answer: "up", "down", or "pick" (chose the "did you mean" entry)."""

    __tablename__ = "answer_ratings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("answer_offers.id", ondelete="CASCADE"), index=True)
    verdict: Mapped[str] = mapped_column(String(10))
    question: Mapped[str] = mapped_column(Text)
    normalised: Mapped[str] = mapped_column(Text, default="")
    entry_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    picked_entry_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    channel: Mapped[str] = mapped_column(String(20))
    user_external_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class ReviewResolution(Base):
    """A staff decision on a queue item (a normalised question): it leaves the queue until asked again."""

    __tablename__ = "review_resolutions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    normalised: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(20))  # attach | out_of_scope | new_entry | dismiss
    entry_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LearnedPhrasing(Base):
    """A question staff attached to an existing entry (an answer, or a decline entry for out of scope)."""

    __tablename__ = "learned_phrasings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[str] = mapped_column(String(100), index=True)
    question: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    exported_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class LearnedEntry(Base):
    """A new entry drafted by staff: the same fields as a YAML entry, validated before it was stored."""

    __tablename__ = "learned_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[str] = mapped_column(String(100), unique=True)
    topic: Mapped[str] = mapped_column(String(50))
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    exported_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class KnowledgeVersion(Base):
    """One row: bumped by every overlay change; every process polls it and rebuilds its index on change."""

    __tablename__ = "knowledge_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AdminLoginLink(Base):
    """A one-time sign-in link for the web console, stored as the SHA-256 of its token."""

    __tablename__ = "admin_login_links"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    user_external_id: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AdminSession(Base):
    """A signed-in browser: the cookie holds a token whose SHA-256 is the key; CSRF token per session."""

    __tablename__ = "admin_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    user_external_id: Mapped[str] = mapped_column(String(64))
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DigestSubscription(Base):
    """A staff member who wants the daily "questions not answered today" message."""

    __tablename__ = "digest_subscriptions"
    __table_args__ = (UniqueConstraint("channel", "user_external_id", name="uq_digest_subscriber"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    user_external_id: Mapped[str] = mapped_column(String(64))
    chat_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DigestRun(Base):
    """A day's digest on one channel: claimed by one process only (primary key), so staff get it once."""

    __tablename__ = "digest_runs"

    day: Mapped[str] = mapped_column(String(40), primary_key=True)  # "YYYY-MM-DD/channel", Vietnam date
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
