"""The Telegram adapter end to end: the real PTB Application against a fake Bot API on 127.0.0.1.

Part one drives the adapter with a scripted core (groups, files, errors, webhook, send() mapping);
part two runs the real `App` (knowledge base, SQLite) through `run_telegram`.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from telegram.error import RetryAfter
from telegram.warnings import PTBDeprecationWarning

from bot.app import App
from bot.broadcast.sender import BroadcastSender, SenderOptions
from bot.channels.telegram import (
    APOLOGY,
    SECRET_HEADER,
    TEXT_ONLY,
    TOO_LARGE,
    WEBHOOK_PATH,
    TelegramChannel,
    _retry_seconds,
    run_telegram,
)
from bot.channels.web import build_web_app
from bot.config import Config, ConfigError, TelegramConfig
from bot.core.channel import DeliveryError, RecipientBlocked, RetryLater
from bot.core.types import Attachment, Button, ChatRef, Incoming, Reply
from handlers.registry import catalogue
from tests.broadcast_support import run_until_done, seed_users
from tests.conftest import make_config
from tests.fakes.telegram_server import ApiCall, FakeTelegramServer

USER = 4242
GROUP = -100777
SECRET = "s3cret-Token_1"
LONG_ANSWER = "\n\n".join(f"Điều {i}. " + "Hợp tác xã hoạt động theo nguyên tắc tự nguyện. " * 40 for i in range(6))


class ScriptedCore:
    """Stands in for `App.handle`: a few fixed answers, and a record of what reached the core."""

    def __init__(self) -> None:
        self.seen: list[Incoming] = []

    async def handle(self, incoming: Incoming) -> list[Reply]:
        self.seen.append(incoming)
        text = incoming.text
        if incoming.payload:
            return [Reply(f"Bạn đã chọn {incoming.payload}.")]
        if text.startswith("/start"):
            return [Reply("Xin chào!", buttons=[Button("❓ Hỏi đáp", "qa:start"), Button("📝 Đăng ký", "reg:start")])]
        if text == "dài":
            return [Reply(LONG_ANSWER)]
        if text == "hồ sơ":
            return [Reply("Hồ sơ của bạn:", attachment=Attachment("ho-so-htx.docx", b"PK\x03\x04docx", "app/docx"))]
        if text == "hỏng":
            raise RuntimeError("core failure")
        if text == "chậm":
            await asyncio.sleep(1.0)
        return [Reply(f"Bạn hỏi: {text}")]


def tg_config(fake: FakeTelegramServer, **overrides: Any) -> TelegramConfig:
    values: dict[str, Any] = {"token": fake.token, "base_url": fake.base_url, "base_file_url": fake.base_file_url}
    return TelegramConfig(**{**values, **overrides})


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer() as server:
        yield server


@pytest.fixture
async def scripted(fake: FakeTelegramServer) -> AsyncIterator[ScriptedCore]:
    """A polling TelegramChannel wired to a ScriptedCore, started and stopped around the test."""
    core = ScriptedCore()
    channel = TelegramChannel(tg_config(fake), core.handle, menus=catalogue().telegram_menus())
    await channel.start()
    yield core
    await channel.stop()


@pytest.fixture
async def webhook_channel(fake: FakeTelegramServer) -> AsyncIterator[TelegramChannel]:
    """A webhook-mode channel (no updater): nothing polls, so send() is observed on its own."""
    channel = TelegramChannel(tg_config(fake, mode="webhook", webhook_secret=SECRET), ScriptedCore().handle)
    await channel.start()
    yield channel
    await channel.stop()


# -- part one: the adapter with a scripted core -----------------------------------------------


async def test_start_registers_vietnamese_commands_and_answers_with_keyboard(
        fake: FakeTelegramServer, scripted: ScriptedCore) -> None:
    commands = (await fake.wait_for_calls("setMyCommands"))[0].params["commands"]
    assert [(c["command"], c["description"]) for c in commands] == list(catalogue().telegram_menus().private)
    fake.enqueue_command(USER, "/start")
    [sent] = await fake.wait_for_calls("sendMessage", chat_id=USER)
    keyboard = sent.params["reply_markup"]["inline_keyboard"]
    assert [[b["callback_data"] for b in row] for row in keyboard] == [["qa:start"], ["reg:start"]]
    assert fake.calls_to("sendChatAction", USER) == []  # a quick answer needs no "typing…" round trip
    assert str(scripted.seen[0].message_id).startswith(f"{USER}:")


async def test_slow_answer_shows_typing_first(fake: FakeTelegramServer, scripted: ScriptedCore) -> None:
    fake.enqueue_text(USER, "chậm")
    [typing] = await fake.wait_for_calls("sendChatAction", chat_id=USER)
    assert typing.params["action"] == "typing" and fake.sent_texts(USER) == []
    await fake.wait_for_calls("sendMessage", chat_id=USER)
    assert fake.sent_texts(USER) == ["Bạn hỏi: chậm"]


async def test_button_press_is_answered_and_reaches_the_core(
        fake: FakeTelegramServer, scripted: ScriptedCore) -> None:
    update = fake.enqueue_callback(USER, "qa:start")
    [answered] = await fake.wait_for_calls("answerCallbackQuery")
    assert answered.params["callback_query_id"] == update["callback_query"]["id"]
    await fake.wait_for_calls("sendMessage", chat_id=USER)
    assert fake.sent_texts(USER) == ["Bạn đã chọn qa:start."]
    assert scripted.seen[0].message_id == update["callback_query"]["id"]


async def test_forged_button_press_on_another_chats_message_answers_the_presser(
        fake: FakeTelegramServer, scripted: ScriptedCore) -> None:
    intruder = 5555
    fake.enqueue_callback(USER, "qa:start", user_id=intruder)  # a press claiming a message in USER's chat
    await fake.wait_for_calls("sendMessage", chat_id=intruder)
    assert fake.sent_texts(USER) == [] and fake.sent_texts(intruder) == ["Bạn đã chọn qa:start."]
    assert scripted.seen[0].chat_id == str(intruder)


async def test_group_answers_only_commands_mentions_and_replies(
        fake: FakeTelegramServer, scripted: ScriptedCore) -> None:
    fake.enqueue_text(GROUP, "chào cả nhà", user_id=1, chat_type="group")
    fake.enqueue_command(GROUP, "/start@other_bot", user_id=1, chat_type="group")
    fake.enqueue_command(GROUP, "/start@htx_test_bot", user_id=1, chat_type="group")
    mention = "@htx_test_bot vốn điều lệ là gì?"
    fake.enqueue_text(GROUP, mention, user_id=2, chat_type="group",
                      entities=[{"type": "mention", "offset": 0, "length": 13}])
    fake.enqueue_text(GROUP, "thế còn THT?", user_id=3, chat_type="group", reply_to_bot=True)
    await fake.wait_for_calls("sendMessage", 3, chat_id=GROUP)
    # three different people: handled concurrently, so in any order
    assert sorted(i.text for i in scripted.seen) == sorted(["/start", "vốn điều lệ là gì?", "thế còn THT?"])
    assert {i.chat_id for i in scripted.seen} == {str(GROUP)}


async def test_long_answer_is_split_under_4096(fake: FakeTelegramServer, scripted: ScriptedCore) -> None:
    assert len(LONG_ANSWER) > 2 * 4096
    fake.enqueue_text(USER, "dài")
    await fake.wait_for_calls("sendMessage", 3, chat_id=USER)
    texts = fake.sent_texts(USER)
    assert all(len(t) <= 4096 for t in texts)
    assert [p.strip() for p in "\n\n".join(texts).split("\n\n")] == [p.strip() for p in LONG_ANSWER.split("\n\n")]


async def test_file_is_sent_as_document(fake: FakeTelegramServer, scripted: ScriptedCore) -> None:
    fake.enqueue_text(USER, "hồ sơ")
    [doc] = await fake.wait_for_calls("sendDocument", chat_id=USER)
    assert doc.files["document"] == ("ho-so-htx.docx", b"PK\x03\x04docx")
    assert fake.sent_texts(USER) == ["Hồ sơ của bạn:"]


async def test_voice_note_in_private_chat_gets_a_text_only_note(fake: FakeTelegramServer,
                                                                scripted: ScriptedCore) -> None:
    message = fake.message_dict(USER, "")
    del message["text"]
    message["voice"] = {"file_id": "v1", "file_unique_id": "uv1", "duration": 3}
    fake.enqueue_update({"message": message})
    await fake.wait_for_calls("sendMessage", chat_id=USER)
    assert fake.sent_texts(USER) == [TEXT_ONLY]
    assert scripted.seen == []


async def test_photo_reaches_the_core_downloaded_with_its_caption(fake: FakeTelegramServer,
                                                                 scripted: ScriptedCore) -> None:
    picture = b"\xff\xd8\xff\xe0JFIF" + bytes(range(256)) * 40
    fake.enqueue_photo(USER, picture, caption="Ảnh hội chợ nông sản")
    await fake.wait_for_calls("sendMessage", chat_id=USER)
    [incoming] = scripted.seen
    assert incoming.text == "Ảnh hội chợ nông sản" and incoming.attachment is not None
    assert (incoming.attachment.data, incoming.attachment.mime, incoming.attachment.kind) == (
        picture, "image/jpeg", "image")  # the largest size, not the thumbnail
    assert fake.calls_to("download")


async def test_document_reaches_the_core_with_name_and_type(fake: FakeTelegramServer,
                                                            scripted: ScriptedCore) -> None:
    fake.enqueue_document(USER, b"%PDF-1.7 lich hop", "lịch họp.pdf", "application/pdf")
    await fake.wait_for_calls("sendMessage", chat_id=USER)
    [incoming] = scripted.seen
    assert incoming.text == "" and incoming.attachment == Attachment(
        "lịch họp.pdf", b"%PDF-1.7 lich hop", "application/pdf", "document")


async def test_too_large_document_gets_the_size_message(fake: FakeTelegramServer, scripted: ScriptedCore) -> None:
    fake.enqueue_document(USER, b"small", "video-hoi-nghi.mp4", "video/mp4", caption="Xem video",
                          file_size=25 * 1024 * 1024)
    await fake.wait_for_calls("sendMessage", chat_id=USER)
    assert fake.sent_texts(USER) == [TOO_LARGE] and "10 MB" in TOO_LARGE
    assert scripted.seen == [] and fake.calls_to("getFile") == []  # refused before downloading


async def test_file_that_cannot_be_fetched_reaches_the_core_empty(
        fake: FakeTelegramServer, scripted: ScriptedCore, caplog: pytest.LogCaptureFixture) -> None:
    message = fake.message_dict(USER, "")
    del message["text"]
    message["caption"] = "Ảnh bị mất"
    message["photo"] = [{"file_id": "gone", "file_unique_id": "u1", "width": 10, "height": 10}]
    fake.enqueue_update({"message": message})
    await fake.wait_for_calls("sendMessage", chat_id=USER)
    [incoming] = scripted.seen
    assert (incoming.text, incoming.attachment) == ("", None)  # no caption without its picture
    assert "could not download the image" in caplog.text and fake.token not in caplog.text


async def test_errors_get_an_apology_not_silence(fake: FakeTelegramServer, scripted: ScriptedCore,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    fake.enqueue_text(USER, "hỏng")
    await fake.wait_for_calls("sendMessage", chat_id=USER)
    assert fake.sent_texts(USER) == [APOLOGY]
    fake.answer_400(USER, "Bad Request: message is too long")  # the reply itself fails
    fake.enqueue_text(USER, "xin chào")
    await fake.wait_for_calls("sendMessage", 3, chat_id=USER)
    assert fake.sent_texts(USER) == [APOLOGY, APOLOGY]
    assert "error handling update" in caplog.text and fake.token not in caplog.text


async def test_token_never_reaches_the_logs(fake: FakeTelegramServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="httpx")
    channel = TelegramChannel(tg_config(fake), ScriptedCore().handle)
    await channel.start()
    await channel.stop()
    assert "getMe" in caplog.text
    assert fake.token not in caplog.text


async def test_rejected_token_is_a_clear_error_without_the_token(fake: FakeTelegramServer) -> None:
    channel = TelegramChannel(tg_config(fake, token="123:WRONG-secret"), ScriptedCore().handle)
    with pytest.raises(ConfigError, match="HTXBOT_TELEGRAM__TOKEN") as rejected:
        await channel.start()
    assert "WRONG-secret" not in str(rejected.value) and rejected.value.__cause__ is None


def test_missing_token_or_webhook_secret_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="HTXBOT_TELEGRAM__TOKEN"):
        TelegramChannel(TelegramConfig(), ScriptedCore().handle)
    with pytest.raises(ConfigError, match="HTXBOT_TELEGRAM__WEBHOOK_SECRET"):
        TelegramChannel(TelegramConfig(token="1:A", mode="webhook"), ScriptedCore().handle)


# -- send(): what the broadcaster sees -------------------------------------------------------


async def test_send_maps_platform_errors(fake: FakeTelegramServer, webhook_channel: TelegramChannel,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB 22 warns inside RetryAfter() unless opted in to timedelta periods; warnings are errors here.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    ref = ChatRef("telegram", str(USER))
    fake.answer_429(USER, retry_after=7)
    with pytest.raises(RetryLater) as rate_limited:
        await webhook_channel.send(ref, Reply("Thông báo họp đại hội"))
    assert rate_limited.value.retry_after == 7.0
    fake.answer_403(USER)
    with pytest.raises(RecipientBlocked):
        await webhook_channel.send(ref, Reply("Thông báo họp đại hội"))
    fake.answer_400(USER, "Bad Request: chat not found")
    with pytest.raises(RecipientBlocked):
        await webhook_channel.send(ref, Reply("Thông báo họp đại hội"))
    fake.answer_400(USER, "Bad Request: can't parse entities")
    with pytest.raises(DeliveryError) as permanent:
        await webhook_channel.send(ref, Reply("Thông báo họp đại hội"))
    assert not isinstance(permanent.value, RetryLater)
    await webhook_channel.send(ref, Reply("Thông báo họp đại hội"))
    assert fake.sent_texts(USER) == ["Thông báo họp đại hội"]


@pytest.mark.parametrize("timedelta_periods", ["true", "false"])
def test_retry_seconds_reads_int_and_timedelta(timedelta_periods: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", timedelta_periods)
    with warnings.catch_warnings():  # PTB's own constructor warns in the int mode
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        exc = RetryAfter(7)
    assert _retry_seconds(exc) == 7.0  # and no warning escapes (warnings are errors)


async def test_send_network_failure_is_retried_later(fake: FakeTelegramServer,
                                                      webhook_channel: TelegramChannel) -> None:
    await fake.close()
    with pytest.raises(RetryLater) as transient:
        await webhook_channel.send(ChatRef("telegram", str(USER)), Reply("Thông báo"))
    assert transient.value.retry_after == 2.0


# -- webhook ----------------------------------------------------------------------------------


async def test_webhook_checks_the_secret(fake: FakeTelegramServer) -> None:
    core = ScriptedCore()
    hook = "https://htx.example.vn/telegram/webhook"
    channel = TelegramChannel(tg_config(fake, mode="webhook", webhook_secret=SECRET, webhook_url=hook), core.handle)
    await channel.start()
    web_app = web.Application()
    web_app.add_routes(channel.web_routes())
    try:
        [set_hook] = fake.calls_to("setWebhook")
        assert (set_hook.params["url"], set_hook.params["secret_token"]) == (hook, SECRET)
        async with TestClient(TestServer(web_app)) as client:
            update = fake.text_update(USER, "/start")
            assert (await client.post(WEBHOOK_PATH, json=update)).status == 403
            wrong = await client.post(WEBHOOK_PATH, json=update, headers={SECRET_HEADER: "wrong"})
            assert wrong.status == 403
            bad = await client.post(WEBHOOK_PATH, data=b"{not json", headers={SECRET_HEADER: SECRET})
            assert bad.status == 400
            ok = await client.post(WEBHOOK_PATH, json=fake.text_update(USER, "xin chào"),
                                   headers={SECRET_HEADER: SECRET})
            assert ok.status == 200
            await fake.wait_for_calls("sendMessage", chat_id=USER)
        assert fake.sent_texts(USER) == ["Bạn hỏi: xin chào"]
        assert [i.text for i in core.seen] == ["xin chào"]
    finally:
        await channel.stop()


# -- part two: the real App -------------------------------------------------------------------


@pytest.fixture
async def real(fake: FakeTelegramServer, tmp_path: Path) -> AsyncIterator[tuple[App, Config]]:
    config = make_config(  # SQLite in tmp_path, the fixture knowledge base
        tmp_path,
        HTXBOT_TELEGRAM__TOKEN=fake.token,
        HTXBOT_TELEGRAM__BASE_URL=fake.base_url,
        HTXBOT_TELEGRAM__BASE_FILE_URL=fake.base_file_url,
        HTXBOT_TELEGRAM__WEBHOOK_SECRET=SECRET,
    )
    app = await App.open(config)
    yield app, config
    await app.close()


@pytest.fixture
async def running(fake: FakeTelegramServer, real: tuple[App, Config]) -> AsyncIterator[App]:
    """`run_telegram` in polling mode as a task; cancelled (and checked to stop cleanly) afterwards."""
    app, config = real
    task = asyncio.create_task(run_telegram(app, config))
    await fake.wait_for_calls("getUpdates")  # started: commands set, polling
    yield app
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def ask(fake: FakeTelegramServer, text: str, chat_id: int = USER) -> str:
    """Send a text (commands get their entity) and return the bot's next message text."""
    before = len(fake.calls_to("sendMessage", chat_id))
    if text.startswith("/"):
        fake.enqueue_command(chat_id, text)
    else:
        fake.enqueue_text(chat_id, text)
    calls = await fake.wait_for_calls("sendMessage", before + 1, chat_id=chat_id)
    return str(calls[before].params["text"])


