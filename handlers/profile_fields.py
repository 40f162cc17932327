"""Profile vocabularies shared by /hoso, announcement targeting, feedback and survey reports."""

from __future__ import annotations

import yaml

from bot.config import PACKAGE_ROOT
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

# The 34 provincial units from 1 July 2025: the project's one list, knowledge/forms/provinces.yaml (also used
# by the registration forms). Profiles and announcement audiences store its short label ("Nghệ An").
PROVINCE_FILE = PACKAGE_ROOT / "knowledge" / "forms" / "provinces.yaml"
_PREFIXES = ("thanh pho ", "tp. ", "tp ", "tinh ")


def _key(text: str) -> str:
    key = fold(clean(text)).strip(" .")
    for prefix in _PREFIXES:
        if key.startswith(prefix):
            key = key[len(prefix):].strip()
    return key


def _load() -> tuple[tuple[str, ...], dict[str, str]]:
    choices = yaml.safe_load(PROVINCE_FILE.read_text(encoding="utf-8"))["choices"]
    labels = tuple(str(c["label"]) for c in choices)
    by_key: dict[str, str] = {}
    for c in choices:  # former provinces (aliases) lead to the province they were merged into
        for name in (c["label"], c["value"], *(c.get("aliases") or ())):
            by_key.setdefault(_key(str(name)), str(c["label"]))
    return labels, by_key


PROVINCES, _BY_KEY = _load()


def canonical_province(text: str) -> tuple[str, bool]:
    """The province's label for what the user typed (a former province gives the one it merged into), and
    whether it was recognised."""
    name = clean(text)[:100]
    found = _BY_KEY.get(_key(name))
    return (found, True) if found else (name, False)


def sector_label(code: str) -> str:
    return SECTORS.get(code, code or "chưa rõ")


def role_label(code: str) -> str:
    return ROLES.get(code, code or "chưa rõ")
