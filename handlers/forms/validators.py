"""Small validators for wizard answers, and form-level checks for the cooperative registration.

Every `validate_<type>(text, params)` returns `(value, "")` when the answer is good and `(None, message)`
otherwise; the message is Vietnamese and ends with an example. A value may be wrapped in `NeedsConfirm`
when the answer was understood only approximately ("quang tri" → "tỉnh Quảng Trị"): the wizard then asks
the user to confirm. Form checks return `Problem`s naming the step to fix.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

from rapidfuzz import fuzz, process

from bot.text import clean, fold, small_number
from handlers.forms.diacritics import confirm_question, has_diacritics, restore
from handlers.forms.wizard_form import Choice

Result = tuple[Any, str]
Validator = Callable[[str, Mapping[str, Any]], Result]

# Law in force: Law on Cooperatives 17/2023/QH15 (from 01/07/2024).
MIN_MEMBERS = {"htx": 5, "tht": 2}  # Art. 4(7): ≥ 05 official members; Art. 4(21): THT ≥ 02 members


class NeedsConfirm(NamedTuple):
    """An answer understood approximately: ask "`question`" before storing `value`."""

    value: Any
    question: str


@dataclass(frozen=True)
class Problem:
    """A form-level problem: which step to fix and what to tell the user."""

    step: str
    message: str


def validate_text(text: str, params: Mapping[str, Any]) -> Result:
    value = clean(text)
    low, high = int(params.get("min_len", 1)), int(params.get("max_len", 300))
    if len(value) < low:
        return None, f"Câu trả lời cần ít nhất {low} ký tự."
    if len(value) > high:
        return None, f"Câu trả lời dài quá (tối đa {high} ký tự), bạn viết gọn lại giúp mình."
    prefix = params.get("ensure_prefix")
    if prefix:
        return _with_prefix(value, str(prefix), [str(a) for a in params.get("prefix_aliases", [])])
    what = params.get("confirm_diacritics")  # e.g. "Địa chỉ": text that goes into a document as typed
    if what and any(c.isalpha() for c in value) and not has_diacritics(value):
        restored = restore(value)
        return NeedsConfirm(restored, confirm_question(str(what), value, restored)), ""
    return value, ""


def _with_prefix(value: str, prefix: str, aliases: list[str]) -> Result:
    """"Tân Lập" or "htx Tân Lập" → "Hợp tác xã Tân Lập"; a bare "htx" is refused, a one-word or unmarked
    proper name is confirmed first."""
    names = sorted([prefix, *aliases], key=len, reverse=True)
    for alias in names:
        if fold(value).startswith(fold(alias) + " "):
            value = value[len(alias):].strip()
            break
    if not value or fold(value) in {fold(n) for n in names}:
        return None, (f"«{value or prefix}» mới là tên loại hình, chưa có tên riêng. Bạn gõ tên riêng, ví dụ: "
                      "Tân Lập.")
    own = restore(value.title()) if not has_diacritics(value) else value
    full = f"{prefix} {own[:1].upper()}{own[1:]}"
    if len(value.split()) == 1:
        return NeedsConfirm(full, f"Tên riêng chỉ có một chữ: tên đầy đủ sẽ là «{full}». Đúng vậy không? "
                                  "Nếu không, bạn bấm «Nhập lại»."), ""
    if own != value or not has_diacritics(value):
        return NeedsConfirm(full, confirm_question("Tên", f"{prefix} {value}", full)), ""
    return full, ""


def validate_person_name(text: str, params: Mapping[str, Any]) -> Result:
    value = clean(text)
    words = value.split()
    if len(words) < 2 or not all(w.replace("-", "").isalpha() for w in words) or len(value) > 80:
        return None, "Họ tên chỉ gồm chữ cái, có ít nhất họ và tên. Ví dụ: Nguyễn Văn An."
    name = " ".join(w[:1].upper() + w[1:].lower() for w in words)
    if has_diacritics(name):
        return name, ""
    restored = restore(name)
    return NeedsConfirm(restored, confirm_question("Họ tên", name, restored)), ""


def validate_phone(text: str, params: Mapping[str, Any]) -> Result:
    digits = re.sub(r"[\s.\-()]", "", text)
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    if digits.isdigit() and (re.fullmatch(r"0[35789]\d{8}", digits) or re.fullmatch(r"02\d{9}", digits)):
        return digits, ""
    return None, "Số điện thoại chưa đúng: di động gồm 10 chữ số bắt đầu bằng 0, hoặc +84. Ví dụ: 0912345678."


def validate_email(text: str, params: Mapping[str, Any]) -> Result:
    value = clean(text).lower()
    if re.fullmatch(r"[a-z0-9._%+\-]+@[a-z0-9\-]+(\.[a-z0-9\-]+)*\.[a-z]{2,}", value):
        return value, ""
    return None, "Địa chỉ email chưa đúng. Ví dụ: htxtanlap@gmail.com."


def validate_id_number(text: str, params: Mapping[str, Any]) -> Result:
    digits = re.sub(r"[\s.\-]", "", text)
    if re.fullmatch(r"\d{12}", digits):
        return digits, ""
    hint = " Số 9 chữ số là chứng minh nhân dân cũ; hãy ghi số CCCD/định danh cá nhân." if len(digits) == 9 else ""
    return None, f"Số CCCD (định danh cá nhân) gồm đúng 12 chữ số.{hint} Ví dụ: 001085012345."


def parse_date(text: str) -> date | None:
    match = re.fullmatch(r"\s*(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})\s*", text)
    if not match:
        return None
    day, month, year = (int(g) for g in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


def age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def validate_date(text: str, params: Mapping[str, Any]) -> Result:
    value = parse_date(text)
    example = "Ví dụ: 15/03/1980."
    if value is None:
        return None, f"Ngày phải viết theo dạng ngày/tháng/năm (dd/mm/yyyy). {example}"
    today = params.get("today") or date.today()
    if value > today:
        return None, f"Ngày này ở tương lai. {example}"
    min_age = params.get("min_age")
    if min_age is not None and age_on(value, today) < int(min_age):
        law = f" ({params['age_law']})" if params.get("age_law") else ""
        return None, (f"Người sinh ngày {value:%d/%m/%Y} mới {age_on(value, today)} tuổi; thành viên phải đủ "
                      f"{min_age} tuổi trở lên{law}. {example}")
    if age_on(value, today) > 120:
        return None, f"Năm sinh chưa đúng. {example}"
    return f"{value:%d/%m/%Y}", ""


_UNITS = {"ty": 1_000_000_000, "ti": 1_000_000_000, "trieu": 1_000_000, "tr": 1_000_000, "cu": 1_000_000,
          "nghin": 1_000, "ngan": 1_000, "k": 1_000, "": 1}
_MONEY_PART = re.compile(r"(\d+(?:[.,]\d+)*)\s*(ty|ti|trieu|tr|cu|nghin|ngan|k)?(?![a-z])")


def _number(raw: str, has_unit: bool) -> float | None:
    """"50.000.000" → 50000000; "1,5" → 1.5 (a decimal comma or dot only before a unit: "1,5 tỷ")."""
    groups = re.split(r"[.,]", raw)
    if len(groups) == 1:
        return float(raw)
    if all(len(g) == 3 for g in groups[1:]):
        return float("".join(groups))
    if len(groups) == 2 and has_unit and len(groups[1]) <= 2:
        return float(f"{groups[0]}.{groups[1]}")
    return None


def parse_money(text: str) -> int | None:
    """"50 triệu", "50tr", "50.000.000", "1,5 tỷ", "1 tỷ 200 triệu", "500k" → đồng; None if unreadable."""
    folded = fold(clean(text)).replace("dong", "").replace("vnd", "").replace("đ", "")
    folded = re.sub(r"(?<=\d)d\b", "", folded).strip()
    folded = re.sub(r"(?<=\d) (?=\d{3}\b)", ".", folded)  # "50 000 000"
    if not folded or not re.fullmatch(r"[\d\s.,a-z]+", folded):
        return None
    total, pos = 0.0, 0
    for match in _MONEY_PART.finditer(folded):
        if folded[pos:match.start()].strip():
            return None
        unit = match.group(2) or ""
        if not unit and (pos or match.end() < len(folded.rstrip())):
            return None  # "30tr5", "1 tỷ 200": ambiguous, ask again
        number = _number(match.group(1), bool(unit))
        if number is None:
            return None
        total += number * _UNITS[unit]
        pos = match.end()
    if folded[pos:].strip() or total <= 0:
        return None
    return int(round(total))


def format_money(amount: int) -> str:
    return f"{amount:,}".replace(",", ".") + " đồng"


def validate_money(text: str, params: Mapping[str, Any]) -> Result:
    value = parse_money(text)
    example = "Ví dụ: 50 triệu, 50tr, 50.000.000 hoặc 1,5 tỷ."
    if value is None:
        return None, f"Mình chưa đọc được số tiền. {example}"
    low, high = params.get("min"), params.get("max")
    if low is not None and value < int(low):
        return None, f"Số tiền phải từ {format_money(int(low))} trở lên. {example}"
    if high is not None and value > int(high):
        return None, f"Số tiền không được quá {format_money(int(high))}. {example}"
    return value, ""


def validate_number(text: str, params: Mapping[str, Any]) -> Result:
    raw = clean(text).replace(".", "").replace(",", "")
    low, high = int(params.get("min", 0)), int(params.get("max", 1_000_000))
    if small_number(raw) is None or not low <= int(raw) <= high:
        return None, f"Bạn gõ một số từ {low} đến {high}. Ví dụ: {max(low, min(high, 5))}."
    return int(raw), ""


def validate_rating(text: str, params: Mapping[str, Any]) -> Result:
    high = int(params.get("max", 5))
    raw = clean(text).rstrip("*⭐ ")
    if small_number(raw) is not None and 1 <= int(raw) <= high:
        return int(raw), ""
    return None, f"Bạn chấm từ 1 đến {high} điểm. Ví dụ: 4."


def match_choice(text: str, choices: Sequence[Choice], cutoff: float = 80) -> tuple[Choice | None, bool]:
    """The choice the user means and whether it was exact (same words, diacritics aside from case)."""
    typed = clean(text).lower()
    folded = fold(typed)
    for choice in choices:
        if typed == choice.label.lower():
            return choice, True
    for choice in choices:
        names = [choice.label, choice.value, *choice.aliases]
        if folded in (fold(n) for n in names):
            return choice, False
    if len(folded) < 3 or any(ch.isdigit() for ch in folded):  # "24 tháng" is not a typo of "12 tháng"
        return None, False
    names = {fold(n): c for c in choices for n in (c.label, *c.aliases)}
    best = process.extractOne(folded, list(names), scorer=fuzz.ratio, score_cutoff=cutoff)
    return (names[best[0]], False) if best else (None, False)


PROVINCE_PREFIX = re.compile(r"^(tỉnh|tinh|thành phố|thanh pho|tp\.?)\s+", re.IGNORECASE)


def validate_province(text: str, params: Mapping[str, Any]) -> Result:
    """A province-level unit after 01/07/2025 (34 units); former names are mapped and confirmed."""
    choices: Sequence[Choice] = params.get("_choices", ())
    typed = PROVINCE_PREFIX.sub("", clean(text)).strip(" .")
    choice, exact = match_choice(typed, choices)
    if choice is None:
        return None, "Mình chưa nhận ra tỉnh/thành phố này (cả nước nay có 34 tỉnh, thành phố). Ví dụ: Quảng Trị."
    if exact:
        return choice.value, ""
    via_alias = fold(typed) not in (fold(choice.label), fold(choice.value))
    note = f" ({choice.note})" if via_alias and choice.note else ""
    return NeedsConfirm(choice.value, f"Ý bạn là {choice.value}{note}?"), ""


COMMUNE_PREFIXES = {"xa": "xã", "phuong": "phường", "dac khu": "đặc khu", "thi tran": "xã"}


def validate_commune(text: str, params: Mapping[str, Any]) -> Result:
    """Commune, ward or special zone (the only level under the province since 01/07/2025)."""
    raw = clean(text).strip(" .,")
    folded = fold(raw)
    for prefix, proper in COMMUNE_PREFIXES.items():
        if folded.startswith(prefix + " ") and len(folded) > len(prefix) + 1:
            name = raw[len(prefix) + 1:].strip().title()
            if has_diacritics(name):
                return f"{proper} {name}", ""
            value = f"{proper} {restore(name)}"
            return NeedsConfirm(value, confirm_question("Tên xã, phường", f"{proper} {name}", value)), ""
    if len(raw) < 2 or not any(c.isalpha() for c in raw):
        return None, "Bạn ghi tên xã, phường hoặc đặc khu nơi đặt trụ sở. Ví dụ: xã Tân Lập."
    name = raw.title() if has_diacritics(raw) else restore(raw.title())
    return NeedsConfirm(f"xã {name}", f"Ý bạn là xã {name}? (Nếu là phường, bạn gõ lại: phường {name}; "
                                      "tên ghi vào hồ sơ phải có dấu)"), ""


INDEFINITE = "Không xác định thời hạn"
_TERM = re.compile(r"(\d{1,3})\s*(thang|nam)")


def term_months(text: str) -> int | None:
    """Months of a contract term ("18 tháng" → 18, "2 năm" → 24); None for an indefinite term."""
    match = _TERM.search(fold(clean(text)))
    if not match:
        return None
    return int(match.group(1)) * (12 if match.group(2) == "nam" else 1)


def validate_term(text: str, params: Mapping[str, Any]) -> Result:
    """A contract term: "18 tháng", "2 năm", or no fixed term ("không xác định thời hạn")."""
    folded = fold(clean(text))
    if re.search(r"khong (xac dinh )?(thoi )?han|vo thoi han|vo han|lau dai", folded):
        return INDEFINITE, ""
    match = _TERM.fullmatch(folded.strip(" ."))
    if match and int(match.group(1)) > 0:
        return f"{int(match.group(1))} {'năm' if match.group(2) == 'nam' else 'tháng'}", ""
    return None, "Bạn ghi thời hạn theo tháng hoặc năm, hoặc «không xác định thời hạn». Ví dụ: 18 tháng, 3 năm."


VALIDATORS: dict[str, Validator] = {
    "text": validate_text, "person_name": validate_person_name, "phone": validate_phone, "email": validate_email,
    "id_number": validate_id_number, "date": validate_date, "money": validate_money, "number": validate_number,
    "rating": validate_rating, "province": validate_province, "commune": validate_commune, "term": validate_term,
}

# What a piece of a one-line record looks like, so "An, 12/03/1980, 0010…, thôn 3, 20tr" can be split.
LOOKS_LIKE: dict[str, Callable[[str], bool]] = {
    "date": lambda s: bool(re.fullmatch(r"\s*\d{1,2}\s*[/.\-]\s*\d{1,2}\s*[/.\-]\s*\d{4}\s*", s)),
    "id_number": lambda s: bool(re.fullmatch(r"\d{9,13}", re.sub(r"[\s.\-]", "", s))),
    "money": lambda s: parse_money(s) is not None and not re.fullmatch(r"\d{9,}", s.strip()),
    "phone": lambda s: validate_phone(s, {})[0] is not None,
    "email": lambda s: "@" in s,
}


# --- Form-level checks (run when a member list is closed and before the summary is confirmed) ---

FormCheck = Callable[[Mapping[str, Any], Mapping[str, Any]], list[Problem]]


def _members(answers: Mapping[str, Any], params: Mapping[str, Any]) -> list[dict[str, Any]]:
    return list(answers.get(params.get("members_key", "members")) or [])


def check_min_members(answers: Mapping[str, Any], params: Mapping[str, Any]) -> list[Problem]:
    """HTX: ≥ 05 official members (Art. 4(7) Law 17/2023); THT: ≥ 02 members (Art. 4(21))."""
    kind = params.get("kind", "htx")
    members = _members(answers, params)
    if kind == "htx":
        counted = [m for m in members if m.get("role", "official") == "official"]
        need, what = MIN_MEMBERS["htx"], "thành viên chính thức (khoản 7 Điều 4 Luật HTX 2023)"
    else:
        counted, need, what = members, MIN_MEMBERS["tht"], "thành viên (khoản 21 Điều 4 Luật HTX 2023)"
    if len(counted) >= need:
        return []
    return [Problem(params.get("members_key", "members"),
                    f"Cần ít nhất {need:02d} {what}; danh sách mới có {len(counted)}. Bạn thêm người giúp mình.")]


def check_unique_ids(answers: Mapping[str, Any], params: Mapping[str, Any]) -> list[Problem]:
    seen: dict[str, str] = {}
    problems = []
    for member in _members(answers, params):
        number = member.get("id_number")
        if number and number in seen:
            problems.append(Problem(params.get("members_key", "members"),
                                    f"Số CCCD {number} bị trùng: {seen[number]} và {member.get('name')}."))
        elif number:
            seen[number] = str(member.get("name", ""))
    return problems


# Checks that span several answers (capital total, caps, governance) are rules declared in the form files
# beside their steps: see handlers/forms/wizard_rules.py.
FORM_CHECKS: dict[str, FormCheck] = {"min_members": check_min_members, "unique_ids": check_unique_ids}
FIELD_CHECKS: dict[str, Callable[[Any, Mapping[str, Any], Mapping[str, Any]], str]] = {}
