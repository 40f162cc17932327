"""`htxbot run` as an operator starts it: one real process, every configured channel, one port.

The bot runs as a subprocess against the fake Telegram and Zalo servers (served by this test's event
loop); the test talks to it over HTTP like the platforms and a monitoring system would.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.config import Config
from tests.conftest import FIXTURE_KB, free_port, fresh_pg_config, make_config, pg_execute
from tests.fakes.telegram_server import FakeTelegramServer
from tests.fakes.zalo_server import FakeZaloServer, text_update

TG_SECRET = "tg-webhook-secret"
ZALO_SECRET = "zalo-webhook-secret"
QUESTION = "thanh lap htx can toi thieu bao nhieu thanh vien"
START_TIMEOUT = 60.0


class BotProcess:
    """`python -m bot run` with the given environment; stderr kept in a file for the assertions."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env, self.cwd = env, cwd
        self.port = int(env["HTXBOT_WEB__PORT"])
        self.url = f"http://127.0.0.1:{self.port}"
        self.stderr_path = cwd / "bot-stderr.log"
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with self.stderr_path.open("wb") as err:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", env=self.env, cwd=self.cwd,
                stdout=asyncio.subprocess.DEVNULL, stderr=err)
        deadline = time.monotonic() + START_TIMEOUT
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                assert self.proc.returncode is None, f"the bot exited: {self.stderr()}"
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(f"{self.url}/healthz") as resp:
                        if resp.status == 200:
                            return
                await asyncio.sleep(0.2)  # bounded: the deadline above
        raise AssertionError(f"the bot did not become healthy: {self.stderr()}")

    async def stop(self) -> int:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.proc.wait(), 30)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
            raise

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    async def get(self, path: str) -> tuple[int, str]:
        async with aiohttp.ClientSession() as http, http.get(f"{self.url}{path}") as resp:
            return resp.status, await resp.text()

    async def post(self, path: str, body: dict[str, object], headers: dict[str, str]) -> int:
        async with aiohttp.ClientSession() as http, http.post(f"{self.url}{path}", json=body,
                                                                headers=headers) as resp:
            return resp.status


@contextlib.asynccontextmanager
async def fakes() -> AsyncIterator[tuple[FakeTelegramServer, FakeZaloServer]]:
    zalo = FakeZaloServer(idle_wait=0.2)
    await zalo.start()
    try:
        async with FakeTelegramServer() as telegram:
            yield telegram, zalo
    finally:
        await zalo.close()


