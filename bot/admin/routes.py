"""All routes of the staff web console at /admin, for `bot.channels.web.build_web_app`."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from bot.admin.console import Console
from bot.admin.pages_announce import AnnouncePages
from bot.admin.pages_knowledge import KnowledgePages
from bot.admin.pages_reports import ReportPages
from bot.admin.pages_review import ReviewPages
from bot.admin.signin import SignInPages
from bot.app import App

STATIC = Path(__file__).resolve().parent / "static"


def admin_routes(app: App) -> list[web.AbstractRouteDef]:
    """The console's pages, sign-in and static files (CSS, one small script)."""
    console = Console(app)
    return [*SignInPages(console).routes(), *ReviewPages(console).routes(), *KnowledgePages(console).routes(),
            *ReportPages(console).routes(), *AnnouncePages(console).routes(), web.static("/admin/static", STATIC)]
