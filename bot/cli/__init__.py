"""The `htxbot` command line: chat, ask, kb, db, run."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import json
import logging
import signal
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from bot.config import Config, ConfigError, load_config
from bot.core.channel import DeliveryError
from bot.errors import DatabaseUnavailable, StartupError
from bot.knowledge.loader import KnowledgeError, load_knowledge, load_valid_knowledge
from bot.knowledge.model import KnowledgeBase
from bot.logs import configure_logging

log = logging.getLogger("htxbot")

# Modules adding sub-commands: each has `register(subparsers) -> {command name: handler(config, args)}`.
EXTENSIONS: list[str] = ["bot.cli.staff", "bot.cli.registrations", "bot.cli.zalo_oa", "bot.cli.knowledge"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="htxbot", description="Trợ lý HTX — chatbot hợp tác xã")
    p.add_argument("--config", help="path to config.yaml (default: $HTXBOT_CONFIG, else built-in defaults)")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("chat", help="talk to the bot in this terminal")
    ask = sub.add_parser("ask", help="answer one question, or with --json one question per stdin line")
    ask.add_argument("question", nargs="*")
    ask.add_argument("--json", action="store_true", help="read questions from stdin, write JSON lines")
    kb = sub.add_parser("kb", help="knowledge base tools").add_subparsers(dest="kb_command", required=True)
    kb.add_parser("check", help="report every problem as file:line: message")
    stats = kb.add_parser("stats", help="entries by topic and law")
    stats.add_argument("--json", action="store_true")
    ev = kb.add_parser("eval", help="accuracy on labelled questions (default: tests/labelled); also the JSON "
                                    "held-out format (tests/heldout/*.json)")
    ev.add_argument("paths", nargs="*", default=["tests/labelled"])
    ev.add_argument("--quiet", action="store_true", help="only the summary")
    ev.add_argument("--half", choices=["all", "even", "odd"], default="all",
                    help="JSON sets: every other case only (tune on even, report odd)")
    unanswered = kb.add_parser("unanswered", help="questions the bot could not answer, most frequent first")
    unanswered.add_argument("--limit", type=int, default=30)
    db = sub.add_parser("db", help="database tools").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="apply database migrations")
    backup = db.add_parser("backup", help="the whole database (stored files included) as one .tar.gz")
    backup.add_argument("--output", help="archive path (default: <data_dir>/backups/htxbot-<UTC time>.tar.gz)")
    restore = db.add_parser("restore", help="load a backup into an EMPTY database (new schema or file)")
    restore.add_argument("archive")
    run = sub.add_parser("run", help="run the bot: every channel with a token, or the one named")
    run.add_argument("channel", nargs="?", choices=["telegram", "zalo", "zalo_oa"])
    for module in EXTENSIONS:
        COMMANDS.update(importlib.import_module(module).register(sub))
    return p


def main(argv: Sequence[str] | None = None) -> None:
    with contextlib.suppress(ValueError, AttributeError):  # not in the main thread, or no SIGPIPE
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `htxbot ask … | head` ends quietly
    args = _parser().parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        sys.exit(f"htxbot: config error: {exc}")
    quiet = args.command != "run" and getattr(args, "broadcast_command", "") != "work"
    configure_logging("WARNING" if quiet else config.bot.log_level, config.bot.log_format)
    try:
        code = COMMANDS[args.command](config, args)
    except KnowledgeError as exc:
        sys.exit(f"htxbot: the knowledge base is invalid, refusing to start.\n{exc}\n"
                 "Run `htxbot kb check` for the full list.")
    except ConfigError as exc:
        sys.exit(f"htxbot: config error: {exc}")
    except DeliveryError as exc:
        sys.exit(f"htxbot: the messaging platform refused: {exc}")
    except (StartupError, DatabaseUnavailable) as exc:
        sys.exit(f"htxbot: {exc}")
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)


def cmd_chat(config: Config, args: argparse.Namespace) -> int:
    from bot.channels.console import run_console
    from bot.runtime import build_app

    async def go() -> None:
        app = await build_app(config)
        try:
            await run_console(app, sys.stdin, sys.stdout)
        finally:
            await app.close()

    asyncio.run(go())
    return 0


def cmd_ask(config: Config, args: argparse.Namespace) -> int:
    from bot.core.flow import Services
    from bot.knowledge.search import SearchIndex
    from handlers.qa.qa import answer_question

    kb = load_valid_knowledge(config.knowledge.path)
    services = Services(config=config, index=SearchIndex(kb, config.search.threshold,
                                                         config.search.ambiguity_margin))
    if not args.json:
        question = " ".join(args.question).strip()
        if not question:
            print("htxbot ask: give a question, e.g. htxbot ask \"lập HTX cần bao nhiêu người\"", file=sys.stderr)
            return 2
        answer = answer_question(services, question)
        print(_plain_answer(answer))
        return 0
    contexts: dict[str, dict[str, Any] | None] = {}  # "user" of JSON lines → that conversation's context
    for line in sys.stdin:
        question, user = _ask_line(line.rstrip("\n"))
        if user is None:
            answer = answer_question(services, question)
        else:
            answer = answer_question(services, question, contexts.get(user))
            contexts[user] = answer.context
        entries = answer.entries if answer.answered else []
        entry = entries[0] if entries else None
        row = {
            "question": question,
            "answered": answer.answered,
            "entry_id": entry.id if entry else None,
            "score": round(answer.score, 4),
            "answer": _plain_answer(answer),
            "sources": [s.cite() for e in entries for s in e.sources],
        }
        sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    return 0


def _plain_answer(answer: Any) -> str:
    """The replies as plain text; when the bot is not sure, the topics it offers, numbered as on Zalo."""
    from bot.core.markup import to_plain
    from bot.core.render import numbered_options

    replies = answer.replies
    if not answer.answered:
        replies = [numbered_options(r) if any(b.payload.startswith("qa:e:") for b in r.buttons) else r
                   for r in replies]
    return "\n\n".join(to_plain(r.text) for r in replies)


def _ask_line(line: str) -> tuple[str, str | None]:
    """A plain question, or a JSON object {"q": question, "user": id}: turns of one user are one conversation."""
    if line.lstrip().startswith("{"):
        try:
            data = json.loads(line)
        except json.JSONDecodeError:
            return line, None
        if isinstance(data, dict) and isinstance(data.get("q"), str):
            user = data.get("user")
            return data["q"], (str(user) if user is not None else None)
    return line, None


def cmd_kb(config: Config, args: argparse.Namespace) -> int:
    if args.kb_command == "check":
        kb, problems = load_knowledge(config.knowledge.path)
        for problem in problems:
            print(problem)
        if problems:
            print(f"{len(problems)} problem(s) in {len(kb.entries)} entries.", file=sys.stderr)
            return 1
        print(f"OK: {len(kb.entries)} entries, "
              f"{sum(len(e.questions) for e in kb.entries)} phrasings, no problems.")
        return 0
    if args.kb_command == "stats":
        kb = load_valid_knowledge(config.knowledge.path)
        stats = {
            "entries": len(kb.entries),
            "by_topic": dict(sorted(Counter(e.topic for e in kb.entries).items())),
            "by_law": dict(sorted(Counter(e.law for e in kb.entries).items())),
            "phrasings": sum(len(e.questions) for e in kb.entries),
            "basis": _basis_stats(kb),
        }
        if args.json:
            print(json.dumps(stats, ensure_ascii=False))
        else:
            print(f"{stats['entries']} entries, {stats['phrasings']} phrasings")
            for key in ("by_topic", "by_law", "basis"):
                print(f"{key}: " + ", ".join(f"{k}={v}" for k, v in stats[key].items()))
        return 0
    if args.kb_command == "eval":
        return _eval(config, args)
    return asyncio.run(_unanswered(config, args.limit))


def _basis_stats(kb: KnowledgeBase) -> dict[str, int]:
    """How many answer entries were checked against a primary text, only a secondary one, or not at all."""
    answers = [e for e in kb.entries if e.kind == "answer"]
    primary = sum(1 for e in answers if e.checked_against_primary)
    secondary = sum(1 for e in answers if e.basis and not e.checked_against_primary)
    return {
        "answers": len(answers),
        "checked_primary": primary,
        "checked_secondary_only": secondary,
        "not_checked": len(answers) - primary - secondary,
        "unconfirmed": sum(1 for e in answers if e.unconfirmed),
    }


def _eval(config: Config, args: argparse.Namespace) -> int:
    from pathlib import Path

    from bot.core.flow import Services
    from bot.knowledge.evaluate import NOT_TUNED_ON, TUNED_ON, evaluate, load_cases
    from bot.knowledge.search import SearchIndex
    from handlers.qa.qa import answer_question

    kb = load_valid_knowledge(config.knowledge.path)
    index = SearchIndex(kb, config.search.threshold, config.search.ambiguity_margin)
    services = Services(config=config, index=index)

    def answerer(question: str, context: Any) -> tuple[bool, str, Any]:
        answer = answer_question(services, question, context)
        return answer.answered, _plain_answer(answer), answer.context

    print("Content and search tuned on: " + "; ".join(TUNED_ON) + f". Not tuned on: {NOT_TUNED_ON}.")
    for path in args.paths:
        report = evaluate(index, load_cases([Path(path)], args.half), answerer)
        if not args.quiet:
            for miss in report.misses:
                print(f"- {miss}")
        half = f" [{args.half}]" if args.half != "all" else ""
        print(f"{path}{half}: {report.summary()}")
    return 0


async def _unanswered(config: Config, limit: int) -> int:
    from bot.privacy import redact_personal
    from bot.storage.db import Database
    from bot.storage.repo.questions import most_frequent_unanswered

    db = Database(config.database.url, schema=config.database.schema)
    try:
        await db.upgrade()
        async with db.unit() as s:
            rows = await most_frequent_unanswered(s, limit)
    finally:
        await db.close()
    if not rows:
        print("No unanswered questions logged yet.")
    for row in rows:
        print(f"{row.count:5d}  {redact_personal(row.example)}")
    return 0


def cmd_db(config: Config, args: argparse.Namespace) -> int:
    """`htxbot db upgrade | backup [--output F] | restore F`."""
    from pathlib import Path

    from bot.runtime import open_database
    from bot.storage import backup

    async def go() -> str:
        restoring = args.db_command == "restore"
        db = await open_database(config, migrate=not restoring)  # restore migrates step by step itself
        try:
            if args.db_command == "backup":
                path = Path(args.output) if args.output else backup.default_backup_path(config.database.data_dir)
                return f"Backup written: {(await backup.backup(db, path)).describe()}"
            if restoring:
                return f"Restored: {(await backup.restore(db, Path(args.archive))).describe()}"
            return "Database is up to date."
        finally:
            await db.close()

    try:
        print(asyncio.run(go()))
    except backup.BackupError as exc:
        print(f"htxbot db {args.db_command}: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_run(config: Config, args: argparse.Namespace) -> int:
    """`htxbot run [channel]`: every channel with a token (or the one named) behind one web server."""
    from bot.runtime import Runtime, configured_channels, run_until_signalled

    names = [args.channel] if args.channel else configured_channels(config)
    if not names:
        print("htxbot run: no channel configured; set HTXBOT_TELEGRAM__TOKEN and/or HTXBOT_ZALO__TOKEN "
              "(or run `htxbot chat` to try the bot in this terminal).", file=sys.stderr)
        return 2
    asyncio.run(run_until_signalled(Runtime(config, names).run()))
    return 0


COMMANDS: dict[str, Callable[[Config, argparse.Namespace], int]] = {
    "chat": cmd_chat, "ask": cmd_ask, "kb": cmd_kb, "db": cmd_db, "run": cmd_run,
}