def bot_env(config: Config, telegram: FakeTelegramServer, zalo: FakeZaloServer, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HTXBOT_")}
    env.update({
        "HTXBOT_DATABASE__URL": config.database.url,
        "HTXBOT_DATABASE__SCHEMA": config.database.schema,
        "HTXBOT_KNOWLEDGE__PATH": str(FIXTURE_KB),
        "HTXBOT_WEB__PORT": str(free_port()),
        "HTXBOT_WEB__LINK_SECRET": "link-secret",
        "HTXBOT_TELEGRAM__TOKEN": telegram.token,
        "HTXBOT_TELEGRAM__BASE_URL": telegram.base_url,
        "HTXBOT_TELEGRAM__BASE_FILE_URL": telegram.base_file_url,
        "HTXBOT_ZALO__TOKEN": zalo.token,
        "HTXBOT_ZALO__BASE_URL": zalo.base_url,
    })
    env.update(extra)
    return env


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in the Prometheus text format (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        key, _, value = line.rpartition(" ")
        sample, _, raw_labels = key.partition("{")
        got = ",".join(sorted(raw_labels.rstrip("}").split(","))) if raw_labels else ""
        if sample == name and got == wanted:
            return float(value)
    return 0.0


async def test_one_process_serves_telegram_and_zalo_webhooks_on_one_port(tmp_path: Path) -> None:
    async with fakes() as (telegram, zalo):
        env = bot_env(make_config(tmp_path), telegram, zalo, HTXBOT_BOT__LOG_FORMAT="json",
                      HTXBOT_TELEGRAM__MODE="webhook", HTXBOT_TELEGRAM__WEBHOOK_SECRET=TG_SECRET,
                      HTXBOT_ZALO__MODE="webhook", HTXBOT_ZALO__WEBHOOK_SECRET=ZALO_SECRET)
        bot = BotProcess(env, tmp_path)
        await bot.start()
        try:
            update = telegram.text_update(42, QUESTION)
            assert await bot.post("/telegram/webhook", update, {"X-Telegram-Bot-Api-Secret-Token": TG_SECRET}) == 200
            zalo_update = text_update(QUESTION, chat_id="z-7", user_id="z-7", message_id="zm-1")
            assert await bot.post("/zalo/webhook", zalo_update, {"X-Bot-Api-Secret-Token": ZALO_SECRET}) == 200
            [tg_reply] = await telegram.wait_for_calls("sendMessage", chat_id=42, timeout=20)
            await zalo.wait_for_calls("sendMessage", 1, timeout=20)
            assert "17/2023/QH15" in str(tg_reply.params["text"])
            assert "17/2023/QH15" in zalo.sent_texts("z-7")[0]

            status, health = await bot.get("/healthz")
            assert status == 200, health
            assert set(json.loads(health)["channels"]) == {"telegram", "zalo"}
            status, page = await bot.get("/metrics")
            assert status == 200
            for channel in ("telegram", "zalo"):
                assert metric(page, "htxbot_messages_in_total", channel=channel) == 1
                assert metric(page, "htxbot_messages_out_total", channel=channel) >= 1
                assert metric(page, "htxbot_questions_total", channel=channel, outcome="answered") == 1
                assert metric(page, "htxbot_answer_latency_seconds_count", channel=channel) == 1
        finally:
            code = await bot.stop()
        assert code == 0, bot.stderr()
        lines = [line for line in bot.stderr().splitlines() if line.strip()]
        assert lines and all(json.loads(line)["level"] for line in lines)  # JSON log lines only


def _kill_sqlite(config: Config) -> None:
    path = Path(config.database.url.split(":///", 1)[1])
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


async def _kill_postgres(config: Config) -> None:
    schema = config.database.schema
    await pg_execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    await pg_execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     f"WHERE application_name = 'htxbot:{schema}'")


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def test_polling_both_channels_then_killing_the_database_makes_healthz_503(
        backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    config = make_config(tmp_path) if backend == "sqlite" else await asyncio.to_thread(
        fresh_pg_config, request, tmp_path)
    async with fakes() as (telegram, zalo):
        bot = BotProcess(bot_env(config, telegram, zalo), tmp_path)
        await bot.start()
        try:
            telegram.enqueue_text(5, QUESTION)
            zalo.push_text(QUESTION, chat_id="z-5")
            await telegram.wait_for_calls("sendMessage", chat_id=5, timeout=20)
            await zalo.wait_for_calls("sendMessage", 1, timeout=20)
            status, health = await bot.get("/healthz")
            report = json.loads(health)
            assert status == 200 and report["database"] == "ok"
            assert {name: c["mode"] for name, c in report["channels"].items()} == {"telegram": "polling",
                                                                                 "zalo": "polling"}
            assert all(c["last_ok_age_seconds"] < 30 for c in report["channels"].values())
            _, page = await bot.get("/metrics")
            assert metric(page, "htxbot_channel_last_ok_age_seconds", channel="zalo", mode="polling") < 30

            if backend == "sqlite":
                _kill_sqlite(config)
            else:
                await _kill_postgres(config)
            status, health = await bot.get("/healthz")
            assert status == 503, health
            report = json.loads(health)
            assert report["ok"] is False and report["database"] != "ok"
            assert any(p.startswith("database:") for p in report["problems"])
        finally:
            await bot.stop()


@pytest.mark.postgres
async def test_after_postgresql_drops_the_connections_the_next_message_is_answered(
        request: pytest.FixtureRequest, tmp_path: Path) -> None:
    from bot.core.channel import APOLOGY
    from bot.core.types import Incoming
    from bot.runtime import build_app

    config = await asyncio.to_thread(fresh_pg_config, request, tmp_path)
    app = await build_app(config)
    try:
        ask = Incoming(channel="test", chat_id="u", user_id="u", text=QUESTION)
        assert "17/2023/QH15" in (await app.handle(ask))[0].text
        await pg_execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         f"WHERE application_name = 'htxbot:{config.database.schema}'")  # a server restart
        replies = await app.handle(ask)
        assert replies[0].text != APOLOGY and "17/2023/QH15" in replies[0].text
        await app.db.ping()
    finally:
        await app.close()
