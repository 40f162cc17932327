"""A broadcast through `htxbot run telegram` killed with SIGKILL three times, with 429s, 403s and late
answers injected: counts duplicates, final statuses, and uncertain rows per kill.

    python bench/broadcast_crash.py --recipients 2000 --rate 30 --kills 3
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import App  # noqa: E402
from bot.config import load_config  # noqa: E402
from bot.storage.repo import broadcasts  # noqa: E402
from tests.broadcast_support import TimedFakeTelegram, seed_users  # noqa: E402

FIXTURE_KB = ROOT / "tests" / "fixtures" / "kb"


async def report(env: dict[str, str], bid: int) -> broadcasts.BroadcastReport:
    app = await App.open(load_config(env=env))
    try:
        async with app.db.unit() as s:
            result = await broadcasts.broadcast_report(s, bid)
    finally:
        await app.close()
    assert result is not None
    return result


async def run(recipients: int, rate: float, kills: int) -> None:
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "HTXBOT_DATABASE__URL": f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}",
               "HTXBOT_KNOWLEDGE__PATH": str(FIXTURE_KB), "HTXBOT_WEB__LINK_SECRET": "bench",
               "HTXBOT_BROADCAST__RATE_PER_SECOND": str(rate), "HTXBOT_BOT__LOG_LEVEL": "WARNING",
               "HTXBOT_TELEGRAM__MAX_RATE_PER_SECOND": "0", "HTXBOT_TELEGRAM__READ_TIMEOUT": "1"}
        app = await App.open(load_config(env=env))
        ids = [int(i) for i in await seed_users(app, "telegram", recipients)]
        async with app.db.unit() as s:
            bid = await broadcasts.create_broadcast(s, created_by="bench", text="Thông báo thử sự cố", audience={})
        await app.close()
        async with TimedFakeTelegram() as fake:
            blocked = set(rng.sample(ids, recipients // 50))
            for chat in blocked:
                fake.answer_403(chat)
            for chat in rng.sample(ids, recipients // 40):
                fake.answer_429(chat, retry_after=1)
            late = set(rng.sample(sorted(set(ids) - blocked), recipients // 200))
            for chat in late:
                fake.answer_late(chat, delay=2.0)  # delivered, answered after the client's 1 s timeout
            env.update({"HTXBOT_TELEGRAM__TOKEN": fake.token, "HTXBOT_TELEGRAM__BASE_URL": fake.base_url,
                        "HTXBOT_TELEGRAM__BASE_FILE_URL": fake.base_file_url})
            log = Path(tmp) / "bot.log"
            uncertain_after: list[int] = []
            started = time.monotonic()
            for n in range(kills + 1):
                with log.open("ab") as out:
                    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", "telegram",
                                                                cwd=ROOT, env=env, stdout=out, stderr=out)
                if n < kills:
                    seen = len(fake.calls_to("sendMessage"))
                    target = seen + rng.randint(recipients // 8, recipients // 5)
                    while len(fake.calls_to("sendMessage")) < target and proc.returncode is None:
                        await asyncio.sleep(0.01)
                    proc.send_signal(signal.SIGKILL)
                    await proc.wait()
                    uncertain_after.append((await report(env, bid)).count("sending"))
                else:
                    while (await report(env, bid)).status != "done":
                        await asyncio.sleep(0.5)
                    proc.send_signal(signal.SIGTERM)
                    await proc.wait()
            elapsed = time.monotonic() - started
            final = await report(env, bid)
            delivered = Counter(fake.delivered_chats())
    twice = sum(1 for c in delivered.values() if c > 1)
    print(f"{recipients} recipients at {rate:g}/s, {kills} kill -9 of `htxbot run telegram`, {elapsed:.0f}s")
    print(f"injected: {len(blocked)} blocked (403), {recipients // 40} x 429, {len(late)} late answers")
    print(f"final: {dict(sorted(final.counts.items()))}, total {final.total}, status {final.status}")
    print(f"rows in flight at each kill (become uncertain): {uncertain_after}")
    print(f"recipients messaged twice: {twice}; never messaged: {recipients - len(delivered) - len(blocked)}")
    ends = {"sent", "blocked", "failed", "uncertain"}
    print(f"every row ended sent/blocked/failed/uncertain: {set(final.counts) <= ends}; "
          f"uncertain {final.count('uncertain')} = late answers {len(late)} + rows in flight at kills "
          f"{sum(uncertain_after)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=30.0)
    parser.add_argument("--kills", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(run(args.recipients, args.rate, args.kills))


if __name__ == "__main__":
    main()
