"""Adapters read the platforms' payloads and answers as the platforms send them.

The payloads are recorded or documented ones under tests/fixtures/platform/ (sources in its README),
not what our own client or fakes happen to produce. Zalo: pictures in `photo` (a string or an object),
`photo_url` or attachments; group messages that start with a mention of the bot; updates without
`event_name` or `message_id`; a list `result`; voice messages and links. Telegram: 429 with
`retry_after`, a group migrated to a supergroup, scoped command menus, and a fake that refuses what
Telegram refuses (HTML it cannot parse, texts over 4,096 characters, callback data over 64 bytes).
"""

from __future__ import annotations

import contextlib
import copy
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from telegram import Update
from telegram.error import NetworkError, RetryAfter, TimedOut

from bot.app import App
from bot.channels.telegram import APOLOGY, TelegramChannel
from bot.channels.telegram_send import RATE_LIMIT_ATTEMPTS
from bot.channels.zalo import (
    LINK_NOTE,
    VOICE_NOTE,
    ZaloChannel,
    media_note,
    parse_image,
    parse_update,
    strip_bot_mention,
    updates_in,
)
from bot.config import TelegramConfig
from bot.core.channel import DeliveryError
from bot.core.render import render_for
from bot.core.types import ChatRef, Incoming, Reply
from handlers.registry import catalogue
from tests.fakes import telegram_rules
from tests.fakes.telegram_server import FakeTelegramServer
from tests.fakes.zalo_server import FakeZaloServer, text_update
from tests.test_render import BOLD_ANSWER
from tests.test_zalo import zalo_channel

PLATFORM = Path(__file__).parent / "fixtures" / "platform"
PLEASE_TYPE = "chưa đọc được câu hỏi"  # the Q&A flow's answer to an empty message


def payload(name: str) -> Any:
    """A recorded payload, freshly loaded (tests may change their copy)."""
    return json.loads((PLATFORM / name).read_text(encoding="utf-8"))


def zalo_update(name: str) -> dict[str, Any]:
    """The one update in a Zalo fixture (webhook bodies and getUpdates answers are both accepted)."""
    [update] = updates_in(payload(f"zalo/{name}"))
    return update


Handler = Callable[[Incoming], Awaitable[list[Reply]]]


async def exchange(server: FakeZaloServer, channel: ZaloChannel, *updates: Any) -> list[str]:
    """Push raw updates through getUpdates; the texts the bot sent back."""
    before = len(server.sent_texts())
    for update in updates:
        server.push_update(update)
    await server.wait_until_consumed()
    await channel.drain()
    return server.sent_texts()[before:]


# ---- Zalo: pictures ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("fixture", "url", "caption"), [
    ("webhook_image_photo.json", "https://photo-stal-1.zdn.vn/a1b2c3/anh-hoi-cho.jpg", "Ảnh hội chợ nông sản"),
    ("webhook_image_photo_url.json", "https://photo-stal-1.zdn.vn/9f8e7d/giay-chung-nhan.jpg",
     "Giấy chứng nhận đăng ký HTX"),
    ("update_image_photo_object.json", "https://photo-stal-1.zdn.vn/5a6b7c/bang-gia.png", "Bảng giá vật tư"),
    ("update_image_attachments.json", "https://photo-stal-1.zdn.vn/1c2d3e/bien-ban.jpg", "Biên bản họp thành viên"),
])
def test_zalo_picture_and_caption_are_read_from_every_documented_field(fixture: str, url: str, caption: str) -> None:
    update = zalo_update(fixture)
    assert parse_image(update) == (url, caption)
    incoming = parse_update(update)
    assert incoming is not None and incoming.text == ""  # filled with the caption once the picture is downloaded


def test_zalo_picture_without_event_name_is_still_a_picture() -> None:
    update = zalo_update("webhook_image_photo.json")
    del update["event_name"]
    assert parse_image(update) == ("https://photo-stal-1.zdn.vn/a1b2c3/anh-hoi-cho.jpg", "Ảnh hội chợ nông sản")
    assert parse_image(zalo_update("webhook_sticker.json")) is None  # a sticker's `url` is not a picture


