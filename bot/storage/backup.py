"""`htxbot db backup` / `restore`: the whole database as one archive, the same on SQLite and PostgreSQL.

The archive (`.tar.gz`) holds `manifest.json` (format, migration revisions, row counts) and one
`tables/<name>.jsonl` per table, one JSON object per row. Stored files (generated dossiers, pictures
attached to announcements) live in database rows, so they travel with it. Values JSON cannot carry
are tagged: bytes `{"$b64": …}`, datetimes `{"$dt": "…"}`, dates `{"$date": …}`, decimals `{"$dec": …}`.

Why table dumps rather than pg_dump: one tool for both databases, no client/server version pairing in
the container, and an archive made on SQLite restores into PostgreSQL (the way to move a pilot to a
server). Restoring migrates the empty target to the backup's revisions, loads every row in foreign-key
order, resets PostgreSQL's id sequences, then applies the newer migrations.
"""

from __future__ import annotations

import base64
import io
import json
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, MetaData, Table, func, select, text
from sqlalchemy.engine import Connection

from bot.storage.db import Database

FORMAT = "htxbot-backup/1"
BATCH = 500
SKIPPED = {"alembic_version"}


class BackupError(Exception):
    """The archive cannot be made or restored; the message says why in one line."""


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    rows: dict[str, int]

    def describe(self) -> str:
        total = sum(self.rows.values())
        busiest = ", ".join(f"{name} {count}" for name, count in sorted(self.rows.items()) if count)
        return f"{self.path}: {total} rows in {len(self.rows)} tables ({busiest or 'all empty'})"


def default_backup_path(data_dir: str, now: datetime | None = None) -> Path:
    """`<data_dir>/backups/htxbot-YYYYmmdd-HHMMSS.tar.gz` (UTC)."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    return Path(data_dir) / "backups" / f"htxbot-{stamp}.tar.gz"


async def backup(db: Database, path: Path) -> BackupSummary:
    """Write every table of `db` to the archive `path` (written beside it first, then renamed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    async with db.engine.connect() as conn:
        rows = await conn.run_sync(_dump, partial, db.engine.dialect.name)
    partial.replace(path)
    return BackupSummary(path, rows)


async def restore(db: Database, path: Path) -> BackupSummary:
    """Load the archive into `db`, which must be empty; newer migrations are applied afterwards."""
    if not path.is_file():
        raise BackupError(f"{path}: no such file")
    try:
        with tarfile.open(path, "r:gz") as archive:
            manifest = _manifest(archive, path)
            for revision in manifest["revisions"]:
                await db.upgrade(revision)
            async with db.engine.begin() as conn:
                rows = await conn.run_sync(_load, archive, manifest)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise BackupError(f"{path}: not a readable htxbot backup ({exc})") from exc
    await db.upgrade()
    return BackupSummary(path, rows)


# ---- dump ---------------------------------------------------------------------------------------------

def _dump(conn: Connection, partial: Path, dialect: str) -> dict[str, int]:
    meta = MetaData()
    meta.reflect(conn)
    revisions = sorted(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
    counts: dict[str, int] = {}
    with tarfile.open(partial, "w:gz") as archive, tempfile.TemporaryDirectory() as tmp:
        for table in meta.sorted_tables:
            if table.name in SKIPPED:
                continue
            lines = Path(tmp) / f"{table.name}.jsonl"
            with lines.open("w", encoding="utf-8") as out:
                counts[table.name] = 0
                for row in conn.execution_options(yield_per=BATCH).execute(select(table)).mappings():
                    out.write(json.dumps({k: _encode(v) for k, v in row.items()}, ensure_ascii=False) + "\n")
                    counts[table.name] += 1
            archive.add(lines, arcname=f"tables/{table.name}.jsonl")
        manifest = {"format": FORMAT, "created_at": datetime.now(UTC).isoformat(), "source": dialect,
                    "revisions": revisions, "tables": counts}
        _add_bytes(archive, "manifest.json", json.dumps(manifest, indent=2).encode())
    return counts


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    archive.addfile(info, io.BytesIO(data))


def _encode(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$b64": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$dec": str(value)}
    return value


# ---- load ---------------------------------------------------------------------------------------------

def _manifest(archive: tarfile.TarFile, path: Path) -> dict[str, Any]:
    try:
        member = archive.extractfile("manifest.json")
        manifest = json.loads(member.read()) if member else None
    except (KeyError, ValueError) as exc:
        raise BackupError(f"{path}: not an htxbot backup (no readable manifest.json)") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{path}: unknown backup format {manifest.get('format') if manifest else None!r}")
    return manifest


def _load(conn: Connection, archive: tarfile.TarFile, manifest: dict[str, Any]) -> dict[str, int]:
    meta = MetaData()
    meta.reflect(conn)
    tables = [t for t in meta.sorted_tables if t.name not in SKIPPED]
    occupied = [t.name for t in tables if conn.execute(select(func.count()).select_from(t)).scalar_one()]
    if occupied:
        raise BackupError(f"the database is not empty (rows in {', '.join(occupied)}); "
                          "restore only into an empty database")
    unknown = set(manifest["tables"]) - {t.name for t in tables}
    if unknown:
        raise BackupError(f"the backup has tables this database lacks: {', '.join(sorted(unknown))}")
    counts: dict[str, int] = {}
    for table in tables:
        if table.name not in manifest["tables"]:
            continue
        counts[table.name] = 0
        for batch in _batches(archive, table):
            conn.execute(table.insert(), batch)
            counts[table.name] += len(batch)
        if counts[table.name] != manifest["tables"][table.name]:
            raise BackupError(f"{table.name}: {counts[table.name]} rows in the archive, "
                              f"the manifest says {manifest['tables'][table.name]}")
    if conn.dialect.name == "postgresql":
        _reset_sequences(conn, tables)
    return counts


def _batches(archive: tarfile.TarFile, table: Table) -> Iterator[list[dict[str, Any]]]:
    member = archive.extractfile(f"tables/{table.name}.jsonl")
    if member is None:
        return
    batch: list[dict[str, Any]] = []
    for raw in io.TextIOWrapper(member, encoding="utf-8"):
        row = json.loads(raw)
        batch.append({name: _decode(value, table.c[name]) for name, value in row.items() if name in table.c})
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _decode(value: Any, column: Any) -> Any:
    if not isinstance(value, dict) or len(value) != 1 or isinstance(column.type, JSON):
        return value
    tag, raw = next(iter(value.items()))
    if tag == "$b64":
        return base64.b64decode(raw)
    if tag == "$dt":
        moment = datetime.fromisoformat(raw)
        if getattr(column.type, "timezone", False) and moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)  # SQLite keeps no zone; the bot writes UTC
        return moment
    if tag == "$date":
        return date.fromisoformat(raw)
    if tag == "$dec":
        return Decimal(raw)
    return value


def _reset_sequences(conn: Connection, tables: list[Table]) -> None:
    """Point each serial/identity sequence past the restored ids, so new rows do not collide."""
    for table in tables:
        for column in table.primary_key.columns:
            sequence = conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"),
                                    {"t": table.name, "c": column.name}).scalar()
            if sequence:
                highest = f'SELECT MAX("{column.name}") FROM "{table.name}"'
                conn.execute(text(f"SELECT setval(:s, COALESCE(({highest}), 0) + 1, false)"), {"s": sequence})
