"""`htxbot db backup` then `restore` into an empty database gives everything back (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, select, text
from sqlalchemy.engine import Connection

from bot.app import App
from bot.config import Config
from bot.core.types import Attachment, ChannelCapabilities, ChatRef, Reply
from bot.runtime import build_app, open_database
from bot.storage import backup
from bot.storage.db import Database
from bot.storage.repo import broadcasts, registrations, users
from bot.storage.repo.files import get_file
from tests.conftest import FIXTURE_KB, RecordingChannel, fresh_pg_config, make_config

ANSWERS = {"ten": "Hợp tác xã Nông nghiệp Tân Phú", "cccd": "079203001234", "von": 50_000_000}
PICTURE = bytes(range(256)) * 40


async def _fill(app: App) -> str:
    """Members, a completed registration, an announcement with a picture and deliveries, a dossier link."""
    async with app.db.unit() as s:
        for n in range(3):
            await users.touch_user(s, "telegram", f"{n}", f"{n}", f"Người {n}", private=True)
        reg = await registrations.start_draft(s, "telegram", "1", "htx")
        assert await registrations.complete(s, reg, "telegram", "1", ANSWERS)
        await registrations.start_draft(s, "zalo", "z", "tht")
        await broadcasts.create_broadcast(s, created_by="cli:test", text="Hội nghị ngày 5/12", audience={},
                                          attachment=broadcasts.FileData("anh.png", "image/png", PICTURE))
    zalo = RecordingChannel("zalo", ChannelCapabilities(max_text=2000, buttons=False, documents=False))
    app.register_channel(zalo)
    await app.send(ChatRef("zalo", "z"), Reply("Hồ sơ", attachment=Attachment("hs.docx", b"DOCX" * 999, "x/y")))
    url = zalo.sent[0][1].text.split("«hs.docx»: ")[1].split()[0]
    return url.split("/files/")[1].split("?")[0]


def _rows(conn: Connection) -> dict[str, list[Any]]:
    meta = MetaData()
    meta.reflect(conn)
    out = {}
    for table in meta.sorted_tables:
        if table.name != "alembic_version":
            rows = conn.execute(select(table).order_by(*table.primary_key.columns)).mappings()
            out[table.name] = [{k: backup._encode(v) for k, v in row.items()} for row in rows]
    return out


async def snapshot(db: Database) -> dict[str, list[Any]]:
    async with db.engine.connect() as conn:
        return await conn.run_sync(_rows)


async def _empty_like(config: Config, request: pytest.FixtureRequest, tmp_path: Path) -> Config:
    if config.database.url.startswith("sqlite"):
        return make_config(tmp_path, HTXBOT_DATABASE__URL=f"sqlite+aiosqlite:///{tmp_path / 'restored.db'}")
    return await asyncio.to_thread(fresh_pg_config, request, tmp_path / "restored")  # it runs its own loop


async def test_restore_into_an_empty_database_gives_everything_back(
        db_config: Config, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    source = await build_app(db_config)
    try:
        file_id = await _fill(source)
        before = await snapshot(source.db)
        summary = await backup.backup(source.db, tmp_path / "b.tar.gz")
    finally:
        await source.close()
    assert summary.rows["registrations"] == 2 and summary.rows["stored_files"] == 1
    assert summary.rows["deliveries"] == 3

    target_config = await _empty_like(db_config, request, tmp_path)
    target = await open_database(target_config, migrate=False)
    try:
        restored = await backup.restore(target, tmp_path / "b.tar.gz")
        assert restored.rows == summary.rows
        assert await snapshot(target) == before
    finally:
        await target.close()

    app = await build_app(target_config)  # the restored database as the bot uses it
    try:
        async with app.db.unit() as s:
            [done] = await registrations.all_registrations(s, status="completed")
            assert done.answers == ANSWERS
            [report] = await broadcasts.list_broadcasts(s)
            assert report.text == "Hội nghị ngày 5/12" and report.total == 3
            content = await broadcasts.get_content(s, report.id)
            assert content is not None and content.attachment is not None
            assert content.attachment.data == PICTURE
            stored = await get_file(s, file_id)
            assert stored is not None and stored.data == b"DOCX" * 999
            new_user = await users.touch_user(s, "telegram", "new", "new", "Mới", private=True)
        assert new_user.id == 4  # ids continue after the restored ones (PostgreSQL sequences reset)
    finally:
        await app.close()


async def test_restore_refuses_a_database_that_is_not_empty(db_config: Config, tmp_path: Path) -> None:
    app = await build_app(db_config)
    try:
        await _fill(app)
        await backup.backup(app.db, tmp_path / "b.tar.gz")
        with pytest.raises(backup.BackupError, match="not empty"):
            await backup.restore(app.db, tmp_path / "b.tar.gz")
    finally:
        await app.close()


@pytest.mark.postgres
async def test_a_sqlite_pilot_moves_to_postgresql(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    source = await build_app(make_config(tmp_path))
    try:
        await _fill(source)
        await backup.backup(source.db, tmp_path / "pilot.tar.gz")
    finally:
        await source.close()
    target = await open_database(await asyncio.to_thread(fresh_pg_config, request, tmp_path), migrate=False)
    try:
        await backup.restore(target, tmp_path / "pilot.tar.gz")
        async with target.engine.connect() as conn:
            zones = await conn.scalar(text("SELECT count(*) FROM registrations WHERE created_at IS NOT NULL"))
        assert zones == 2
    finally:
        await target.close()


def test_backup_and_restore_from_the_command_line(tmp_path: Path) -> None:
    def htxbot(*args: str, db: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HTXBOT_")}
        env.update(HTXBOT_KNOWLEDGE__PATH=str(FIXTURE_KB), HTXBOT_DATABASE__DATA_DIR=str(tmp_path / db))
        return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, env=env,
                              timeout=120, cwd=tmp_path, input="giá vàng hôm nay\n")

    htxbot("chat", db="old").check_returncode()
    made = htxbot("db", "backup", db="old")
    assert made.returncode == 0, made.stderr
    [archive] = (tmp_path / "old" / "backups").glob("htxbot-*.tar.gz")
    assert str(archive) in made.stdout
    restored = htxbot("db", "restore", str(archive), db="new")
    assert restored.returncode == 0 and "question_log 1" in restored.stdout, restored.stderr
    assert "giá vàng hôm nay" in htxbot("kb", "unanswered", db="new").stdout
    again = htxbot("db", "restore", str(archive), db="new")
    assert again.returncode == 1 and "not empty" in again.stderr
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(b"not a backup")
    assert "not a readable htxbot backup" in htxbot("db", "restore", str(broken), db="other").stderr
