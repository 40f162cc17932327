"""OA tokens: `connect` with PKCE, encryption at rest, one refresh across processes, loud failure.

Other processes are real: `python -c` children sharing the database with the test and talking to the
stand-in OA server, which runs in the test's event loop and counts refresh requests.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from bot.channels.zalo_oa import ZaloOAChannel, admin_alert, build_channel
from bot.channels.zalo_oa_api import OAClient, OAuthClient, TokenPair
from bot.channels.zalo_oa_tokens import ReconnectNeeded, TokenCipher, TokenStore
from bot.cli.zalo_oa import code_from_answer, connect
from bot.config import Config
from bot.core.types import ChannelCapabilities, ChatRef, Reply
from bot.storage.db import Database
from bot.storage.models import utcnow
from bot.storage.models_zalo_oa import ZaloOAToken
from tests.conftest import RecordingChannel, make_config
from tests.fakes.zalo_oa_server import APP_ID, APP_SECRET, OA_SECRET, FakeOAServer

ROOT = Path(__file__).resolve().parent.parent
MEMBER = "2468458835296197922"

# A second process: open the same database, ask for a token (refreshing if due), print a fingerprint.
CHILD = """
import asyncio, hashlib, sys
from datetime import timedelta
from bot.config import load_config
from bot.storage.db import Database
from bot.channels.zalo_oa_api import OAuthClient
from bot.channels.zalo_oa_tokens import TokenCipher, TokenStore

async def main():
    config = load_config()
    oa = config.zalo_oa
    db = Database(config.database.url, schema=config.database.schema)
    store = TokenStore(db, TokenCipher(oa.token_key), OAuthClient(oa.oauth_base, oa.app_id, oa.app_secret),
                       margin=timedelta(minutes=60))
    print("ready", flush=True)
    try:
        token = await store.access_token()
        print("token", hashlib.sha256(token.encode()).hexdigest()[:16], flush=True)
    except Exception as exc:
        print("error", type(exc).__name__, flush=True)
    finally:
        await db.close()

