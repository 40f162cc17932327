"""`htxbot registrations list|export`: registrations for authorised staff (a local admin command).

The export contains personal data (names, dates of birth, ID numbers, addresses): a warning is printed
to stderr every time, and the file should be kept and shared only as personal-data rules allow.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.config import Config

Handler = Callable[[Config, argparse.Namespace], int]
COLUMNS = ("id", "channel", "user", "kind", "status", "created_at", "completed_at", "name", "province", "commune",
           "address", "phone", "email", "business_lines", "charter_capital", "member_count", "members",
           "legal_rep", "representative")
WARNING = ("htxbot: CẢNH BÁO — tệp xuất có dữ liệu cá nhân (họ tên, ngày sinh, số CCCD, địa chỉ); chỉ lưu và chia "
           "sẻ theo quy định bảo vệ dữ liệu cá nhân (Nghị định 13/2023/NĐ-CP).")


def register(sub: Any) -> dict[str, Handler]:
    """Add `registrations` to the htxbot parser."""
    reg = sub.add_parser("registrations", help="HTX/THT registrations: list, export (contains personal data)")
    regs = reg.add_subparsers(dest="registrations_command", required=True)
    listing = regs.add_parser("list", help="one line per registration")
    listing.add_argument("--status", choices=["draft", "completed", "deleted"])
    export = regs.add_parser("export", help="CSV or XLSX, one row per registration")
    export.add_argument("--format", choices=["csv", "xlsx"], default="xlsx")
    export.add_argument("--output", type=Path, required=True)
    export.add_argument("--status", choices=["draft", "completed", "deleted"])
    return {"registrations": cmd_registrations}


def cmd_registrations(config: Config, args: argparse.Namespace) -> int:
    rows = asyncio.run(_load(config, args.status))
    if args.registrations_command == "list":
        for r in rows:
            print(f"{r['id']:5}  {r['status']:9}  {r['kind']}  {r['created_at'][:10]}  {r['channel']}:{r['user']}  "
                  f"{r['name']}  ({r['member_count']} thành viên)")
        print(f"{len(rows)} registration(s).", file=sys.stderr)
        return 0
    print(WARNING, file=sys.stderr)
    (write_csv if args.format == "csv" else write_xlsx)(args.output, rows)
    print(f"Wrote {len(rows)} registration(s) to {args.output}.", file=sys.stderr)
    return 0


async def _load(config: Config, status: str | None) -> list[dict[str, Any]]:
    from bot.storage.db import Database
    from bot.storage.repo.registrations import all_registrations

    db = Database(config.database.url, schema=config.database.schema)
    try:
        await db.upgrade()
        async with db.unit() as s:
            return [flatten(r) for r in await all_registrations(s, status)]
    finally:
        await db.close()


def flatten(r: Any) -> dict[str, Any]:
    """One registration as a flat row; members as "name | birth | ID | address | contribution | role" lines."""
    a = r.answers
    members = a.get("members") or []
    return {
        "id": r.id, "channel": r.channel, "user": r.user_external_id, "kind": r.kind, "status": r.status,
        "created_at": r.created_at.isoformat(), "completed_at": r.completed_at.isoformat() if r.completed_at else "",
        "name": a.get("name", ""), "province": a.get("province", ""), "commune": a.get("commune", ""),
        "address": a.get("address", ""), "phone": a.get("phone", ""), "email": a.get("email", ""),
        "business_lines": "; ".join(a.get("business_lines") or []), "charter_capital": a.get("charter_capital", ""),
        "member_count": len(members),
        "members": "\n".join(" | ".join(str(m.get(k, "")) for k in ("name", "birth_date", "id_number", "address",
                                                                     "contribution", "role")) for m in members),
        "legal_rep": a.get("legal_rep", ""), "representative": a.get("representative", ""),
        "answers_json": json.dumps(a, ensure_ascii=False),
    }


def write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as out:  # BOM: Excel opens Vietnamese correctly
        writer = csv.DictWriter(out, fieldnames=[*COLUMNS, "answers_json"])
        writer.writeheader()
        writer.writerows(rows)


def write_xlsx(path: Path, rows: list[dict[str, Any]]) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "registrations"
    sheet.append([*COLUMNS, "answers_json"])
    for row in rows:
        sheet.append([row[c] for c in (*COLUMNS, "answers_json")])
    book.save(path)
