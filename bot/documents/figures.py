"""Figures as a dossier writes them: money in figures and in Vietnamese words, shares that add up to 100%."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
GROUPS = ("", "nghìn", "triệu", "tỷ", "nghìn tỷ", "triệu tỷ")


def money(value: Any) -> str:
    """50000000 → "50.000.000 đồng"; "" for anything that is not an amount."""
    return f"{value:,}".replace(",", ".") + " đồng" if isinstance(value, int) else ""


def _three(n: int, full: bool) -> list[str]:
    """Words of 0–999; `full` reads leading zeros ("không trăm linh năm") inside a larger number."""
    hundreds, tens, units = n // 100, n // 10 % 10, n % 10
    words: list[str] = []
    if hundreds or full:
        words += [DIGITS[hundreds], "trăm"]
    if tens == 0:
        if units and words:
            words.append("linh")
    elif tens == 1:
        words.append("mười")
    else:
        words += [DIGITS[tens], "mươi"]
    if units:
        if units == 5 and tens:
            words.append("lăm")
        elif units == 1 and tens > 1:
            words.append("mốt")
        else:
            words.append(DIGITS[units])
    return words


def in_words(amount: int) -> str:
    """100000000 → "Một trăm triệu đồng" (amounts below 10^21)."""
    if amount == 0:
        return "Không đồng"
    groups = []
    while amount:
        groups.append(amount % 1000)
        amount //= 1000
    words: list[str] = []
    for index in range(len(groups) - 1, -1, -1):
        if groups[index] == 0:
            continue
        words += _three(groups[index], full=bool(words))
        if GROUPS[index]:
            words.append(GROUPS[index])
    text = " ".join(words) + " đồng"
    return text[:1].upper() + text[1:]


def money_with_words(value: Any) -> str:
    """"100.000.000 đồng (Bằng chữ: Một trăm triệu đồng)"; "" when there is no amount."""
    return f"{money(value)} (Bằng chữ: {in_words(value)})" if isinstance(value, int) and value > 0 else ""


def total_of(records: Sequence[Mapping[str, Any]], key: str = "contribution") -> int:
    return sum(r.get(key) for r in records if isinstance(r.get(key), int))


def shares(amounts: Sequence[int]) -> list[str]:
    """Each amount's share of their total to 0.1%, rounded so that the shares add up to exactly 100%."""
    total = sum(amounts)
    if total <= 0:
        return ["" for _ in amounts]
    exact = [1000 * a / total for a in amounts]  # in tenths of a percent
    tenths = [int(x) for x in exact]
    order = sorted(range(len(amounts)), key=lambda i: exact[i] - tenths[i], reverse=True)
    for i in order[: 1000 - sum(tenths)]:
        tenths[i] += 1
    return [f"{t // 10},{t % 10}%" for t in tenths]