async def test_e2e_start_shows_menu_buttons(fake: FakeTelegramServer, running: App) -> None:
    await ask(fake, "/start")
    markup = fake.calls_to("sendMessage", USER)[-1].params["reply_markup"]
    assert len(markup["inline_keyboard"]) >= 2
    assert "telegram" in running.channels


@pytest.mark.parametrize("question", [
    "Thành lập hợp tác xã cần tối thiểu bao nhiêu thành viên?",
    "thanh lap htx can toi thieu bao nhieu thanh vien",
])
async def test_e2e_question_gets_the_cited_answer(fake: FakeTelegramServer, running: App, question: str) -> None:
    answer = await ask(fake, question)
    assert "05" in answer and "17/2023/QH15" in answer


async def test_e2e_button_press_advances_the_flow(fake: FakeTelegramServer, running: App) -> None:
    await ask(fake, "/start")
    keyboard = fake.calls_to("sendMessage", USER)[-1].params["reply_markup"]["inline_keyboard"]
    payload = keyboard[0][0]["callback_data"]
    update = fake.enqueue_callback(USER, payload)
    [answered] = await fake.wait_for_calls("answerCallbackQuery")
    assert answered.params["callback_query_id"] == update["callback_query"]["id"]
    await fake.wait_for_calls("sendMessage", 2, chat_id=USER)
    assert fake.sent_texts(USER)[1]


