"""Personal data in free text: ID-card numbers, phone numbers, account numbers and e-mail addresses are masked.

Members sometimes type their CCCD number or phone number where a question is expected. Such text is
kept for staff to improve the answers, so it is stored and shown only after this redaction. The rule
errs on the side of masking: any run of nine or more digits (typed in groups, glued to letters, in
full-width digits) is masked, except legal document numbers ("17/2023/QH15") and dates.
"""

from __future__ import annotations

import re
import unicodedata

# Digits in groups ("0912 345 678", "001.203.004.567", "(0912) 345-678"), glued to letters or not.
_SEPARATOR = r"[ \t.,\-\u2013\u2014_()]{0,3}"
_DIGIT_RUN = re.compile(rf"(?<!\d)\+?\(?\d(?:{_SEPARATOR}\d){{7,}}(?!\d)")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_AMOUNT = re.compile(r"^\d{1,3}(?:[.,]\d{3})+$")  # "50.000.000" grouped in thousands …
_CURRENCY = re.compile(r"^\s*(?:đ|đồng|dong|vnd|vnđ|₫)", re.IGNORECASE)  # … and followed by a currency

ID_MASK = "[số giấy tờ]"
PHONE_MASK = "[số điện thoại]"
NUMBER_MASK = "[số tài khoản/số cá nhân]"
EMAIL_MASK = "[email]"


def _classify(run: str, after: str) -> str | None:
    digits = re.sub(r"\D", "", run)
    if _AMOUNT.match(run.strip()) and not digits.startswith("0") and _CURRENCY.match(after):
        return None
    if run.lstrip("(").startswith("+84") or (digits.startswith("84") and len(digits) == 11):
        return PHONE_MASK
    if len(digits) in (10, 11) and digits.startswith("0"):
        return PHONE_MASK  # mobile numbers (0 + 9 digits) and the old 11-digit landlines
    if len(digits) in (9, 12):
        return ID_MASK  # old CMND (9) and CCCD / personal identification number (12)
    if len(digits) >= 9:
        return NUMBER_MASK  # bank accounts, mistyped ID numbers: personal either way
    return None


def redact_personal(text: str) -> str:
    """The text with ID-card, phone and account numbers and e-mail addresses replaced by a placeholder.

    Document numbers ("17/2023/QH15"), years, amounts of money ("50.000.000 đồng") and dates are left alone.
    """
    if not text:
        return text
    text = unicodedata.normalize("NFKC", text)  # full-width digits are digits
    text = _EMAIL.sub(EMAIL_MASK, text)

    def replace(match: re.Match[str]) -> str:
        run = match.group(0)
        return _classify(run, match.string[match.end():match.end() + 6]) or run

    return _DIGIT_RUN.sub(replace, text)
