"""The knowledge base in the browser: browse and search entries, see one, and "try a question" with the
top candidates and their scores (the live index: YAML plus what staff taught)."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.admin import actions
from bot.admin.console import Console, SignedIn, staff_page
from bot.knowledge.overlay import OVERLAY_FILE, live_knowledge
from bot.storage.repo import knowledge as learned
from handlers.qa.answers import format_answer
from handlers.qa.qa import TOPIC_LABELS


class KnowledgePages:
    def __init__(self, console: Console) -> None:
        self.console = console

    @staff_page
    async def browse(self, request: web.Request, s: AsyncSession, who: SignedIn) -> web.Response:
        services = self.console.app.services
        live = live_knowledge(services)
        await live.refresh(s)
        words = request.query.get("tim", "").strip()
        question = request.query.get("hoi", "").strip()
        entries = actions.search_entries(live.kb, words, limit=200, rank=services.index) if words else live.kb.entries
        result = services.index.search(question, limit=8) if question else None
        learned_ids = {p.entry_id for p in await learned.learned_phrasings(s)}
        return self.console.render("knowledge.html", signed=who, entries=entries, words=words, question=question,
                                   result=result, topics=TOPIC_LABELS, learned_ids=learned_ids,
                                   overlay_file=OVERLAY_FILE, total=len(live.kb.entries), nav="kb")

    @staff_page
    async def entry(self, request: web.Request, s: AsyncSession, who: SignedIn) -> web.Response:
        live = live_knowledge(self.console.app.services)
        await live.refresh(s)
        entry = live.kb.by_id().get(request.match_info["entry_id"])
        if entry is None:
            return self.console.refuse("Không có mục này.", status=404)
        taught = [p for p in await learned.learned_phrasings(s) if p.entry_id == entry.id]
        return self.console.render("entry.html", signed=who, entry=entry, answer=format_answer(entry),
                                   taught={p.question for p in taught}, overlay_file=OVERLAY_FILE, nav="kb")

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/admin/kien-thuc", self.browse), web.get("/admin/kien-thuc/{entry_id}", self.entry)]
