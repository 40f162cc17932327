"""Interactive throughput: members asking in turn through `htxbot run telegram` against the fake Bot API,
beside a bare python-telegram-bot echo bot against the same fake (the ceiling of the stack).

Each member sends a question, waits for the answer, then asks again (a closed loop). Prints messages
answered per second and the p95 reply latency (question queued → answer received by the fake) for both.

    python bench/intake.py --members 200 --seconds 15 [--db postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes.telegram_server import ApiCall, FakeTelegramServer  # noqa: E402

FIXTURE_KB = ROOT / "tests" / "fixtures" / "kb"
QUESTION = "Thành lập hợp tác xã cần tối thiểu bao nhiêu thành viên?"
FIRST_CHAT = 900_000
PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


class AskingInTurn(FakeTelegramServer):
    """The fake Bot API, with members who ask again as soon as they get an answer."""

    def __init__(self, members: int) -> None:
        super().__init__()
        self.members = members
        self.asked: dict[int, float] = {}
        self.latencies: list[float] = []
        self.running = False

    def ask(self, chat_id: int) -> None:
        self.asked[chat_id] = time.monotonic()
        self.enqueue_text(chat_id, QUESTION)

    def start_asking(self) -> None:
        self.running = True
        for i in range(self.members):
            self.ask(FIRST_CHAT + i)

    def _record(self, call: ApiCall) -> None:
        super()._record(call)
        if call.method != "sendMessage" or call.status != 200:
            return
        chat_id = int(call.params["chat_id"])
        asked = self.asked.pop(chat_id, None)
        if asked is not None and self.running:
            self.latencies.append(time.monotonic() - asked)
            self.ask(chat_id)


async def measure(command: list[str], env: dict[str, str], members: int, seconds: float) -> tuple[float, float]:
    async with AskingInTurn(members) as fake:
        env = {**env, "HTXBOT_TELEGRAM__TOKEN": fake.token, "HTXBOT_TELEGRAM__BASE_URL": fake.base_url,
               "HTXBOT_TELEGRAM__BASE_FILE_URL": fake.base_file_url}
        args = [a.replace("{base_url}", fake.base_url).replace("{token}", fake.token) for a in command]
        proc = await asyncio.create_subprocess_exec(*args, cwd=ROOT, env=env, stdout=asyncio.subprocess.DEVNULL,
                                                    stderr=asyncio.subprocess.DEVNULL)
        try:
            await fake.wait_for_calls("getUpdates", timeout=60)
            fake.ask(FIRST_CHAT - 1)  # warm-up: one answer before the clock starts
            await fake.wait_for_calls("sendMessage", timeout=60)
            fake.asked.clear()
            fake.start_asking()
            await asyncio.sleep(seconds)
            fake.running = False
            answered = len(fake.latencies)
            p95 = statistics.quantiles(fake.latencies, n=20)[-1] if len(fake.latencies) > 20 else float("nan")
        finally:
            proc.terminate()
            await proc.wait()
    return answered / seconds, p95


async def run(members: int, seconds: float, db: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        schema = ""
        if db == "postgresql":
            import asyncpg

            schema = f"bench_{uuid.uuid4().hex[:10]}"
            conn = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/test")
            await conn.execute(f'CREATE SCHEMA "{schema}"')
            await conn.close()
        url = PG_URL if db == "postgresql" else f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        env: dict[str, Any] = {**os.environ, "HTXBOT_DATABASE__URL": url, "HTXBOT_DATABASE__SCHEMA": schema,
                               "HTXBOT_KNOWLEDGE__PATH": str(FIXTURE_KB), "HTXBOT_WEB__LINK_SECRET": "bench",
                               "HTXBOT_BOT__LOG_LEVEL": "WARNING", "HTXBOT_TELEGRAM__MAX_RATE_PER_SECOND": "0",
                               "HTXBOT_BROADCAST__WORKER_IN_BOT": "false"}
        try:
            ours = await measure([sys.executable, "-m", "bot", "run", "telegram"], env, members, seconds)
            bare = await measure([sys.executable, str(ROOT / "bench" / "echo_bot.py"), "{base_url}", "{token}"],
                                 env, members, seconds)
        finally:
            if schema:
                import asyncpg

                conn = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/test")
                await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
                await conn.close()
    print(f"{members} members asking in turn for {seconds:g}s, database {db}")
    print(f"{'':28}{'htxbot run telegram':>22}{'bare PTB echo bot':>20}")
    print(f"{'answers per second':28}{ours[0]:>22.1f}{bare[0]:>20.1f}")
    print(f"{'p95 reply latency (s)':28}{ours[1]:>22.3f}{bare[1]:>20.3f}")
    print(f"htxbot reaches {ours[0] / bare[0]:.0%} of the bare bot's answers per second")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    asyncio.run(run(args.members, args.seconds, args.db))


if __name__ == "__main__":
    main()
