"""The shared web server as outsiders see it: file links, /healthz and /metrics."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import App
from bot.channels.web import build_web_app
from bot.core.channel import QuotaExceeded, RecipientBlocked, RetryLater
from bot.core.types import Attachment, ChannelCapabilities, ChatRef, Reply
from bot.metrics import Metrics
from bot.observed import MeteredChannel
from tests.conftest import RecordingChannel
from tests.test_runtime import metric


@pytest.fixture
async def client(app: App) -> AsyncIterator[TestClient]:
    metrics = Metrics()
    async with TestClient(TestServer(build_web_app(app, metrics=metrics))) as test_client:
        test_client.metrics = metrics  # type: ignore[attr-defined]
        yield test_client


async def _stored_link(app: App) -> str:
    """A real link as a user on a channel without documents receives it."""
    channel = RecordingChannel("zalo", ChannelCapabilities(max_text=2000, buttons=False, documents=False))
    app.register_channel(channel)
    await app.send(ChatRef("zalo", "u1"), Reply("Hồ sơ", attachment=Attachment("a.docx", b"DOCX", "x/y")))
    url = channel.sent[0][1].text.split("«a.docx»: ")[1].split()[0]
    return url.replace(app.config.web.public_url, "")


async def test_a_bad_signature_gets_403_whether_or_not_the_id_exists(app: App, client: TestClient) -> None:
    path = await _stored_link(app)
    good = await client.get(path)
    assert good.status == 200 and "no-store" in good.headers["Cache-Control"]  # personal data: never cached
    file_id = path.split("/files/")[1].split("?")[0]
    forged_existing = path.replace("sig=", "sig=0")
    forged_missing = forged_existing.replace(file_id, "0" * len(file_id))
    statuses = {(await client.get(p)).status for p in (forged_existing, forged_missing,
                                                      f"/files/{file_id}", "/files/nope")}
    assert statuses == {403}  # nothing tells a prober which ids exist


async def test_a_genuine_link_to_a_deleted_file_is_404(app: App, client: TestClient) -> None:
    file_id = "f" * 32
    url = app.links.url_for(file_id).replace(app.config.web.public_url, "")
    assert (await client.get(url)).status == 404


async def test_an_expired_link_is_403(app: App, client: TestClient) -> None:
    path = await _stored_link(app)
    file_id = path.split("/files/")[1].split("?")[0]
    old = app.links.url_for(file_id, now=1_000_000).replace(app.config.web.public_url, "")
    assert (await client.get(old)).status == 403


async def test_healthz_is_200_with_the_database_and_503_when_a_poll_is_stale(app: App, client: TestClient) -> None:
    metrics: Metrics = client.metrics  # type: ignore[attr-defined]
    live = metrics.watch_channel("zalo", "polling")
    metrics.beat("zalo")
    ok = await client.get("/healthz")
    assert ok.status == 200 and (await ok.json())["channels"]["zalo"]["ok"] is True
    live.last_ok = live.started = live.started - app.config.web.max_poll_age - 1
    stale = await client.get("/healthz")
    body = await stale.json()
    assert stale.status == 503 and body["database"] == "ok"
    assert body["problems"] == [body["problems"][0]] and body["problems"][0].startswith("zalo: no successful poll")


async def test_a_quiet_webhook_channel_stays_healthy(app: App, client: TestClient) -> None:
    metrics: Metrics = client.metrics  # type: ignore[attr-defined]
    live = metrics.watch_channel("telegram", "webhook")
    live.started -= 10 * app.config.web.max_poll_age  # a night without messages
    assert (await client.get("/healthz")).status == 200


async def test_healthz_is_503_when_the_sqlite_file_is_removed(app: App, client: TestClient) -> None:
    assert app.db.sqlite_path is not None
    app.db.sqlite_path.unlink()
    response = await client.get("/healthz")
    assert response.status == 503 and "database" in (await response.json())["problems"][0]


class _Failing(RecordingChannel):
    def __init__(self, errors: list[Exception]) -> None:
        super().__init__("zalo", ChannelCapabilities(max_text=2000, buttons=False, documents=False))
        self.errors = errors

    async def send(self, ref: ChatRef, reply: Reply) -> None:
        if self.errors:
            raise self.errors.pop(0)
        await super().send(ref, reply)


async def test_metrics_count_proactive_outcomes_429s_and_quota(app: App, client: TestClient) -> None:
    metrics: Metrics = client.metrics  # type: ignore[attr-defined]
    failing = _Failing([RetryLater(2), QuotaExceeded("quota"), RecipientBlocked("blocked")])
    app.register_channel(MeteredChannel(failing, metrics))  # type: ignore[arg-type]
    for _ in range(4):
        with contextlib.suppress(Exception):  # each failure is what the broadcaster would record
            await app.send(ChatRef("zalo", "u2"), Reply("Thông báo"))
    page = await (await client.get("/metrics")).text()
    assert metric(page, "htxbot_rate_limited_total", channel="zalo") == 1
    assert metric(page, "htxbot_quota_exceeded_total", channel="zalo") == 1
    for outcome in ("retry_later", "quota", "blocked", "sent"):
        assert metric(page, "htxbot_proactive_sends_total", channel="zalo", outcome=outcome) == 1
    assert metric(page, "htxbot_messages_out_total", channel="zalo") == 1