async def test_e2e_unknown_question_is_admitted(fake: FakeTelegramServer, running: App) -> None:
    answer = (await ask(fake, "giá vàng hôm nay")).lower()
    assert "chưa có câu trả lời" in answer
    assert "17/2023/QH15" not in answer


async def test_e2e_long_answer_is_split(fake: FakeTelegramServer, running: App) -> None:
    await running.send(ChatRef("telegram", str(USER)), Reply(LONG_ANSWER))
    texts = fake.sent_texts(USER)
    assert len(texts) >= 3 and all(len(t) <= 4096 for t in texts)


async def test_e2e_webhook_through_the_shared_web_app(fake: FakeTelegramServer, real: tuple[App, Config]) -> None:
    app, config = real
    config.telegram.mode = "webhook"
    channel = TelegramChannel(config.telegram, app.handle)
    app.register_channel(channel)
    await channel.start()
    try:
        async with TestClient(TestServer(build_web_app(app, channel.web_routes()))) as client:
            assert (await client.get("/healthz")).status == 200
            update = fake.text_update(USER, "/start", entities=[{"type": "bot_command", "offset": 0, "length": 6}])
            assert (await client.post(WEBHOOK_PATH, json=update, headers={SECRET_HEADER: "nope"})).status == 403
            assert (await client.post(WEBHOOK_PATH, json=update, headers={SECRET_HEADER: SECRET})).status == 200
            [sent] = await fake.wait_for_calls("sendMessage", chat_id=USER)
        assert sent.params["reply_markup"]["inline_keyboard"]
        assert len(fake.calls_to("sendMessage")) == 1
    finally:
        await channel.stop()


