"""Personal data in free text: ID-card numbers, phone numbers and e-mail addresses are masked.

Members sometimes type their CCCD number or phone number where a question is expected. Such text is
kept for staff to improve the answers, so it is stored and shown only after this redaction.
"""

from __future__ import annotations

import re

# Digits may be typed in groups ("0912 345 678", "001.203.004.567"); a run is judged on its digits.
_DIGIT_RUN = re.compile(r"(?<![\w/])\+?\d(?:[ .\-]?\d){7,}(?![\w/])")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")

ID_MASK = "[số giấy tờ]"
PHONE_MASK = "[số điện thoại]"
EMAIL_MASK = "[email]"


def _classify(run: str) -> str | None:
    digits = re.sub(r"\D", "", run)
    if run.startswith("+84") or (digits.startswith("84") and len(digits) == 11):
        return PHONE_MASK
    if len(digits) == 10 and digits.startswith("0"):
        return PHONE_MASK  # Vietnamese mobile numbers: 0 + 9 digits
    if len(digits) in (9, 12):
        return ID_MASK  # old CMND (9) and CCCD / personal identification number (12)
    if len(digits) == 11 and digits.startswith("0"):
        return PHONE_MASK  # old landline format
    return None


def redact_personal(text: str) -> str:
    """The text with ID-card numbers, phone numbers and e-mail addresses replaced by a placeholder.

    Document numbers ("17/2023/QH15"), years, amounts ("50.000.000 đồng" is kept: 8 digits) and
    dates are left alone.
    """
    if not text:
        return text
    text = _EMAIL.sub(EMAIL_MASK, text)

    def replace(match: re.Match[str]) -> str:
        return _classify(match.group(0)) or match.group(0)

    return _DIGIT_RUN.sub(replace, text)
