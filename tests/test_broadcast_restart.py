"""A broadcast killed midway and finished by a new process: nobody missed, nobody messaged twice."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import App
from bot.config import Config
from bot.storage.models_staff import SENDING, UNCERTAIN
from bot.storage.repo import broadcasts
from tests.broadcast_support import TimedFakeTelegram, seed_users
from tests.conftest import FIXTURE_KB, ROOT
from tests.staff_support import make_config

RECIPIENTS = 1000
RATE = 100


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[tuple[App, TimedFakeTelegram, int]]:
    app = await App.open(make_config(tmp_path, rate=RATE))
    await seed_users(app, "telegram", RECIPIENTS)
    async with app.db.unit() as s:
        bid = await broadcasts.create_broadcast(s, created_by="t", text="Hạn nộp báo cáo năm", audience={})
    async with TimedFakeTelegram() as fake:
        yield app, fake, bid
    await app.close()


async def start_worker(config: Config, fake: TimedFakeTelegram, *extra: str) -> asyncio.subprocess.Process:
    env = {**os.environ, "HTXBOT_DATABASE__URL": config.database.url, "HTXBOT_KNOWLEDGE__PATH": str(FIXTURE_KB),
           "HTXBOT_TELEGRAM__TOKEN": fake.token, "HTXBOT_TELEGRAM__BASE_URL": fake.base_url,
           "HTXBOT_TELEGRAM__BASE_FILE_URL": fake.base_file_url, "HTXBOT_WEB__LINK_SECRET": "x",
           "HTXBOT_BROADCAST__RATE_PER_SECOND": str(RATE), "HTXBOT_BOT__LOG_LEVEL": "WARNING",
           "HTXBOT_TELEGRAM__MAX_RATE_PER_SECOND": "0"}
    return await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "broadcast", "work", *extra, cwd=ROOT,
                                                env=env, stdout=asyncio.subprocess.DEVNULL)


async def stop_worker(proc: asyncio.subprocess.Process, sig: signal.Signals) -> None:
    proc.send_signal(sig)
    await asyncio.wait_for(proc.wait(), 30)


async def report(app: App, bid: int) -> broadcasts.BroadcastReport:
    async with app.db.unit() as s:
        result = await broadcasts.broadcast_report(s, bid)
    assert result is not None
    return result


async def test_sigterm_midway_then_new_process_finishes_exactly_once(setup: tuple[App, TimedFakeTelegram, int]) -> None:
    app, fake, bid = setup
    first = await start_worker(app.config, fake)
    await fake.wait_for_calls("sendMessage", 300, timeout=60)
    await stop_worker(first, signal.SIGTERM)
    midway = await report(app, bid)
    assert 300 <= midway.count("sent") < RECIPIENTS and midway.count(SENDING) == 0
    assert midway.count("sent") == len(fake.delivered_chats())  # every accepted message was recorded
    second = await start_worker(app.config, fake)
    await fake.wait_for_calls("sendMessage", RECIPIENTS, timeout=60)
    await stop_worker(second, signal.SIGTERM)
    final = await report(app, bid)
    delivered = Counter(fake.delivered_chats())
    assert len(delivered) == RECIPIENTS and set(delivered.values()) == {1}
    assert (final.status, final.count("sent"), final.pending) == ("done", RECIPIENTS, 0)


async def test_hard_kill_never_resends_an_interrupted_row(setup: tuple[App, TimedFakeTelegram, int]) -> None:
    """SIGKILL can land between the platform accepting a message and "sent" being committed. Those
    rows are reported as uncertain rather than re-sent: no duplicates, and the gap is visible. The new
    process on the same machine takes them over at once (the dead process's heartbeat is discarded)."""
    app, fake, bid = setup
    first = await start_worker(app.config, fake)
    await fake.wait_for_calls("sendMessage", 300, timeout=60)
    await stop_worker(first, signal.SIGKILL)
    second = await start_worker(app.config, fake, "--exit-when-idle")  # default lease: takeover is immediate
    assert await asyncio.wait_for(second.wait(), 60) == 0
    final = await report(app, bid)
    delivered = Counter(fake.delivered_chats())
    assert set(delivered.values()) == {1}  # nobody twice
    assert final.count("sent") + final.count(UNCERTAIN) == RECIPIENTS and final.pending == 0
    assert final.count(UNCERTAIN) <= 25  # at most the rows in flight when the process died (concurrency)
    assert final.count("sent") <= len(delivered) <= RECIPIENTS
