"""Users and their profiles."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import User

PROFILE_FIELDS = ("province", "commune", "sector", "role", "runs_coop")


@dataclass(frozen=True)
class UserRecord:
    id: int
    channel: str
    external_id: str
    chat_id: str
    display_name: str
    province: str
    commune: str
    sector: str
    role: str
    runs_coop: bool
    subscribed: bool
    blocked: bool


def _record(u: User) -> UserRecord:
    return UserRecord(u.id, u.channel, u.external_id, u.chat_id, u.display_name, u.province, u.commune,
                      u.sector, u.role, u.runs_coop, u.subscribed, u.blocked)


async def touch_user(s: AsyncSession, channel: str, external_id: str, chat_id: str,
                     display_name: str, private: bool = True) -> UserRecord:
    """Find or create the user; a user who writes to us again is reachable again (not blocked).

    Only a private chat becomes the user's chat: announcements must never go to a group the user wrote
    in. Someone first seen in a group is reached at their own id (their private chat on Telegram)."""
    if not private:
        chat_id = external_id
    user = await s.scalar(select(User).where(User.channel == channel, User.external_id == external_id))
    if user is None:
        user = User(channel=channel, external_id=external_id, chat_id=chat_id,
                    display_name=display_name[:200])
        try:
            async with s.begin_nested():
                s.add(user)
        except IntegrityError:
            user = await s.scalar(select(User).where(User.channel == channel, User.external_id == external_id))
            assert user is not None
    else:
        if display_name and user.display_name != display_name[:200]:
            user.display_name = display_name[:200]
        if private and user.chat_id != chat_id:
            user.chat_id = chat_id
        if user.blocked:
            user.blocked = False
    await s.flush()
    return _record(user)


async def get_user(s: AsyncSession, channel: str, external_id: str) -> UserRecord | None:
    user = await s.scalar(select(User).where(User.channel == channel, User.external_id == external_id))
    return _record(user) if user else None


async def update_profile(s: AsyncSession, user_id: int, **fields: object) -> None:
    user = await s.get(User, user_id)
    if user is None:
        return
    for key, value in fields.items():
        if key not in PROFILE_FIELDS:
            raise ValueError(f"not a profile field: {key}")
        setattr(user, key, value)


async def set_subscribed(s: AsyncSession, user_id: int, subscribed: bool) -> None:
    user = await s.get(User, user_id)
    if user:
        user.subscribed = subscribed


async def set_role(s: AsyncSession, user_id: int, role: str) -> None:
    user = await s.get(User, user_id)
    if user:
        user.role = role


async def mark_blocked(s: AsyncSession, channel: str, chat_id: str) -> None:
    """The platform says this user blocked the bot: stop messaging them."""
    for user in await s.scalars(select(User).where(User.channel == channel, User.chat_id == chat_id)):
        user.blocked = True


async def list_staff(s: AsyncSession) -> list[UserRecord]:
    """Users holding the staff or admin role in the database, by channel and id."""
    rows = await s.scalars(select(User).where(User.role.in_(("staff", "admin")))
                           .order_by(User.channel, User.external_id))
    return [_record(u) for u in rows]
