"""Tables of the Zalo Official Account channel: its OAuth tokens, received events, followers, buttons."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models import Base, utcnow


class ZaloOAToken(Base):
    """The OA's token pair, encrypted (Fernet). One row per OA; `version` grows with every refresh."""

    __tablename__ = "zalo_oa_tokens"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    access_token: Mapped[str] = mapped_column(Text, default="")
    refresh_token: Mapped[str] = mapped_column(Text, default="")
    access_expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=0)
    needs_connect: Mapped[bool] = mapped_column(Boolean, default=False)
    last_error: Mapped[str] = mapped_column(String(300), default="")
    lock_count: Mapped[int] = mapped_column(Integer, default=0)  # bumped to take the row's write lock
    refreshed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ZaloOAEvent(Base):
    """A verified webhook event, stored before Zalo gets its 200. The key dedupes redeliveries."""

    __tablename__ = "zalo_oa_events"

    event_key: Mapped[str] = mapped_column(String(160), primary_key=True)
    event_name: Mapped[str] = mapped_column(String(60))
    user_id: Mapped[str] = mapped_column(String(64), default="")
    body: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    handled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True, index=True)


class ZaloOAFollower(Base):
    """What the webhook told us about one OA user: following or not, and their last interaction."""

    __tablename__ = "zalo_oa_followers"

    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    following: Mapped[bool] = mapped_column(Boolean, default=True)
    last_interaction_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class ZaloOAButton(Base):
    """A short ASCII button payload sent to Zalo and the flow payload it stands for."""

    __tablename__ = "zalo_oa_buttons"

    token: Mapped[str] = mapped_column(String(20), primary_key=True)
    payload: Mapped[str] = mapped_column(Text)
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
