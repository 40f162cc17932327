"""Creating an announcement from the browser: form → preview with the exact number of recipients →
confirm. The confirm form carries an HMAC (keyed by the session's CSRF token) of exactly what was
previewed, so only the previewed content can be sent; a nonce stops a double click sending it twice."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.admin.console import Console, SignedIn, redirect, staff_page
from bot.storage.repo import audit, broadcasts
from handlers.member.profile_fields import PROVINCES, SECTORS, role_label
from handlers.staff.announce import MAX_TEXT, TARGET_ROLES
from handlers.staff.announce_text import VN, describe_audience, format_time

FIELDS = ("text", "province", "sector", "role", "send_at")


def _draft(form: Any) -> dict[str, str]:
    return {k: str(form.get(k, "")).strip() for k in FIELDS}


def _problems(draft: dict[str, str], now: datetime) -> list[str]:
    problems = []
    if not draft["text"]:
        problems.append("Chưa có nội dung thông báo.")
    elif len(draft["text"]) > MAX_TEXT:
        problems.append(f"Nội dung dài {len(draft['text'])} ký tự; tối đa {MAX_TEXT}.")
    if draft["province"] and draft["province"] not in PROVINCES:
        problems.append("Tỉnh/thành không có trong danh sách.")
    if draft["sector"] and draft["sector"] not in SECTORS:
        problems.append("Lĩnh vực không có trong danh sách.")
    if draft["role"] and draft["role"] not in TARGET_ROLES:
        problems.append("Vai trò không có trong danh sách.")
    if draft["send_at"]:
        when = _send_at(draft)
        if when is None or when <= now:
            problems.append("Thời điểm hẹn gửi phải là một lúc trong tương lai (giờ Việt Nam).")
    return problems


def _send_at(draft: dict[str, str]) -> datetime | None:
    """The datetime-local value, read as Vietnam time; None for "now" or a malformed value."""
    try:
        return datetime.fromisoformat(draft["send_at"]).replace(tzinfo=VN).astimezone(UTC) if draft["send_at"] else None
    except ValueError:
        return None


def _audience(draft: dict[str, str]) -> dict[str, str]:
    return {k: draft[k] for k in ("province", "sector", "role") if draft[k]}


def _seal(csrf: str, draft: dict[str, str], nonce: str) -> str:
    payload = json.dumps([draft[k] for k in FIELDS] + [nonce], ensure_ascii=False)
    return hmac.new(csrf.encode(), payload.encode("utf-8"), hashlib.sha256).hexdigest()


class AnnouncePages:
    def __init__(self, console: Console) -> None:
        self.console = console

    def _form(self, who: SignedIn, draft: dict[str, str], problems: list[str], status: int = 200) -> web.Response:
        return self.console.render("announce_form.html", status=status, signed=who, draft=draft, problems=problems,
                                   provinces=PROVINCES, sectors=SECTORS, max_text=MAX_TEXT,
                                   roles=[(r, role_label(r)) for r in TARGET_ROLES], nav="ann")

    @staff_page
    async def new(self, request: web.Request, s: AsyncSession, who: SignedIn) -> web.Response:
        return self._form(who, dict.fromkeys(FIELDS, ""), [])

    @staff_page
    async def preview(self, request: web.Request, s: AsyncSession, who: SignedIn) -> web.Response:
        draft = _draft(await request.post())
        problems = _problems(draft, datetime.now(UTC))
        if problems or (await request.post()).get("edit"):
            return self._form(who, draft, problems, status=422 if problems else 200)
        audience = _audience(draft)
        nonce = secrets.token_hex(8)
        return self.console.render("announce_preview.html", signed=who, draft=draft, nonce=nonce,
                                   seal=_seal(who.csrf, draft, nonce), audience=describe_audience(audience),
                                   count=await broadcasts.count_audience(s, audience),
                                   when=format_time(_send_at(draft)), nav="ann")

    @staff_page
    async def confirm(self, request: web.Request, s: AsyncSession, who: SignedIn) -> web.StreamResponse:
        form = await request.post()
        draft, nonce = _draft(form), str(form.get("nonce", ""))
        if not nonce or not hmac.compare_digest(str(form.get("seal", "")), _seal(who.csrf, draft, nonce)):
            return self.console.refuse("Nội dung khác với bản xem trước. Hãy tạo lại thông báo.")
        if _problems(draft, datetime.now(UTC)):
            return self._form(who, draft, _problems(draft, datetime.now(UTC)), status=422)
        done = [a for a in await audit.recent_actions(s, limit=200, action="create_broadcast")
                if a.detail.get("nonce") == nonce]
        if done:  # the same preview confirmed twice (double click, reload)
            already = done[0].detail["broadcast_id"]
            return redirect("/admin/thong-bao?msg=" + quote(f"Thông báo #{already} đã được tạo."))
        audience = _audience(draft)
        broadcast_id = await broadcasts.create_broadcast(s, created_by=who.staff.ref, text=draft["text"],
                                                         audience=audience, send_at=_send_at(draft))
        report = await broadcasts.broadcast_report(s, broadcast_id)
        total = report.total if report else 0
        await self.console.audit(s, who, "create_broadcast", broadcast_id=broadcast_id, recipients=total,
                                 audience=audience, kind="announcement", nonce=nonce)
        return redirect("/admin/thong-bao?msg=" + quote(
            f"✅ Đã xếp lịch gửi #{broadcast_id} tới {total} người, {format_time(_send_at(draft))}."))

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/admin/thong-bao/moi", self.new), web.post("/admin/thong-bao/xem-truoc", self.preview),
                web.post("/admin/thong-bao/gui", self.confirm)]
