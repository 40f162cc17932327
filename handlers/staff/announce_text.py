"""Wording for announcements: audience descriptions, send times (Vietnam time) and reports."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from bot.storage.repo.broadcasts import BroadcastReport
from handlers.member.profile_fields import role_label, sector_label

VN = timezone(timedelta(hours=7), "ICT")  # Vietnam has no daylight saving time
_WHEN = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})\s+(\d{1,2})[:hg](\d{2})\s*$", re.IGNORECASE)
STATUS_LABELS = {"scheduled": "đã hẹn giờ, chưa gửi", "sending": "đang gửi", "done": "đã xong",
                 "cancelled": "đã huỷ", "draft": "bản nháp"}


def describe_audience(audience: dict[str, str]) -> str:
    """'mọi người đăng ký nhận tin' or the filters in words."""
    parts = []
    if audience.get("province"):
        parts.append(f"tỉnh/thành {audience['province']}")
    if audience.get("sector"):
        parts.append(f"lĩnh vực {sector_label(audience['sector'])}")
    if audience.get("role"):
        parts.append(f"vai trò {role_label(audience['role'])}")
    return "mọi người đăng ký nhận tin" if not parts else "người đăng ký nhận tin thuộc " + ", ".join(parts)


def parse_send_time(text: str, now: datetime | None = None) -> datetime | None:
    """'25/12/2025 08:30' (Vietnam time) → an aware UTC datetime; None if malformed or not in the future."""
    match = _WHEN.match(text)
    if not match:
        return None
    day, month, year, hour, minute = (int(g) for g in match.groups())
    try:
        when = datetime(year, month, day, hour, minute, tzinfo=VN).astimezone(UTC)
    except ValueError:
        return None
    return when if when > (now or datetime.now(UTC)) else None


def format_time(value: datetime | None) -> str:
    if value is None:
        return "gửi ngay khi xác nhận"
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(VN).strftime("%d/%m/%Y %H:%M")


def format_report(report: BroadcastReport) -> str:
    """Progress and final counts; sent + failed + blocked + quota + cancelled + uncertain + pending = total."""
    kind = "Lời mời khảo sát" if report.kind == "survey" else "Thông báo"
    preview = report.text if len(report.text) <= 120 else report.text[:117] + "…"
    lines = [
        f"{kind} #{report.id} — {STATUS_LABELS.get(report.status, report.status)}",
        f"«{preview}»",
        f"Người nhận: {report.total} ({describe_audience(report.audience)})",
        f"Thời điểm gửi: {format_time(report.send_at)}",
        f"✅ Đã gửi: {report.count('sent')}",
        f"⏳ Chờ gửi: {report.pending}",
        f"❌ Lỗi: {report.count('failed')}",
        f"🚫 Đã chặn bot: {report.count('blocked')}",
    ]
    if report.count("uncertain"):
        lines.append(f"❔ Chưa rõ đã nhận hay chưa (mạng chậm hoặc máy chủ dừng giữa chừng): "
                     f"{report.count('uncertain')} — không tự gửi lại để không ai nhận 2 lần")
    if report.count("quota"):
        lines.append(f"⛔ Hết hạn mức tin nhắn của kênh: {report.count('quota')}")
    if report.count("cancelled"):
        lines.append(f"✖️ Huỷ trước khi gửi: {report.count('cancelled')}")
    if report.finished_at:
        lines.append(f"Kết thúc lúc {format_time(report.finished_at)}")
    return "\n".join(lines)
