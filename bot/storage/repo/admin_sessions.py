"""One-time sign-in links and sessions of the web console. Only SHA-256 hashes of tokens are stored."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models_knowledge import AdminLoginLink, AdminSession
from bot.storage.repo.ratings import as_utc


@dataclass(frozen=True)
class SessionRecord:
    channel: str
    user_external_id: str
    csrf: str
    expires_at: datetime


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def create_login_link(s: AsyncSession, channel: str, user_id: str, valid_for: timedelta) -> str:
    """A fresh one-time token for this staff member; only its hash is kept."""
    token = secrets.token_urlsafe(32)
    s.add(AdminLoginLink(token_hash=token_hash(token), channel=channel, user_external_id=user_id,
                         expires_at=datetime.now(UTC) + valid_for))
    await s.flush()
    return token


async def peek_login_link(s: AsyncSession, token: str) -> tuple[str, str] | None:
    """(channel, user id) of an unused, unexpired link, without using it."""
    link = await s.get(AdminLoginLink, token_hash(token))
    if link is None or link.used_at is not None or as_utc(link.expires_at) <= datetime.now(UTC):
        return None
    return link.channel, link.user_external_id


async def use_login_link(s: AsyncSession, token: str) -> tuple[str, str] | None:
    """Spend the link (atomically: of two simultaneous uses only one wins); (channel, user id) or None."""
    now = datetime.now(UTC)
    key = token_hash(token)
    result = await s.execute(update(AdminLoginLink)
                             .where(AdminLoginLink.token_hash == key, AdminLoginLink.used_at.is_(None),
                                    AdminLoginLink.expires_at > now)
                             .values(used_at=now))
    if not result.rowcount:  # type: ignore[attr-defined]
        return None
    link = await s.get(AdminLoginLink, key)
    return (link.channel, link.user_external_id) if link else None


async def open_session(s: AsyncSession, channel: str, user_id: str, lifetime: timedelta) -> str:
    """Start a session; returns the cookie token."""
    token = secrets.token_urlsafe(32)
    s.add(AdminSession(token_hash=token_hash(token), channel=channel, user_external_id=user_id,
                       csrf=secrets.token_urlsafe(24), expires_at=datetime.now(UTC) + lifetime))
    await s.flush()
    return token


async def get_session(s: AsyncSession, token: str) -> SessionRecord | None:
    row = await s.get(AdminSession, token_hash(token))
    if row is None or as_utc(row.expires_at) <= datetime.now(UTC):
        return None
    return SessionRecord(row.channel, row.user_external_id, row.csrf, as_utc(row.expires_at))


async def close_session(s: AsyncSession, token: str) -> None:
    await s.execute(delete(AdminSession).where(AdminSession.token_hash == token_hash(token)))


async def purge_expired(s: AsyncSession) -> None:
    """Forget expired sessions and links (called on sign-in, so the tables stay small)."""
    now = datetime.now(UTC)
    await s.execute(delete(AdminSession).where(AdminSession.expires_at <= now))
    await s.execute(delete(AdminLoginLink).where(AdminLoginLink.expires_at <= now - timedelta(days=1)))
