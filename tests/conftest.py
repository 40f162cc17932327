"""Shared fixtures: a config on a temporary SQLite file, the real App, and PostgreSQL when reachable."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import App
from bot.config import Config, load_config
from bot.core.types import ChannelCapabilities, ChatRef, Incoming, Reply
from bot.runtime import build_app
from tests.fakes.zalo_server import FakeZaloServer

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_KB = ROOT / "tests" / "fixtures" / "kb"
PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/test"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now (for a server a test starts)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_config(tmp_path: Path, kb: Path | None = None, **env: str) -> Config:
    base = {
        "HTXBOT_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        "HTXBOT_KNOWLEDGE__PATH": str(kb or FIXTURE_KB),
        "HTXBOT_WEB__LINK_SECRET": "test-link-secret",
    }
    base.update(env)
    return load_config(env=base)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return make_config(tmp_path)


@pytest.fixture
async def app(config: Config) -> AsyncIterator[App]:
    application = await build_app(config)
    yield application
    await application.close()


class Chat:
    """A user talking to the App, like a person in a messenger: `say` returns the bot's texts."""

    def __init__(self, app: App, user: str = "u1", channel: str = "test", name: str = "Lan") -> None:
        self.app, self.user, self.channel, self.name = app, user, channel, name
        self.last: list[Reply] = []

    async def say(self, text: str = "", payload: str | None = None, message_id: str | None = None) -> str:
        incoming = Incoming(channel=self.channel, chat_id=self.user, user_id=self.user, display_name=self.name,
                            text=text, payload=payload, message_id=message_id)
        self.last = await self.app.handle(incoming)
        return "\n\n".join(r.text for r in self.last)

    def buttons(self) -> list[tuple[str, str]]:
        return [(b.label, b.payload) for r in self.last for b in r.buttons]


class RecordingChannel:
    """A channel at the edge of the system that records what it was asked to send."""

    def __init__(self, name: str, capabilities: ChannelCapabilities) -> None:
        self.name = name
        self.capabilities = capabilities
        self.sent: list[tuple[ChatRef, Reply]] = []

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def send(self, ref: ChatRef, reply: Reply) -> None:
        self.sent.append((ref, reply))

    def web_routes(self) -> list[object]:
        return []


@pytest.fixture
async def zalo_server() -> AsyncIterator[FakeZaloServer]:
    """The fake Zalo Bot API on 127.0.0.1, answering idle polls with 408 after 50 ms."""
    fake = FakeZaloServer(idle_wait=0.05)
    await fake.start()
    yield fake
    await fake.close()


def _pg_reachable() -> str | None:
    try:
        import asyncpg
    except ImportError as exc:  # pragma: no cover - asyncpg is a dependency
        return f"asyncpg missing: {exc}"

    async def probe() -> None:
        conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=3)
        await conn.close()

    try:
        asyncio.run(probe())
    except Exception as exc:  # noqa: BLE001 - any failure means "unreachable" for the skip reason
        return f"PostgreSQL at 127.0.0.1:5432 unreachable: {type(exc).__name__}: {exc}"
    return None


@pytest.fixture(scope="session")
def postgres_dsn() -> str:
    """The admin DSN of the project's PostgreSQL; skips (with the reason shown) where unreachable."""
    reason = _pg_reachable()
    if reason:
        pytest.skip(reason)
    return PG_ADMIN_DSN


async def pg_execute(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def fresh_pg_config(request: pytest.FixtureRequest, tmp_path: Path) -> Config:
    """A config on a new PostgreSQL schema that is dropped when the test ends."""
    request.getfixturevalue("postgres_dsn")
    schema = f"htxbot_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(pg_execute(f'CREATE SCHEMA "{schema}"'))
    request.addfinalizer(lambda: asyncio.run(pg_execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')))
    return make_config(tmp_path, HTXBOT_DATABASE__URL="postgresql+asyncpg://postgres@127.0.0.1:5432/test",
                       HTXBOT_DATABASE__SCHEMA=schema)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_config(request: pytest.FixtureRequest, tmp_path: Path) -> Config:
    """The same config on SQLite and on the real PostgreSQL (fresh schema per test)."""
    if request.param == "sqlite":
        return make_config(tmp_path)
    return fresh_pg_config(request, tmp_path)
