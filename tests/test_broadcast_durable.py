"""The honest outbox against the fake Bot API: unknown outcomes are reported, never re-sent blindly;
multi-part messages resume after the last part sent; staff can choose to re-send the uncertain ones."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import App
from bot.broadcast.sender import BroadcastSender, SenderOptions
from bot.channels.telegram import TelegramChannel
from bot.config import TelegramConfig
from bot.core.types import Incoming
from bot.storage.repo import broadcasts
from tests.broadcast_support import TimedFakeTelegram, run_until_done, seed_users
from tests.staff_support import ADMIN, make_config

FAST = SenderOptions(backoff_base=0.0, poll_interval=0.05)
LONG = "\n\n".join(f"Mục {i}. " + "Hợp tác xã tổ chức đại hội thành viên thường niên. " * 60 for i in range(4))


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[tuple[App, TimedFakeTelegram]]:
    app = await App.open(make_config(tmp_path, rate=200.0))
    async with TimedFakeTelegram() as fake:
        channel = TelegramChannel(TelegramConfig(token=fake.token, base_url=fake.base_url,
                                                 base_file_url=fake.base_file_url, max_rate_per_second=0,
                                                 read_timeout=0.5), app.handle)
        app.register_channel(channel)
        await channel.start()
        try:
            yield app, fake
        finally:
            await channel.stop()
            await app.close()


async def broadcast(app: App, text: str) -> int:
    async with app.db.unit() as s:
        return await broadcasts.create_broadcast(s, created_by="t", text=text, audience={})


async def report_of(app: App, bid: int) -> broadcasts.BroadcastReport:
    async with app.db.unit() as s:
        report = await broadcasts.broadcast_report(s, bid)
    assert report is not None
    return report


async def test_late_answer_is_uncertain_and_not_sent_again(setup: tuple[App, TimedFakeTelegram]) -> None:
    app, fake = setup
    ids = [int(i) for i in await seed_users(app, "telegram", 20)]
    late = ids[3:6]
    for chat_id in late:
        fake.answer_late(chat_id, delay=1.5)  # delivered, but answered after the client's 0.5 s
    bid = await broadcast(app, "Họp trực tuyến lúc 9 giờ")
    await run_until_done(BroadcastSender(app, "w1", FAST), bid, timeout=60)
    report = await report_of(app, bid)
    delivered = Counter(fake.delivered_chats())
    assert set(delivered) == set(ids) and set(delivered.values()) == {1}  # the late ones arrived, once
    assert (report.count("sent"), report.count("uncertain"), report.status) == (17, 3, "done")
    assert "❔ Chưa rõ đã nhận hay chưa" in format_report_text(report)


def format_report_text(report: broadcasts.BroadcastReport) -> str:
    from handlers.staff.announce_text import format_report

    return format_report(report)


async def test_429_on_part_two_resends_only_part_two(setup: tuple[App, TimedFakeTelegram],
                                                      caplog: pytest.LogCaptureFixture) -> None:
    app, fake = setup
    ids = [int(i) for i in await seed_users(app, "telegram", 20)]
    bid = await broadcast(app, LONG)  # over 4,096 characters: two messages per recipient
    for chat_id in ids:
        fake._fail(chat_id, 1, _ok())  # part 1 goes through…
        fake.answer_429(chat_id, retry_after=1)  # …part 2 is refused once
    await run_until_done(BroadcastSender(app, "w1", FAST), bid, timeout=60)
    report = await report_of(app, bid)
    parts = fake.sent_texts(ids[0])
    assert len(parts) >= 2 and parts[0].startswith("Mục 0.")
    for chat_id in ids:  # every part once, in order: part 1 was not sent again after the 429
        assert fake.sent_texts(chat_id) == parts
    assert len(fake.calls_to("sendMessage")) == 20 * (len(parts) + 1)  # one refused attempt each
    assert (report.count("sent"), report.status) == (20, "done")
    slow_downs = [r for r in caplog.records if "asked to slow down" in r.getMessage()]
    assert len(slow_downs) == 20 and all(r.levelname == "WARNING" and not r.exc_info for r in slow_downs)
    assert not [r for r in caplog.records if r.levelno >= 40]  # no ERROR, no traceback for a 429


def _ok():  # type: ignore[no-untyped-def]
    from tests.fakes.telegram_server import _Failure

    return _Failure(200, "", late=0.001)  # an ordinary success, answered at once


async def test_staff_can_resend_the_uncertain_ones_from_the_report(setup: tuple[App, TimedFakeTelegram]) -> None:
    app, fake = setup
    ids = [int(i) for i in await seed_users(app, "telegram", 5)]
    fake.answer_late(ids[0], delay=1.5)
    bid = await broadcast(app, "Thông báo lịch tập huấn")
    await run_until_done(BroadcastSender(app, "w1", FAST), bid, timeout=60)
    async with app.db.unit() as s:
        from bot.storage.repo import users

        await users.touch_user(s, "test", ADMIN, ADMIN, "Cán bộ")
    staff = Incoming(channel="test", chat_id=ADMIN, user_id=ADMIN, text=f"/baocao {bid}")
    [shown] = await app.handle(staff)
    assert "Chưa rõ đã nhận hay chưa" in shown.text and "1 — không tự gửi lại" in shown.text
    resend = next(b.payload for b in shown.buttons if b.payload.startswith("announce:resend:"))
    [answer] = await app.handle(Incoming(channel="test", chat_id=ADMIN, user_id=ADMIN, payload=resend))
    assert "Đã xếp gửi lại cho 1 người" in answer.text
    await run_until_done(BroadcastSender(app, "w2", FAST), bid, timeout=60)
    assert fake.sent_texts(ids[0]) == ["Thông báo lịch tập huấn"] * 2  # staff chose to risk a duplicate
    assert (await report_of(app, bid)).count("sent") == 5


@pytest.fixture
def pg_config(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    from tests.conftest import fresh_pg_config

    config = fresh_pg_config(request, tmp_path)
    config.broadcast.rate_per_second = 50.0
    return config


@pytest.mark.postgres
async def test_two_workers_on_postgres_share_one_rate(pg_config) -> None:  # type: ignore[no-untyped-def]
    """Each worker alone may send 50/s; together they must still stay at 50/s (not 100/s)."""
    import asyncio

    from tests.broadcast_support import max_in_window
    from tests.staff_support import ScriptedChannel

    apps = [await App.open(pg_config), await App.open(pg_config, migrate=False)]
    channels = [ScriptedChannel(), ScriptedChannel()]
    try:
        for app, channel in zip(apps, channels, strict=True):
            app.register_channel(channel)
        await seed_users(apps[0], "test", 300)
        bid = await broadcast(apps[0], "Hai máy, một nhịp")
        options = SenderOptions(poll_interval=0.05, exit_when_idle=True)
        await asyncio.wait_for(asyncio.gather(
            *(BroadcastSender(app, f"w{i}", options).run(asyncio.Event()) for i, app in enumerate(apps))), 60)
        report = await report_of(apps[0], bid)
    finally:
        for app in apps:
            await app.close()
    times = sorted(t for channel in channels for t, _, _ in channel.delivered)
    assert report.count("sent") == 300 and all(channel.delivered for channel in channels)
    assert max_in_window(times) <= 50 + 3  # one rate for both: uncoordinated, a second would hold ~100
    assert len(times) / (times[-1] - times[0]) <= 50 * 1.05


async def test_members_answers_take_broadcast_slots_first() -> None:
    """At 10/s, six broadcast sends take about 0.5 s; when five answers to members went out meanwhile,
    the broadcast gives them their slots and its sixth send comes about 0.5 s later."""
    import time

    from bot.broadcast.pacing import SharedRate

    answers = 0
    rate = SharedRate("telegram", 10.0, interactive=lambda: answers)
    started = time.monotonic()
    await rate.acquire()
    answers = 5  # members were answered on this platform
    for _ in range(5):
        await rate.acquire()
    assert time.monotonic() - started >= 0.9  # the sixth send has slot 10 (0 sent, 1-5 answers, 6-10 sent)
