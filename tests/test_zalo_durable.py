"""The Zalo adapter's durable inbox: a webhook update is stored before the 200 and answered even if the
process stops before handling it; a redelivered message (same message_id) is stored and answered once."""

from __future__ import annotations

import asyncio

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.app import App
from bot.channels.zalo import SECRET_HEADER, WEBHOOK_PATH, ZaloChannel
from bot.channels.zalo_api import ZaloApi
from bot.storage.repo import inbox
from tests.fakes.zalo_server import TOKEN, FakeZaloServer, text_update

SECRET = "s3cret-webhook-token"


def channel_for(app: App, api: ZaloApi) -> ZaloChannel:
    channel = ZaloChannel(api, app.handle, mode="webhook", webhook_secret=SECRET, typing=False, db=app.db)
    app.register_channel(channel)
    return channel


async def test_webhook_update_stored_before_200_is_answered_after_a_restart(
        app: App, zalo_server: FakeZaloServer) -> None:
    async with ZaloApi(TOKEN, zalo_server.base_url) as api:
        first = channel_for(app, api)  # never started: it stores, nobody handles (as if it died at once)
        web_app = web.Application()
        web_app.add_routes(first.web_routes())
        async with TestClient(TestServer(web_app)) as client:
            update = text_update("xin chào", chat_id="c-7", user_id="u-7", message_id="m-77")
            for _ in range(2):  # Zalo may deliver the same message again
                answer = await client.post(WEBHOOK_PATH, json=update, headers={SECRET_HEADER: SECRET})
                assert answer.status == 200
        assert zalo_server.sent_texts("c-7") == []
        async with app.db.unit() as s:
            assert await inbox.counts(s, "zalo") == {"pending": 1}
        second = channel_for(app, api)  # the restart
        await second.start()
        try:
            assert await second.inbox.idle(10)
        finally:
            await second.stop()
    assert len(zalo_server.sent_texts("c-7")) >= 1
    async with app.db.unit() as s:
        assert await inbox.counts(s, "zalo") == {"done": 1}


async def test_update_that_is_not_a_message_is_rejected_and_the_next_one_answered(
        app: App, zalo_server: FakeZaloServer) -> None:
    async with ZaloApi(TOKEN, zalo_server.base_url) as api:
        channel = channel_for(app, api)
        await channel.start()
        try:
            web_app = web.Application()
            web_app.add_routes(channel.web_routes())
            async with TestClient(TestServer(web_app)) as client:
                for body in ({"event_name": "message.text.received"},
                             text_update("chào bạn", chat_id="c-8", user_id="u-8", message_id="m-88")):
                    answer = await client.post(WEBHOOK_PATH, json=body, headers={SECRET_HEADER: SECRET})
                    assert answer.status == 200
            assert await channel.inbox.idle(10)
            await asyncio.sleep(0)
        finally:
            await channel.stop()
    assert zalo_server.sent_texts("c-8")
    async with app.db.unit() as s:
        assert await inbox.counts(s, "zalo") == {"done": 1, "rejected": 1}


async def test_handled_updates_are_forgotten_after_a_week_pending_ones_never(app: App) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from bot.storage.models import InboxUpdate, utcnow

    async with app.db.unit() as s:
        await inbox.store(s, "zalo", [inbox.InboxItem(f"m:{i}", "u", {"n": i}) for i in range(3)])
        await inbox.finish(s, [1])
        await inbox.reject(s, 2, "rejected: test")
        await s.execute(update(InboxUpdate).values(received_at=utcnow() - timedelta(days=8)))
        assert await inbox.prune(s, timedelta(days=7)) == 2
        assert await inbox.counts(s, "zalo") == {"pending": 1}
