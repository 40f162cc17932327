"""Profile vocabularies shared by /hoso, announcement targeting, feedback and survey reports."""

from __future__ import annotations

from bot.text import clean, fold

SECTORS: dict[str, str] = {
    "agriculture": "Nông nghiệp",
    "transport": "Vận tải",
    "trade": "Thương mại",
    "credit": "Tín dụng",
    "industry": "Công nghiệp, tiểu thủ công nghiệp",
    "services": "Dịch vụ",
    "other": "Lĩnh vực khác",
}
ROLES: dict[str, str] = {
    "member": "Thành viên HTX/THT",
    "manager": "Quản lý HTX (giám đốc, HĐQT, kiểm soát)",
    "staff": "Cán bộ Liên minh HTX",
    "admin": "Quản trị hệ thống",
}
PROFILE_ROLES = ("member", "manager")  # what a user may pick; staff/admin are granted

# The 34 provincial units from 1 July 2025 (Nghị quyết 202/2025/QH15).
PROVINCES = (
    "Hà Nội", "Huế", "Hải Phòng", "Đà Nẵng", "TP. Hồ Chí Minh", "Cần Thơ", "Lai Châu", "Điện Biên",
    "Sơn La", "Lạng Sơn", "Quảng Ninh", "Thanh Hóa", "Nghệ An", "Hà Tĩnh", "Cao Bằng", "Tuyên Quang",
    "Lào Cai", "Thái Nguyên", "Phú Thọ", "Bắc Ninh", "Hưng Yên", "Ninh Bình", "Quảng Trị", "Quảng Ngãi",
    "Gia Lai", "Khánh Hòa", "Lâm Đồng", "Đắk Lắk", "Đồng Nai", "Tây Ninh", "Vĩnh Long", "Đồng Tháp",
    "Cà Mau", "An Giang",
)
_ALIASES = {"ho chi minh": "TP. Hồ Chí Minh", "hcm": "TP. Hồ Chí Minh", "tphcm": "TP. Hồ Chí Minh",
            "sai gon": "TP. Hồ Chí Minh", "thua thien hue": "Huế", "dak lak": "Đắk Lắk", "ha noi": "Hà Nội"}
_PREFIXES = ("thanh pho ", "tp. ", "tp ", "tinh ")


def _key(text: str) -> str:
    key = fold(clean(text)).strip(" .")
    for prefix in _PREFIXES:
        if key.startswith(prefix):
            key = key[len(prefix):].strip()
    return key


_BY_KEY = {_key(p): p for p in PROVINCES} | _ALIASES


def canonical_province(text: str) -> tuple[str, bool]:
    """The official name for what the user typed, and whether it was recognised."""
    name = clean(text)[:100]
    found = _BY_KEY.get(_key(name))
    return (found, True) if found else (name, False)


def sector_label(code: str) -> str:
    return SECTORS.get(code, code or "chưa rõ")


def role_label(code: str) -> str:
    return ROLES.get(code, code or "chưa rõ")
