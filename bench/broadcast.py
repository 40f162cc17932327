"""Broadcast throughput: N recipients through the real Telegram adapter against the fake Bot API.

Workers run as their own processes (`python -m bot broadcast work --exit-when-idle`, i.e. `htxbot
broadcast work`) on a SQLite file or a fresh PostgreSQL schema; the fake server runs here and
timestamps every call. Prints the achieved rate / configured rate and the busiest one-second window,
beside the same figures for a bare python-telegram-bot process sending the same messages as fast as
it can (the ceiling of the stack).

    python bench/broadcast.py --recipients 2000 --rate 30
    python bench/broadcast.py --recipients 3000 --rate 100 --workers 2 --db postgresql
    python bench/broadcast.py --recipients 5000 --rate 1000     # how fast one worker can go
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import App  # noqa: E402
from bot.config import load_config  # noqa: E402
from bot.storage.repo import broadcasts  # noqa: E402
from tests.broadcast_support import TimedFakeTelegram, max_in_window, seed_users  # noqa: E402

FIXTURE_KB = ROOT / "tests" / "fixtures" / "kb"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
BARE_SENDER = """
import asyncio, sys
from telegram import Bot
from telegram.request import HTTPXRequest
async def main(base_url, token, first, count):
    bot = Bot(token, base_url=base_url, request=HTTPXRequest(connection_pool_size=64))
    slots = asyncio.Semaphore(64)
    async def one(chat):
        async with slots:
            await bot.send_message(chat, "Thông báo thử tải")
    async with bot:
        await asyncio.gather(*(one(first + i) for i in range(count)))
asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])))
"""


async def prepare(env: dict[str, str], recipients: int) -> int:
    config = load_config(env=env)
    app = await App.open(config)
    try:
        await seed_users(app, "telegram", recipients)
        async with app.db.unit() as s:
            return await broadcasts.create_broadcast(s, created_by="bench", text="Thông báo thử tải", audience={})
    finally:
        await app.close()


def figures(times: list[float], configured: float | None) -> str:
    span = max(times[-1] - times[0], 1e-9)
    achieved = len(times) / span
    against = f" = {achieved / configured:.0%} of configured {configured:g}/s" if configured else ""
    return f"{achieved:7.1f} msg/s{against}; busiest 1-second window {max_in_window(times)}"


async def run(recipients: int, rate: float, workers: int, db: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        schema = f"bench_{uuid.uuid4().hex[:10]}" if db == "postgresql" else ""
        url = (f"postgresql+asyncpg://{PG_ADMIN.split('://', 1)[1]}" if schema
               else f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}")
        env = {**os.environ, "HTXBOT_DATABASE__URL": url, "HTXBOT_DATABASE__SCHEMA": schema,
               "HTXBOT_KNOWLEDGE__PATH": str(FIXTURE_KB), "HTXBOT_WEB__LINK_SECRET": "bench",
               "HTXBOT_BROADCAST__RATE_PER_SECOND": str(rate), "HTXBOT_BOT__LOG_LEVEL": "WARNING",
               "HTXBOT_TELEGRAM__MAX_RATE_PER_SECOND": "0"}
        if schema:
            await _pg(f'CREATE SCHEMA "{schema}"')
        try:
            await prepare(env, recipients)
            async with TimedFakeTelegram() as fake:
                env.update({"HTXBOT_TELEGRAM__TOKEN": fake.token, "HTXBOT_TELEGRAM__BASE_URL": fake.base_url,
                            "HTXBOT_TELEGRAM__BASE_FILE_URL": fake.base_file_url})
                procs = [await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "bot", "broadcast", "work", "--exit-when-idle", cwd=ROOT, env=env,
                    stdout=asyncio.subprocess.DEVNULL) for _ in range(workers)]
                codes = [await p.wait() for p in procs]
                ours = fake.send_times()
                delivered = fake.delivered_chats()
            async with TimedFakeTelegram() as fake:
                bare = await asyncio.create_subprocess_exec(sys.executable, "-c", BARE_SENDER, fake.base_url,
                                                            fake.token, "100000", str(recipients), cwd=ROOT)
                await bare.wait()
                ceiling = fake.send_times()
        finally:
            if schema:
                await _pg(f'DROP SCHEMA "{schema}" CASCADE')
    if any(codes) or not ours:
        sys.exit(f"workers exited with {codes}; {len(ours)} messages seen")
    print(f"{recipients} recipients, {workers} worker(s), database {db}; delivered {len(delivered)} messages "
          f"to {len(set(delivered))} chats")
    print(f"htxbot broadcast work: {figures(ours, rate)}")
    print(f"bare PTB sender:       {figures(ceiling, None)}")


async def _pg(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=30.0, help="broadcast.rate_per_second")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    asyncio.run(run(args.recipients, args.rate, args.workers, args.db))


if __name__ == "__main__":
    main()
