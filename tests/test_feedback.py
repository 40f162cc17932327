"""/gopy: topic from knowledge/feedback/topics.yaml, free text, optional anonymity."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import App
from bot.storage.repo import feedback, users
from tests.staff_support import Chat, make_config


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[App]:
    app = await App.open(make_config(tmp_path))
    yield app
    await app.close()


async def give_feedback(chat: Chat, user: str, topic: str, text: str, anonymous: bool) -> str:
    replies = await chat.say(user, "/gopy")
    assert f"feedback:topic:{topic}" in chat.payloads(replies)
    await chat.press(user, f"feedback:topic:{topic}")
    replies = await chat.say(user, text)
    assert "ẩn danh" in chat.text(replies)
    return chat.text(await chat.press(user, f"feedback:anon:{'yes' if anonymous else 'no'}"))


async def test_named_and_anonymous_feedback_grouped_by_topic(app: App) -> None:
    chat = Chat(app)
    await chat.say("lan", "/hoso")
    await chat.say("lan", "Đồng Tháp")
    await chat.say("lan", "/huy")
    done = await give_feedback(chat, "lan", "credit", "Lãi suất vay Quỹ hỗ trợ còn cao, thủ tục thế chấp khó.", True)
    assert "Đã ghi nhận góp ý (ẩn danh)" in done
    await give_feedback(chat, "minh", "credit", "Cần tăng hạn mức vay tín chấp cho HTX.", False)
    await give_feedback(chat, "minh", "market", "Cần hỗ trợ đưa nông sản lên sàn thương mại điện tử.", False)
    async with app.db.unit() as s:
        grouped = await feedback.feedback_by_topic(s)
        minh = await users.get_user(s, "test", "minh")
        anonymous_id = grouped["credit"][0].id
        named_id = grouped["credit"][1].id
        assert await feedback.feedback_user_id(s, anonymous_id) is None  # no identity kept
        assert await feedback.feedback_user_id(s, named_id) == minh.id  # type: ignore[union-attr]
    assert sorted(grouped) == ["credit", "market"]
    assert grouped["credit"][0].province == "Đồng Tháp" and grouped["credit"][0].anonymous
    assert grouped["credit"][0].channel == "" and grouped["credit"][0].role == "member"  # nothing that points to her


async def test_too_short_text_is_asked_again_and_menu_lists_feedback(app: App) -> None:
    chat = Chat(app)
    await chat.say("lan", "/gopy")
    await chat.press("lan", "feedback:topic:other")
    assert "hơi ngắn" in chat.text(await chat.say("lan", "ok"))
    assert "feedback:start" in chat.payloads(await chat.say("lan", "/menu"))
