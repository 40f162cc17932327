"""Conversations through the real core (App + SQLite), read like dialogue."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.app import App
from bot.core.types import Attachment, ChannelCapabilities, ChatRef, Incoming, Reply
from bot.storage.models import QuestionLog
from tests.conftest import Chat, RecordingChannel, make_config


async def test_start_shows_a_vietnamese_menu_with_buttons(app: App) -> None:
    chat = Chat(app)
    text = await chat.say("/start")
    assert "Xin chào Lan" in text
    labels = [label for label, _ in chat.buttons()]
    assert any("Hỏi đáp" in label for label in labels)
    assert any("Liên hệ" in label for label in labels)


@pytest.mark.parametrize("question", [
    "Thành lập hợp tác xã cần tối thiểu bao nhiêu thành viên?",
    "thanh lap hop tac xa can toi thieu bao nhieu thanh vien",
    "LAP HTX CAN BAO NHIEU NGUOI",
    "cho em hỏi lập htx cần bao nhiu người ạ",
    "lap hop tac sa can bao nhieu nguoi",
])
async def test_question_typed_any_way_gets_the_cited_answer(app: App, question: str) -> None:
    text = await Chat(app).say(question)
    assert "05 thành viên chính thức" in text
    assert "Nguồn: Luật Hợp tác xã số 17/2023/QH15, khoản 7 Điều 4" in text
    assert "Áp dụng từ 01/07/2024" in text


async def test_old_law_answer_says_what_applies_today(app: App) -> None:
    text = await Chat(app).say("HTX thành lập theo luật 2012 cần bao nhiêu thành viên")
    assert "07 thành viên" in text
    assert "hết hiệu lực từ 01/07/2024" in text
    assert "Hiện nay: Theo Luật Hợp tác xã 2023" in text


async def test_unconfirmed_fact_is_flagged_with_advice(app: App) -> None:
    text = await Chat(app).say("hồ sơ đăng ký HTX gồm những gì")
    assert "Chưa xác minh" in text and "Liên minh HTX" in text


async def test_unknown_question_is_declined_honestly_and_logged_for_staff(app: App) -> None:
    chat = Chat(app)
    text = await chat.say("giá vàng hôm nay bao nhiêu")
    assert "chưa có câu trả lời" in text
    assert ("📋 Menu", "start:menu") in chat.buttons()
    async with app.db.unit() as s:
        row = await s.scalar(select(QuestionLog).order_by(QuestionLog.id.desc()))
    assert row is not None and row.answered is False and row.raw_text == "giá vàng hôm nay bao nhiêu"


async def test_recognised_out_of_scope_intent_gets_a_polite_decline(app: App) -> None:
    text = await Chat(app).say("hôm nay trời có mưa không")
    assert "thời tiết" in text and "Liên hệ" in text


async def test_numbered_answer_picks_the_offered_option(app: App) -> None:
    chat = Chat(app)
    await chat.say("lap htx can bao nhieu nguoi")
    options = chat.buttons()
    assert options[0][1] == "qa:e:so-thanh-vien-htx-luat-2012"
    text = await chat.say("1")
    assert "07 thành viên" in text


@pytest.mark.parametrize("message", ["", "   ", "😀🙏👍", "\x00\x07\x1b[31m", "x" * 50_000,
                                     "'; DROP TABLE users; --", "SELECT * FROM question_log"])
async def test_bad_input_gets_a_polite_reply_and_nothing_breaks(app: App, message: str) -> None:
    chat = Chat(app)
    text = await chat.say(message)
    assert text.strip(), "the bot must always answer something"
    assert "sự cố" not in text
    assert "hợp tác xã" in (await chat.say("lap htx can bao nhieu nguoi"))  # still works afterwards


async def test_huge_message_is_logged_truncated(app: App) -> None:
    await Chat(app).say("hợp tác xã " + "x" * 50_000)
    async with app.db.unit() as s:
        row = await s.scalar(select(QuestionLog))
    assert row is not None and 0 < len(row.raw_text) <= 2000


async def test_redelivered_message_is_answered_once(app: App) -> None:
    chat = Chat(app)
    first = await chat.say("lap htx can bao nhieu nguoi", message_id="m-1")
    again = await chat.say("lap htx can bao nhieu nguoi", message_id="m-1")
    assert first and again == ""
    async with app.db.unit() as s:
        assert await s.scalar(select(func.count()).select_from(QuestionLog)) == 1


async def test_state_survives_a_restart(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    app = await App.open(config)
    chat = Chat(app)
    await chat.say("lap htx can bao nhieu nguoi")
    await app.close()
    reopened = await App.open(config)  # a new process on the same database
    try:
        text = await Chat(reopened).say("1")  # picks the option offered before the restart
        assert "07 thành viên" in text
        assert (await Chat(reopened, user="u2").say("/menu")) != ""
    finally:
        await reopened.close()


async def test_channel_without_buttons_gets_numbered_options_and_split_text(app: App) -> None:
    channel = RecordingChannel("zalo", ChannelCapabilities(max_text=120, buttons=False, documents=False))
    app.register_channel(channel)
    chat = Chat(app, channel="zalo")
    await chat.say("/menu")
    text = "\n".join(r.text for r in chat.last)
    assert "1. ❓ Hỏi đáp về HTX" in text  # numbered, and questions come first
    assert all(len(r.text) <= 120 and not r.buttons for r in chat.last)
    number = next(line.split(".")[0] for line in text.splitlines() if "Liên hệ Liên minh HTX" in line)
    assert "Cán bộ sẽ hướng dẫn trực tiếp" in await chat.say(number)


async def test_file_reaches_a_channel_without_documents_as_a_working_private_link(app: App) -> None:
    from aiohttp.test_utils import TestClient, TestServer

    from bot.channels.web import build_web_app

    channel = RecordingChannel("zalo", ChannelCapabilities(max_text=2000, buttons=False, documents=False))
    app.register_channel(channel)
    reply = Reply("Hồ sơ của bạn", attachment=Attachment("ho-so.docx", b"DOCX-BYTES", "application/octet-stream"))
    await app.send(ChatRef("zalo", "u9"), reply)
    sent = channel.sent[0][1].text
    url = sent.split("«ho-so.docx»: ")[1].split()[0]
    path = url.replace(app.config.web.public_url, "")
    async with TestClient(TestServer(build_web_app(app))) as client:
        ok = await client.get(path)
        assert ok.status == 200 and await ok.read() == b"DOCX-BYTES"
        forged = await client.get(path.replace("sig=", "sig=0"))
        assert forged.status == 403
        health = await client.get("/healthz")
        assert (await health.json())["ok"] is True


async def test_a_command_word_wins_over_an_option_that_contains_it(app: App) -> None:
    chat = Chat(app)
    await chat.say("lap htx can bao nhieu nguoi")
    assert any("Menu" in label for label, _ in chat.buttons())
    text = await chat.say("menu")  # also the label of an offered button: either way, the menu
    assert "chọn một mục" in text


async def test_bold_is_html_on_telegram_and_plain_elsewhere(app: App) -> None:
    telegram = RecordingChannel("telegram", ChannelCapabilities(html=True))
    app.register_channel(telegram)
    reply = Reply("Cần **ít nhất 05** thành viên <chính thức> & đủ 18 tuổi")
    await app.send(ChatRef("telegram", "1"), reply)
    plain = RecordingChannel("zalo", ChannelCapabilities(buttons=False, documents=False))
    app.register_channel(plain)
    await app.send(ChatRef("zalo", "1"), reply)
    assert telegram.sent[0][1].text == "Cần <b>ít nhất 05</b> thành viên &lt;chính thức&gt; &amp; đủ 18 tuổi"
    assert plain.sent[0][1].text == "Cần ít nhất 05 thành viên <chính thức> & đủ 18 tuổi"


async def test_answering_a_number_to_an_announcement_picks_its_option(app: App) -> None:
    from bot.core.types import Button

    zalo = RecordingChannel("zalo", ChannelCapabilities(buttons=False, documents=False))
    app.register_channel(zalo)
    await app.send(ChatRef("zalo", "u5"), Reply("Thông báo mới", buttons=[Button("📞 Liên hệ", "start:contact")]))
    assert "1. 📞 Liên hệ" in zalo.sent[0][1].text
    text = await Chat(app, user="u5", channel="zalo").say("1")
    assert "Cán bộ sẽ hướng dẫn trực tiếp" in text


async def test_odd_digits_and_the_lock_table_do_not_hurt(app: App) -> None:
    chat = Chat(app)
    await chat.say("/menu")
    for odd in ("²", "①", "9" * 40):
        text = await chat.say(odd)
        assert "sự cố" not in text
    assert len(app._locks) == 0  # nothing held, nothing left behind


async def test_two_quick_messages_from_one_user_are_handled_one_after_the_other(app: App) -> None:
    import asyncio

    chat, other = Chat(app), Chat(app)
    first, second = await asyncio.gather(chat.say("/menu", message_id="a"), other.say("/menu", message_id="b"))
    assert first and second and len(app._locks) == 0


async def test_one_announcement_file_is_stored_once_for_all_recipients(app: App) -> None:
    from sqlalchemy import select

    from bot.storage.models import StoredFile

    zalo = RecordingChannel("zalo", ChannelCapabilities(buttons=False, documents=False, images=False))
    app.register_channel(zalo)
    picture = Reply("Hội chợ OCOP", attachment=Attachment("hoi-cho.png", b"PNG", "image/png", kind="image"))
    for user in ("a", "b", "c"):
        await app.send(ChatRef("zalo", user), picture, file_owner="broadcast:7")
    async with app.db.unit() as s:
        assert len(list(await s.scalars(select(StoredFile)))) == 1
    assert all("Tải tệp «hoi-cho.png»" in reply.text for _, reply in zalo.sent)


async def test_group_chats_never_become_a_members_chat_nor_see_personal_flows(app: App) -> None:
    from bot.storage.repo.users import get_user

    async def in_group(text: str) -> str:
        replies = await app.handle(Incoming(channel="test", chat_id="-100500", user_id="u7", display_name="Bảy",
                                            text=text, is_private=False))
        return "\n".join(r.text for r in replies)

    await Chat(app, user="u7").say("/menu")  # the private chat: chat id "u7"
    assert "05 thành viên" in await in_group("lap htx can bao nhieu nguoi")  # questions are fine in a group
    for personal in ("/dangky", "/hoso", "/gopy"):
        assert "tin nhắn riêng" in await in_group(personal)
    async with app.db.unit() as s:
        user = await get_user(s, "test", "u7")
    assert user is not None and user.chat_id == "u7"  # announcements still go to the private chat