async def test_zalo_documented_photo_reaches_the_core_with_picture_and_caption(zalo_server: FakeZaloServer) -> None:
    seen: list[Incoming] = []

    async def record(incoming: Incoming) -> list[Reply]:
        seen.append(incoming)
        return [Reply("đã nhận")]

    picture = b"\xff\xd8\xff\xe0JFIF" + bytes(range(256)) * 40
    update = zalo_update("webhook_image_photo.json")
    update["message"]["photo"] = zalo_server.add_image(picture, "anh-hoi-cho.jpg")
    async with zalo_channel(zalo_server, record) as channel:
        assert await exchange(zalo_server, channel, update) == ["đã nhận"]
    [incoming] = seen
    assert incoming.text == "Ảnh hội chợ nông sản"
    assert incoming.attachment is not None and incoming.attachment.data == picture
    assert incoming.attachment.filename == "anh-hoi-cho.jpg"


# ---- Zalo: groups ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "names", "expected"), [
    ("@Bot HTX Tỉnh /menu", ["Bot HTX Tỉnh"], "/menu"),
    ("@Bot HTX Tỉnh /menu", [], "/menu"),  # name unknown: removed because a command follows
    ("@bot htx tỉnh, vốn điều lệ là gì?", ["Bot HTX Tỉnh"], "vốn điều lệ là gì?"),
    ("@Bot HTX Tỉnh", ["Bot HTX Tỉnh"], "/menu"),  # the name alone: show the menu
    ("@Lan ơi họp lúc mấy giờ?", ["Bot HTX Tỉnh"], "@Lan ơi họp lúc mấy giờ?"),  # someone else: unchanged
])
def test_zalo_leading_mention_of_the_bot_is_removed(text: str, names: list[str], expected: str) -> None:
    assert strip_bot_mention(text, names) == expected


def test_zalo_group_command_after_mention_is_read_as_the_command() -> None:
    incoming = parse_update(zalo_update("webhook_group_mention.json"), ["Bot HTX Tỉnh"])
    assert incoming is not None
    assert (incoming.text, incoming.is_private, incoming.chat_id) == ("/menu", False, "g9f8e7d6c5b4a3928170")
    private = zalo_update("webhook_text_private.json")
    private["message"]["text"] = "@Bot HTX Tỉnh /menu"
    assert parse_update(private, ["Bot HTX Tỉnh"]).text == "@Bot HTX Tỉnh /menu"  # private: as typed


async def test_zalo_menu_command_works_in_a_group(app: App, zalo_server: FakeZaloServer) -> None:
    group = text_update("/menu", chat_id="group-1", user_id="u-7", message_id="g-1", chat_type="GROUP",
                        mention="Bot HTX")  # the fake's getMe display_name
    async with zalo_channel(zalo_server, app.handle, app) as channel:
        [answer] = await exchange(zalo_server, channel, group)
    assert "chọn một mục" in answer and "1." in answer
    assert "không biết lệnh" not in answer and "chưa có câu trả lời" not in answer


# ---- Zalo: updates without event_name or message_id, list results ---------------------------------------

def test_zalo_update_without_message_id_gets_a_stable_content_key() -> None:
    update = zalo_update("getupdates_without_event_name.json")
    first, again = parse_update(update), parse_update(copy.deepcopy(update))
    assert first is not None and again is not None
    assert first.text == "Xin chào" and first.display_name == "Nguyen Van A"
    assert first.message_id and first.message_id == again.message_id
    later = copy.deepcopy(update)
    later["message"]["date"] += 60_000
    other = copy.deepcopy(update)
    other["message"]["text"] = "Tạm biệt"
    assert len({first.message_id, parse_update(later).message_id, parse_update(other).message_id}) == 3


def test_zalo_update_without_message_id_nor_date_is_keyed_by_content_and_time_window() -> None:
    update = zalo_update("getupdates_without_event_name.json")
    del update["message"]["date"]
    now = 1_766_619_600.0
    assert parse_update(update, now=now).message_id == parse_update(update, now=now + 30).message_id
    assert parse_update(update, now=now).message_id != parse_update(update, now=now + 3600).message_id


