"""Sign-in by one-time link, and sign-out."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.admin.console import COOKIE, Console, SignedIn, redirect, staff_page
from bot.storage.repo import admin_sessions, audit, users

BAD_LINK = ("Liên kết đăng nhập không hợp lệ, đã được dùng hoặc đã hết hạn. Gõ /quantri trong khung chat với bot "
            "để nhận liên kết mới.")
NOT_STAFF = "Tài khoản này không có quyền cán bộ nên không vào được trang quản trị."


class SignInPages:
    def __init__(self, console: Console) -> None:
        self.console = console

    async def login_form(self, request: web.Request) -> web.Response:
        """GET: a page with one button; the token is spent only by pressing it (link previews are harmless)."""
        token = request.query.get("t", "")
        async with self.console.app.db.unit() as s:
            who = await admin_sessions.peek_login_link(s, token) if token else None
        if who is None:
            return self.console.refuse(BAD_LINK)
        return self.console.render("login.html", token=token, signed=None)

    async def login(self, request: web.Request) -> web.StreamResponse:
        """POST: spend the link, check the role, open a session."""
        form = await request.post()
        token = str(form.get("t", ""))
        console = self.console
        async with console.app.db.unit() as s:
            who = await admin_sessions.use_login_link(s, token) if token else None
            if who is None:
                return console.refuse(BAD_LINK)
            user = await users.get_user(s, *who)
            if user is None or not console.app.is_staff(user.channel, user.external_id, user.role):
                await audit.record_action(s, who[0], who[1], "admin_login_refused", via="web")
                return console.refuse(NOT_STAFF)
            await admin_sessions.purge_expired(s)
            session = await admin_sessions.open_session(s, user.channel, user.external_id, console.session_lifetime())
            await audit.record_action(s, user.channel, user.external_id, "admin_login", via="web")
        response = redirect("/admin")
        console.start_session(response, session)
        return response

    @staff_page
    async def logout(self, request: web.Request, s: AsyncSession, who: SignedIn) -> web.StreamResponse:
        await admin_sessions.close_session(s, request.cookies.get(COOKIE, ""))
        response = redirect("/admin")
        response.del_cookie(COOKIE, path="/admin")
        return response

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/admin/login", self.login_form), web.post("/admin/login", self.login),
                web.post("/admin/logout", self.logout)]
