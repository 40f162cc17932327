"""The Zalo adapter end to end: the real App and ZaloChannel against the fake Zalo Bot API server.

Updates go through the real HTTP client (polling) or the real aiohttp webhook route; the core runs
on a temporary SQLite database with the small test knowledge base. No sleeps: tests wait on the fake
server's conditions and on `ZaloChannel.drain()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.app import App
from bot.channels.zalo import (
    SECRET_HEADER,
    WEBHOOK_PATH,
    ZaloChannel,
    image_name,
    parse_image,
    parse_update,
    run_zalo,
)
from bot.channels.zalo_api import ZaloApi, ZaloAuthError, ZaloDownloadError
from bot.config import Config, ConfigError
from bot.core.channel import QuotaExceeded, RetryLater
from bot.core.types import Attachment, ChatRef, Incoming, Reply
from tests.conftest import free_port, make_config
from tests.fakes.zalo_server import TOKEN, FakeZaloServer, image_update, text_update

SECRET = "s3cret-webhook-token"
QUESTION = "Thành lập hợp tác xã cần tối thiểu bao nhiêu thành viên?"
QUESTION_ASCII = "thanh lap htx can toi thieu bao nhieu thanh vien"


# ---- fixtures --------------------------------------------------------------------------------------

@pytest.fixture
def config(tmp_path: Path, zalo_server: FakeZaloServer) -> Config:
    """The shared test config (temporary SQLite, fixture knowledge base) pointed at the fake Zalo."""
    port = free_port()
    return make_config(tmp_path, HTXBOT_ZALO__TOKEN=TOKEN, HTXBOT_ZALO__BASE_URL=zalo_server.base_url,
                       HTXBOT_WEB__PORT=str(port), HTXBOT_WEB__PUBLIC_URL=f"http://127.0.0.1:{port}")


Handler = Callable[[Incoming], Awaitable[list[Reply]]]


@contextlib.asynccontextmanager
async def zalo_channel(zalo_server: FakeZaloServer, handler: Handler, app: App | None = None,
                       **options: Any) -> AsyncIterator[ZaloChannel]:
    """A started ZaloChannel talking to the fake; stopped (and drained) on exit."""
    api = ZaloApi(TOKEN, zalo_server.base_url)
    channel = ZaloChannel(api, handler, poll_floor=0, backoff_base=0.01, typing=False, **options)
    if app is not None:
        app.register_channel(channel)
    try:
        await channel.start()
        yield channel
    finally:
        await channel.stop()
        await api.close()


@pytest.fixture
async def polling(app: App, zalo_server: FakeZaloServer) -> AsyncIterator[ZaloChannel]:
    async with zalo_channel(zalo_server, app.handle, app) as channel:
        yield channel


async def say(zalo_server: FakeZaloServer, channel: ZaloChannel, text: str, **kw: Any) -> list[str]:
    """One user message through getUpdates; the texts the bot sent back."""
    before = len(zalo_server.sent_texts())
    zalo_server.push_text(text, **kw)
    await zalo_server.wait_until_consumed()
    await channel.drain()
    return zalo_server.sent_texts()[before:]


@contextlib.asynccontextmanager
async def web_server(routes: list[web.RouteDef], app: App | None = None) -> AsyncIterator[str]:
    """Serve routes on 127.0.0.1 (through the project's build_web_app when an App is given)."""
    if app is not None:
        from bot.channels.web import build_web_app

        web_app = build_web_app(app, routes)
    else:
        web_app = web.Application()
        web_app.add_routes(routes)
    runner = web.AppRunner(web_app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


# ---- parsing recorded payloads ---------------------------------------------------------------------

def test_text_update_becomes_incoming() -> None:
    incoming = parse_update(text_update("  Xin chào ", chat_id="c9", user_id="u9", message_id="m9"))
    assert incoming == Incoming(channel="zalo", chat_id="c9", user_id="u9", display_name="Nguyễn Văn A",
                                text="Xin chào", message_id="m9")


@pytest.mark.parametrize("event", ["message.image.received", "message.sticker.received",
                                   "message.unsupported.received"])
def test_non_text_events_become_empty_text(event: str) -> None:
    update = text_update("", event_name=event)
    del update["message"]["text"]
    update["message"]["photo_url"] = "https://example.vn/p.jpg"
    incoming = parse_update(update)
    assert incoming is not None and incoming.text == "" and incoming.chat_id == "chat-1"


def test_image_event_gives_its_url_and_caption() -> None:
    update = image_update("https://cdn.zalo.example/p/abc.png", "  Ảnh hội chợ ")
    assert parse_image(update) == ("https://cdn.zalo.example/p/abc.png", "Ảnh hội chợ")
    assert parse_image(text_update("xin chào")) is None
    assert parse_image(image_update("file:///etc/passwd")) is None  # only http(s) is ever fetched


@pytest.mark.parametrize(("url", "content_type", "expected"), [
    ("https://cdn.example/p/abc.png", "image/png", ("abc.png", "image/png")),
    ("https://cdn.example/p/abc?sig=1", "image/webp", ("anh-zalo.webp", "image/webp")),
    ("https://cdn.example/p/abc.jpg", "application/octet-stream", ("abc.jpg", "image/jpeg")),
    ("https://cdn.example/p/x.exe", "", ("anh-zalo.jpg", "image/jpeg")),
])
def test_image_name_from_url_and_type(url: str, content_type: str, expected: tuple[str, str]) -> None:
    assert image_name(url, content_type) == expected


def test_official_sample_without_event_name_and_with_first_name() -> None:
    update = {"message": {"chat": {"id": "e4ea", "chat_type": "PRIVATE"}, "text": "Xin chào",
                          "message_id": "16f6", "date": 1766619597466,
                          "from": {"id": "e4ea", "first_name": "Nguyen Van A"}}}
    incoming = parse_update(update)
    assert incoming is not None
    assert (incoming.text, incoming.display_name, incoming.message_id) == ("Xin chào", "Nguyen Van A", "16f6")


@pytest.mark.parametrize("update", [None, [], {}, {"event_name": "x"}, {"message": "hi"},
                                    {"message": {"text": "no chat"}},
                                    {"message": {"chat": {"id": ["bad"]}, "text": "x"}}])
def test_malformed_updates_are_skipped(update: Any) -> None:
    assert parse_update(update) is None


def test_messages_from_bots_are_ignored() -> None:
    update = text_update("ping")
    update["message"]["from"]["is_bot"] = True
    assert parse_update(update) is None


# ---- polling, end to end with the core ------------------------------------------------------------

@pytest.mark.parametrize("question", [QUESTION, QUESTION_ASCII])
async def test_question_with_or_without_diacritics_gets_the_cited_answer(
        zalo_server: FakeZaloServer, polling: ZaloChannel, question: str) -> None:
    [answer] = await say(zalo_server, polling, question)
    assert "05" in answer and "17/2023/QH15" in answer


async def test_idle_polls_keep_the_loop_alive(zalo_server: FakeZaloServer, polling: ZaloChannel) -> None:
    await zalo_server.wait_for_calls("getUpdates", 5)
    assert {c.status for c in zalo_server.calls if c.method == "getUpdates"} == {408}
    assert zalo_server.count("deleteWebhook") == 1  # polling starts by removing any webhook
    [answer] = await say(zalo_server, polling, QUESTION_ASCII)
    assert "17/2023/QH15" in answer


async def test_redelivered_update_is_answered_once(zalo_server: FakeZaloServer, polling: ZaloChannel) -> None:
    assert len(await say(zalo_server, polling, QUESTION, message_id="m-dup")) == 1
    zalo_server.redeliver_last()
    await zalo_server.wait_until_consumed()
    await polling.drain()
    assert len(zalo_server.sent_texts()) == 1
    assert len([c for c in zalo_server.calls if c.method == "getUpdates" and c.status == 200]) == 2


async def test_redelivery_after_a_restart_is_not_answered_again(
        zalo_server: FakeZaloServer, config: Config) -> None:
    first = await App.open(config)
    try:
        async with zalo_channel(zalo_server, first.handle, first) as channel:
            assert len(await say(zalo_server, channel, QUESTION, message_id="m-restart")) == 1
    finally:
        await first.close()
    second = await App.open(config)  # same SQLite file: the processed message_id is remembered
    try:
        async with zalo_channel(zalo_server, second.handle, second) as channel:
            zalo_server.redeliver_last()
            await zalo_server.wait_until_consumed()
            await channel.drain()
            assert len(zalo_server.sent_texts()) == 1
            assert len(await say(zalo_server, channel, QUESTION_ASCII, message_id="m-new")) == 1
    finally:
        await second.close()


async def test_start_shows_numbered_menu_and_a_number_selects(
        zalo_server: FakeZaloServer, polling: ZaloChannel) -> None:
    [menu] = await say(zalo_server, polling, "/start", display_name="Chị Lan")
    assert "Chị Lan" in menu
    assert re.search(r"^1\. ", menu, re.MULTILINE) and re.search(r"^2\. ", menu, re.MULTILINE)
    first_option = re.search(r"^1\. (.+)$", menu, re.MULTILINE).group(1)  # type: ignore[union-attr]
    [after] = await say(zalo_server, polling, "1")
    assert after != menu and "Hỏi đáp" in first_option
    assert "gõ câu hỏi" in after


async def test_unknown_question_is_an_honest_dont_know(zalo_server: FakeZaloServer, polling: ZaloChannel) -> None:
    [answer] = await say(zalo_server, polling, "Giá vé máy bay đi Đà Nẵng tháng sau là bao nhiêu?")
    assert "chưa có câu trả lời" in answer
    assert "17/2023/QH15" not in answer


async def test_image_message_gets_a_polite_text_only_answer(
        zalo_server: FakeZaloServer, polling: ZaloChannel) -> None:
    update = text_update("", event_name="message.image.received", message_id="img-1")
    update["message"].pop("text")
    before = len(zalo_server.sent_texts())
    zalo_server.push_update(update)
    await zalo_server.wait_until_consumed()
    await polling.drain()
    [answer] = zalo_server.sent_texts()[before:]
    assert "gõ câu hỏi" in answer


async def test_image_update_becomes_incoming_with_the_downloaded_picture(zalo_server: FakeZaloServer) -> None:
    seen: list[Incoming] = []

    async def record(incoming: Incoming) -> list[Reply]:
        seen.append(incoming)
        return [Reply("đã nhận")]

    picture = b"\xff\xd8\xff\xe0JFIF" + bytes(range(256)) * 100
    async with zalo_channel(zalo_server, record) as channel:
        zalo_server.push_image(picture, "Ảnh hội chợ nông sản", message_id="img-7")
        await zalo_server.wait_until_consumed()
        await channel.drain()
    [incoming] = seen
    assert (incoming.text, incoming.message_id, incoming.chat_id) == ("Ảnh hội chợ nông sản", "img-7", "chat-1")
    assert incoming.attachment is not None
    assert (incoming.attachment.data, incoming.attachment.mime, incoming.attachment.kind) == (
        picture, "image/jpeg", "image")
    assert incoming.attachment.filename.endswith(".jpg")


async def test_picture_that_cannot_be_downloaded_reaches_the_core_without_it(
        zalo_server: FakeZaloServer, caplog: pytest.LogCaptureFixture) -> None:
    seen: list[Incoming] = []

    async def record(incoming: Incoming) -> list[Reply]:
        seen.append(incoming)
        return [Reply("đã nhận")]

    async with zalo_channel(zalo_server, record) as channel:
        zalo_server.push_image(None, "Chú thích của ảnh hỏng", message_id="img-404")
        await zalo_server.wait_until_consumed()
        await channel.drain()
    [incoming] = seen
    assert (incoming.text, incoming.attachment) == ("", None)
    assert "could not download the picture of message img-404: HTTP 404" in caplog.text
    assert "missing.jpg" not in caplog.text  # the URL is never logged


async def test_picture_over_the_size_cap_is_not_kept(zalo_server: FakeZaloServer) -> None:
    api = ZaloApi(TOKEN, zalo_server.base_url)
    try:
        url = zalo_server.add_image(b"x" * 2048)
        assert await api.download(url, 4096) == (b"x" * 2048, "image/jpeg")
        with pytest.raises(ZaloDownloadError, match="over 1024"):
            await api.download(url, 1024)
    finally:
        await api.close()


async def test_member_picture_in_qa_gets_the_polite_reply(zalo_server: FakeZaloServer, polling: ZaloChannel) -> None:
    before = len(zalo_server.sent_texts())
    zalo_server.push_image(b"\xff\xd8 anh ruong lua", "HTX cần mấy thành viên?")
    await zalo_server.wait_until_consumed()
    await polling.drain()
    [answer] = zalo_server.sent_texts()[before:]
    assert "gõ câu hỏi" in answer


async def test_every_message_fits_zalo_limit(zalo_server: FakeZaloServer, app: App) -> None:
    long_text = "\n\n".join(f"Đoạn {i}:" + " hợp tác xã" * 40 for i in range(12))  # ~5,400 characters

    async def long_answer(incoming: Incoming) -> list[Reply]:
        return [Reply(long_text)]

    async with zalo_channel(zalo_server, long_answer) as channel:
        sent = await say(zalo_server, channel, "dài")
    assert len(sent) >= 3 and all(len(t) <= 2000 for t in sent)
    assert "\n\n".join(sent) == long_text  # nothing lost
    assert all(t.startswith("Đoạn ") and t.endswith("hợp tác xã") for t in sent)  # cut between paragraphs
    assert all(c.status == 200 for c in zalo_server.calls if c.method == "sendMessage")


async def test_transient_poll_errors_back_off_and_recover(zalo_server: FakeZaloServer, app: App) -> None:
    zalo_server.fail_next_polls(3, "500")
    async with zalo_channel(zalo_server, app.handle, app) as channel:
        [answer] = await say(zalo_server, channel, QUESTION)
    assert "05" in answer
    assert [c.status for c in zalo_server.calls if c.method == "getUpdates"][:3] == [500, 500, 500]


async def test_reply_is_retried_after_a_server_error(zalo_server: FakeZaloServer, polling: ZaloChannel) -> None:
    zalo_server.fail_next_sends(2, "500")
    [answer] = await say(zalo_server, polling, QUESTION)
    assert "05" in answer
    assert [c.status for c in zalo_server.calls if c.method == "sendMessage"] == [500, 500, 200]


async def test_a_failing_core_gets_an_apology_not_silence(zalo_server: FakeZaloServer) -> None:
    async def broken(incoming: Incoming) -> list[Reply]:
        raise RuntimeError("database down")

    async with zalo_channel(zalo_server, broken) as channel:
        [answer] = await say(zalo_server, channel, QUESTION)
    assert answer.startswith("Xin lỗi")


async def test_one_chat_is_handled_in_order(zalo_server: FakeZaloServer) -> None:
    release = asyncio.Event()
    seen: list[str] = []

    async def slow_first(incoming: Incoming) -> list[Reply]:
        if incoming.text == "một":
            await release.wait()
        seen.append(incoming.text)
        return [Reply(f"đã nhận {incoming.text}")]

    async with zalo_channel(zalo_server, slow_first) as channel:
        zalo_server.push_text("một")
        zalo_server.push_text("hai")
        await zalo_server.wait_until_consumed()
        release.set()
        await channel.drain()
    assert seen == ["một", "hai"]
    assert zalo_server.sent_texts() == ["đã nhận một", "đã nhận hai"]


# ---- start-up and token errors -------------------------------------------------------------------

async def test_invalid_token_at_start_is_a_clear_error(zalo_server: FakeZaloServer, app: App, config: Config) -> None:
    config.zalo.token = "42:not-the-token"
    with pytest.raises(ZaloAuthError, match="HTXBOT_ZALO__TOKEN") as err:
        await asyncio.wait_for(run_zalo(app, config, serve_web=False), 5)
    assert "not-the-token" not in str(err.value)


async def test_missing_token_names_the_environment_variable(app: App, config: Config) -> None:
    config.zalo.token = ""
    with pytest.raises(ConfigError, match="HTXBOT_ZALO__TOKEN"):
        await run_zalo(app, config, serve_web=False)


async def test_token_revoked_while_polling_stops_the_bot(zalo_server: FakeZaloServer, app: App) -> None:
    async with zalo_channel(zalo_server, app.handle, app) as channel:
        await zalo_server.wait_for_calls("getUpdates", 1)
        zalo_server.token = "revoked:token"
        with pytest.raises(ZaloAuthError):
            await asyncio.wait_for(channel.wait(), 5)


async def test_run_zalo_polls_until_cancelled(zalo_server: FakeZaloServer, app: App, config: Config) -> None:
    task = asyncio.create_task(run_zalo(app, config, serve_web=False))
    zalo_server.push_text(QUESTION)
    await zalo_server.wait_for_calls("sendMessage", 1)
    assert "zalo" in app.channels
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert "17/2023/QH15" in zalo_server.sent_texts()[0]


# ---- proactive sends ------------------------------------------------------------------------------

async def test_send_maps_rate_limit_and_quota(zalo_server: FakeZaloServer, polling: ZaloChannel) -> None:
    ref = ChatRef("zalo", "chat-7")
    zalo_server.fail_next_sends(1, "429")
    with pytest.raises(RetryLater) as err:
        await polling.send(ref, Reply("Thông báo họp đại hội thành viên"))
    assert err.value.retry_after == 2
    zalo_server.fail_next_sends(1, "quota")
    with pytest.raises(QuotaExceeded):
        await polling.send(ref, Reply("Thông báo họp đại hội thành viên"))
    await polling.send(ref, Reply("Thông báo họp đại hội thành viên"))
    assert zalo_server.sent_texts("chat-7") == ["Thông báo họp đại hội thành viên"]


async def test_document_arrives_as_a_working_download_link(
        zalo_server: FakeZaloServer, app: App, polling: ZaloChannel) -> None:
    data = "Đơn đăng ký thành lập hợp tác xã".encode() * 50
    dossier = Attachment("ho-so-htx.docx", data,
                         "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    await app.send(ChatRef("zalo", "chat-1"), Reply("Hồ sơ của bạn đã sẵn sàng.", attachment=dossier))
    [text] = zalo_server.sent_texts("chat-1")
    link = re.search(r"https?://\S+/files/\S+", text)
    assert link, text
    async with web_server([], app) as base:
        path = link.group(0).split("/files/", 1)[1]
        async with aiohttp.ClientSession() as http, http.get(f"{base}/files/{path}") as resp:
            assert resp.status == 200
            assert await resp.read() == data
        async with aiohttp.ClientSession() as http, http.get(f"{base}/files/{path}x") as resp:
            assert resp.status == 403  # a tampered signature is refused


# ---- webhook -------------------------------------------------------------------------------------

@pytest.fixture
async def webhook(app: App, zalo_server: FakeZaloServer) -> AsyncIterator[tuple[ZaloChannel, str]]:
    url = "https://htx.example.vn/zalo/webhook"
    async with zalo_channel(zalo_server, app.handle, app, mode="webhook", webhook_url=url,
                            webhook_secret=SECRET) as channel, web_server(channel.web_routes(), app) as base:
        yield channel, base + WEBHOOK_PATH


async def post(url: str, body: bytes, secret: str | None = SECRET) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[SECRET_HEADER] = secret
    async with aiohttp.ClientSession() as http, http.post(url, data=body, headers=headers) as resp:
        return resp.status


async def test_webhook_registers_and_accepts_bare_and_wrapped_bodies(
        zalo_server: FakeZaloServer, webhook: tuple[ZaloChannel, str]) -> None:
    import json

    channel, url = webhook
    assert zalo_server.webhook_url.endswith("/zalo/webhook") and zalo_server.webhook_secret == SECRET
    assert zalo_server.count("getUpdates") == 0  # webhook and polling exclude each other
    bare = text_update(QUESTION, message_id="w-1")
    wrapped = {"ok": True, "result": text_update(QUESTION_ASCII, chat_id="chat-2", message_id="w-2")}
    assert await post(url, json.dumps(bare).encode()) == 200
    assert await post(url, json.dumps(wrapped).encode()) == 200
    await channel.drain()
    assert "05" in zalo_server.sent_texts("chat-1")[0] and "05" in zalo_server.sent_texts("chat-2")[0]
    assert await post(url, json.dumps(bare).encode()) == 200  # Zalo retrying: answered once
    await channel.drain()
    assert len(zalo_server.sent_texts()) == 2


@pytest.mark.parametrize("secret", [None, "", "wrong-secret-value", SECRET + "x"])
async def test_webhook_refuses_missing_or_wrong_secret(
        zalo_server: FakeZaloServer, webhook: tuple[ZaloChannel, str], secret: str | None) -> None:
    import json

    channel, url = webhook
    assert await post(url, json.dumps(text_update(QUESTION)).encode(), secret) == 403
    await channel.drain()
    assert zalo_server.count("sendMessage") == 0


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe", b"[1, 2]", b""])
async def test_webhook_rejects_malformed_json(
        zalo_server: FakeZaloServer, webhook: tuple[ZaloChannel, str], body: bytes) -> None:
    channel, url = webhook
    assert await post(url, body) == 400
    await channel.drain()
    assert zalo_server.count("sendMessage") == 0


async def test_webhook_without_configured_secret_refuses_everything(zalo_server: FakeZaloServer) -> None:
    async def never(incoming: Incoming) -> list[Reply]:
        raise AssertionError("must not be called")

    async with zalo_channel(zalo_server, never, mode="webhook") as channel, \
            web_server(channel.web_routes()) as base:
        assert await post(base + WEBHOOK_PATH, b"{}", secret="") == 403


def test_backoff_grows_honours_retry_after_and_is_capped() -> None:
    channel = ZaloChannel(ZaloApi(TOKEN), lambda incoming: None, backoff_base=1.0)  # type: ignore[arg-type]
    plain = RetryLater(0.0)
    assert [channel._backoff(n, plain) for n in (1, 2, 3, 6, 10)] == [1.0, 2.0, 4.0, 30.0, 30.0]
    assert channel._backoff(1, RetryLater(7.0)) == 7.0
    assert channel._backoff(1, RetryLater(600.0)) == 30.0
