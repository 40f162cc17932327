"""Broadcast throughput: N recipients through the real Telegram adapter against the fake Bot API.

The worker runs as its own process (`python -m bot broadcast work --exit-when-idle`, i.e.
`htxbot broadcast work`) on a SQLite file; the fake server runs here and timestamps every call.
Prints messages/second achieved versus the configured limit, and the busiest one-second window.

    python bench/broadcast.py --recipients 10000 --rate 25      # production-like pace
    python bench/broadcast.py --recipients 10000 --rate 1000    # how fast one worker can go
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import App  # noqa: E402
from bot.config import load_config  # noqa: E402
from bot.storage.repo import broadcasts  # noqa: E402
from tests.broadcast_support import TimedFakeTelegram, max_in_window, seed_users  # noqa: E402

FIXTURE_KB = ROOT / "tests" / "fixtures" / "kb"


async def prepare(db_url: str, recipients: int) -> int:
    config = load_config(env={"HTXBOT_DATABASE__URL": db_url, "HTXBOT_KNOWLEDGE__PATH": str(FIXTURE_KB)})
    app = await App.open(config)
    try:
        await seed_users(app, "telegram", recipients)
        async with app.db.unit() as s:
            return await broadcasts.create_broadcast(s, created_by="bench", text="Thông báo thử tải", audience={})
    finally:
        await app.close()


async def run(recipients: int, rate: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        t0 = time.monotonic()
        await prepare(db_url, recipients)
        print(f"seeded {recipients} recipients in {time.monotonic() - t0:.1f}s")
        async with TimedFakeTelegram() as fake:
            env = {**os.environ, "HTXBOT_DATABASE__URL": db_url, "HTXBOT_KNOWLEDGE__PATH": str(FIXTURE_KB),
                   "HTXBOT_TELEGRAM__TOKEN": fake.token, "HTXBOT_TELEGRAM__BASE_URL": fake.base_url,
                   "HTXBOT_TELEGRAM__BASE_FILE_URL": fake.base_file_url, "HTXBOT_WEB__LINK_SECRET": "bench",
                   "HTXBOT_BROADCAST__RATE_PER_SECOND": str(rate), "HTXBOT_BOT__LOG_LEVEL": "WARNING",
           "HTXBOT_TELEGRAM__MAX_RATE_PER_SECOND": "0"}
            worker = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "broadcast", "work", "--exit-when-idle", cwd=ROOT, env=env,
                stdout=asyncio.subprocess.DEVNULL)
            code = await worker.wait()
        times = fake.send_times()
    if code != 0 or not times:
        sys.exit(f"worker exited with {code}; {len(times)} messages seen")
    span = max(times[-1] - times[0], 1e-9)
    print(f"delivered {len(fake.delivered_chats())} messages to {len(set(fake.delivered_chats()))} chats "
          f"in {span:.1f}s")
    print(f"achieved {len(times) / span:.1f} msg/s vs configured {rate:g} msg/s; "
          f"busiest 1-second window: {max_in_window(times)} messages")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=25.0, help="broadcast.rate_per_second")
    args = parser.parse_args()
    asyncio.run(run(args.recipients, args.rate))


if __name__ == "__main__":
    main()