asyncio.run(main())
"""


@pytest.fixture
async def fake() -> AsyncIterator[FakeOAServer]:
    server = FakeOAServer()
    await server.start()
    yield server
    await server.close()


def with_oa(config: Config, fake: FakeOAServer) -> Config:
    oa = config.zalo_oa
    oa.app_id, oa.app_secret, oa.oa_secret_key = APP_ID, APP_SECRET, OA_SECRET
    oa.token_key = Fernet.generate_key().decode()
    oa.openapi_base = oa.oauth_base = fake.url
    oa.redirect_uri = "https://htx.example.vn/zalo-oa/callback"
    return config


def child_env(config: Config) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HTXBOT_")}
    oa = config.zalo_oa
    env.update({"HTXBOT_DATABASE__URL": config.database.url, "HTXBOT_DATABASE__SCHEMA": config.database.schema,
                "HTXBOT_KNOWLEDGE__PATH": config.knowledge.path, "HTXBOT_ZALO_OA__APP_ID": oa.app_id,
                "HTXBOT_ZALO_OA__APP_SECRET": oa.app_secret, "HTXBOT_ZALO_OA__TOKEN_KEY": oa.token_key,
                "HTXBOT_ZALO_OA__OAUTH_BASE": oa.oauth_base, "PYTHONPATH": str(ROOT)})
    return env


async def seed(config: Config, fake: FakeOAServer, expires_in: timedelta) -> TokenStore:
    """The database holds a granted pair whose access token expires in `expires_in` (our clock)."""
    db = Database(config.database.url, schema=config.database.schema)
    await db.upgrade()
    oa = config.zalo_oa
    store = TokenStore(db, TokenCipher(oa.token_key), OAuthClient(oa.oauth_base, oa.app_id, oa.app_secret))
    access, refresh = fake.grant()
    await store.save(TokenPair(access, refresh, utcnow() + expires_in))
    return store


async def spawn(config: Config) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", CHILD, env=child_env(config), cwd=str(ROOT),
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 30)
    assert line.startswith(b"ready"), line + (await proc.stderr.read() if proc.stderr else b"")
    return proc


async def result(proc: asyncio.subprocess.Process) -> str:
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    return out.decode().strip()


async def test_two_processes_whose_token_expires_together_make_exactly_one_refresh(
        db_config: Config, fake: FakeOAServer) -> None:
    config = with_oa(db_config, fake)
    store = await seed(config, fake, timedelta(seconds=30))  # inside the 60-minute refresh margin
    try:
        fake.refresh_hold = asyncio.Event()  # the first refresh is answered only when we say so
        first, second = await spawn(config), await spawn(config)
        await asyncio.wait_for(fake.refresh_started.wait(), 30)
        await asyncio.sleep(0.5)  # the other process is now waiting for the database lock
        fake.refresh_hold.set()
        outputs = [await result(first), await result(second)]
        assert fake.refresh_attempts == 1 and fake.refreshes == 1
        assert outputs[0].startswith("token ") and outputs[0] == outputs[1]  # both use the new token
        # and it works: the stored token is the new one
        fake.interacted(MEMBER)
        async with OAClient(fake.url, store) as client:
            assert await client.send_cs(MEMBER, {"text": "xin chào"})
        assert fake.refresh_attempts == 1
    finally:
        await store.db.close()


async def test_kill_9_after_zalo_rotated_the_pair_ends_in_run_connect_again_never_silence(
        db_config: Config, fake: FakeOAServer, caplog: pytest.LogCaptureFixture) -> None:
    config = with_oa(db_config, fake)
    store = await seed(config, fake, timedelta(seconds=30))
    try:
        fake.refresh_hold = asyncio.Event()
        victim = await spawn(config)
        await asyncio.wait_for(fake.refresh_started.wait(), 30)  # Zalo has rotated; the answer is held
        victim.send_signal(signal.SIGKILL)
        await victim.wait()
        fake.refresh_hold.set()
        fake.interacted(MEMBER)
        with caplog.at_level(logging.ERROR), pytest.raises(ReconnectNeeded):
            async with OAClient(fake.url, store) as client:
                await client.send_cs(MEMBER, {"text": "x"})
        assert "htxbot zalo-oa connect" in caplog.text and store.problem
        assert (await store.status())[0] is False
        # connect again: working
        access, refresh = fake.grant()
        await store.save(TokenPair(access, refresh, utcnow() + timedelta(hours=25)))
        async with OAClient(fake.url, store) as client:
            assert await client.send_cs(MEMBER, {"text": "đã kết nối lại"})
        assert not store.problem
    finally:
        await store.db.close()


async def test_kill_9_while_holding_the_refresh_lock_before_zalo_rotated_leaves_the_bot_working(
        db_config: Config, fake: FakeOAServer) -> None:
    config = with_oa(db_config, fake)
    store = await seed(config, fake, timedelta(seconds=30))
    try:
        fake.refresh_hold_before = asyncio.Event()
        victim = await spawn(config)
        await asyncio.wait_for(fake.refresh_started.wait(), 30)  # it holds the database lock, waiting for Zalo
        victim.send_signal(signal.SIGKILL)
        await victim.wait()
        fake.refresh_hold_before.set()
        await asyncio.sleep(0.1)
        fake.interacted(MEMBER)
        async with OAClient(fake.url, store) as client:  # the dead process's lock is gone with it
            assert await asyncio.wait_for(client.send_cs(MEMBER, {"text": "vẫn chạy"}), 30)
        assert fake.refreshes == 1 and not store.problem
    finally:
        await store.db.close()


async def test_a_spent_refresh_token_tells_admins_and_degrades_health(tmp_path: Path, fake: FakeOAServer,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    from bot.app import App

    config = with_oa(make_config(tmp_path, HTXBOT_STAFF__ADMINS="telegram:99"), fake)
    app = await App.open(config)
    admin = RecordingChannel("telegram", ChannelCapabilities())
    app.register_channel(admin)
    channel: ZaloOAChannel = build_channel(config, app.db, app.handle, admin_alert(app))
    app.register_channel(channel)
    try:
        access, refresh = fake.grant()
        await channel.tokens.save(TokenPair(access, refresh, utcnow() + timedelta(minutes=5)))
        spent = await OAuthClient(fake.url, APP_ID, APP_SECRET).refresh(refresh)  # someone else used it
        assert spent.refresh_token != refresh
        fake.interacted(MEMBER)
        with caplog.at_level(logging.ERROR), pytest.raises(ReconnectNeeded):
            await channel.send(ChatRef("zalo_oa", MEMBER), Reply("x"))
        assert channel.health()["ok"] is False
        assert "htxbot zalo-oa connect" in caplog.text
        assert [ref for ref, _ in admin.sent] == [ChatRef("telegram", "99")]
        assert "htxbot zalo-oa connect" in admin.sent[0][1].text
        with pytest.raises(ReconnectNeeded):  # and again: still loud, admins told only once
            await channel.send(ChatRef("zalo_oa", MEMBER), Reply("x"))
        assert len(admin.sent) == 1
        assert access not in caplog.text and refresh not in caplog.text
    finally:
        await channel.stop()
        await app.close()


async def test_connect_with_pkce_stores_encrypted_tokens(tmp_path: Path, fake: FakeOAServer,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    config = with_oa(make_config(tmp_path), fake)
    seen: dict[str, str] = {}

    async def admin_consents(url: str, state: str) -> str:
        query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        assert urlsplit(url).path == "/v4/oa/permission" and query["app_id"] == APP_ID
        seen["code"] = fake.authorize(query["code_challenge"])
        return code_from_answer(f"{config.zalo_oa.redirect_uri}?code={seen['code']}&state={state}&oa_id=1", state)

    assert await connect(config, admin_consents) == 0
    db = Database(config.database.url)
    try:
        async with db.unit() as s:
            row = await s.scalar(select(ZaloOAToken))
        assert row is not None and row.version == 1 and not row.needs_connect
        plain = TokenCipher(config.zalo_oa.token_key).decrypt(row.access_token)
        assert plain.startswith("acc-") and plain not in row.access_token and "ref-" not in row.refresh_token
        assert plain not in capsys.readouterr().out
    finally:
        await db.close()
    # the same code cannot be used twice
    async def replay(url: str, state: str) -> str:
        return seen["code"]

    assert await connect(config, replay) == 1


def test_a_wrong_state_in_the_pasted_redirect_is_refused() -> None:
    from bot.config import ConfigError

    with pytest.raises(ConfigError):
        code_from_answer("https://x/cb?code=abc&state=other", "mine")
    assert code_from_answer("  abc  ", "mine") == "abc"