async def replies(fake: FakeTelegramServer, act: Callable[[], object], count: int = 1,
                  chat_id: int = USER) -> list[ApiCall]:
    """Do something (queue an update) and return the next `count` sendMessage calls to `chat_id`."""
    before = len(fake.calls_to("sendMessage", chat_id))
    act()
    return (await fake.wait_for_calls("sendMessage", before + count, chat_id=chat_id))[before:before + count]


async def test_e2e_staff_announcement_with_a_photo_reaches_every_recipient(
        fake: FakeTelegramServer, running: App) -> None:
    running.config.staff.admins = [f"telegram:{USER}"]
    recipients = [int(i) for i in await seed_users(running, "telegram", 2, first=5000)]
    picture = b"\xff\xd8\xff\xe0JFIF" + "Hội chợ".encode() * 400
    caption = "Hội chợ nông sản HTX ngày 20/12 tại Vinh."
    assert "nội dung thông báo" in await ask(fake, "/thongbao")
    [audience] = await replies(fake, lambda: fake.enqueue_photo(USER, picture, caption=caption))
    assert "Đã nhận ảnh" in audience.params["text"] and "hiện có 3 người" in audience.params["text"]
    [when] = await replies(fake, lambda: fake.enqueue_callback(USER, "announce:aud:done"))
    assert "Gửi khi nào" in when.params["text"]
    text, summary = await replies(fake, lambda: fake.enqueue_callback(USER, "announce:when:now"), 2)
    [shown] = await fake.wait_for_calls("sendPhoto", chat_id=USER)  # the preview carries the picture
    assert text.params["text"] == caption and shown.files["photo"][1] == picture
    assert "kèm ảnh" in summary.params["text"] and "đúng 3 người" in summary.params["text"]
    confirm = next(b["callback_data"] for row in summary.params["reply_markup"]["inline_keyboard"] for b in row
                   if b["callback_data"].startswith("announce:confirm"))
    [done] = await replies(fake, lambda: fake.enqueue_callback(USER, confirm))
    assert "Đã xếp lịch gửi #1 tới 3 người" in done.params["text"]
    await run_until_done(BroadcastSender(running, "w1", SenderOptions(backoff_base=0.0, poll_interval=0.05)), 1)
    for chat_id in recipients:
        [photo] = fake.calls_to("sendPhoto", chat_id)
        assert photo.files["photo"][1] == picture and photo.status == 200
        assert fake.sent_texts(chat_id) == [caption]
    assert len(fake.calls_to("sendPhoto", USER)) == 2  # the preview, then the announcement itself


async def test_e2e_member_photo_gets_the_polite_reply(fake: FakeTelegramServer, running: App) -> None:
    [reply] = await replies(fake, lambda: fake.enqueue_photo(USER, b"\xff\xd8 anh ruong lua"))
    assert "gõ câu hỏi bằng chữ" in reply.params["text"]
    [reply] = await replies(fake, lambda: fake.enqueue_photo(USER, b"\xff\xd8 anh", caption="Đây là gì?"))
    assert "gõ câu hỏi bằng chữ" in reply.params["text"]
    [reply] = await replies(fake, lambda: fake.enqueue_photo(USER, b"\xff\xd8 anh", caption="/thongbao Tin giả"))
    assert reply.params["text"].startswith("Xin lỗi, lệnh này chỉ dành")  # members cannot announce
    answer = await ask(fake, "Thành lập hợp tác xã cần tối thiểu bao nhiêu thành viên?")
    assert "17/2023/QH15" in answer  # and nothing is stuck
