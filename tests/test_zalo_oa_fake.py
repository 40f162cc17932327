"""The stand-in OA server itself follows the reference (so channel tests against it mean something)."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from tests.fakes.zalo_oa_server import APP_ID, APP_SECRET, OA_SECRET, FakeOAServer, challenge_of


@pytest.fixture
async def fake() -> AsyncIterator[FakeOAServer]:
    server = FakeOAServer()
    await server.start()
    yield server
    await server.close()


async def post(fake: FakeOAServer, path: str, token: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as s, s.post(fake.url + path, json=body, headers={"access_token": token}) as r:
        return r.status, await r.json()


async def oauth(fake: FakeOAServer, form: dict[str, str], secret: str = APP_SECRET) -> dict[str, Any]:
    async with aiohttp.ClientSession() as s, s.post(fake.url + "/v4/oa/access_token", data=form,
                                                    headers={"secret_key": secret}) as r:
        assert r.status == 200
        return await r.json()


def cs(user: str, **message: Any) -> dict[str, Any]:
    return {"recipient": {"user_id": user}, "message": message}


async def test_errors_come_inside_http_200(fake: FakeOAServer) -> None:
    access, _ = fake.grant()
    fake.interacted("u1")
    assert await post(fake, "/v3.0/oa/message/cs", "nope", cs("u1", text="x")) == (200, {
        "error": -216, "message": "Access token is invalid"})
    status, body = await post(fake, "/v3.0/oa/message/cs", access, cs("u1", text="x" * 2001))
    assert (status, body["error"]) == (200, -210)
    status, body = await post(fake, "/v3.0/oa/message/cs", access, cs("u1", text="chào"))
    assert body["error"] == 0 and len(body["data"]["message_id"]) == 20 and body["data"]["quota"]


async def test_buttons_window_and_follow(fake: FakeOAServer) -> None:
    access, _ = fake.grant()
    fake.interacted("u1")
    six = [{"title": f"n{i}", "type": "oa.query.show", "payload": f"#{i}"} for i in range(6)]
    message = {"text": "chọn", "attachment": {"type": "template", "payload": {"buttons": six}}}
    assert (await post(fake, "/v3.0/oa/message/cs", access, cs("u1", **message)))[1]["error"] == -201
    message["attachment"]["payload"]["buttons"] = six[:5]
    assert (await post(fake, "/v3.0/oa/message/cs", access, cs("u1", **message)))[1]["error"] == 0
    fake.interacted("old", seconds_ago=8 * 86400)
    assert (await post(fake, "/v3.0/oa/message/cs", access, cs("old", text="x")))[1]["error"] == -230
    fake.interacted("billed", seconds_ago=3 * 86400)
    body = (await post(fake, "/v3.0/oa/message/cs", access, cs("billed", text="x")))[1]
    assert body["error"] == 0 and "quota" not in body["data"] and fake.sent[-1].billed
    fake.cs_requires_follow = True
    fake.interacted("gone", follower=False)
    assert (await post(fake, "/v3.0/oa/message/cs", access, cs("gone", text="x")))[1]["error"] == -213


async def test_tokens_expire_and_refresh_tokens_are_single_use(fake: FakeOAServer) -> None:
    access, refresh = fake.grant()
    fake.interacted("u1")
    fake.offset += 90001
    assert (await post(fake, "/v3.0/oa/message/cs", access, cs("u1", text="x")))[1]["error"] == -220
    form = {"app_id": APP_ID, "grant_type": "refresh_token", "refresh_token": refresh}
    assert (await oauth(fake, form, secret=OA_SECRET))["error"] == -14002  # the OA key is not the app secret
    pair = await oauth(fake, form)
    assert pair["expires_in"] == "90000" and pair["refresh_token"] != refresh
    assert await oauth(fake, form) == {"error": -14014, "message": "Invalid refresh token"}
    assert (fake.refreshes, fake.refresh_attempts) == (1, 3 - 1)
    fake.interacted("u1")
    assert (await post(fake, "/v3.0/oa/message/cs", pair["access_token"], cs("u1", text="x")))[1]["error"] == 0


async def test_pkce_code_is_checked_and_single_use(fake: FakeOAServer) -> None:
    verifier = "v" * 43
    code = fake.authorize(challenge_of(verifier))
    form = {"app_id": APP_ID, "grant_type": "authorization_code", "code": code, "code_verifier": "w" * 43}
    assert (await oauth(fake, form))["error"] == -14020
    code = fake.authorize(challenge_of(verifier))
    assert "access_token" in await oauth(fake, {**form, "code": code, "code_verifier": verifier})
    assert (await oauth(fake, {**form, "code": code, "code_verifier": verifier}))["error"] == -14019


async def test_upload_gives_a_token_for_a_file_message(fake: FakeOAServer) -> None:
    access, _ = fake.grant()
    fake.interacted("u1")
    form = aiohttp.FormData()
    form.add_field("file", b"PK\x03\x04docx", filename="ho-so.docx")
    async with aiohttp.ClientSession() as s, s.post(fake.url + "/v2.0/oa/upload/file", data=form,
                                                    headers={"access_token": access}) as r:
        token = (await r.json())["data"]["token"]
    file_msg = {"attachment": {"type": "file", "payload": {"token": token}}}
    assert (await post(fake, "/v3.0/oa/message/cs", access, cs("u1", **file_msg)))[1]["error"] == 0
    bogus = {"attachment": {"type": "file", "payload": {"token": "made-up"}}}
    assert (await post(fake, "/v3.0/oa/message/cs", access, cs("u1", **bogus)))[1]["error"] == -201


async def test_rate_limit(fake: FakeOAServer) -> None:
    access, _ = fake.grant()
    fake.interacted("u1")
    fake.rate_limit = 2
    codes = [(await post(fake, "/v3.0/oa/message/cs", access, cs("u1", text="x")))[1]["error"] for _ in range(3)]
    assert codes == [0, 0, -32]


async def test_webhook_is_signed_and_retried_when_not_answered_in_time(fake: FakeOAServer) -> None:
    seen: list[tuple[bytes, dict[str, str]]] = []
    slow = {"left": 2}

    async def hook(request: web.Request) -> web.Response:
        seen.append((await request.read(), dict(request.headers)))
        if slow["left"]:
            slow["left"] -= 1
            await asyncio.sleep(0.3)
        return web.Response(text="ok")

    runner = web.AppRunner(web.Application())
    runner.app.router.add_post("/hook", hook)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    fake.webhook_url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/hook"  # type: ignore[union-attr]
    fake.webhook_timeout = 0.1
    try:
        attempts = await fake.send_event(fake.text_event("u1", "xin chào"))
    finally:
        await runner.cleanup()
    assert [a.status for a in attempts] == [None, None, 200]
    assert len({raw for raw, _ in seen}) == 1  # the identical bytes every time
    raw, headers = seen[-1]
    body = json.loads(raw)
    expected = hashlib.sha256(APP_ID.encode() + raw + body["timestamp"].encode() + OA_SECRET.encode()).hexdigest()
    assert headers["X-ZEvent-Signature"] == "mac=" + expected and headers["num_retry"] == "2"
    assert "num_retry" not in seen[0][1]
