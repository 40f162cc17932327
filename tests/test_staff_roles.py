"""Roles: admins from config grant and revoke staff; members are refused and nothing changes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import App
from bot.storage.repo import audit, users
from handlers.staff.staff import ADMIN_ONLY, REFUSAL
from tests.staff_support import ADMIN, Chat, make_config

STAFF_COMMANDS = ["/thongbao", "/baocao 1", "/huythongbao 1", "/capquyen test:bob", "/thuhoi test:bob"]


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[App]:
    app = await App.open(make_config(tmp_path))
    yield app
    await app.close()


async def role_of(app: App, user: str) -> str | None:
    async with app.db.unit() as s:
        record = await users.get_user(s, "test", user)
    return record.role if record else None


async def test_admin_grants_and_revokes_staff_with_audit(app: App) -> None:
    chat = Chat(app)
    await chat.say("bob", "xin chào")
    replies = await chat.say(ADMIN, "/capquyen test:bob")
    assert "Đã cấp quyền cán bộ" in chat.text(replies)
    assert await role_of(app, "bob") == "staff"
    assert "📣 Gửi thông báo" in [b.label for r in await chat.say("bob", "/menu") for b in r.buttons]
    assert "Đã thu hồi" in chat.text(await chat.say(ADMIN, "/thuhoi test:bob"))
    assert await role_of(app, "bob") == "member"
    async with app.db.unit() as s:
        log = await audit.recent_actions(s)
    assert [(e.action, e.user_external_id, e.detail["target"]) for e in log] == [
        ("revoke_staff", ADMIN, "test:bob"), ("grant_staff", ADMIN, "test:bob")]


async def test_member_is_refused_and_nothing_changes(app: App) -> None:
    chat = Chat(app)
    await chat.say("bob", "xin chào")
    await chat.say("eve", "/hoso")  # eve is in the middle of a flow
    menu = await chat.say("eve", "/menu")
    assert "📣 Gửi thông báo" not in [b.label for r in menu for b in r.buttons]
    for command in STAFF_COMMANDS:
        replies = await chat.say("eve", command)
        assert chat.text(replies) == REFUSAL, command
    assert chat.text(await chat.press("eve", "announce:confirm")) == REFUSAL
    assert await role_of(app, "bob") == "member" and await role_of(app, "eve") == "member"
    async with app.db.unit() as s:
        assert await audit.recent_actions(s) == []


async def test_staff_who_is_not_admin_cannot_grant(app: App) -> None:
    chat = Chat(app)
    await chat.say("bob", "xin chào")
    await chat.say("carol", "xin chào")
    await chat.say(ADMIN, "/capquyen test:bob")
    assert chat.text(await chat.say("bob", "/capquyen test:carol")) == ADMIN_ONLY
    assert await role_of(app, "carol") == "member"


async def test_grant_unknown_or_malformed_user(app: App) -> None:
    chat = Chat(app)
    assert "Chưa có người dùng test:ghost" in chat.text(await chat.say(ADMIN, "/capquyen test:ghost"))
    assert "Cách dùng" in chat.text(await chat.say(ADMIN, "/capquyen ghost"))
    await chat.say("bob", "xin chào")
    await chat.say(ADMIN, "/capquyen test:bob")
    assert "không có gì thay đổi" in chat.text(await chat.say(ADMIN, "/capquyen test:bob"))
