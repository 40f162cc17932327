"""/hoso: a short profile (province, commune, sector, role, runs a cooperative) used for targeting;
/tatthongbao and /batthongbao: stop or resume announcements."""

from __future__ import annotations

from bot.core.flow import MENU_BUTTON as MENU
from bot.core.flow import Command, FlowSpec, Turn
from bot.core.types import Button, Reply
from bot.storage.repo import users
from bot.text import clean
from handlers.member.profile_fields import PROFILE_ROLES, ROLES, SECTORS, canonical_province, role_label, sector_label

STEPS = ("province", "commune", "sector", "role", "runs_coop")
SKIP = Button("⏭ Giữ nguyên / bỏ qua", "profile:skip")
QUESTIONS = {
    "province": "Bạn ở tỉnh/thành phố nào? (Gõ tên, ví dụ: Nghệ An, TP. Hồ Chí Minh.)",
    "commune": "Xã/phường nơi bạn ở hoặc nơi HTX đặt trụ sở là gì?",
    "sector": "HTX/THT của bạn hoạt động chủ yếu trong lĩnh vực nào?",
    "role": "Bạn tham gia HTX/THT với vai trò nào?",
    "runs_coop": "Bạn có đang điều hành (hoặc là sáng lập viên) một HTX hay tổ hợp tác không?",
}


def profile_summary(user: users.UserRecord | dict[str, object]) -> str:
    get = user.get if isinstance(user, dict) else lambda k, d=None: getattr(user, k, d)
    runs = get("runs_coop", False)
    return (f"• Tỉnh/thành: {get('province', '') or 'chưa rõ'}\n"
            f"• Xã/phường: {get('commune', '') or 'chưa rõ'}\n"
            f"• Lĩnh vực: {sector_label(str(get('sector', '')))}\n"
            f"• Vai trò: {role_label(str(get('role', '')))}\n"
            f"• Điều hành HTX/THT: {'có' if runs else 'không'}\n"
            f"• Nhận thông báo: {'có' if get('subscribed', True) else 'đã tắt'}")


class ProfileFlow:
    """A five-step wizard; each answer is saved at once, each step can be kept as it is.
    Staff and admins are not asked their role (it carries their permissions)."""

    name = "profile"
    spec = FlowSpec(
        commands=(Command("hoso", "Hồ sơ của tôi", typed=("ho so",)),
                  Command("tatthongbao", "Tắt nhận thông báo"), Command("batthongbao", "Nhận lại thông báo")),
        menu_label="👤 Hồ sơ của tôi", private_only=True)

    async def start(self, turn: Turn, arg: str) -> list[Reply]:
        command = turn.command
        if command == "tatthongbao":
            return await self._subscribe(turn, False)
        if command == "batthongbao":
            return await self._subscribe(turn, True)
        return self._begin(turn)

    async def on_button(self, turn: Turn, action: str, arg: str) -> list[Reply]:
        if action == "unsubscribe":
            return await self._subscribe(turn, False)
        if action == "subscribe":
            return await self._subscribe(turn, True)
        if action == "start":
            return self._begin(turn)
        if turn.state.flow != self.name:
            return [Reply("Lựa chọn này đã cũ. Gõ /hoso để cập nhật hồ sơ.", buttons=[MENU])]
        if action == "skip":
            return await self._advance(turn)
        if action == "set":
            return await self._answer(turn, arg)
        return [Reply("Mình chưa hiểu lựa chọn này.", buttons=self._buttons(turn))]

    async def handle(self, turn: Turn) -> list[Reply]:
        step = turn.state.data.get("step")
        text = clean(turn.incoming.text)
        if step in ("province", "commune") and text:
            return await self._answer(turn, text)
        return [Reply("Bạn chọn một trong các nút dưới đây nhé (hoặc gõ /huy để dừng).",
                      buttons=self._buttons(turn))]

    def _begin(self, turn: Turn) -> list[Reply]:
        turn.begin(self.name, {"step": STEPS[0], "values": {}})
        intro = Reply("Hồ sơ giúp Liên minh HTX gửi đúng thông báo, chính sách cho bạn. Hiện tại:\n"
                      + profile_summary(turn.user))
        return [intro, self._ask(turn)]

    def _steps(self, turn: Turn) -> tuple[str, ...]:
        return tuple(s for s in STEPS if s != "role" or turn.user.role in PROFILE_ROLES)

    def _buttons(self, turn: Turn) -> list[Button]:
        step = turn.state.data.get("step")
        options: dict[str, str] = {}
        if step == "sector":
            options = SECTORS
        elif step == "role":
            options = {k: ROLES[k] for k in PROFILE_ROLES}
        elif step == "runs_coop":
            options = {"yes": "Có", "no": "Không"}
        return [*(Button(label, f"profile:set:{code}") for code, label in options.items()), SKIP]

    def _ask(self, turn: Turn, prefix: str = "") -> Reply:
        question = QUESTIONS[turn.state.data["step"]]
        return Reply(f"{prefix}{question}", buttons=self._buttons(turn))

    async def _answer(self, turn: Turn, value: str) -> list[Reply]:
        step = turn.state.data.get("step")
        note = ""
        if step == "province":
            value, known = canonical_province(value)
            note = "" if known else f"Mình chưa nhận ra «{value}» trong danh sách 34 tỉnh/thành; vẫn ghi như bạn gõ. "
        elif step == "commune":
            value = clean(value)[:100]
        elif (step == "sector" and value not in SECTORS) or (step == "role" and value not in PROFILE_ROLES) or (
                step == "runs_coop" and value not in ("yes", "no")):
            return [self._ask(turn, "Lựa chọn này không có trong danh sách. ")]
        stored: object = (value == "yes") if step == "runs_coop" else value
        turn.state.data["values"][step] = stored
        await users.update_profile(turn.db, turn.user.id, **{step: stored})  # kept even if /huy follows
        return await self._advance(turn, note)

    async def _advance(self, turn: Turn, note: str = "") -> list[Reply]:
        steps = self._steps(turn)
        current = turn.state.data.get("step")
        following = steps[steps.index(current) + 1:] if current in steps else ()
        if following:
            turn.state.data["step"] = following[0]
            return [self._ask(turn, note)]
        values = turn.state.data.get("values", {})
        merged = {**{k: getattr(turn.user, k) for k in (*STEPS, "subscribed")}, **values}
        turn.finish()
        return [Reply(f"{note}Đã lưu hồ sơ của bạn:\n{profile_summary(merged)}\n\n"
                      "Gõ /hoso bất cứ lúc nào để sửa.", buttons=[MENU])]

    async def _subscribe(self, turn: Turn, subscribed: bool) -> list[Reply]:
        await users.set_subscribed(turn.db, turn.user.id, subscribed)
        if subscribed:
            return [Reply("Đã bật lại thông báo. Bạn sẽ nhận tin về chính sách, tập huấn, hội chợ từ "
                          "Liên minh HTX.", buttons=[Button("🔕 Tắt thông báo", "profile:unsubscribe"), MENU])]
        return [Reply("Đã tắt thông báo: bạn sẽ không nhận tin nhắn thông báo nữa. Bạn vẫn hỏi đáp, góp ý "
                      "bình thường. Gõ /batthongbao để nhận lại.",
                      buttons=[Button("🔔 Bật lại thông báo", "profile:subscribe"), MENU])]
