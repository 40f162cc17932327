"""`htxbot kb export`: the learned knowledge (staff actions stored in the database) into the YAML files."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from bot.config import Config


def register(sub: Any) -> dict[str, Any]:
    """Add `export` under the existing `kb` command; other `kb` sub-commands keep their handler."""
    kb_parser = sub.choices["kb"]
    kb_commands = next(a for a in kb_parser._actions if isinstance(a, argparse._SubParsersAction))
    export = kb_commands.add_parser("export", help="write learned phrasings and entries into the YAML files")
    export.add_argument("--path", type=Path, help="knowledge folder to write (default: knowledge.path)")
    return {"kb": cmd_kb}


def cmd_kb(config: Config, args: argparse.Namespace) -> int:
    if args.kb_command != "export":
        from bot.cli import cmd_kb as builtin_kb

        return builtin_kb(config, args)
    return asyncio.run(_export(config, args.path or Path(config.knowledge.path)))


async def _export(config: Config, root: Path) -> int:
    from bot.knowledge.export import export_overlay
    from bot.storage.db import Database
    from bot.storage.repo import knowledge as learned

    db = Database(config.database.url, schema=config.database.schema)
    try:
        await db.upgrade()
        async with db.unit() as s:
            phrasings = await learned.learned_phrasings(s)
            entries = await learned.learned_entries(s)
            report = export_overlay(root, [(p.entry_id, p.question) for p in phrasings], [e.data for e in entries])
            if not report.problems:
                await learned.mark_exported(s, [p.id for p in phrasings], [e.id for e in entries])
    finally:
        await db.close()
    if report.problems:
        for problem in report.problems:
            print(problem)
        print("Export abandoned: the result would not pass `kb check`; no file was changed.")
        return 1
    print(f"Exported {report.phrasings} phrasing(s) and {report.entries} new entr(y/ies) "
          f"into {', '.join(report.files) or 'no file (the YAML already has everything)'}. "
          "Review with `git diff`, then run `htxbot kb check`.")
    return 0
