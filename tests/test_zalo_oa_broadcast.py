"""Announcements on the OA: the preview's reach, and delivery through the project's broadcast sender."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import timedelta
from pathlib import Path

from PIL import Image

from bot.broadcast.sender import BroadcastSender, SenderOptions
from bot.channels.zalo_oa import (
    Reach,
    audience_reach,
    delivery_outcomes,
    describe_outcomes,
    describe_reach,
    preview_reach,
    store_event,
)
from bot.storage.repo import broadcasts, users
from tests.fakes.zalo_oa_server import FakeOAServer
from tests.test_zalo_oa import OARun, oa_run

DAY = 86400


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (20, 120, 60)).save(out, "PNG")
    return out.getvalue()


async def add_followers(oa: OARun, count: int, start: int, seconds_ago: float) -> list[str]:
    """Members who followed `seconds_ago` (as stored from their follow events) and last interacted then."""
    ids = [f"90000000000000{i:04d}" for i in range(start, start + count)]
    async with oa.app.db.unit() as s:
        for uid in ids:
            body = oa.fake.event("follow", uid)
            body["timestamp"] = str(int((oa.fake.now() - seconds_ago) * 1000))
            assert await store_event(s, body, json.dumps(body).encode())
            await users.touch_user(s, "zalo_oa", uid, uid, "")
            oa.fake.interacted(uid, seconds_ago=seconds_ago)
    return ids


async def test_preview_counts_who_can_be_reached_now(tmp_path: Path) -> None:
    async with oa_run(tmp_path) as oa:
        await add_followers(oa, 60, 0, 3600)
        await add_followers(oa, 30, 60, 8 * DAY)
        gone = await add_followers(oa, 10, 90, 3600)
        for uid in gone:  # their unfollow events arrive through the webhook
            await oa.event(oa.fake.event("unfollow", uid))
        async with oa.app.db.unit() as s:
            assert await audience_reach(s, {}, 168) == Reach(60, 30, 10)
            assert await audience_reach(s, {}, 48) == Reach(60, 30, 10)
            assert await preview_reach(s, oa.app.config, {"province": "Nghệ An"}) == Reach(0, 0, 0)
            assert await broadcasts.count_audience(s, {}) == 90  # unfollowing unsubscribed them
        assert describe_reach(Reach(60, 30, 10), 168).startswith("Zalo OA: 60 người nhận được ngay (có tương "
                                                                 "tác trong 7 ngày qua); 30 người quá")
        await add_followers(oa, 5, 100, 3 * DAY)  # billed but reachable; outside the free 48 hours
        async with oa.app.db.unit() as s:
            assert await audience_reach(s, {}, 168) == Reach(65, 30, 10)
            assert await audience_reach(s, {}, 48) == Reach(60, 35, 10)


async def test_announcement_to_100_followers_60_delivered_30_outside_window_10_not_following(tmp_path: Path) -> None:
    fake = FakeOAServer(cs_requires_follow=True)  # [U] in reality; here the 10 are refused with -213
    async with oa_run(tmp_path, fake, HTXBOT_BROADCAST__RATE_PER_SECOND="1000",
                      HTXBOT_BROADCAST__PER_CHAT_INTERVAL="0") as oa:
        recent = await add_followers(oa, 60, 0, 3600)
        await add_followers(oa, 30, 60, 8 * DAY)
        gone = await add_followers(oa, 10, 90, 3600)
        for uid in gone:  # they unfollowed, but the events never reached us (webhook down meanwhile)
            fake.users[uid].follower = False
        async with oa.app.db.unit() as s:
            poster = broadcasts.FileData("hoi-nghi.png", "image/png", png())
            bid = await broadcasts.create_broadcast(s, created_by="test", text="Hội nghị ngày 15/12.", audience={},
                                                    attachment=poster)
        sender = BroadcastSender(oa.app, "w1", SenderOptions(exit_when_idle=True, poll_interval=0.05,
                                                             backoff_base=0.01, lease=timedelta(minutes=5)))
        await asyncio.wait_for(sender.run(asyncio.Event()), 60)
        async with oa.app.db.unit() as s:
            outcomes = await delivery_outcomes(s, bid)
            report = await broadcasts.broadcast_report(s, bid)
            after = await audience_reach(s, {}, 168)
        assert outcomes == {"sent": 60, "outside_window": 30, "not_following": 10}
        assert describe_outcomes(outcomes) == ("Zalo OA — đã gửi: 60; quá 7 ngày không tương tác: 30; "
                                               "không quan tâm OA: 10.")
        assert report is not None and report.total == 100
        texts = [m.user_id for m in fake.sent if "Hội nghị ngày 15/12." in m.message.get("text", "")]
        pictures = [m.user_id for m in fake.sent if (m.message.get("attachment") or {}).get("payload", {})
                    .get("template_type") == "media"]
        assert sorted(texts) == sorted(recent) == sorted(pictures)  # each of the 60 once: 0 duplicates
        assert len(fake.sent) == 120 and fake.uploads == 1  # one upload of the poster for everyone
        assert after.not_following == 10  # what Zalo told us is remembered for the next preview


async def test_staff_see_the_oa_reach_before_confirming_and_the_oa_outcomes_in_the_report(tmp_path: Path) -> None:
    from bot.storage.repo.users import get_user, set_role
    from tests.staff_support import Chat

    async with oa_run(tmp_path) as oa:
        await add_followers(oa, 6, 0, 3600)
        await add_followers(oa, 3, 6, 8 * DAY)  # last interacted 8 days ago: outside the 7-day window
        chat = Chat(oa.app)
        await chat.say("boss", "xin chào")
        async with oa.app.db.unit() as s:
            boss = await get_user(s, "test", "boss")
            assert boss is not None
            await set_role(s, boss.id, "staff")
        await chat.say("boss", "/thongbao")
        await chat.say("boss", "Tập huấn kế toán HTX ngày 15/12.")
        await chat.press("boss", "announce:aud:done")
        preview = chat.text(await chat.press("boss", "announce:when:now"))
        assert describe_reach(Reach(6, 3, 0), 168) in preview
        await chat.press_offered("boss", "announce:confirm")
        await asyncio.wait_for(BroadcastSender(oa.app, "w1", SenderOptions(exit_when_idle=True)).run(asyncio.Event()),
                               60)
        report = chat.text(await chat.say("boss", "/baocao 1"))
        assert "quá 7 ngày không tương tác: 3" in report and "đã gửi: 6" in report
