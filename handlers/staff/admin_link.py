"""/quantri: a staff member gets a one-time link (valid a few minutes) that signs them in to the web console."""

from __future__ import annotations

from datetime import timedelta

from bot.core.flow import MENU_BUTTON, Command, FlowSpec, Turn
from bot.core.types import Reply
from bot.storage.repo import admin_sessions
from handlers.staff.staff import audit_turn

LINK_MINUTES = 10
LOGIN_PATH = "/admin/login"


def login_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}{LOGIN_PATH}?t={token}"


class AdminLinkFlow:
    """Sends the sign-in link; members are refused and get no link."""

    name = "quantri"
    spec = FlowSpec(commands=(Command("quantri", "Trang quản trị (web)"),), menu_label="🖥 Trang quản trị (web)",
                    staff_only=True, private_only=True)

    async def start(self, turn: Turn, arg: str) -> list[Reply]:
        incoming = turn.incoming
        token = await admin_sessions.create_login_link(turn.db, incoming.channel, incoming.user_id,
                                                       timedelta(minutes=LINK_MINUTES))
        await audit_turn(turn, "admin_link")
        url = login_url(turn.services.config.web.public_url, token)
        return [Reply(f"🔐 Trang quản trị: {url}\n\nLiên kết dùng được một lần, hết hạn sau {LINK_MINUTES} phút. "
                      "Đừng chuyển liên kết này cho người khác.", buttons=[MENU_BUTTON])]

    async def handle(self, turn: Turn) -> list[Reply]:
        turn.finish()
        return await self.start(turn, "")

    async def on_button(self, turn: Turn, action: str, arg: str) -> list[Reply]:
        return await self.start(turn, "")
