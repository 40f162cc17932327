"""The review queue in the browser: list, one question with its actions (attach, out of scope, new
entry, skip)."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import quote

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.admin import actions
from bot.admin.console import Console, SignedIn, redirect, staff_page
from bot.knowledge.model import LAWS, TOPICS
from bot.knowledge.overlay import live_knowledge
from handlers.staff.review import REASON_LABELS


class ReviewPages:
    def __init__(self, console: Console) -> None:
        self.console = console

    @property
    def services(self) -> Any:
        return self.console.app.services

    @staff_page
    async def queue(self, request: web.Request, s: AsyncSession, who: SignedIn) -> web.Response:
        """The queue, most frequent first."""
        await live_knowledge(self.services).refresh(s)
        items = await actions.queue(s, self.services, limit=100)
        return self.console.render("queue.html", signed=who, items=items, reasons=REASON_LABELS,
                                   message=request.query.get("msg", ""), nav="queue")

    @staff_page
    async def item(self, request: web.Request, s: AsyncSession, who: SignedIn) -> web.Response:
        return await self._item_page(request, s, who)

    async def _item_page(self, request: web.Request, s: AsyncSession, who: SignedIn, status: int = 200,
                         problems: list[str] | None = None, draft: dict[str, Any] | None = None) -> web.Response:
        await live_knowledge(self.services).refresh(s)
        item = await actions.find_item(s, self.services, request.match_info["key"])
        if item is None:
            return redirect("/admin?msg=" + quote("Câu hỏi này đã được xử lý."))
        words = request.query.get("tim", "").strip()
        kb = live_knowledge(self.services).kb
        found = actions.search_entries(kb, words, limit=8, rank=self.services.index) if words else []
        draft = draft or {"questions": item.example, "law": "2023", "reviewed": date.today().isoformat()}
        return self.console.render(
            "item.html", status=status, signed=who, item=item, reasons=REASON_LABELS, words=words, found=found,
            suggestions=actions.suggestions(self.services, item.example, limit=5),
            declines=actions.suggestions(self.services, item.example, kind="decline", limit=3),
            all_declines=[e for e in kb.entries if e.kind == "decline"], topics=TOPICS, laws=LAWS,
            problems=problems or [], draft=draft, nav="queue", message=request.query.get("msg", ""))

    @staff_page
    async def attach(self, request: web.Request, s: AsyncSession, who: SignedIn) -> web.StreamResponse:
        form = await request.post()
        item = await actions.find_item(s, self.services, request.match_info["key"])
        if item is None:
            return redirect("/admin?msg=" + quote("Câu hỏi này đã được xử lý."))
        outcome = await actions.attach_question(s, self.services, who.staff, item, str(form.get("entry_id", "")),
                                                question=str(form.get("question", "")) or None,
                                                out_of_scope=form.get("out_of_scope") == "1")
        return self._done(outcome, request)

    @staff_page
    async def dismiss(self, request: web.Request, s: AsyncSession, who: SignedIn) -> web.StreamResponse:
        item = await actions.find_item(s, self.services, request.match_info["key"])
        if item is None:
            return redirect("/admin")
        return self._done(await actions.dismiss(s, who.staff, item), request)

    @staff_page
    async def new_entry(self, request: web.Request, s: AsyncSession, who: SignedIn) -> web.StreamResponse:
        form = {k: str(v).strip() for k, v in (await request.post()).items() if k != "csrf"}
        item = await actions.find_item(s, self.services, request.match_info["key"])
        source = {"doc": form.get("doc", ""), "article": form.get("article", ""), "date": form.get("doc_date", "")}
        raw = {
            "id": form.get("id", ""), "topic": form.get("topic", ""), "law": form.get("law", ""), "kind": "answer",
            "questions": [q.strip() for q in form.get("questions", "").splitlines() if q.strip()],
            "answer": form.get("answer", ""),
            "sources": [{k: v for k, v in source.items() if v}] if source["doc"] else [],
            "valid_from": form.get("valid_from", ""), "reviewed": form.get("reviewed", ""),
        }
        outcome = await actions.draft_entry(s, self.services, who.staff, raw, item)
        if not outcome.ok:
            problems = outcome.message.splitlines()[1:]
            return await self._item_page(request, s, who, status=422, problems=problems, draft=form)
        return self._done(outcome, request)

    @staticmethod
    def _done(outcome: actions.Outcome, request: web.Request) -> web.StreamResponse:
        if outcome.ok:
            return redirect("/admin?msg=" + quote("✅ " + outcome.message))
        return redirect(f"/admin/cau-hoi/{request.match_info['key']}?msg=" + quote("⚠️ " + outcome.message))

    def routes(self) -> list[web.RouteDef]:
        item = "/admin/cau-hoi/{key}"
        return [web.get("/admin", self.queue), web.get(item, self.item), web.post(f"{item}/gan", self.attach),
                web.post(f"{item}/bo-qua", self.dismiss), web.post(f"{item}/muc-moi", self.new_entry)]
