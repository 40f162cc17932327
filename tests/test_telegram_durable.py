"""The durable inbox through a real `htxbot run telegram` process and the fake Bot API.

Messages confirmed to the platform (a getUpdates offset past them) must be answered even if the process
is killed right after: they were stored first. A kill -9 leaves nothing to clean up, so these tests run
the bot as a subprocess and the fake Telegram server in the test process.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from bot.app import App
from bot.config import Config
from bot.storage.repo import inbox
from tests.conftest import FIXTURE_KB, ROOT, free_port, fresh_pg_config, make_config
from tests.fakes.telegram_server import FakeTelegramServer

USERS = 100
PER_USER = 3
FIRST_CHAT = 700_000


def bot_env(config: Config, fake: FakeTelegramServer, **extra: str) -> dict[str, str]:
    """Each process serves /healthz on a port of its own (two bots run side by side here)."""
    return {**os.environ, "HTXBOT_DATABASE__URL": config.database.url, "HTXBOT_WEB__PORT": str(free_port()),
            "HTXBOT_DATABASE__SCHEMA": config.database.schema, "HTXBOT_KNOWLEDGE__PATH": str(FIXTURE_KB),
            "HTXBOT_TELEGRAM__TOKEN": fake.token, "HTXBOT_TELEGRAM__BASE_URL": fake.base_url,
            "HTXBOT_TELEGRAM__BASE_FILE_URL": fake.base_file_url, "HTXBOT_WEB__LINK_SECRET": "x",
            "HTXBOT_BOT__LOG_LEVEL": "WARNING", "HTXBOT_TELEGRAM__MAX_RATE_PER_SECOND": "0",
            "HTXBOT_BROADCAST__WORKER_IN_BOT": "false", **extra}


async def start_bot(config: Config, fake: FakeTelegramServer, log: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", "telegram", cwd=ROOT,
                                                    env=bot_env(config, fake), stdout=out, stderr=out)


async def stop_bot(proc: asyncio.subprocess.Process, sig: signal.Signals = signal.SIGTERM) -> int:
    """Signal the bot and wait (SIGKILL after 10 s); never leaves a process behind."""
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()
    assert proc.returncode is not None
    return proc.returncode


async def until(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {what}")
        await asyncio.sleep(0.02)


def enqueue_questions(fake: FakeTelegramServer) -> int:
    """PER_USER messages from each of USERS people, interleaved; returns the last update_id."""
    last = 0
    for n in range(PER_USER):
        for u in range(USERS):
            last = fake.enqueue_text(FIRST_CHAT + u, f"tin nhắn {n} của người {u}")["update_id"]
    return last


def answers_per_chat(fake: FakeTelegramServer) -> Counter[int]:
    return Counter(int(c.params["chat_id"]) for c in fake.calls_to("sendMessage") if c.status == 200)


async def inbox_counts(config: Config) -> dict[str, int]:
    app = await App.open(config)
    try:
        async with app.db.unit() as s:
            return await inbox.counts(s, "telegram")
    finally:
        await app.close()


async def test_kill_9_after_confirming_300_messages_then_restart_answers_each_once(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    async with FakeTelegramServer() as fake:
        fake.hold_sends()  # the platform stalls: nothing can be answered before the kill
        last = enqueue_questions(fake)
        bot = await start_bot(config, fake, tmp_path / "bot.log")
        try:
            await until(lambda: fake.confirmed >= last, 60, "all 300 updates confirmed")
        finally:
            await stop_bot(bot, signal.SIGKILL)
        assert answers_per_chat(fake) == Counter()
        fake.release_sends()
        again = await start_bot(config, fake, tmp_path / "bot.log")
        try:
            await until(lambda: sum(answers_per_chat(fake).values()) >= USERS * PER_USER, 90, "300 answers")
            await asyncio.sleep(0.5)  # anything extra would show up now
        finally:
            assert await stop_bot(again) == 0
    answered = answers_per_chat(fake)
    assert len(answered) == USERS and set(answered.values()) == {PER_USER}, answered.most_common(3)
    counts = await inbox_counts(config)
    assert counts == {"done": USERS * PER_USER}


async def test_sigterm_during_intake_exits_within_seconds_and_the_rest_is_answered_after(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    async with FakeTelegramServer() as fake:
        fake.hold_sends()  # answers cannot go out: SIGTERM finds every update still in progress
        last = enqueue_questions(fake)
        bot = await start_bot(config, fake, tmp_path / "bot.log")
        try:
            await until(lambda: fake.confirmed >= last, 60, "all 300 updates confirmed")
            started = time.monotonic()
            assert await stop_bot(bot) == 0
            stop_seconds = time.monotonic() - started
        finally:
            await stop_bot(bot, signal.SIGKILL)
        fake.release_sends()
        again = await start_bot(config, fake, tmp_path / "bot.log")
        try:
            await until(lambda: sum(answers_per_chat(fake).values()) >= USERS * PER_USER, 90, "300 answers")
            await asyncio.sleep(0.5)
        finally:
            await stop_bot(again)
    assert stop_seconds < 6  # inbox.shutdown_grace (3 s) and closing, not the whole backlog
    answered = answers_per_chat(fake)
    assert len(answered) == USERS and set(answered.values()) == {PER_USER}


async def test_unparsable_update_is_rejected_once_and_intake_goes_on(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    async with FakeTelegramServer() as fake:
        bad = fake.enqueue_update({"message": {"message_id": 1, "text": "không có chat, không có ngày"}})
        odd = fake.enqueue_update({"message": {**fake.message_dict(FIRST_CHAT, "x"), "text": 12345}})
        lone = fake.enqueue_text(FIRST_CHAT + 1, "chào \ud800 bạn")
        after = fake.enqueue_text(FIRST_CHAT + 2, "xin chào")
        log = tmp_path / "bot.log"
        bot = await start_bot(config, fake, log)
        try:
            await until(lambda: len(answers_per_chat(fake)) == 3, 30, "answers to the three good updates")
            await asyncio.sleep(0.5)
        finally:
            started = time.monotonic()
            assert await stop_bot(bot) == 0
            stop_seconds = time.monotonic() - started
        get_updates = len(fake.calls_to("getUpdates"))
    assert fake.confirmed >= after["update_id"] and odd and lone
    assert get_updates < 20  # no request storm around the bad update
    apology = "Xin lỗi, hệ thống đang gặp sự cố"
    assert not any(apology in t for t in fake.sent_texts())  # odd text and lone surrogates get normal answers
    text = log.read_text(errors="replace")
    assert text.count(f"update {bad['update_id']} rejected") == 1 and "Traceback" not in text
    assert await inbox_counts(config) == {"done": 3, "rejected": 1}
    assert stop_seconds < 5


@pytest.fixture
def pg_config(request: pytest.FixtureRequest, tmp_path: Path) -> Config:
    return fresh_pg_config(request, tmp_path)


@pytest.mark.postgres
async def test_two_processes_share_one_postgres_inbox(pg_config: Config, tmp_path: Path) -> None:
    """Two `htxbot run telegram` on one PostgreSQL inbox (both polling: Telegram would refuse the second
    with 409, the fake lets both take turns): every message answered exactly once."""
    config = pg_config
    await inbox_counts(config)  # migrate once, before two processes start on the fresh schema
    async with FakeTelegramServer() as fake:
        last = enqueue_questions(fake)
        first = await start_bot(config, fake, tmp_path / "a.log")
        second = await start_bot(config, fake, tmp_path / "b.log")
        try:
            await until(lambda: fake.confirmed >= last or sum(answers_per_chat(fake).values()) >= 300, 60,
                        "intake")
            await until(lambda: sum(answers_per_chat(fake).values()) >= USERS * PER_USER, 90, "300 answers")
            await asyncio.sleep(0.5)
        finally:
            for proc in (first, second):
                await stop_bot(proc)
    answered = answers_per_chat(fake)
    assert len(answered) == USERS and set(answered.values()) == {PER_USER}
