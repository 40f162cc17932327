"""Personal numbers typed by members are masked before they are stored or shown."""

import pytest

from bot.privacy import EMAIL_MASK, ID_MASK, NUMBER_MASK, PHONE_MASK, redact_personal


@pytest.mark.parametrize("text, mask", [
    ("cccd cua toi 001203004567 dang ky duoc khong", ID_MASK),
    ("so cmnd 123456789", ID_MASK),
    ("goi cho toi 0912345678", PHONE_MASK),
    ("sdt 0912 345 678 nhe", PHONE_MASK),
    ("sdt +84 912 345 678", PHONE_MASK),
    ("so 001.203.004.567", ID_MASK),
    ("email nva@gmail.com", EMAIL_MASK),
    ("CCCD001203004567", ID_MASK),
    ("so001203004567 nhe", ID_MASK),
    ("0912,345,678", PHONE_MASK),
    ("0987654321/0912345678", PHONE_MASK),
    ("stk 19036543210011", NUMBER_MASK),
    ("0912345678abc", PHONE_MASK),
    ("phone 0912345678_", PHONE_MASK),
    ("0912  345  678", PHONE_MASK),
    ("0912 . 345 . 678", PHONE_MASK),
    ("0912\u2013345\u2013678", PHONE_MASK),
    ("(0912) 345 678", PHONE_MASK),
    ("0912_345_678", PHONE_MASK),
    ("\uff10\uff19\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18", PHONE_MASK),
    ("cccd 0012030045678", NUMBER_MASK),
    ("cmnd 123.456.789", ID_MASK),
])
def test_personal_numbers_are_masked(text: str, mask: str) -> None:
    out = redact_personal(text)
    assert mask in out, out
    assert sum(ch.isdigit() for ch in out) <= 2, out  # at most a stray digit of a separator-glued run


@pytest.mark.parametrize("text", [
    "luat 17/2023/QH15 co hieu luc tu 1/7/2024",
    "nghi dinh 92/2024/ND-CP",
    "von 50.000.000 dong",
    "gop 1.500.000.000 dong",
    "vay 300.000.000đ duoc khong",
    "nghi dinh 45/2021/ND-CP va 92/2024",
    "ngay 01/07/2024",
    "nam 2025 co bao nhieu htx",
    "",
])
def test_legal_references_amounts_and_dates_are_kept(text: str) -> None:
    assert redact_personal(text) == text
