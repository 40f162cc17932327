"""Turn a knowledge-base entry into the text a user reads: answer, caveats, law version, source."""

from __future__ import annotations

import re
from datetime import date, timedelta

from bot.knowledge.model import Entry

LAW_NAMES = {
    "2023": "Luật Hợp tác xã 2023 (số 17/2023/QH15, hiệu lực từ 01/07/2024)",
    "2012": "Luật Hợp tác xã 2012 (số 23/2012/QH13), đã hết hiệu lực từ 01/07/2024",
}
UNCONFIRMED_ADVICE = ("Bạn nên hỏi lại Liên minh HTX tỉnh hoặc bộ phận đăng ký kinh doanh của UBND xã/phường "
                      "trước khi dựa vào thông tin này.")


def _d(value: date) -> str:
    return f"{value:%d/%m/%Y}"


# A one-word verdict at the start of an answer: "Có.", "**Không.**", "**Được, có điều kiện.**".
_OPENER = re.compile(r"^\s*(\*\*)?(Có|Không|Được|Chưa|Phải)(, có điều kiện)?\.(\*\*)?\s+(?=\S)")


def has_opener(entry: Entry) -> bool:
    """The answer starts with a one-word yes/no verdict."""
    return bool(_OPENER.match(entry.answer))


def answer_body(entry: Entry, opener: bool = True) -> str:
    """The answer without its source line. Without `opener`, a leading "Có." / "Không." / "Được." is left
    out: it answers the entry's own question, which may not be the one the member asked."""
    text = entry.answer.strip()
    if not opener:
        match = _OPENER.match(text)
        if match:
            rest = text[match.end():]
            text = rest[:1].upper() + rest[1:]
    parts = [text]
    if entry.kind != "answer":
        return parts[0]
    if entry.law == "2012":
        parts.append(f"⚠️ Đây là quy định của {LAW_NAMES['2012']}. Hiện nay: {entry.today}")
    elif entry.today and entry.valid_to is not None and entry.valid_to < date.today():
        ended = entry.valid_to + timedelta(days=1)
        parts.append(f"⚠️ Quy định trên đã hết hiệu lực từ {ended:%d/%m/%Y}. Hiện nay: {entry.today}")
    if entry.unconfirmed:
        parts.append(f"❔ Chưa xác minh đầy đủ: {entry.unconfirmed} {UNCONFIRMED_ADVICE}")
    return "\n\n".join(parts)


def format_answer(entry: Entry, opener: bool = True) -> str:
    """The full answer text: what the user sees on every channel."""
    body = answer_body(entry, opener)
    if entry.kind != "answer":
        return body
    return f"{body}\n\n{source_line(entry)}"


def source_line(entry: Entry) -> str:
    cites = "; ".join(s.cite() for s in entry.sources)
    line = f"📚 Nguồn: {cites}."
    if entry.valid_from:
        line += f" Áp dụng từ {_d(entry.valid_from)}."
    if entry.valid_to:
        line += f" Áp dụng đến {_d(entry.valid_to)}."
    if entry.reviewed:
        line += f" Cập nhật: {_d(entry.reviewed)}."
    return line


def short_label(entry: Entry, limit: int = 60) -> str:
    """A button label for an entry: its first phrasing written with diacritics, shortened."""
    with_marks = [q for q in entry.questions if not q.isascii()]
    text = (with_marks or list(entry.questions))[0].rstrip("?").strip()
    text = text[:1].upper() + text[1:]
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
