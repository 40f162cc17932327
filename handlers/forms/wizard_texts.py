"""What the wizard says (overridable per form under `texts:` in its YAML) and how it shows answers."""

from __future__ import annotations

import re
from typing import Any

from bot.text import clean, fold
from handlers.forms.validators import format_money
from handlers.forms.wizard_form import Step

DEFAULT_TEXTS = {
    "progress": "Bước {n}/{total}",
    "current": "Hiện tại: {value} (gõ /boqua để giữ nguyên)",
    "optional": "(Không bắt buộc: gõ /boqua để bỏ qua.)",
    "required": "Câu này bắt buộc, bạn trả lời giúp mình nhé.",
    "first": "Đây đã là câu đầu tiên.",
    "stale": "Lựa chọn đó thuộc câu hỏi trước. Câu hỏi hiện tại:",
    "pick_one": "Mời bạn chọn một mục bên dưới.",
    "bad_choice": "Mình chưa hiểu lựa chọn này. Bạn chọn một trong các mục: {choices}.",
    "no_answer": "Câu hỏi này mình chưa trả lời chắc chắn được; sau khi làm xong hồ sơ bạn hỏi lại nhé.",
    "status": "📍 {progress}, đã trả lời {done} câu.",
    "commands": "Trong lúc khai: /quaylai để quay lại, /boqua để bỏ qua câu không bắt buộc, /tiendo để xem "
                "tiến độ, /huy để huỷ.",
    "multi_done": "✅ Xong",
    "multi_hint": "Bạn có thể gõ nhiều số cùng lúc, ví dụ: 1, 3.",
    "yes": "✅ Đúng",
    "retype": "✏️ Nhập lại",
    "cancel_q": "Bạn có chắc muốn huỷ? Các thông tin đã khai sẽ bị xoá.",
    "cancel_yes": "Có, huỷ hồ sơ",
    "cancel_no": "Không, làm tiếp",
    "continue": "Mình làm tiếp nhé.",
    "summary_head": "📋 Tóm tắt: {title}",
    "summary_ok": "Bạn kiểm tra lại. Đúng hết thì bấm «Xác nhận».",
    "summary_fix": "Cần sửa các điểm trên trước khi xác nhận (bấm «Sửa»).",
    "fix_first": "Hồ sơ còn điểm cần sửa.",
    "confirm": "✅ Xác nhận",
    "edit": "✏️ Sửa",
    "cancel": "❌ Huỷ",
    "edit_q": "Bạn muốn sửa mục nào?",
    "to_summary": "⬅️ Về tóm tắt",
    "more": "➕ Thêm {item}",
    "finish": "✅ Xong danh sách",
    "delete": "🗑 Xoá một {item}",
    "delete_q": "Xoá {item} nào?",
    "back": "⬅️ Quay lại",
    "added": "Đã thêm {item} {n}: {line}",
    "list_head": "Danh sách {item} ({n}):",
    "more_q": "Thêm {item} nữa thì bấm «Thêm» hoặc gõ luôn thông tin người tiếp theo; đủ rồi thì bấm «Xong».",
    "min_items": "Cần ít nhất {min:02d} {item}; danh sách mới có {n}.",
    "missing": "thiếu {fields}",
    "line": "Dòng {n}: {error}",
    "retype_line": "Bạn gõ lại dòng này với tên có dấu.",
    "quick_bad": "Mình chưa tách được các thông tin trên dòng này",
    "duplicate": "{value} đã có ở {item} {n} ({name}). Mỗi người chỉ khai một lần.",
}

_QUESTION_WORDS = ("lam sao", "the nao", "bao nhieu", " la gi", "co duoc khong", "duoc khong", "tai sao", "vi sao",
                   "o dau", "khi nao", "bao lau", "co phai", "can gi", "nhu nao", "co can", "hay khong", "ra sao")
_YES = {"co", "dung", "dong y", "u", "uh", "vang", "ok", "yes", "y", "chuan", "phai", "dung roi", "co huy"}
_NO = {"khong", "ko", "k", "no", "sai", "chua", "khong phai", "nhap lai", "lam tiep"}


def looks_like_question(text: str) -> bool:
    """A question typed in the middle of the form, not an answer ("… thế nào?", "lệ phí bao nhiêu")."""
    folded = f" {fold(clean(text))} "
    return "?" in text or any(w in folded for w in _QUESTION_WORDS)


def yes_no(text: str) -> bool | None:
    folded = re.sub(r"[^a-z ]", "", fold(clean(text))).strip()
    if folded in _YES:
        return True
    if folded in _NO:
        return False
    return None


def display(step: Step, value: Any, full: bool = False) -> str:
    """An answer as the user reads it in the summary ("50.000.000 đồng", choice labels, member lines)."""
    if value in (None, "", []):
        return "—"
    if step.type == "records":
        rows = [record_line(step, r) for r in value]
        if not full:
            return f"{len(rows)} {step.params.get('item', 'mục')}"
        return "".join(f"\n   {n}. {row}" for n, row in enumerate(rows, start=1))
    if isinstance(value, list):
        return "; ".join(display(step, v) for v in value)
    if step.type == "money" and isinstance(value, int):
        return format_money(value)
    choice = step.choice_for(value)
    if choice is not None:
        return f"{choice.label} ({choice.value})" if step.params.get("show_value") else choice.label
    return str(value)


def record_line(step: Step, record: dict[str, Any]) -> str:
    return " · ".join(display(f, record.get(f.key)) for f in step.fields if record.get(f.key) not in (None, ""))
