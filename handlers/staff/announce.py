"""/thongbao: staff compose an announcement in the chat, pick the audience and time, see a preview
with the exact number of recipients, and confirm; /baocao <id> reports; /huythongbao <id> cancels.

While composing, staff may send one picture or file (the adapters download it; its caption becomes
the text). It is kept in the files table until confirmation, shown in the preview and stored on the
broadcast, so every recipient gets it (Zalo: as a link). Survey invitations reuse the same steps
(`begin_survey`), with the invitation text fixed by the survey and no attachment.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from bot.core.flow import Command, FlowSpec, Turn
from bot.core.types import Attachment, Button, Reply
from bot.storage.repo import broadcasts, files, surveys
from bot.storage.repo.broadcasts import FileData
from bot.text import clean
from handlers.member.profile_fields import PROFILE_ROLES, SECTORS, canonical_province, role_label
from handlers.staff.announce_text import describe_audience, format_report, format_time, parse_send_time
from handlers.staff.staff import MENU, audit_turn, refusal

MAX_TEXT = 3500  # leaves room for the unsubscribe hint on every channel
MAX_FILE_BYTES = 10 * 1024 * 1024  # the adapters refuse bigger files; this guards other channels
COMPOSE_PROMPT = ("Mời bạn gõ nội dung thông báo (một tin nhắn, tối đa 3.500 ký tự). Có thể gửi kèm một ảnh "
                  "hoặc tệp (tối đa 10 MB), với nội dung làm chú thích. Gõ /huy để dừng.")
WHEN_PROMPT = "Gõ thời điểm gửi theo giờ Việt Nam, dạng ngày/tháng/năm giờ:phút, ví dụ 25/12/2025 08:30."
TARGET_ROLES = (*PROFILE_ROLES, "staff")


class AnnounceFlow:
    """Compose → audience → time → preview → confirm. State lives in the conversation row."""

    name = "announce"
    spec = FlowSpec(commands=(Command("thongbao", "Soạn thông báo"), Command("baocao", "Báo cáo gửi thông báo"),
                              Command("huythongbao", "Huỷ thông báo đã hẹn giờ")),
                    menu_label="📣 Gửi thông báo", staff_only=True, private_only=True, accepts_files=True)

    async def start(self, turn: Turn, arg: str) -> list[Reply]:
        if not turn.is_staff:
            return refusal()
        command = turn.command
        if command == "baocao":
            return await self._report(turn, arg)
        if command == "huythongbao":
            return await self._cancel_broadcast(turn, arg)
        await self._drop_attachment(turn)  # a draft abandoned by starting over
        turn.begin(self.name, {"step": "text", "kind": "announcement", "audience": {}})
        if turn.incoming.attachment is not None:
            return await self._attach(turn, clean(arg))
        if clean(arg):
            return await self._set_text(turn, clean(arg))
        return [Reply(COMPOSE_PROMPT)]

    async def begin_survey(self, turn: Turn, survey_id: str, invitation: str) -> list[Reply]:
        """Launch a survey: the invitation is a broadcast whose button starts the survey."""
        turn.begin(self.name, {"step": "audience", "kind": "survey", "survey_id": survey_id,
                               "text": invitation, "audience": {}})
        return [await self._audience_view(turn)]

    async def handle(self, turn: Turn) -> list[Reply]:
        if not turn.is_staff:
            turn.finish()
            return refusal()
        step, text = turn.state.data.get("step"), clean(turn.incoming.text)
        if turn.incoming.attachment is not None:
            return await self._attach(turn, text)
        if step == "text":
            return await self._set_text(turn, text) if text else [Reply(COMPOSE_PROMPT)]
        if step == "province" and text:
            province, known = canonical_province(text)
            turn.state.data["audience"]["province"] = province
            note = "" if known else f"Lưu ý: «{province}» không có trong danh sách 34 tỉnh/thành. "
            return [await self._audience_view(turn, note)]
        if step in ("when", "when_choice") and text:
            when = parse_send_time(text)
            if when is None:
                return [Reply("Thời điểm chưa đúng dạng hoặc đã qua. Gõ theo dạng ngày/tháng/năm giờ:phút, "
                              "ví dụ 25/12/2025 08:30 (giờ Việt Nam).")]
            turn.state.data["send_at"] = when.isoformat()
            return await self._preview(turn)
        return [Reply("Bạn chọn một nút bên dưới, hoặc gõ /huy để dừng.", buttons=self._step_buttons(turn))]

    async def on_button(self, turn: Turn, action: str, arg: str) -> list[Reply]:
        if not turn.is_staff:
            return refusal()
        if action == "start":
            return await self.start(turn, "")
        if action == "report":
            return await self._report(turn, arg)
        if action == "resend":
            return await self._resend_uncertain(turn, arg)
        if turn.state.flow != self.name:
            return [Reply("Bản soạn này đã kết thúc. Gõ /thongbao để soạn thông báo mới.", buttons=[MENU])]
        handlers = {"aud": self._audience_action, "set": self._set_filter, "when": self._when_action,
                    "confirm": self._confirm, "edit": self._edit, "cancel": self._abandon, "detach": self._detach}
        handler = handlers.get(action)
        if handler is None:
            return [Reply("Mình chưa hiểu lựa chọn này.", buttons=self._step_buttons(turn))]
        return await handler(turn, arg)

    # -- steps ---------------------------------------------------------------------------------

    async def _set_text(self, turn: Turn, text: str, note: str = "") -> list[Reply]:
        if len(text) > MAX_TEXT:
            return [Reply(f"{note}Nội dung dài {len(text)} ký tự, quá {MAX_TEXT}. Bạn rút gọn rồi gửi lại nhé.")]
        turn.state.data["text"] = text
        if turn.state.data.get("audience_done"):
            return await self._preview(turn, note)
        return [await self._audience_view(turn, note)]

    async def _attach(self, turn: Turn, caption: str) -> list[Reply]:
        """A picture or file sent while composing goes with the announcement; its caption is the text."""
        data, att = turn.state.data, turn.incoming.attachment
        assert att is not None
        if data.get("kind") == "survey":
            return [Reply("Lời mời khảo sát chỉ gồm chữ, không gửi kèm ảnh hay tệp được. Bạn chọn một nút bên dưới, "
                          "hoặc gõ /huy để dừng.", buttons=self._step_buttons(turn))]
        if len(att.data) > MAX_FILE_BYTES:
            return [Reply(f"Tệp «{att.filename}» lớn hơn 10 MB nên không gửi kèm được. Bạn gửi tệp nhỏ hơn nhé.")]
        await self._drop_attachment(turn)  # one attachment per announcement: the newest wins
        file_id = await files.store_file(turn.db, turn.incoming.channel, turn.incoming.user_id, att.filename,
                                         att.mime, att.data)
        data["attachment"] = {"file_id": file_id, "filename": att.filename, "mime": att.mime, "kind": att.kind}
        note = f"Đã nhận {_what(att.kind)} «{att.filename}» để gửi kèm thông báo.\n"
        if caption:
            return await self._set_text(turn, caption, note)
        if not data.get("text"):
            data["step"] = "text"
            return [Reply(note + "Mời bạn gõ nội dung thông báo (tối đa 3.500 ký tự). Gõ /huy để dừng.")]
        return await self._resume(turn, note)

    async def _resume(self, turn: Turn, note: str) -> list[Reply]:
        """Show the step the staff member was at again, after a note."""
        data = turn.state.data
        if data.get("when_done"):
            return await self._preview(turn, note)
        step = data.get("step")
        if step == "when_choice":
            return [self._when_view(turn, note)]
        if step == "province":
            return [Reply(note + "Gõ tên tỉnh/thành phố, ví dụ: Nghệ An.")]
        if step == "when":
            return [Reply(note + WHEN_PROMPT)]
        return [await self._audience_view(turn, note)]

    async def _stored_attachment(self, turn: Turn) -> Attachment | None:
        """The file kept for this draft; None (and forgotten) if it was deleted meanwhile."""
        meta: dict[str, Any] | None = turn.state.data.get("attachment")
        if not meta:
            return None
        record = await files.get_file(turn.db, meta["file_id"])
        if record is None:
            turn.state.data.pop("attachment", None)
            return None
        return Attachment(record.filename, record.data, record.mime, meta.get("kind", "document"))

    async def _drop_attachment(self, turn: Turn) -> None:
        meta = turn.state.data.pop("attachment", None) if turn.state.flow == self.name else None
        if meta:
            await files.delete_file(turn.db, meta["file_id"])

    async def _audience_view(self, turn: Turn, note: str = "") -> Reply:
        turn.state.data["step"] = "audience"
        audience = turn.state.data["audience"]
        count = await broadcasts.count_audience(turn.db, audience)
        buttons = [Button("👥 Tất cả", "announce:aud:all"), Button("📍 Theo tỉnh/thành", "announce:aud:province"),
                   Button("🌾 Theo lĩnh vực", "announce:aud:sector"), Button("👤 Theo vai trò", "announce:aud:role"),
                   Button(f"✅ Xong ({count} người)", "announce:aud:done")]
        return Reply(f"{note}Người nhận: {describe_audience(audience)} — hiện có {count} người.\n"
                     "Thêm điều kiện lọc, hoặc bấm Xong.", buttons=buttons)

    async def _audience_action(self, turn: Turn, arg: str) -> list[Reply]:
        data = turn.state.data
        if arg == "all":
            data["audience"] = {}
            return [await self._audience_view(turn)]
        if arg == "view":
            return [await self._audience_view(turn)]
        if arg == "province":
            data["step"] = "province"
            return [Reply("Gõ tên tỉnh/thành phố, ví dụ: Nghệ An.")]
        if arg == "sector":
            options = [Button(label, f"announce:set:sector.{code}") for code, label in SECTORS.items()]
            return [Reply("Chọn lĩnh vực:", buttons=options)]
        if arg == "role":
            return [Reply("Chọn vai trò:", buttons=[Button(role_label(r), f"announce:set:role.{r}")
                                                    for r in TARGET_ROLES])]
        data["audience_done"] = True
        if data.get("kind") == "survey" or data.get("when_done"):
            return await self._preview(turn)
        return [self._when_view(turn)]

    async def _set_filter(self, turn: Turn, arg: str) -> list[Reply]:
        key, _, value = arg.partition(".")
        if (key == "sector" and value in SECTORS) or (key == "role" and value in TARGET_ROLES):
            turn.state.data["audience"][key] = value
        return [await self._audience_view(turn)]

    def _when_view(self, turn: Turn, note: str = "") -> Reply:
        turn.state.data["step"] = "when_choice"
        return Reply(f"{note}Gửi khi nào?", buttons=[Button("🚀 Gửi ngay sau khi xác nhận", "announce:when:now"),
                                                Button("🕒 Hẹn giờ gửi", "announce:when:later")])

    async def _when_action(self, turn: Turn, arg: str) -> list[Reply]:
        if arg == "later":
            turn.state.data["step"] = "when"
            return [Reply(WHEN_PROMPT)]
        turn.state.data["send_at"] = None
        return await self._preview(turn)

    async def _preview(self, turn: Turn, note: str = "") -> list[Reply]:
        data = turn.state.data
        data["step"], data["when_done"] = "confirm", True
        # A fresh token per preview: only the button of the preview on screen can send (an old one cannot).
        data["preview"] = secrets.token_hex(4)
        count = await broadcasts.count_audience(turn.db, data["audience"])
        what = "lời mời khảo sát" if data.get("kind") == "survey" else "thông báo"
        attachment = await self._stored_attachment(turn)
        attached = f" kèm {_what(attachment.kind)} «{attachment.filename}»" if attachment else ""
        reach = await _zalo_oa_reach(turn, data["audience"])
        summary = (f"{note}Xem trước {what}{attached} ở trên. Sẽ gửi tới đúng {count} người "
                   f"({describe_audience(data['audience'])}), thời điểm: {format_time(_send_at(data))}.\n"
                   f"{reach}Bấm Xác nhận để gửi.")
        buttons = [Button("✅ Xác nhận gửi", f"announce:confirm:{data['preview']}"),
                   Button("✏️ Sửa nội dung", "announce:edit"),
                   Button("👥 Đổi người nhận", "announce:aud:view"), Button("❌ Huỷ", "announce:cancel")]
        if data.get("kind") == "survey":
            buttons.pop(1)
        if attachment:
            buttons.insert(-1, Button("🗑 Bỏ tệp đính kèm", "announce:detach"))
        return [Reply(data["text"], attachment=attachment), Reply(summary, buttons=buttons)]

    async def _confirm(self, turn: Turn, arg: str) -> list[Reply]:
        data = turn.state.data
        if data.get("step") != "confirm" or not arg or arg != data.get("preview"):
            # A confirm button from an earlier preview: never send what the staff member has not just seen.
            if data.get("step") == "confirm":
                return await self._preview(turn, "Nút đó thuộc bản xem trước cũ. Đây là bản hiện tại.\n")
            return [Reply("Nút đó thuộc bản xem trước cũ. Bạn hoàn tất các bước đang làm rồi xác nhận ở bản "
                          "xem trước mới nhé.", buttons=self._step_buttons(turn))]
        who = f"{turn.incoming.channel}:{turn.incoming.user_id}"
        expected = bool(data.get("attachment"))
        attachment = await self._stored_attachment(turn)
        if expected and attachment is None:  # deleted since the preview (e.g. /xoadulieu): never send without asking
            return await self._preview(turn, "Tệp đính kèm không còn được lưu. Bạn gửi lại tệp, hoặc bấm Xác nhận "
                                             "để gửi không kèm tệp.\n")
        broadcast_id = await broadcasts.create_broadcast(
            turn.db, created_by=who, text=data["text"], audience=data["audience"], send_at=_send_at(data),
            attachment=FileData(attachment.filename, attachment.mime, attachment.data) if attachment else None,
            kind=data.get("kind", "announcement"), survey_id=data.get("survey_id"))
        report = await broadcasts.broadcast_report(turn.db, broadcast_id)
        assert report is not None
        if report.kind == "survey":
            await surveys.record_launch(turn.db, data["survey_id"], broadcast_id, who)
        await audit_turn(turn, "create_broadcast", broadcast_id=broadcast_id, recipients=report.total,
                         audience=data["audience"], kind=report.kind, survey_id=data.get("survey_id"),
                         attachment=attachment.filename if attachment else None)
        await self._drop_attachment(turn)  # the broadcast keeps its own copy
        turn.finish()
        return [Reply(f"Đã xếp lịch gửi #{broadcast_id} tới {report.total} người, {format_time(_send_at(data))}.\n"
                      f"Xem tiến độ: /baocao {broadcast_id} — huỷ: /huythongbao {broadcast_id}.",
                      buttons=[Button("📊 Xem báo cáo", f"announce:report:{broadcast_id}"), MENU])]

    async def _edit(self, turn: Turn, arg: str) -> list[Reply]:
        turn.state.data["step"] = "text"
        return [Reply("Gõ lại nội dung thông báo (hoặc gửi ảnh/tệp mới, với nội dung làm chú thích).")]

    async def _detach(self, turn: Turn, arg: str) -> list[Reply]:
        await self._drop_attachment(turn)
        return await self._preview(turn, "Đã bỏ tệp đính kèm.\n")

    async def _abandon(self, turn: Turn, arg: str) -> list[Reply]:
        await self._drop_attachment(turn)
        turn.finish()
        return [Reply("Đã huỷ bản soạn; chưa gửi gì.", buttons=[MENU])]

    def _step_buttons(self, turn: Turn) -> list[Button]:
        return [Button(label, payload) for label, payload in turn.state.options] or [MENU]

    # -- reports and cancelling ------------------------------------------------------------------

    async def _report(self, turn: Turn, arg: str) -> list[Reply]:
        if not arg.strip().isdigit():
            recent = await broadcasts.list_broadcasts(turn.db, 5)
            if not recent:
                return [Reply("Chưa có thông báo nào.", buttons=[MENU])]
            lines = [f"#{r.id}: {r.count('sent')}/{r.total} đã gửi — {r.text[:40]}" for r in recent]
            return [Reply("Gần đây:\n" + "\n".join(lines) + "\n\nGõ /baocao <số> để xem chi tiết.",
                          buttons=[Button(f"📊 #{r.id}", f"announce:report:{r.id}") for r in recent])]
        report = await broadcasts.broadcast_report(turn.db, int(arg))
        if report is None:
            return [Reply(f"Không có thông báo #{arg.strip()}.", buttons=[MENU])]
        buttons = [Button("🔄 Cập nhật", f"announce:report:{report.id}")]
        if report.count("uncertain"):
            buttons.append(Button(f"🔁 Gửi lại cho {report.count('uncertain')} người chưa rõ",
                                  f"announce:resend:{report.id}"))
        return [Reply(format_report(report) + await _zalo_oa_outcomes(turn, report.id), buttons=[*buttons, MENU])]

    async def _resend_uncertain(self, turn: Turn, arg: str) -> list[Reply]:
        """Staff chose to re-send to recipients whose delivery outcome is unknown (some may get it twice)."""
        if not arg.strip().isdigit():
            return [Reply("Mình chưa hiểu lựa chọn này.", buttons=[MENU])]
        count = await broadcasts.requeue_uncertain(turn.db, int(arg))
        await audit_turn(turn, "resend_uncertain", broadcast_id=int(arg), recipients=count)
        report = await broadcasts.broadcast_report(turn.db, int(arg))
        note = (f"Đã xếp gửi lại cho {count} người chưa rõ đã nhận hay chưa; một số người có thể nhận 2 lần."
                if count else "Không còn người nào ở trạng thái chưa rõ.")
        body = f"{note}\n\n{format_report(report)}" if report else note
        return [Reply(body, buttons=[Button("🔄 Cập nhật", f"announce:report:{arg.strip()}"), MENU])]

    async def _cancel_broadcast(self, turn: Turn, arg: str) -> list[Reply]:
        if not arg.strip().isdigit():
            return [Reply("Cách dùng: /huythongbao <số thông báo>, ví dụ /huythongbao 12.")]
        report = await broadcasts.cancel_broadcast(turn.db, int(arg))
        if report is None:
            return [Reply(f"Thông báo #{arg.strip()} không có hoặc đã kết thúc; không huỷ được.", buttons=[MENU])]
        await audit_turn(turn, "cancel_broadcast", broadcast_id=report.id, already_sent=report.count("sent"))
        return [Reply("Đã huỷ. Những tin đã gửi không thu hồi được.\n\n" + format_report(report), buttons=[MENU])]


def _what(kind: str) -> str:
    return "ảnh" if kind == "image" else "tệp"


def _send_at(data: dict[str, object]) -> datetime | None:
    value = data.get("send_at")
    return datetime.fromisoformat(value) if isinstance(value, str) else None


async def _zalo_oa_reach(turn: Turn, audience: dict[str, Any] | None) -> str:
    """On a Zalo OA, how many recipients the OA may message now (interaction window, following): a line."""
    config = turn.services.config
    if not config.zalo_oa.app_id:
        return ""
    from bot.channels.zalo_oa import describe_reach, preview_reach

    return describe_reach(await preview_reach(turn.db, config, audience), config.zalo_oa.reach_window_hours) + "\n"


async def _zalo_oa_outcomes(turn: Turn, broadcast_id: int) -> str:
    """The report's Zalo OA line (outside the window and not following counted apart), if any OA rows."""
    if not turn.services.config.zalo_oa.app_id:
        return ""
    from bot.channels.zalo_oa import delivery_outcomes, describe_outcomes

    outcomes = await delivery_outcomes(turn.db, broadcast_id)
    return f"\n{describe_outcomes(outcomes)}" if outcomes else ""
