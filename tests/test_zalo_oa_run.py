"""`htxbot run` with only the OA configured, as a real process against the stand-in OA: webhook, answers, exit."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import aiohttp
from cryptography.fernet import Fernet

from bot.channels.zalo_oa_api import OAuthClient, TokenPair
from bot.channels.zalo_oa_tokens import TokenCipher, TokenStore
from bot.storage.db import Database
from bot.storage.models import utcnow
from tests.conftest import FIXTURE_KB, free_port
from tests.fakes.zalo_oa_server import APP_ID, APP_SECRET, OA_SECRET, FakeOAServer, Sent

ROOT = Path(__file__).resolve().parent.parent
MEMBER = "2468458835296197922"


async def wait_for(check: Callable[[], bool], timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_htxbot_run_answers_a_follower_over_the_webhook(tmp_path: Path) -> None:
    fake = FakeOAServer()
    await fake.start()
    port, key = free_port(), Fernet.generate_key().decode()
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    db = Database(db_url)
    await db.upgrade()
    access, refresh = fake.grant()  # as `htxbot zalo-oa connect` would have stored them
    await TokenStore(db, TokenCipher(key), OAuthClient(fake.url, APP_ID, APP_SECRET)).save(
        TokenPair(access, refresh, utcnow() + timedelta(hours=25)))
    await db.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HTXBOT_")}
    env.update({"HTXBOT_DATABASE__URL": db_url, "HTXBOT_KNOWLEDGE__PATH": str(FIXTURE_KB),
                "HTXBOT_WEB__PORT": str(port), "HTXBOT_WEB__LINK_SECRET": "x" * 16,
                "HTXBOT_ZALO_OA__APP_ID": APP_ID, "HTXBOT_ZALO_OA__APP_SECRET": APP_SECRET,
                "HTXBOT_ZALO_OA__OA_SECRET_KEY": OA_SECRET, "HTXBOT_ZALO_OA__TOKEN_KEY": key,
                "HTXBOT_ZALO_OA__OPENAPI_BASE": fake.url, "HTXBOT_ZALO_OA__OAUTH_BASE": fake.url,
                "PYTHONPATH": str(ROOT)})
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", env=env,
                                                cwd=str(tmp_path), stderr=asyncio.subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session:
            async def healthy() -> bool:
                try:
                    async with session.get(base + "/zalo-oa/healthz") as resp:
                        return resp.status == 200
                except aiohttp.ClientError:
                    return False

            for _ in range(300):
                if await healthy():
                    break
                assert proc.returncode is None, "the bot exited at start-up"
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("the bot never became healthy")
            async with session.get(base + "/healthz") as resp:  # the shared server reports the OA too
                assert resp.status == 200 and (await resp.json())["channels"]["zalo_oa"]["ok"]
        fake.webhook_url = base + "/zalo-oa/webhook"

        def mine() -> list[Sent]:
            return [s for s in fake.sent if s.user_id == MEMBER]

        await fake.send_event(fake.event("follow", MEMBER))
        await wait_for(lambda: len(mine()) >= 1)
        assert "Xin chào" in mine()[0].message["text"]
        await fake.send_event(fake.text_event(MEMBER, "Thành lập hợp tác xã cần tối thiểu bao nhiêu thành viên?"))
        await wait_for(lambda: any((s.message.get("attachment") or {}).get("type") == "template" for s in mine()))
        [answer] = [s for s in mine() if (s.message.get("attachment") or {}).get("type") == "template"]
        menu = [b["payload"] for b in answer.message["attachment"]["payload"]["buttons"] if b["title"] == "📋 Menu"]
        count = len(mine())
        await fake.send_event(fake.text_event(MEMBER, menu[0]))  # pressing "Menu"
        await wait_for(lambda: len(mine()) > count)
        assert "chọn một mục dưới đây" in mine()[-1].message["text"]
        refused = await fake.send_event(fake.text_event(MEMBER, "xin chào"), key="wrong")
        assert [a.status for a in refused] == [401]
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 30)
        await fake.close()
    assert proc.returncode == 0, err.decode()[-2000:]
    assert access not in err.decode() and refresh not in err.decode()