async def test_zalo_redelivered_update_without_message_id_is_answered_once(
        app: App, zalo_server: FakeZaloServer) -> None:
    update = zalo_update("getupdates_without_event_name.json")
    async with zalo_channel(zalo_server, app.handle, app) as channel:
        first = await exchange(zalo_server, channel, update)
        again = await exchange(zalo_server, channel, copy.deepcopy(update))
    assert len(first) == 1
    assert again == []


def test_zalo_list_result_gives_every_update() -> None:
    updates = updates_in(payload("zalo/getupdates_list_result.json"))
    assert [parse_update(u).text for u in updates] == ["HTX cần tối thiểu bao nhiêu thành viên?", "/menu"]
    assert updates_in(payload("zalo/webhook_text_private.json"))[0]["message"]["text"] == "Xin chào"
    assert updates_in([1, None, {"message": {}}]) == [{"message": {}}]


async def test_zalo_list_result_from_get_updates_is_answered(zalo_server: FakeZaloServer) -> None:
    seen: list[str] = []

    async def record(incoming: Incoming) -> list[Reply]:
        seen.append(incoming.text)
        return [Reply(f"trả lời: {incoming.text}")]

    result = payload("zalo/getupdates_list_result.json")["result"]
    async with zalo_channel(zalo_server, record) as channel:
        answers = await exchange(zalo_server, channel, result)
    assert seen == ["HTX cần tối thiểu bao nhiêu thành viên?", "/menu"]
    assert len(answers) == 2


# ---- Zalo: voice and links ---------------------------------------------------------------------------

def test_zalo_voice_link_and_sticker_get_their_own_answer() -> None:
    assert media_note(zalo_update("webhook_voice.json")) == VOICE_NOTE
    link = media_note(zalo_update("update_link.json"))
    assert link is not None and "«Luật Hợp tác xã 2023 số 17/2023/QH15»" in link
    assert media_note(zalo_update("update_text_only_link.json")) == LINK_NOTE.format(title="")
    assert media_note(zalo_update("webhook_sticker.json")) is not None
    assert media_note(zalo_update("webhook_text_private.json")) is None
    assert media_note(zalo_update("webhook_image_photo.json")) is None


@pytest.mark.parametrize(("fixture", "expected"), [
    ("webhook_voice.json", "tin nhắn thoại"),
    ("update_link.json", "đường link «Luật Hợp tác xã 2023"),
    ("update_text_only_link.json", "đường link"),
])
async def test_zalo_voice_and_links_are_answered_sensibly(
        app: App, zalo_server: FakeZaloServer, fixture: str, expected: str) -> None:
    async with zalo_channel(zalo_server, app.handle, app) as channel:
        [answer] = await exchange(zalo_server, channel, zalo_update(fixture))
    assert expected in answer
    assert PLEASE_TYPE not in answer


# ---- Telegram ------------------------------------------------------------------------------------------

USER = 5551234
OLD_GROUP = -4001234  # a basic group, before it became a supergroup


class EchoCore:
    """The core's place for the adapter tests: answers "Bạn hỏi: <text>", a long bold answer for "dài"."""

    def __init__(self) -> None:
        self.seen: list[Incoming] = []

    async def handle(self, incoming: Incoming) -> list[Reply]:
        self.seen.append(incoming)
        if incoming.text == "dài":
            return render_for(Reply(BOLD_ANSWER), TelegramChannel.capabilities)
        return [Reply(f"Bạn hỏi: {incoming.text}")]


@contextlib.asynccontextmanager
async def telegram_channel(fake: FakeTelegramServer, handle: Handler) -> AsyncIterator[TelegramChannel]:
    config = TelegramConfig(token=fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url)
    channel = TelegramChannel(config, handle, menus=catalogue().telegram_menus())
    await channel.start()
    try:
        yield channel
    finally:
        await channel.stop()


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer() as server:
        yield server


