"""/hoso fills the targeting profile; /tatthongbao and /batthongbao toggle announcements."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import App
from bot.storage.repo import broadcasts, users
from tests.staff_support import Chat, make_config


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[App]:
    app = await App.open(make_config(tmp_path))
    yield app
    await app.close()


async def profile(app: App, user: str) -> users.UserRecord:
    async with app.db.unit() as s:
        record = await users.get_user(s, "test", user)
    assert record is not None
    return record


async def test_profile_dialogue_saves_every_field(app: App) -> None:
    chat = Chat(app)
    replies = await chat.say("lan", "/hoso")
    assert "tỉnh/thành phố nào" in chat.text(replies)
    replies = await chat.say("lan", "tinh nghe an")  # without diacritics, with a prefix
    assert "Xã/phường" in chat.text(replies)
    replies = await chat.say("lan", "Xã Diễn Châu")
    assert "profile:set:agriculture" in chat.payloads(replies)
    replies = await chat.say("lan", "1")  # numbered answer → first option (Nông nghiệp)
    assert "vai trò" in chat.text(replies)
    await chat.press("lan", "profile:set:manager")
    replies = await chat.say("lan", "Có")
    assert "Đã lưu hồ sơ" in chat.text(replies) and "Nghệ An" in chat.text(replies)
    saved = await profile(app, "lan")
    assert (saved.province, saved.commune, saved.sector, saved.role, saved.runs_coop) == (
        "Nghệ An", "Xã Diễn Châu", "agriculture", "manager", True)


async def test_skipping_keeps_values_and_staff_keep_their_role(app: App) -> None:
    chat = Chat(app)
    await chat.say("lan", "/hoso")
    await chat.say("lan", "Huế")
    for _ in range(4):
        replies = await chat.press("lan", "profile:skip")
    assert "Đã lưu hồ sơ" in chat.text(replies)
    assert (await profile(app, "lan")).province == "Huế"
    await chat.say("admin1", "/capquyen test:lan")
    replies = await chat.say("lan", "/hoso")
    await chat.press("lan", "profile:skip")
    await chat.press("lan", "profile:skip")
    replies = await chat.press("lan", "profile:set:trade")
    assert "điều hành" in chat.text(replies)  # the role question is skipped for staff
    await chat.press("lan", "profile:set:no")
    saved = await profile(app, "lan")
    assert (saved.role, saved.sector, saved.province) == ("staff", "trade", "Huế")


async def test_unsubscribe_and_back_changes_the_audience(app: App) -> None:
    chat = Chat(app)
    await chat.say("lan", "xin chào")
    await chat.say("minh", "xin chào")
    async with app.db.unit() as s:
        assert await broadcasts.count_audience(s, {}) == 2
    replies = await chat.say("lan", "/tatthongbao")
    assert "Đã tắt thông báo" in chat.text(replies)
    assert (await profile(app, "lan")).subscribed is False
    async with app.db.unit() as s:
        assert await broadcasts.count_audience(s, {}) == 1
    await chat.press("lan", "profile:subscribe")
    assert (await profile(app, "lan")).subscribed is True
    await chat.press("lan", "profile:unsubscribe")  # the button under every announcement
    assert (await profile(app, "lan")).subscribed is False
    assert "Đã bật lại" in chat.text(await chat.say("lan", "/batthongbao"))


async def test_unknown_province_is_kept_as_typed(app: App) -> None:
    chat = Chat(app)
    await chat.say("lan", "/hoso")
    replies = await chat.say("lan", "Atlantis")
    assert "chưa nhận ra «Atlantis»" in chat.text(replies)


async def test_a_former_province_is_saved_as_the_one_it_merged_into(app: App) -> None:
    chat = Chat(app)
    await chat.say("lan", "/hoso")
    replies = await chat.say("lan", "Bình Dương")  # merged into Hồ Chí Minh City on 01/07/2025
    assert "chưa nhận ra" not in chat.text(replies)
    for _ in range(4):
        await chat.press("lan", "profile:skip")
    assert (await profile(app, "lan")).province == "TP. Hồ Chí Minh"


def test_one_province_list_for_forms_profiles_and_audiences() -> None:
    from handlers.forms.wizard_form import load_form
    from handlers.member.profile_fields import PROVINCES, canonical_province
    from tests.conftest import ROOT

    form = load_form(ROOT / "knowledge" / "forms" / "htx.yaml").step("province")
    assert form is not None and [c.label for c in form.choices] == list(PROVINCES) and len(PROVINCES) == 34
    merged = {c.label: c.note for c in form.choices if c.note.count(",")}  # notes naming three former provinces
    assert merged["Cần Thơ"] == "gồm Cần Thơ, Sóc Trăng và Hậu Giang cũ" and len(merged) == 6
    assert canonical_province("soc trang") == ("Cần Thơ", True)
