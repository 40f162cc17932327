"""Personal numbers typed by members are masked before they are stored or shown."""

import pytest

from bot.privacy import EMAIL_MASK, ID_MASK, PHONE_MASK, redact_personal


@pytest.mark.parametrize("text, mask", [
    ("cccd cua toi 001203004567 dang ky duoc khong", ID_MASK),
    ("so cmnd 123456789", ID_MASK),
    ("goi cho toi 0912345678", PHONE_MASK),
    ("sdt 0912 345 678 nhe", PHONE_MASK),
    ("sdt +84 912 345 678", PHONE_MASK),
    ("so 001.203.004.567", ID_MASK),
    ("email nva@gmail.com", EMAIL_MASK),
])
def test_personal_numbers_are_masked(text: str, mask: str) -> None:
    out = redact_personal(text)
    assert mask in out
    assert not any(ch.isdigit() for ch in out.split(mask)[1][:3]), out


@pytest.mark.parametrize("text", [
    "luat 17/2023/QH15 co hieu luc tu 1/7/2024",
    "nghi dinh 92/2024/ND-CP",
    "von 50.000.000 dong",
    "nam 2025 co bao nhieu htx",
    "",
])
def test_legal_references_amounts_and_dates_are_kept(text: str) -> None:
    assert redact_personal(text) == text
