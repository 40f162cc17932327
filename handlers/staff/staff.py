"""Who is staff: admins grant (/capquyen) and revoke (/thuhoi) the staff role; every change is audited.

The dispatcher refuses staff-only commands and flows to members (their specs say so); `refusal()` is the
same answer, for flows that still check for themselves.
"""

from __future__ import annotations

from bot.core.dispatcher import STAFF_ONLY
from bot.core.flow import MENU_BUTTON as MENU
from bot.core.flow import Command, FlowSpec, Turn
from bot.core.types import Reply
from bot.storage.repo import audit, users

REFUSAL = STAFF_ONLY  # the dispatcher refuses staff-only commands and flows itself
ADMIN_ONLY = "Xin lỗi, chỉ quản trị viên mới cấp hoặc thu hồi quyền cán bộ."


def refusal() -> list[Reply]:
    """The dispatcher's answer to a member asking for staff work: plain, and nothing changes."""
    return [Reply(REFUSAL, buttons=[MENU])]


def is_admin(turn: Turn) -> bool:
    """Admins are listed in config (channel:user_id) or hold the admin role in the database."""
    incoming = turn.incoming
    return turn.user.role == "admin" or f"{incoming.channel}:{incoming.user_id}" in turn.services.config.staff.admins


async def audit_turn(turn: Turn, action: str, **detail: object) -> None:
    """Write one staff action by the user of this turn to the audit log."""
    await audit.record_action(turn.db, turn.incoming.channel, turn.incoming.user_id, action, **detail)


def parse_member_ref(text: str) -> tuple[str, str] | None:
    """'telegram:12345' → ('telegram', '12345'); None when malformed."""
    channel, sep, user_id = text.strip().partition(":")
    if not sep or not channel.isalpha() or not user_id.strip():
        return None
    return channel.lower(), user_id.strip()


async def change_role(s: object, channel: str, user_id: str, grant: bool) -> tuple[str, users.UserRecord | None]:
    """Grant or revoke staff for a known user. Returns an outcome code and the user as it was.

    Codes: "ok", "unknown" (never wrote to the bot), "admin" (admins are not demoted here),
    "unchanged" (already so).
    """
    user = await users.get_user(s, channel, user_id)  # type: ignore[arg-type]
    if user is None:
        return "unknown", None
    if user.role == "admin":
        return "admin", user
    if grant == (user.role == "staff"):
        return "unchanged", user
    new_role = "staff" if grant else ("manager" if user.runs_coop else "member")
    await users.set_role(s, user.id, new_role)  # type: ignore[arg-type]
    return "ok", user


class StaffFlow:
    """/capquyen <channel:user_id> and /thuhoi <channel:user_id>, for admins only."""

    name = "staff"
    spec = FlowSpec(commands=(Command("capquyen", "Cấp quyền cán bộ (quản trị viên)"),
                              Command("thuhoi", "Thu hồi quyền cán bộ (quản trị viên)")),
                    staff_only=True, private_only=True)

    async def start(self, turn: Turn, arg: str) -> list[Reply]:
        if not is_admin(turn):
            return [Reply(ADMIN_ONLY, buttons=[MENU])]
        grant = turn.incoming.text.lstrip("/").lower().startswith("capquyen")
        command = "/capquyen" if grant else "/thuhoi"
        ref = parse_member_ref(arg)
        if ref is None:
            return [Reply(f"Cách dùng: {command} <kênh:mã người dùng>, ví dụ {command} telegram:123456789.\n"
                          "Người đó cần nhắn tin cho bot ít nhất một lần trước.")]
        outcome, user = await change_role(turn.db, ref[0], ref[1], grant)
        if outcome == "ok":
            await audit_turn(turn, "grant_staff" if grant else "revoke_staff", target=f"{ref[0]}:{ref[1]}")
        return [Reply(self._message(outcome, grant, f"{ref[0]}:{ref[1]}", user))]

    @staticmethod
    def _message(outcome: str, grant: bool, target: str, user: users.UserRecord | None) -> str:
        name = f"{user.display_name} ({target})" if user and user.display_name else target
        if outcome == "unknown":
            return f"Chưa có người dùng {target}. Người đó cần nhắn tin cho bot trước."
        if outcome == "admin":
            return f"{name} là quản trị viên; quyền này được đặt trong cấu hình, không đổi bằng lệnh."
        if outcome == "unchanged":
            return f"{name} {'đã là' if grant else 'không phải'} cán bộ; không có gì thay đổi."
        return f"Đã {'cấp' if grant else 'thu hồi'} quyền cán bộ cho {name}. Việc này đã được ghi nhật ký."

    async def handle(self, turn: Turn) -> list[Reply]:
        turn.finish()
        return [Reply("Gõ /capquyen hoặc /thuhoi kèm kênh:mã người dùng.", buttons=[MENU])]

    async def on_button(self, turn: Turn, action: str, arg: str) -> list[Reply]:
        return await self.handle(turn)
