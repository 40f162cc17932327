"""Engine, units of work and migrations. SQLite file by default, PostgreSQL by URL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session

from bot.config import ConfigError
from bot.errors import DatabaseUnavailable

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class Database:
    """Owns the engine; hands out one session per unit of work."""

    def __init__(self, url: str, echo: bool = False, schema: str = "") -> None:
        try:
            self.url = make_url(url)
        except ArgumentError:
            raise ConfigError(f"database.url: not a database URL: {url.split('@')[-1]!r}") from None
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self.schema = schema
        # The SQLite file, None for PostgreSQL and in-memory databases.
        self.sqlite_path: Path | None = None
        connect_args: dict[str, Any] = {}
        if self.is_sqlite:
            database = self.url.database or ""
            if database and database != ":memory:":
                self.sqlite_path = Path(database)
                self.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
            connect_args["timeout"] = 30
        else:  # named in pg_stat_activity, so an operator (or a test) can tell the bot's connections apart
            connect_args["server_settings"] = {"application_name": f"htxbot:{schema}" if schema else "htxbot"}
            if schema:
                connect_args["server_settings"]["search_path"] = schema
        try:
            # pre-ping on PostgreSQL: after a server restart a pooled connection is replaced instead of
            # failing the next user's turn.
            self.engine: AsyncEngine = create_async_engine(self.url, echo=echo, connect_args=connect_args,
                                                           pool_pre_ping=not self.is_sqlite)
        except (NoSuchModuleError, ArgumentError, ImportError) as exc:
            raise ConfigError(f"database.url: unsupported driver {self.url.drivername!r} "
                              "(use sqlite+aiosqlite:// or postgresql+asyncpg://)") from exc
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        # A Session subclass of our own, so that session events (metrics) concern this database only.
        self.session_class: type[Session] = type("HtxbotSession", (Session,), {})
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False, sync_session_class=self.session_class)

    @asynccontextmanager
    async def unit(self) -> AsyncIterator[AsyncSession]:
        """One transaction: committed when the block ends, rolled back on error."""
        async with self._sessions() as session, session.begin():
            yield session

    def describe(self) -> str:
        """The URL without its password, for messages."""
        return self.url.render_as_string(hide_password=True)

    async def connect_check(self, timeout: float = 10.0) -> None:
        """Raise DatabaseUnavailable unless the server accepts a connection (before any migration)."""
        try:
            async with asyncio.timeout(timeout), self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001 - every driver error means the same thing here
            raise DatabaseUnavailable(f"cannot connect to {self.describe()}: {_one_line(exc)}") from exc

    async def ping(self, timeout: float = 3.0) -> None:
        """Raise DatabaseUnavailable unless our tables answer within `timeout` seconds (for /healthz)."""
        if self.sqlite_path is not None and not self.sqlite_path.exists():
            raise DatabaseUnavailable(f"the SQLite file {self.sqlite_path} is gone")
        try:
            async with asyncio.timeout(timeout), self.engine.connect() as conn:
                await conn.execute(text("SELECT version_num FROM alembic_version"))
        except Exception as exc:  # noqa: BLE001
            raise DatabaseUnavailable(_one_line(exc)) from exc

    async def upgrade(self, target: str = "heads") -> None:
        """Apply the Alembic migrations up to `target` (default: all heads)."""
        async with self.engine.begin() as conn:
            await conn.run_sync(_run_upgrade, target)

    async def close(self) -> None:
        await self.engine.dispose()


def _one_line(exc: BaseException) -> str:
    """The first line of an error, prefixed with its type (driver messages run over many lines)."""
    if isinstance(exc, TimeoutError):
        return "no answer (timeout)"
    first = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [""])[0]
    return f"{type(getattr(exc, 'orig', None) or exc).__name__}: {first}"[:300]


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _run_upgrade(connection: Connection, target: str) -> None:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, target)
