"""Announcements: composed in the chat, delivered durably, paced, reported, cancellable."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import App
from bot.broadcast.sender import BroadcastSender, SenderOptions, start_background_worker
from bot.channels.telegram import TelegramChannel
from bot.config import Config, TelegramConfig
from bot.core.channel import DeliveryError, QuotaExceeded, RecipientBlocked, RetryLater
from bot.core.types import Attachment, ChannelCapabilities, Incoming, Reply
from bot.storage.models import StoredFile, utcnow
from bot.storage.repo import broadcasts, users
from tests.broadcast_support import (
    FIRST_CHAT,
    TimedFakeTelegram,
    max_in_window,
    run_until_done,
    seed_users,
)
from tests.conftest import fresh_pg_config
from tests.staff_support import ADMIN, Chat, ScriptedChannel, make_config

FAST = SenderOptions(backoff_base=0.0, poll_interval=0.05)


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[App]:
    app = await App.open(make_config(tmp_path))
    yield app
    await app.close()


async def report_of(app: App, broadcast_id: int) -> broadcasts.BroadcastReport:
    async with app.db.unit() as s:
        report = await broadcasts.broadcast_report(s, broadcast_id)
    assert report is not None
    return report


async def test_staff_compose_target_preview_confirm_and_report_from_chat(app: App) -> None:
    channel = ScriptedChannel()
    app.register_channel(channel)
    chat = Chat(app)
    for user, province in [("a", "Nghệ An"), ("b", "nghe an"), ("c", "Huế"), ("d", "Nghệ An")]:
        await chat.say(user, "/hoso")
        await chat.say(user, province)
        await chat.say(user, "/huy")
    await chat.say("d", "/tatthongbao")
    assert "nội dung thông báo" in chat.text(await chat.say(ADMIN, "/thongbao"))
    replies = await chat.say(ADMIN, "Hội chợ nông sản HTX ngày 20/12 tại Vinh. Đăng ký gian hàng trước 15/12.")
    assert "mọi người đăng ký nhận tin — hiện có 4 người" in chat.text(replies)  # a, b, c and the admin
    await chat.press(ADMIN, "announce:aud:province")
    replies = await chat.say(ADMIN, "Nghe An")
    assert "tỉnh/thành Nghệ An — hiện có 2 người" in chat.text(replies)
    assert "Gửi khi nào" in chat.text(await chat.say(ADMIN, "✅ Xong (2 người)"))
    replies = await chat.press(ADMIN, "announce:when:now")
    assert replies[0].text.startswith("Hội chợ nông sản") and "đúng 2 người" in replies[1].text
    assert channel.delivered == []  # nothing leaves before confirmation
    replies = await chat.press_offered(ADMIN, "announce:confirm")
    assert "Đã xếp lịch gửi #1 tới 2 người" in chat.text(replies)
    await run_until_done(BroadcastSender(app, "w1", FAST), 1)
    assert sorted(chat_id for _, chat_id, _ in channel.delivered) == ["a", "b"]
    assert channel.delivered[0][2].buttons[0].payload == "profile:unsubscribe"
    text = chat.text(await chat.say(ADMIN, "/baocao 1"))
    assert "đã xong" in text and "✅ Đã gửi: 2" in text and "⏳ Chờ gửi: 0" in text
    assert chat.text(await chat.say("a", "/baocao 1")).startswith("Xin lỗi, lệnh này chỉ dành")


async def send_file(app: App, user: str, attachment: Attachment, caption: str = "") -> list[Reply]:
    """A user of the "test" channel sends a picture or file, as the adapters hand it to the core."""
    return await app.handle(Incoming("test", user, user, f"Người {user}", text=caption, attachment=attachment))


async def stored_files(app: App) -> int:
    async with app.db.unit() as s:
        return len(list(await s.scalars(select(StoredFile.id))))


async def test_attachment_sent_while_composing_goes_to_every_recipient(app: App) -> None:
    channel = ScriptedChannel("test", ChannelCapabilities(buttons=True))
    app.register_channel(channel)
    chat = Chat(app)
    await chat.say("a", "xin chào")
    poster = Attachment("poster.png", b"\x89PNG poster", "image/png", "image")
    await chat.say(ADMIN, "/thongbao")
    replies = await send_file(app, ADMIN, poster)  # no caption: the text is still to come
    assert "Đã nhận ảnh «poster.png»" in chat.text(replies) and "gõ nội dung" in chat.text(replies)
    assert "hiện có 2 người" in chat.text(await chat.say(ADMIN, "Hội chợ nông sản ngày 20/12."))
    await chat.press(ADMIN, "announce:aud:done")
    preview = await chat.press(ADMIN, "announce:when:now")
    assert preview[0].attachment == poster and "kèm ảnh «poster.png»" in preview[1].text
    assert "announce:detach" in chat.payloads(preview)
    leaflet = Attachment("to-roi.pdf", b"%PDF leaflet", "application/pdf", "document")
    preview = await send_file(app, ADMIN, leaflet)  # a second file replaces the first, text kept
    assert preview[0].text == "Hội chợ nông sản ngày 20/12." and preview[0].attachment == leaflet
    assert await stored_files(app) == 1
    confirm = next(p for p in chat.payloads(preview) if p.startswith("announce:confirm"))  # the newest preview
    assert "Đã xếp lịch gửi #1 tới 2 người" in chat.text(await chat.press(ADMIN, confirm))
    assert await stored_files(app) == 0  # the draft's copy is gone; the broadcast keeps its own
    await run_until_done(BroadcastSender(app, "w1", FAST), 1)
    assert {c for _, c, _ in channel.delivered} == {"a", ADMIN}
    for chat_id in ("a", ADMIN):  # the text, then the file: two platform messages, each recorded on its own
        parts = [r for _, c, r in channel.delivered if c == chat_id]
        assert [(p.text, p.attachment) for p in parts] == [("Hội chợ nông sản ngày 20/12.", None), ("", leaflet)]


async def test_caption_is_the_text_and_the_attachment_can_be_dropped(app: App) -> None:
    chat = Chat(app)
    photo = Attachment("anh-1.jpg", b"\xff\xd8 jpeg", "image/jpeg", "image")
    await chat.say(ADMIN, "/thongbao")
    replies = await send_file(app, ADMIN, photo, "Tập huấn kế toán HTX")
    assert "Đã nhận ảnh" in chat.text(replies) and "hiện có 1 người" in chat.text(replies)
    await chat.press(ADMIN, "announce:aud:done")
    await chat.press(ADMIN, "announce:when:now")
    preview = await chat.press(ADMIN, "announce:detach")
    assert "Đã bỏ tệp đính kèm" in preview[1].text and preview[0].attachment is None
    assert "announce:detach" not in chat.payloads(preview)
    await chat.press_offered(ADMIN, "announce:confirm")
    async with app.db.unit() as s:
        content = await broadcasts.get_content(s, 1)
    assert content is not None and (content.text, content.attachment) == ("Tập huấn kế toán HTX", None)
    assert await stored_files(app) == 0


async def test_attachment_on_a_zalo_like_channel_becomes_a_link(app: App) -> None:
    zalo = ScriptedChannel("zl", ChannelCapabilities(buttons=False, documents=False, images=False))
    app.register_channel(zalo)
    app.register_channel(ScriptedChannel())  # the admin, on "test", is a recipient too
    await seed_users(app, "zl", 2, first=700)
    chat = Chat(app)
    await chat.say(ADMIN, "/thongbao")
    await send_file(app, ADMIN, Attachment("lich.pdf", b"%PDF lich", "application/pdf"), "Lịch họp đại hội")
    await chat.press(ADMIN, "announce:aud:done")
    await chat.press(ADMIN, "announce:when:now")
    await chat.press_offered(ADMIN, "announce:confirm")
    await run_until_done(BroadcastSender(app, "w1", FAST), 1)
    assert len(zalo.delivered) == 2
    for _, _, reply in zalo.delivered:
        assert reply.attachment is None and "Lịch họp đại hội" in reply.text and "/files/" in reply.text


async def test_survey_invitation_takes_no_attachment_and_members_files_are_ignored(app: App) -> None:
    chat = Chat(app)
    photo = Attachment("anh.jpg", b"\xff\xd8", "image/jpeg", "image")
    replies = await send_file(app, "a", photo, "/thongbao Tin giả")
    assert chat.text(replies).startswith("Xin lỗi, lệnh này chỉ dành")
    assert "gõ câu hỏi bằng chữ" in chat.text(await send_file(app, "a", photo))
    assert await stored_files(app) == 0


async def test_scheduled_broadcast_waits_for_its_time(app: App) -> None:
    chat = Chat(app)
    await chat.say("a", "xin chào")
    await chat.say(ADMIN, "/thongbao Tập huấn kế toán HTX")
    await chat.press(ADMIN, "announce:aud:done")
    await chat.press(ADMIN, "announce:when:later")
    assert "đã qua" in chat.text(await chat.say(ADMIN, "01/01/2020 08:00"))
    replies = await chat.say(ADMIN, "25/12/2099 08:30")
    assert "25/12/2099 08:30" in chat.text(replies)
    await chat.press_offered(ADMIN, "announce:confirm")
    async with app.db.unit() as s:
        assert await broadcasts.claim_pending_deliveries(s, "w", 10, ["test"], skip_locked=False) == []
        later = utcnow() + timedelta(days=365 * 80)
        due = await broadcasts.claim_pending_deliveries(s, "w", 10, ["test"], skip_locked=False, now=later)
    assert len(due) == 2


async def test_retry_block_transient_and_quota_outcomes(app: App) -> None:
    tg, zalo = ScriptedChannel("test"), ScriptedChannel("zl", ChannelCapabilities(buttons=False))
    app.register_channel(tg)
    app.register_channel(zalo)
    ids = await seed_users(app, "test", 6)
    await seed_users(app, "zl", 3, first=900)
    tg.fail(ids[0], RetryLater(0.0), RetryLater(0.0))
    tg.fail(ids[1], RecipientBlocked("blocked"))
    tg.fail(ids[2], DeliveryError("bad gateway"))
    tg.fail(ids[3], *[DeliveryError("broken")] * 5)
    for chat_id in ("900", "901", "902"):  # once the quota is used up, every send is refused
        zalo.fail(chat_id, QuotaExceeded("monthly quota"))
    async with app.db.unit() as s:
        bid = await broadcasts.create_broadcast(s, created_by="t", text="Chính sách mới", audience={})
    await run_until_done(BroadcastSender(app, "w1", FAST), bid)
    report = await report_of(app, bid)
    assert report.total == 9
    outcome = (report.count("sent"), report.count("blocked"), report.count("failed"), report.count("quota"))
    assert outcome == (4, 1, 1, 3)
    assert Counter(c for _, c, _ in tg.delivered) == Counter([ids[0], ids[2], ids[4], ids[5]])
    assert zalo.delivered == [] and sum(zalo.attempts.values()) <= 3
    async with app.db.unit() as s:
        assert (await users.get_user(s, "test", ids[1])).blocked is True  # type: ignore[union-attr]
        again = await broadcasts.create_broadcast(s, created_by="t", text="Lần hai", audience={})
        assert (await broadcasts.broadcast_report(s, again)).total == 8  # type: ignore[union-attr]


async def test_cancel_stops_what_is_not_sent(app: App) -> None:
    channel = ScriptedChannel()
    app.register_channel(channel)
    await seed_users(app, "test", 5)
    chat = Chat(app)
    async with app.db.unit() as s:
        bid = await broadcasts.create_broadcast(s, created_by="t", text="Sắp huỷ", audience={})
    text = chat.text(await chat.say(ADMIN, f"/huythongbao {bid}"))
    assert "Đã huỷ" in text and "Huỷ trước khi gửi: 5" in text
    assert "không huỷ được" in chat.text(await chat.say(ADMIN, f"/huythongbao {bid}"))
    assert await BroadcastSender(app, "w1", FAST).step(asyncio.Event()) is False
    assert channel.delivered == []


async def test_background_worker_delivers_and_stops_gracefully(app: App) -> None:
    channel = ScriptedChannel()
    app.register_channel(channel)
    await seed_users(app, "test", 20)
    async with app.db.unit() as s:
        bid = await broadcasts.create_broadcast(s, created_by="t", text="Nền", audience={})
    task = start_background_worker(app, FAST)
    await channel.wait_until(lambda: len(channel.delivered) == 20)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    report = await report_of(app, bid)
    assert report.count("sent") == 20


async def test_thousand_recipients_through_real_telegram_adapter(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """429s and 403s injected: everyone reachable gets exactly one message, the report adds up,
    and the observed pace stays within the configured rate."""
    rate = 100.0  # above Telegram's 30/s so the test is quick, below what one test process can push
    app = await App.open(make_config(tmp_path, rate=rate))
    async with TimedFakeTelegram() as fake:
        # The broadcaster paces itself here; lift PTB's own 30/s cap so the configured rate is what counts.
        channel = TelegramChannel(TelegramConfig(token=fake.token, base_url=fake.base_url,
                                                 base_file_url=fake.base_file_url, max_rate_per_second=0),
                                  app.handle)
        app.register_channel(channel)
        try:
            ids = [int(i) for i in await seed_users(app, "telegram", 1000)]
            blocked = set(ids[5::97])
            for chat_id in ids[10::50]:
                fake.answer_429(chat_id, retry_after=1)
            for chat_id in blocked:
                fake.answer_403(chat_id)
            async with app.db.unit() as s:
                bid = await broadcasts.create_broadcast(s, created_by="t", text="Thông báo hội nghị", audience={})
            await run_until_done(BroadcastSender(app, "w1", FAST), bid, timeout=90)
            report = await report_of(app, bid)
        finally:
            await app.close()
    delivered = Counter(fake.delivered_chats())
    assert set(delivered) == set(ids) - blocked and set(delivered.values()) == {1}
    assert (report.total, report.count("sent"), report.count("blocked"), report.pending) == (
        1000, 1000 - len(blocked), len(blocked), 0)
    assert len(fake.calls_to("sendMessage")) == 1000 + 20  # twenty 429s were retried once each
    times = fake.send_times()
    assert max_in_window(times) <= rate * 1.05 + 2
    assert len(times) / (times[-1] - times[0]) <= rate * 1.05
    assert len(times) / (times[-1] - times[0]) >= rate * 0.3  # paced, not stalled


async def test_messages_to_one_chat_are_spaced(app: App) -> None:
    channel = ScriptedChannel()
    app.register_channel(channel)
    await seed_users(app, "test", 1, first=FIRST_CHAT)
    async with app.db.unit() as s:
        first = await broadcasts.create_broadcast(s, created_by="t", text="Một", audience={})
        second = await broadcasts.create_broadcast(s, created_by="t", text="Hai", audience={})
    sender = BroadcastSender(app, "w1", FAST)
    await run_until_done(sender, first)
    await run_until_done(sender, second)
    (t1, _, _), (t2, _, _) = channel.delivered
    assert t2 - t1 >= app.config.broadcast.per_chat_interval * 0.95


@pytest.fixture
def pg_config(request: pytest.FixtureRequest, tmp_path: Path) -> Config:
    config = fresh_pg_config(request, tmp_path)
    config.staff.admins = [f"test:{ADMIN}"]
    config.broadcast.rate_per_second = 1000.0
    return config


@pytest.mark.postgres
async def test_postgres_claims_skip_locked_rows(pg_config: Config) -> None:
    """A worker holding claimed rows in an open transaction does not block another one."""
    app = await App.open(pg_config)
    try:
        await seed_users(app, "test", 30)
        async with app.db.unit() as s:
            await broadcasts.create_broadcast(s, created_by="t", text="PG", audience={})
        async with app.db.unit() as first:
            mine = await broadcasts.claim_pending_deliveries(first, "w1", 10, ["test"], skip_locked=True)
            async with app.db.unit() as second:
                theirs = await asyncio.wait_for(
                    broadcasts.claim_pending_deliveries(second, "w2", 10, ["test"], skip_locked=True), 5)
        assert len(mine) == len(theirs) == 10 and not {j.id for j in mine} & {j.id for j in theirs}
    finally:
        await app.close()


@pytest.mark.postgres
async def test_two_workers_on_postgres_share_one_broadcast(pg_config: Config) -> None:
    apps = [await App.open(pg_config), await App.open(pg_config, migrate=False)]
    channels = [ScriptedChannel(), ScriptedChannel()]
    try:
        for app, channel in zip(apps, channels, strict=True):
            app.register_channel(channel)
        ids = await seed_users(apps[0], "test", 400)
        async with apps[0].db.unit() as s:
            bid = await broadcasts.create_broadcast(s, created_by="t", text="Hai máy", audience={})
        options = SenderOptions(batch_size=20, poll_interval=0.05, exit_when_idle=True)
        await asyncio.wait_for(asyncio.gather(
            *(BroadcastSender(app, f"w{i}", options).run(asyncio.Event()) for i, app in enumerate(apps))), 60)
        report = await report_of(apps[0], bid)
    finally:
        for app in apps:
            await app.close()
    sent = Counter(chat_id for channel in channels for _, chat_id, _ in channel.delivered)
    assert set(sent) == set(ids) and set(sent.values()) == {1}
    assert all(channel.delivered for channel in channels)  # both did part of the work
    assert (report.status, report.count("sent")) == ("done", 400)


async def test_a_confirm_button_from_an_old_preview_never_sends(app: App) -> None:
    chat = Chat(app)
    await chat.say(ADMIN, "/thongbao")
    await chat.say(ADMIN, "Tin A: tập huấn ngày 5/12")
    await chat.press(ADMIN, "announce:aud:done")
    await chat.press(ADMIN, "announce:when:now")
    old_confirm = next(p for p in chat.payloads(chat.last[ADMIN]) if p.startswith("announce:confirm"))
    await chat.press(ADMIN, old_confirm)  # announcement A is sent
    await chat.say(ADMIN, "/thongbao")
    await chat.say(ADMIN, "Tin B chưa xem trước")  # stops at the audience step
    for stale in (old_confirm, "announce:confirm"):
        text = chat.text(await chat.press(ADMIN, stale))
        assert "bản xem trước cũ" in text
    async with app.db.unit() as s:
        assert (await broadcasts.broadcast_report(s, 2)) is None  # B was never created