def test_fake_telegram_refuses_what_telegram_refuses() -> None:
    def check(text: str, **extra: Any) -> str | None:
        return telegram_rules.check_request("sendMessage", {"text": text, "parse_mode": "HTML", **extra})

    assert check("<b>đậm</b> &amp; &lt;thường&gt; &#128512;") is None
    assert "can't parse entities" in str(check("<b>mở mà không đóng"))
    assert "can't parse entities" in str(check("đóng mà không mở</b>"))
    assert "can't parse entities" in str(check("<b><i>đan chéo</b></i>"))
    assert "can't parse entities" in str(check("HTX < THT"))
    assert "can't parse entities" in str(check("<p>đoạn</p>"))
    assert "can't parse entities" in str(check("a &nbsp; b"))
    assert check("x" * 4096) is None and check("<b>" + "x" * 4096 + "</b>") is None
    assert "too long" in str(check("x" * 4097))
    assert "too long" in str(check("🌾" * 2049))  # 4,098 UTF-16 units
    assert "empty" in str(check("<b> </b>"))
    keyboard = {"inline_keyboard": [[{"text": "Đăng ký", "callback_data": "đ" * 33}]]}  # 66 bytes
    assert check("ok", reply_markup=keyboard) == "Bad Request: BUTTON_DATA_INVALID"


async def test_fake_telegram_answers_bad_html_with_400(fake: FakeTelegramServer) -> None:
    config = TelegramConfig(token=fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url,
                            mode="webhook", webhook_secret="s3cret")
    channel = TelegramChannel(config, EchoCore().handle)
    await channel.start()
    try:
        with pytest.raises(DeliveryError, match="(?i)can't parse entities"):
            await channel.send(ChatRef("telegram", str(USER)), Reply("vốn < 20% là đủ?"))  # "<" unescaped
    finally:
        await channel.stop()
    assert [c.status for c in fake.calls_to("sendMessage")] == [400]


async def test_long_bold_answer_reaches_the_user_without_apology(fake: FakeTelegramServer) -> None:
    async with telegram_channel(fake, EchoCore().handle):
        fake.enqueue_text(USER, "dài")
        await fake.wait_for_calls("sendMessage", 3, chat_id=USER)
        await fake.wait_for_calls("sendMessage", len(_bold_parts()), chat_id=USER)
    assert all(c.status == 200 for c in fake.calls_to("sendMessage", USER))
    assert APOLOGY not in fake.sent_texts(USER)
    shown = " ".join(telegram_rules.parse_html(t) for t in fake.sent_texts(USER))
    assert shown.split() == BOLD_ANSWER.replace("**", "").split()


def _bold_parts() -> list[Reply]:
    return render_for(Reply(BOLD_ANSWER), TelegramChannel.capabilities)


async def test_interactive_reply_is_retried_after_retry_after(fake: FakeTelegramServer) -> None:
    answer = payload("telegram/error_retry_after.json")
    async with telegram_channel(fake, EchoCore().handle):
        fake.answer_429(USER, retry_after=answer["parameters"]["retry_after"])
        fake.enqueue_text(USER, "vốn điều lệ")
        await fake.wait_for_calls("sendMessage", 2, chat_id=USER, timeout=10)
    assert [c.status for c in fake.calls_to("sendMessage", USER)] == [429, 200]
    assert fake.sent_texts(USER) == ["Bạn hỏi: vốn điều lệ"]  # the answer, and no apology


async def test_long_flood_wait_is_not_waited_out_nor_apologised_for(fake: FakeTelegramServer) -> None:
    async with telegram_channel(fake, EchoCore().handle):
        fake.answer_429(USER, retry_after=120)
        fake.enqueue_text(USER, "xin chào")
        await fake.wait_for_calls("sendMessage", 1, chat_id=USER)
        fake.enqueue_text(USER, "còn đó không?")  # the next update is handled: nothing hangs
        await fake.wait_for_calls("sendMessage", 2, chat_id=USER)
    assert [c.status for c in fake.calls_to("sendMessage", USER)] == [429, 200]
    assert fake.sent_texts(USER) == ["Bạn hỏi: còn đó không?"]


ERRORS: dict[str, Callable[[], Exception]] = {
    "flood": lambda: RetryAfter(timedelta(seconds=3)),
    "timeout": TimedOut,
    "network": lambda: NetworkError("connection reset"),
}


