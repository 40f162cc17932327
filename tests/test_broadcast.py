"""Announcements: composed in the chat, delivered durably, paced, reported, cancellable."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.app import App
from bot.broadcast.sender import BroadcastSender, SenderOptions, start_background_worker
from bot.channels.telegram import TelegramChannel
from bot.config import Config, TelegramConfig
from bot.core.channel import DeliveryError, QuotaExceeded, RecipientBlocked, RetryLater
from bot.core.types import ChannelCapabilities
from bot.storage.models import utcnow
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
    replies = await chat.press(ADMIN, "announce:confirm")
    assert "Đã xếp lịch gửi #1 tới 2 người" in chat.text(replies)
    await run_until_done(BroadcastSender(app, "w1", FAST), 1)
    assert sorted(chat_id for _, chat_id, _ in channel.delivered) == ["a", "b"]
    assert channel.delivered[0][2].buttons[0].payload == "profile:unsubscribe"
    text = chat.text(await chat.say(ADMIN, "/baocao 1"))
    assert "đã xong" in text and "✅ Đã gửi: 2" in text and "⏳ Chờ gửi: 0" in text
    assert chat.text(await chat.say("a", "/baocao 1")).startswith("Xin lỗi, lệnh này chỉ dành")


async def test_scheduled_broadcast_waits_for_its_time(app: App) -> None:
    chat = Chat(app)
    await chat.say("a", "xin chào")
    await chat.say(ADMIN, "/thongbao Tập huấn kế toán HTX")
    await chat.press(ADMIN, "announce:aud:done")
    await chat.press(ADMIN, "announce:when:later")
    assert "đã qua" in chat.text(await chat.say(ADMIN, "01/01/2020 08:00"))
    replies = await chat.say(ADMIN, "25/12/2099 08:30")
    assert "25/12/2099 08:30" in chat.text(replies)
    await chat.press(ADMIN, "announce:confirm")
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
