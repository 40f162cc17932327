"""Profile vocabularies shared by /hoso, announcement targeting, feedback and survey reports.

Provinces and sectors are data, one list each under knowledge/forms/ (the registration forms read the same
files): provinces.yaml and sectors.yaml. Roles carry permissions, so they stay in code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.config import PACKAGE_ROOT
from bot.text import clean, fold

ROLES: dict[str, str] = {
    "member": "Thành viên HTX/THT",
    "manager": "Quản lý HTX (giám đốc, HĐQT, kiểm soát)",
    "staff": "Cán bộ Liên minh HTX",
    "admin": "Quản trị hệ thống",
}
PROFILE_ROLES = ("member", "manager")  # what a user may pick; staff/admin are granted

# The 34 provincial units from 1 July 2025: the project's one list, knowledge/forms/provinces.yaml (also used
# by the registration forms). Profiles and announcement audiences store its short label ("Nghệ An").
VOCABULARIES = PACKAGE_ROOT / "knowledge" / "forms"
PROVINCE_FILE = VOCABULARIES / "provinces.yaml"
SECTOR_FILE = VOCABULARIES / "sectors.yaml"
_PREFIXES = ("thanh pho ", "tp. ", "tp ", "tinh ")


def _key(text: str) -> str:
    key = fold(clean(text)).strip(" .")
    for prefix in _PREFIXES:
        if key.startswith(prefix):
            key = key[len(prefix):].strip()
    return key


def _choices(path: Path) -> list[dict[str, Any]]:
    """The `choices` of a vocabulary file, in the format the forms' `choices_file` reads."""
    choices = yaml.safe_load(path.read_text(encoding="utf-8"))["choices"]
    if not choices or any(not isinstance(c, dict) or not c.get("value") or not c.get("label") for c in choices):
        raise ValueError(f"{path}: every choice needs a `value` and a `label`")
    return list(choices)


def _load() -> tuple[tuple[str, ...], dict[str, str]]:
    choices = _choices(PROVINCE_FILE)
    labels = tuple(str(c["label"]) for c in choices)
    by_key: dict[str, str] = {}
    for c in choices:  # former provinces (aliases) lead to the province they were merged into
        for name in (c["label"], c["value"], *(c.get("aliases") or ())):
            by_key.setdefault(_key(str(name)), str(c["label"]))
    return labels, by_key


PROVINCES, _BY_KEY = _load()
# Sector code → label, in the file's order (the order buttons are offered in).
SECTORS: dict[str, str] = {str(c["value"]): str(c["label"]) for c in _choices(SECTOR_FILE)}


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