async def test_flood_retries_are_bounded(fake: FakeTelegramServer) -> None:
    async with telegram_channel(fake, EchoCore().handle):
        fake.answer_429(USER, retry_after=1, count=RATE_LIMIT_ATTEMPTS)
        fake.enqueue_text(USER, "xin chào")
        await fake.wait_for_calls("sendMessage", RATE_LIMIT_ATTEMPTS, chat_id=USER, timeout=10)
        fake.enqueue_text(USER, "còn đó không?")  # handled once the first reply was given up
        await fake.wait_for_calls("sendMessage", RATE_LIMIT_ATTEMPTS + 1, chat_id=USER, timeout=10)
    assert [c.status for c in fake.calls_to("sendMessage", USER)] == [429] * RATE_LIMIT_ATTEMPTS + [200]
    assert fake.sent_texts(USER) == ["Bạn hỏi: còn đó không?"]  # the lost reply brings no apology


@pytest.mark.parametrize(("kind", "apologises"), [("flood", False), ("timeout", False), ("network", True)])
async def test_no_apology_after_a_flood_wait_or_a_timeout(
        fake: FakeTelegramServer, kind: str, apologises: bool) -> None:
    error = ERRORS[kind]()

    class Context:  # what PTB hands an error handler: the bot and the error
        def __init__(self, bot: Any) -> None:
            self.bot, self.error = bot, error

    async with telegram_channel(fake, EchoCore().handle) as channel:
        update = Update.de_json(fake.text_update(USER, "xin chào"), channel.application.bot)
        await channel._on_error(update, Context(channel.application.bot))  # type: ignore[arg-type]
    assert fake.sent_texts(USER) == ([APOLOGY] if apologises else [])


async def test_migrated_group_is_followed_and_remembered(fake: FakeTelegramServer) -> None:
    new_chat = payload("telegram/error_migrate_to_chat_id.json")["parameters"]["migrate_to_chat_id"]
    fake.answer_migrated(OLD_GROUP, new_chat)
    async with telegram_channel(fake, EchoCore().handle):
        fake.enqueue_command(OLD_GROUP, "/hoi@htx_test_bot vốn góp", chat_type="group", user_id=USER)
        await fake.wait_for_calls("sendMessage", 1, chat_id=new_chat)
        fake.enqueue_command(OLD_GROUP, "/menu@htx_test_bot", chat_type="group", user_id=USER)
        await fake.wait_for_calls("sendMessage", 2, chat_id=new_chat)
    assert fake.sent_texts(new_chat) == ["Bạn hỏi: /hoi vốn góp", "Bạn hỏi: /menu"]
    assert len(fake.calls_to("sendMessage", OLD_GROUP)) == 1  # tried once; then the new id is used
    assert APOLOGY not in fake.sent_texts(OLD_GROUP)


async def test_command_menus_are_scoped_and_groups_hide_private_only_commands(
        fake: FakeTelegramServer, app: App) -> None:
    async with telegram_channel(fake, app.handle):
        calls = await fake.wait_for_calls("setMyCommands", 2)
    menus = {c.params["scope"]["type"]: [m["command"] for m in c.params["commands"]] for c in calls}
    assert {"menu", "hoi", "dangky", "gopy", "hoso", "trogiup"} <= set(menus["all_private_chats"])
    hidden = {word for word, flow in app.dispatcher.commands.items() if flow.spec.private_only}
    assert {"dangky", "gopy", "hoso"} <= hidden  # registration, feedback, profile: personal data
    assert menus["all_group_chats"] == [word for word in menus["all_private_chats"] if word not in hidden]
    assert "menu" in menus["all_group_chats"] and "hoi" in menus["all_group_chats"]
    staff = {word for word, flow in app.dispatcher.commands.items() if flow.spec.for_staff(flow.spec.command(word))}
    assert {"thongbao", "ketqua", "capquyen", "quantri"} <= staff
    assert not staff & set(menus["all_private_chats"])  # members' menus never offer staff work


def test_group_command_payload_reaches_the_core_as_the_command() -> None:
    from bot.channels.telegram_convert import message_to_incoming

    update = Update.de_json(payload("telegram/update_group_command.json"), None)
    incoming = message_to_incoming(update.message, "htx_test_bot", 999)
    assert incoming is not None
    assert (incoming.text, incoming.is_private, incoming.chat_id) == ("/menu", False, "-1001777000111")

