"""The Zalo OA channel end to end: the real App, ZaloOAChannel and its HTTP client against the stand-in OA.

Events go through the fake's signing webhook sender into the channel's route on the project's web app
(`build_web_app`), replies come back to the fake's Open API. No sleeps: a step ends when the fake's
delivery got its answer and the channel drained its tasks.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from cryptography.fernet import Fernet
from docx import Document
from PIL import Image as PILImage
from sqlalchemy import func, select

from bot.app import App
from bot.channels.web import build_web_app
from bot.channels.zalo_oa import (
    WEBHOOK_PATH,
    ZaloOAChannel,
    admin_alert,
    build_channel,
    check_config,
    store_event,
)
from bot.channels.zalo_oa_api import (
    NightTime,
    NotFollowing,
    OARateLimited,
    OutsideWindow,
    TokenPair,
    seconds_until_morning,
)
from bot.config import Config, ConfigError
from bot.core.channel import DeliveryError
from bot.core.types import Attachment, Button, ChatRef, Reply
from bot.storage.models import User, utcnow
from bot.storage.models_zalo_oa import ZaloOAEvent
from bot.storage.repo import users
from tests.conftest import make_config
from tests.fakes.zalo_oa_server import APP_ID, APP_SECRET, OA_SECRET, FakeOAServer, Sent
from tests.test_registration_channels import MEMBERS, STEPS, assert_dossier

STEP_TIMEOUT = 15.0
MEMBER = "2468458835296197922"


def oa_config(tmp_path: Path, fake: FakeOAServer, **env: str) -> Config:
    key = Fernet.generate_key().decode()
    return make_config(tmp_path, HTXBOT_ZALO_OA__APP_ID=APP_ID, HTXBOT_ZALO_OA__APP_SECRET=APP_SECRET,
                       HTXBOT_ZALO_OA__OA_SECRET_KEY=OA_SECRET, HTXBOT_ZALO_OA__TOKEN_KEY=key,
                       HTXBOT_ZALO_OA__OPENAPI_BASE=fake.url, HTXBOT_ZALO_OA__OAUTH_BASE=fake.url, **env)


@contextlib.asynccontextmanager
async def serve(app: App, routes: list[web.RouteDef]) -> AsyncIterator[str]:
    runner = web.AppRunner(build_web_app(app, routes))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    finally:
        await runner.cleanup()


@dataclass
class OARun:
    fake: FakeOAServer
    app: App
    channel: ZaloOAChannel
    url: str

    async def event(self, body: dict[str, Any], **kw: Any) -> list[Sent]:
        """Deliver one event; the messages the bot sent because of it."""
        before = len(self.fake.sent)
        attempts = await asyncio.wait_for(self.fake.send_event(body, **kw), STEP_TIMEOUT)
        assert attempts and attempts[-1].status is not None
        await asyncio.wait_for(self.channel.drain(), STEP_TIMEOUT)
        return self.fake.sent[before:]

    async def say(self, text: str, user: str = MEMBER) -> list[Sent]:
        return await self.event(self.fake.text_event(user, text))

    async def stored_events(self) -> int:
        async with self.app.db.unit() as s:
            return int(await s.scalar(select(func.count()).select_from(ZaloOAEvent)) or 0)


@contextlib.asynccontextmanager
async def oa_run(tmp_path: Path, fake: FakeOAServer | None = None, **env: str) -> AsyncIterator[OARun]:
    fake = fake or FakeOAServer()
    await fake.start()
    config = oa_config(tmp_path, fake, **env)
    app = await App.open(config)
    channel = build_channel(config, app.db, app.handle, admin_alert(app))
    app.register_channel(channel)
    access, refresh = fake.grant()
    await channel.tokens.save(TokenPair(access, refresh, utcnow() + timedelta(seconds=90000)))
    try:
        async with serve(app, channel.web_routes()) as url:
            fake.webhook_url = url + WEBHOOK_PATH
            try:
                await channel.start()
                yield OARun(fake, app, channel, url)
            finally:
                await channel.stop()
    finally:
        await app.close()
        await fake.close()


@pytest.fixture
async def oa(tmp_path: Path) -> AsyncIterator[OARun]:
    async with oa_run(tmp_path) as run:
        yield run


def buttons_of(sent: list[Sent]) -> list[tuple[str, str]]:
    """(title, payload) of the buttons in these messages."""
    out = []
    for s in sent:
        payload = (s.message.get("attachment") or {}).get("payload") or {}
        out += [(b["title"], b["payload"]) for b in payload.get("buttons", [])]
    return out


def texts(sent: list[Sent]) -> str:
    return "\n\n".join(s.message.get("text", "") for s in sent)


# ---- receiving ---------------------------------------------------------------------------------------

async def test_a_followers_question_is_answered_with_buttons_and_a_press_continues(oa: OARun) -> None:
    sent = await oa.event(oa.fake.event("follow", MEMBER))
    assert "Xin chào" in texts(sent)  # the menu: more than 5 choices, so numbered
    assert "1. ❓ Hỏi đáp về HTX" in texts(sent) and not buttons_of(sent)
    sent = await oa.say("Thành lập hợp tác xã cần tối thiểu bao nhiêu thành viên?")
    assert "5 thành viên" in texts(sent) or "năm thành viên" in texts(sent).lower(), texts(sent)
    offered = buttons_of(sent)
    assert offered and all(p.startswith("#b") and len(p) == 12 and p.isascii() for _, p in offered)
    assert len(offered) <= 5
    menu = [p for title, p in offered if title == "📋 Menu"]
    assert menu, offered
    sent = await oa.say(menu[0])  # the press arrives as the payload's text
    assert "chọn một mục dưới đây" in texts(sent)
    assert all(len(s.message.get("text", "")) <= 2000 for s in oa.fake.sent)


async def test_unsigned_wrongly_signed_tampered_or_stale_events_are_refused_and_nothing_stored(oa: OARun) -> None:
    body = oa.fake.text_event(MEMBER, "xin chào")
    for kw in ({"unsigned": True}, {"key": "the-app-secret-by-mistake"}, {"tamper": True},
               {"signature": "mac=" + "0" * 64}):
        attempts = await oa.fake.send_event(body, **kw)
        assert [a.status for a in attempts] == [401], kw
    stale = oa.fake.text_event(MEMBER, "xin chào")
    stale["timestamp"] = str(int((oa.fake.now() - 4 * 3600) * 1000))
    assert [a.status for a in await oa.fake.send_event(stale)] == [401]
    other_app = oa.fake.text_event(MEMBER, "xin chào")
    other_app["app_id"] = "111"
    assert [a.status for a in await oa.fake.send_event(other_app)] == [401]
    await oa.channel.drain()
    assert await oa.stored_events() == 0 and oa.fake.sent == []
    async with oa.app.db.unit() as s:
        assert await s.scalar(select(func.count()).select_from(User)) == 0
    assert await oa.fake.probe() == 200  # the URL-save check is answered, and stores nothing
    assert await oa.stored_events() == 0


async def test_redelivered_event_is_answered_once_and_the_webhook_answers_fast(oa: OARun) -> None:
    body = oa.fake.text_event(MEMBER, "xin chào")
    first = await oa.event(body)
    again = await oa.event(body)  # Zalo's re-send of the same event
    assert first and again == []
    assert all(d.elapsed < 1.0 and d.status == 200 for d in oa.fake.deliveries)
    assert await oa.stored_events() == 1


async def test_webhook_not_answered_in_time_is_retried_and_handled_once(tmp_path: Path) -> None:
    fake = FakeOAServer(webhook_timeout=0.3)
    async with oa_run(tmp_path, fake) as oa:
        gate = asyncio.Event()
        original = oa.channel._on_webhook

        async def slow_once(request: web.Request) -> web.Response:
            if not gate.is_set():
                gate.set()
                await asyncio.sleep(0.6)  # longer than the sender waits
            return await original(request)

        oa.channel._on_webhook = slow_once  # type: ignore[method-assign]
        normal_url = fake.webhook_url
        async with serve(oa.app, [web.post("/slow", slow_once)]) as url:
            fake.webhook_url = url + "/slow"
            before = len(fake.sent)
            attempts = await fake.send_event(fake.text_event(MEMBER, "xin chào"))
            await asyncio.sleep(0.4)  # the first, slow request finishes storing meanwhile
            await oa.channel.drain()
        fake.webhook_url = normal_url
        answered_once = len(fake.sent) - before
        assert [a.status for a in attempts][-1] == 200 and attempts[-1].num_retry >= 1
        assert await oa.stored_events() == 1
        other = await oa.say("xin chào", user="1111111111111111111")  # the same question, delivered once
        assert answered_once == len(other) > 0


async def test_unfollow_unsubscribes_and_follow_subscribes_again(oa: OARun) -> None:
    await oa.event(oa.fake.event("follow", MEMBER))
    assert await oa.event(oa.fake.event("unfollow", MEMBER)) == []
    async with oa.app.db.unit() as s:
        user = await users.get_user(s, "zalo_oa", MEMBER)
    assert user is not None and not user.subscribed
    await oa.event(oa.fake.event("follow", MEMBER))
    async with oa.app.db.unit() as s:
        user = await users.get_user(s, "zalo_oa", MEMBER)
    assert user is not None and user.subscribed


async def test_submitted_info_fills_the_profile(oa: OARun) -> None:
    info = {"name": "Nguyễn Văn A", "phone": "84912345678", "address": "Thôn 3", "ward": "Xã Yên Lạc",
            "district": "", "city": "Nghệ An"}
    sent = await oa.event(oa.fake.event("user_submit_info", MEMBER, info=info))
    assert "Nghệ An" in texts(sent) and "Xã Yên Lạc" in texts(sent)
    async with oa.app.db.unit() as s:
        user = await users.get_user(s, "zalo_oa", MEMBER)
    assert user is not None and (user.province, user.commune, user.display_name) == (
        "Nghệ An", "Xã Yên Lạc", "Nguyễn Văn A")


@pytest.mark.parametrize(("kind", "payload"), [
    ("sticker", {"id": "123", "url": "https://zdn.vn/s.png"}),
    ("location", {"coordinates": {"latitude": "21.0", "longitude": "105.8"}}),
    ("link", {"url": "https://example.vn", "description": "", "thumbnail": ""}),
])
async def test_other_message_kinds_get_an_answer(oa: OARun, kind: str, payload: dict[str, Any]) -> None:
    sent = await oa.event(oa.fake.attachment_event(MEMBER, kind, payload))
    assert sent and texts(sent).strip()


async def test_a_picture_a_member_sends_is_downloaded_and_answered(oa: OARun) -> None:
    url = oa.fake.add_media(b"\x89PNG\r\n\x1a\nfake", "p.png", "image/png")
    sent = await oa.event(oa.fake.attachment_event(MEMBER, "image", {"url": url, "thumbnail": url}))
    assert sent and texts(sent).strip()


async def test_echoes_of_our_own_messages_are_ignored(tmp_path: Path) -> None:
    async with oa_run(tmp_path, FakeOAServer(echo=True)) as oa:
        await oa.say("xin chào")
        for _ in range(50):  # the echo is posted in the background by the fake
            if any(json.loads(d.body).get("event_name") == "oa_send_text" for d in oa.fake.deliveries):
                break
            await asyncio.sleep(0.02)
        await oa.channel.drain()
        count = len(oa.fake.sent)
        await asyncio.sleep(0.05)
        await oa.channel.drain()
        assert len(oa.fake.sent) == count  # an echo never makes the bot talk


# ---- sending -----------------------------------------------------------------------------------------

async def test_long_text_is_split_and_more_than_five_options_are_numbered(oa: OARun) -> None:
    oa.fake.interacted(MEMBER)
    text = ("Điều khoản rất dài. " * 250).strip()
    many = [Button(f"Lựa chọn {i}", f"x:{i}") for i in range(1, 8)]
    await oa.channel.send(ChatRef("zalo_oa", MEMBER), Reply(text, buttons=many))
    assert len(oa.fake.sent) >= 3 and all(len(s.message["text"]) <= 2000 for s in oa.fake.sent)
    assert "7. Lựa chọn 7" in oa.fake.sent[-1].message["text"] and not buttons_of(oa.fake.sent)
    await oa.channel.send(ChatRef("zalo_oa", MEMBER), Reply("Chọn:", buttons=many[:5]))
    assert [t for t, _ in buttons_of(oa.fake.sent[-1:])] == [f"Lựa chọn {i}" for i in range(1, 6)]


async def test_documents_go_as_uploaded_files_and_pictures_as_images(oa: OARun) -> None:
    oa.fake.interacted(MEMBER)
    doc = Attachment("ho-so.docx", b"PK\x03\x04 docx", "application/vnd.openxmlformats-officedocument"
                     ".wordprocessingml.document")
    await oa.channel.send(ChatRef("zalo_oa", MEMBER), Reply("Hồ sơ của bạn:", attachment=doc))
    file_msg = oa.fake.sent[-1].message["attachment"]
    assert file_msg["type"] == "file" and oa.fake.uploaded(file_msg["payload"]["token"]) == (
        "ho-so.docx", b"PK\x03\x04 docx")
    picture = Attachment("anh.png", b"\x89PNG fake", "image/png", "image")
    await oa.channel.send(ChatRef("zalo_oa", MEMBER), Reply("Thông báo", attachment=picture))
    media = oa.fake.sent[-1].message
    assert media["text"] == "Thông báo" and media["attachment"]["payload"]["template_type"] == "media"


async def test_pictures_are_converted_or_shrunk_to_fit_and_uploaded_once(oa: OARun) -> None:
    oa.fake.interacted(MEMBER)
    gif = io.BytesIO()
    PILImage.new("RGB", (40, 30), (200, 30, 30)).save(gif, "GIF")
    noise = io.BytesIO()
    PILImage.frombytes("RGB", (900, 900), os.urandom(900 * 900 * 3)).save(noise, "PNG")
    assert noise.tell() > 1024 * 1024
    for name, data, mime in (("a.gif", gif.getvalue(), "image/gif"), ("b.png", noise.getvalue(), "image/png")):
        picture = Attachment(name, data, mime, "image")
        await oa.channel.send(ChatRef("zalo_oa", MEMBER), Reply("Ảnh", attachment=picture))
        element = oa.fake.sent[-1].message["attachment"]["payload"]["elements"][0]
        stored_name, stored = oa.fake.uploaded(element["attachment_id"])
        assert stored_name.endswith(".jpg") and len(stored) <= 1024 * 1024
        assert PILImage.open(io.BytesIO(stored)).format == "JPEG"
    uploads = oa.fake.uploads
    await oa.channel.send(ChatRef("zalo_oa", MEMBER), Reply("Lại", attachment=Attachment("a.gif", gif.getvalue(),
                                                                                         "image/gif", "image")))
    assert oa.fake.uploads == uploads  # the same picture is not uploaded again


async def test_a_file_zalo_cannot_take_is_refused_before_any_text_is_sent(oa: OARun) -> None:
    oa.fake.interacted(MEMBER)
    sheet = Attachment("danh-sach.xlsx", b"PK..", "application/vnd.ms-excel")
    with pytest.raises(DeliveryError):
        await oa.channel.send(ChatRef("zalo_oa", MEMBER), Reply("Danh sách", attachment=sheet))
    assert oa.fake.sent == []


async def test_send_outcomes_are_read_from_the_body(oa: OARun) -> None:
    ref = ChatRef("zalo_oa", "old")
    oa.fake.interacted("old", seconds_ago=8 * 86400)
    with pytest.raises(OutsideWindow):
        await oa.channel.send(ref, Reply("x"))
    oa.fake.cs_requires_follow = True
    oa.fake.interacted("gone", follower=False)
    with pytest.raises(NotFollowing):
        await oa.channel.send(ChatRef("zalo_oa", "gone"), Reply("x"))


async def test_an_expired_access_token_is_refreshed_once_and_the_send_retried(oa: OARun) -> None:
    oa.fake.offset += 90001  # Zalo's clock: the token is past its 25 h, though our row says otherwise
    oa.fake.interacted(MEMBER)
    await oa.channel.send(ChatRef("zalo_oa", MEMBER), Reply("sau khi làm mới"))
    assert oa.fake.refreshes == 1 and oa.fake.texts(MEMBER)[-1] == "sau khi làm mới"


async def test_rate_limit_and_night_time_are_retry_later(oa: OARun) -> None:
    oa.fake.interacted(MEMBER)
    oa.fake.rate_limit = 0
    with pytest.raises(OARateLimited) as limited:
        await oa.channel.send(ChatRef("zalo_oa", MEMBER), Reply("x"))
    assert limited.value.retry_after == 60
    oa.fake.rate_limit = None
    oa.fake.night_restricts_cs = True
    hour = time.gmtime(oa.fake.now() + 7 * 3600).tm_hour
    oa.fake.offset += ((23 - hour) % 24) * 3600  # 23:xx in Vietnam on Zalo's clock
    oa.fake.interacted(MEMBER)
    with pytest.raises(NightTime):
        await oa.channel.send(ChatRef("zalo_oa", MEMBER), Reply("x"))
    assert oa.fake.sent == []


def test_a_night_time_refusal_waits_until_six_in_the_morning_vietnam_time() -> None:
    vn = timezone(timedelta(hours=7))
    assert seconds_until_morning(datetime(2026, 12, 2, 23, 0, tzinfo=vn), 6) == 7 * 3600
    assert seconds_until_morning(datetime(2026, 12, 3, 5, 30, tzinfo=vn), 6) == 1800
    assert seconds_until_morning(datetime(2026, 12, 3, 6, 0, tzinfo=vn), 6) == 24 * 3600


async def test_events_stored_but_not_handled_before_a_restart_are_handled_at_start(oa: OARun) -> None:
    body = oa.fake.text_event(MEMBER, "xin chào")
    async with oa.app.db.unit() as s:  # stored, then the process died before handling it
        assert await store_event(s, body, json.dumps(body, ensure_ascii=False).encode())
    oa.fake.interacted(MEMBER)
    restarted = build_channel(oa.app.config, oa.app.db, oa.app.handle)
    await restarted.start()
    await asyncio.wait_for(restarted.drain(), STEP_TIMEOUT)
    await restarted.stop()
    assert oa.fake.texts(MEMBER)
    async with oa.app.db.unit() as s:
        assert await s.scalar(select(func.count()).select_from(ZaloOAEvent)
                              .where(ZaloOAEvent.handled_at.is_(None))) == 0


def test_missing_secrets_are_one_line_config_errors(tmp_path: Path) -> None:
    config = make_config(tmp_path, HTXBOT_ZALO_OA__APP_ID=APP_ID, HTXBOT_ZALO_OA__APP_SECRET=APP_SECRET)
    with pytest.raises(ConfigError, match="zalo_oa.oa_secret_key"):
        check_config(config)
    config.zalo_oa.oa_secret_key, config.zalo_oa.token_key = OA_SECRET, "not-a-fernet-key"
    with pytest.raises(ConfigError, match="zalo_oa.token_key"):
        check_config(config)


# ---- the registration, end to end ---------------------------------------------------------------------

async def test_registration_over_the_oa_ends_with_the_dossier_as_a_file_message(oa: OARun) -> None:
    previous: list[Sent] = []
    for kind, value in STEPS:
        if kind == "choose":
            offered = buttons_of(previous)
            if offered:
                [payload] = [p for title, p in offered if title == value]
            else:  # more than five options: numbered
                lines = [line for line in texts(previous).splitlines() if line.endswith(f". {value}")]
                assert len(lines) == 1, (value, texts(previous))
                payload = lines[0].split(".", 1)[0]
            previous = await oa.say(payload)
        else:
            previous = await oa.say(value)
        assert previous, f"no answer to {kind} {value!r}"
    files = [s for s in oa.fake.sent if (s.message.get("attachment") or {}).get("type") == "file"]
    assert len(files) == 1
    name, data = oa.fake.uploaded(files[0].message["attachment"]["payload"]["token"])
    assert name == "ho-so-hop-tac-xa-tan-lap.docx"
    assert_dossier(data)
    assert Document(io.BytesIO(data)) and MEMBERS
    assert all(len(s.message.get("text", "")) <= 2000 for s in oa.fake.sent)
