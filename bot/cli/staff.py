"""Staff commands for the `htxbot` CLI: broadcasts (create, status, cancel, work), survey exports and
staff roles. Every change is written to the audit log as channel "cli"."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import logging
import mimetypes
import signal
import sys
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.config import Config

log = logging.getLogger(__name__)
Handler = Callable[[Config, argparse.Namespace], int]


def register(sub: Any) -> dict[str, Handler]:
    """Add `broadcast`, `surveys` and `staff` to the htxbot parser."""
    bc = sub.add_parser("broadcast", help="announcements: create, status, cancel, work")
    bcs = bc.add_subparsers(dest="broadcast_command", required=True)
    status = bcs.add_parser("status", help="progress of one broadcast, or the latest ones")
    status.add_argument("id", nargs="?", type=int)
    status.add_argument("--resend-uncertain", action="store_true",
                        help="re-send to recipients whose delivery is uncertain (some may get it twice)")
    create = bcs.add_parser("create", help="create an announcement (dry run without --yes)")
    create.add_argument("--text", required=True)
    create.add_argument("--file", type=Path, help="an image or document to attach")
    create.add_argument("--province", default="")
    create.add_argument("--sector", default="")
    create.add_argument("--role", default="")
    create.add_argument("--at", default="", help='send time, Vietnam time: "25/12/2025 08:30"')
    create.add_argument("--yes", action="store_true", help="really create it (otherwise only count)")
    cancel = bcs.add_parser("cancel", help="cancel a scheduled or running broadcast")
    cancel.add_argument("id", type=int)
    work = bcs.add_parser("work", help="run a standalone delivery worker until SIGTERM/Ctrl-C")
    work.add_argument("--lease", type=float, default=None,
                      help="seconds without a heartbeat after which a worker's rows are taken over "
                           "(default broadcast.lease_seconds)")
    work.add_argument("--exit-when-idle", action="store_true", help="stop once nothing is left to send")
    surveys = sub.add_parser("surveys", help="survey results")
    svs = surveys.add_subparsers(dest="surveys_command", required=True)
    export = svs.add_parser("export", help="one row per response")
    export.add_argument("survey")
    export.add_argument("--format", choices=["csv", "xlsx"], default="xlsx")
    export.add_argument("--output", type=Path, required=True)
    staff = sub.add_parser("staff", help="list staff, or grant or revoke the staff role")
    staff.add_argument("action", choices=["list", "grant", "revoke"])
    staff.add_argument("member", nargs="?", help="channel:user_id, e.g. telegram:12345 (grant, revoke)")
    return {"broadcast": cmd_broadcast, "surveys": cmd_surveys, "staff": cmd_staff}


@contextlib.asynccontextmanager
async def _database(config: Config) -> AsyncIterator[Any]:
    from bot.runtime import open_database

    db = await open_database(config)
    try:
        yield db
    finally:
        await db.close()


def _operator() -> str:
    with contextlib.suppress(Exception):
        return getpass.getuser()
    return "cli"


def cmd_broadcast(config: Config, args: argparse.Namespace) -> int:
    if args.broadcast_command == "work":
        return asyncio.run(_work(config, args.lease, args.exit_when_idle))
    actions = {"status": _status, "create": _create, "cancel": _cancel}
    return asyncio.run(actions[args.broadcast_command](config, args))


async def _status(config: Config, args: argparse.Namespace) -> int:
    from bot.storage.repo import audit, broadcasts
    from handlers.staff.announce_text import format_report

    if args.resend_uncertain and not args.id:
        print("--resend-uncertain needs a broadcast id.", file=sys.stderr)
        return 2
    async with _database(config) as db, db.unit() as s:
        if args.resend_uncertain:
            count = await broadcasts.requeue_uncertain(s, args.id)
            await audit.record_action(s, "cli", _operator(), "resend_uncertain", broadcast_id=args.id,
                                      recipients=count)
            print(f"{count} uncertain recipient(s) queued again; a worker re-sends to them.")
        reports = ([await broadcasts.broadcast_report(s, args.id)] if args.id
                   else await broadcasts.list_broadcasts(s, 10))
    if not reports or reports[0] is None:
        print("No such broadcast." if args.id else "No broadcasts yet.")
        return 1 if args.id else 0
    print("\n\n".join(format_report(r) for r in reports if r))
    return 0


async def _create(config: Config, args: argparse.Namespace) -> int:
    from bot.storage.repo import audit, broadcasts
    from handlers.member.profile_fields import canonical_province
    from handlers.staff.announce_text import describe_audience, format_time, parse_send_time

    audience = {"province": canonical_province(args.province)[0] if args.province else "",
                "sector": args.sector, "role": args.role}
    send_at = parse_send_time(args.at) if args.at else None
    if args.at and send_at is None:
        print(f"--at: expected a future time as dd/mm/yyyy hh:mm, got {args.at!r}", file=sys.stderr)
        return 2
    attachment = _read_file(args.file) if args.file else None
    async with _database(config) as db, db.unit() as s:
        count = await broadcasts.count_audience(s, audience)
        print(f"Recipients: {count} ({describe_audience(broadcasts.clean_audience(audience))}); "
              f"send: {format_time(send_at)}")
        if not args.yes:
            print("Dry run: add --yes to create it.")
            return 0
        bid = await broadcasts.create_broadcast(s, created_by=f"cli:{_operator()}", text=args.text,
                                                audience=audience, send_at=send_at, attachment=attachment)
        await audit.record_action(s, "cli", _operator(), "create_broadcast", broadcast_id=bid, recipients=count,
                                  audience=broadcasts.clean_audience(audience))
    print(f"Created broadcast #{bid}. A worker (`htxbot broadcast work` or `htxbot run …`) delivers it.")
    return 0


def _read_file(path: Path) -> Any:
    from bot.storage.repo.broadcasts import FileData

    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return FileData(path.name, mime, path.read_bytes())


async def _cancel(config: Config, args: argparse.Namespace) -> int:
    from bot.storage.repo import audit, broadcasts
    from handlers.staff.announce_text import format_report

    async with _database(config) as db, db.unit() as s:
        report = await broadcasts.cancel_broadcast(s, args.id)
        if report is None:
            print(f"Broadcast #{args.id} does not exist or has already ended.")
            return 1
        await audit.record_action(s, "cli", _operator(), "cancel_broadcast", broadcast_id=args.id)
    print(format_report(report))
    return 0


async def _work(config: Config, lease: float | None, exit_when_idle: bool) -> int:
    """A standalone worker: the application with its channels opened for sending only (nothing polls)."""
    from bot.broadcast.sender import SenderOptions, run_broadcast_worker, worker_name
    from bot.runtime import Runtime, configured_channels

    names = configured_channels(config)
    if not names:  # before the database is touched: a worker without a channel could only fail every row
        print("htxbot broadcast work: no channel configured; set HTXBOT_TELEGRAM__TOKEN and/or "
              "HTXBOT_ZALO__TOKEN.", file=sys.stderr)
        return 2
    runtime = Runtime(config, names, send_only=True, serve_web=False, worker=False)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await runtime.start()
    try:
        assert runtime.app is not None
        log.info("broadcast worker on %s", ", ".join(names))
        print(f"worker ready on {', '.join(names)}", flush=True)
        options = SenderOptions(lease=None if lease is None else timedelta(seconds=lease),
                                 exit_when_idle=exit_when_idle)
        await run_broadcast_worker(runtime.app, stop, worker_name(), options)
    finally:
        await runtime.stop()
    return 0


def cmd_surveys(config: Config, args: argparse.Namespace) -> int:
    from handlers.staff.survey_results import export_survey

    async def go() -> int:
        async with _database(config) as db, db.unit() as s:
            data = await export_survey(s, config, args.survey, args.format)
        if data is None:
            print(f"Unknown survey {args.survey!r}.", file=sys.stderr)
            return 1
        args.output.write_bytes(data)
        print(f"Wrote {args.output} ({len(data)} bytes).")
        return 0

    return asyncio.run(go())


def cmd_staff(config: Config, args: argparse.Namespace) -> int:
    from bot.storage.repo import audit
    from handlers.staff.staff import change_role, parse_member_ref

    if args.action == "list":
        return asyncio.run(_list_staff(config))
    ref = parse_member_ref(args.member or "")
    if ref is None:
        print("member must look like telegram:12345", file=sys.stderr)
        return 2

    async def go() -> int:
        async with _database(config) as db, db.unit() as s:
            outcome, _user = await change_role(s, ref[0], ref[1], args.action == "grant")
            if outcome == "ok":
                await audit.record_action(s, "cli", _operator(), f"{args.action}_staff", target=args.member)
        print({"ok": f"{args.action}: done", "unknown": "unknown user: they must message the bot first",
               "admin": "admins are set in config.staff.admins", "unchanged": "nothing to change"}[outcome])
        return 0 if outcome in ("ok", "unchanged") else 1

    return asyncio.run(go())


async def _list_staff(config: Config) -> int:
    """Admins from config, then staff and admins in the database: `channel:user_id  role  name`."""
    from bot.storage.repo.users import list_staff

    async with _database(config) as db, db.unit() as s:
        people = await list_staff(s)
    listed = {f"{p.channel}:{p.external_id}" for p in people}
    for admin in config.staff.admins:
        if admin not in listed:
            print(f"{admin}\tadmin (config)\t")
    for p in people:
        ref = f"{p.channel}:{p.external_id}"
        role = "admin (config)" if ref in config.staff.admins else p.role
        print(f"{ref}\t{role}\t{p.display_name}")
    if not people and not config.staff.admins:
        print("No staff yet: set staff.admins in config, then `htxbot staff grant channel:user_id`.")
    return 0
