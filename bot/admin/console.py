"""The web console's plumbing: templates, security headers, sign-in by one-time link, sessions, CSRF,
and the staff check made on every request.

Sign-in: `/quantri` in the chat sends a link `/admin/login?t=<token>` (valid LINK_MINUTES, single use,
stored hashed). Opening it shows a button; only pressing it (a POST) spends the token, so a messenger's
link preview cannot use it up. The session cookie is HttpOnly, SameSite=Lax (the link is opened from a
messenger), Secure when the public URL is HTTPS, limited to /admin, and expires after SESSION_HOURS.
Every form carries the session's CSRF token; the staff role is read from the database on every request,
so revoking it ends access at once.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import jinja2
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.admin.actions import Staff
from bot.app import App
from bot.storage.repo import admin_sessions, audit, users

COOKIE = "htx_admin"
VIETNAM = timezone(timedelta(hours=7))
SESSION_HOURS = 8
HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # the sign-in URL carries a token: never send it on
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'",
}


@dataclass(frozen=True)
class SignedIn:
    """The staff member behind a request, and the CSRF token their forms must carry."""

    staff: Staff
    name: str
    csrf: str


Handler = Callable[[Any, web.Request, AsyncSession, SignedIn], Awaitable[web.StreamResponse]]


class Console:
    """Shared by every page: the App, the template environment and the security checks."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.env = jinja2.Environment(loader=jinja2.PackageLoader("bot.admin", "templates"),
                                      autoescape=jinja2.select_autoescape(["html"]), trim_blocks=True,
                                      lstrip_blocks=True)
        self.env.filters["vn_time"] = _vn_time

    @property
    def secure_cookies(self) -> bool:
        return self.app.config.web.public_url.startswith("https://")

    def render(self, template: str, status: int = 200, **context: Any) -> web.Response:
        html = self.env.get_template(template).render(**context)
        return web.Response(text=html, status=status, content_type="text/html", headers=HEADERS)

    def refuse(self, message: str, status: int = 403) -> web.Response:
        return self.render("refused.html", status=status, reason=message, signed=None)

    def file(self, data: bytes, filename: str, mime: str, charset: str | None = None) -> web.Response:
        return web.Response(body=data, content_type=mime, charset=charset, headers={
            **HEADERS, "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"})

    async def signed_in(self, s: AsyncSession, request: web.Request) -> SignedIn | None:
        """The staff member of this request's session, if the session is valid and they are still staff."""
        token = request.cookies.get(COOKIE, "")
        session = await admin_sessions.get_session(s, token) if token else None
        if session is None:
            return None
        user = await users.get_user(s, session.channel, session.user_external_id)
        if user is None or not self.app.is_staff(user.channel, user.external_id, user.role):
            return None
        return SignedIn(Staff(user.channel, user.external_id), user.display_name or user.external_id, session.csrf)

    async def audit(self, s: AsyncSession, who: SignedIn, action: str, **detail: Any) -> None:
        await audit.record_action(s, who.staff.channel, who.staff.user_id, action, via="web", **detail)

    def start_session(self, response: web.StreamResponse, token: str) -> None:
        response.set_cookie(COOKIE, token, max_age=SESSION_HOURS * 3600, path="/admin", httponly=True,
                            samesite="Lax", secure=self.secure_cookies)

    @staticmethod
    def session_lifetime() -> timedelta:
        return timedelta(hours=SESSION_HOURS)


def staff_page(handler: Handler) -> Callable[[Any, web.Request], Awaitable[web.StreamResponse]]:
    """Wrap a page: signed-in staff only; a POST must carry the session's CSRF token. One transaction."""

    async def wrapped(self: Any, request: web.Request) -> web.StreamResponse:
        console: Console = self.console
        async with console.app.db.unit() as s:
            who = await console.signed_in(s, request)
            if who is None:
                return console.refuse("Bạn chưa đăng nhập hoặc phiên đã hết hạn. Gõ /quantri trong khung chat "
                                      "với bot để nhận liên kết đăng nhập mới.", status=401)
            if request.method == "POST":
                form = await request.post()
                sent = str(form.get("csrf", ""))
                if not sent or not hmac.compare_digest(sent, who.csrf):
                    return console.refuse("Biểu mẫu không hợp lệ (thiếu mã bảo vệ). Hãy tải lại trang rồi thử lại.")
            return await handler(self, request, s, who)

    wrapped.__name__ = handler.__name__
    wrapped.__doc__ = handler.__doc__
    return wrapped


def redirect(location: str) -> web.Response:
    """A 303 to `location`, returned (not raised: raising would roll back the page's transaction)."""
    return web.Response(status=303, headers={**HEADERS, "Location": location})


def _vn_time(value: datetime | None) -> str:
    """Stored UTC times as staff read them: Vietnam time."""
    if value is None:
        return ""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return f"{aware.astimezone(VIETNAM):%d/%m/%Y %H:%M}"
