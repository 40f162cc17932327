"""Each validator accepts what farmers type and refuses the rest with a Vietnamese message and an example."""

from __future__ import annotations

from datetime import date

import pytest

from handlers.forms.validators import (
    NeedsConfirm,
    check_min_members,
    check_unique_ids,
    match_choice,
    parse_money,
    term_months,
    validate_commune,
    validate_date,
    validate_email,
    validate_id_number,
    validate_money,
    validate_number,
    validate_person_name,
    validate_phone,
    validate_province,
    validate_rating,
    validate_term,
    validate_text,
)
from handlers.forms.wizard_form import Choice, load_form
from handlers.forms.wizard_rules import broken, route_of
from tests.conftest import ROOT

TODAY = date(2026, 11, 21)


@pytest.mark.parametrize(("typed", "amount"), [
    ("50 triệu", 50_000_000), ("50tr", 50_000_000), ("50.000.000", 50_000_000), ("50,000,000", 50_000_000),
    ("1,5 tỷ", 1_500_000_000), ("1.5 ty", 1_500_000_000), ("1 tỷ 200 triệu", 1_200_000_000), ("500k", 500_000),
    ("50000000đ", 50_000_000), ("20 trieu dong", 20_000_000), ("50 000 000", 50_000_000),
    ("1.500 triệu", 1_500_000_000), ("300 nghìn", 300_000),
])
def test_money_is_read_the_way_people_write_it(typed: str, amount: int) -> None:
    assert parse_money(typed) == amount


@pytest.mark.parametrize("typed", ["abc", "", "năm mươi triệu", "30tr5", "1,5", "-5 triệu", "0"])
def test_unreadable_money_is_refused_with_examples(typed: str) -> None:
    value, error = validate_money(typed, {})
    assert value is None
    assert "Ví dụ: 50 triệu, 50tr, 50.000.000" in error


def test_money_limits() -> None:
    assert validate_money("50 nghìn", {"min": 100_000})[1].startswith("Số tiền phải từ 100.000 đồng")
    assert validate_money("2 tỷ", {"max": 1_000_000_000})[0] is None


@pytest.mark.parametrize(("typed", "stored"), [
    ("0912345678", "0912345678"), ("+84912345678", "0912345678"), ("+84 912 345 678", "0912345678"),
    ("0912.345.678", "0912345678"), ("84912345678", "0912345678"), ("02333852123", "02333852123"),
])
def test_phone_numbers(typed: str, stored: str) -> None:
    assert validate_phone(typed, {}) == (stored, "")


@pytest.mark.parametrize("typed", ["091234567", "1912345678", "0112345678", "+1 202 555 0100", "số máy bàn"])
def test_wrong_phone_numbers(typed: str) -> None:
    value, error = validate_phone(typed, {})
    assert value is None and "Ví dụ: 0912345678" in error


def test_cccd_is_twelve_digits() -> None:
    assert validate_id_number("001 080 012 345", {}) == ("001080012345", "")
    value, error = validate_id_number("123456789", {})
    assert value is None and "12 chữ số" in error and "chứng minh nhân dân cũ" in error
    assert validate_id_number("00108001234X", {})[0] is None


def test_dates_and_adult_members() -> None:
    assert validate_date("5/6/1975", {"today": TODAY}) == ("05/06/1975", "")
    assert validate_date("05-06-1975", {"today": TODAY}) == ("05/06/1975", "")
    value, error = validate_date("31/02/1980", {"today": TODAY})
    assert value is None and "dd/mm/yyyy" in error
    value, error = validate_date("01/01/2010", {"today": TODAY, "min_age": 18, "age_law": "Điều 30"})
    assert value is None and "mới 16 tuổi" in error and "18 tuổi" in error and "Điều 30" in error
    assert validate_date("21/11/2008", {"today": TODAY, "min_age": 18})[0] == "21/11/2008"
    assert validate_date("22/11/2008", {"today": TODAY, "min_age": 18})[0] is None
    assert "tương lai" in validate_date("01/01/2030", {"today": TODAY})[1]


def test_names_email_numbers_ratings_text() -> None:
    assert validate_person_name("  nguyễn   văn AN ", {}) == ("Nguyễn Văn An", "")
    assert validate_person_name("An", {})[0] is None
    assert validate_person_name("Nguyễn Văn 3", {})[0] is None
    assert validate_email("HTX.TanLap@Gmail.com", {}) == ("htx.tanlap@gmail.com", "")
    assert "Ví dụ" in validate_email("htx@", {})[1]
    assert validate_number("12", {"min": 1, "max": 20}) == (12, "")
    assert validate_number("25", {"min": 1, "max": 20})[0] is None
    assert validate_rating("4", {}) == (4, "")
    assert validate_rating("6", {})[0] is None
    assert validate_text("htx tân lập", {"ensure_prefix": "Hợp tác xã", "prefix_aliases": ["htx"]}) == \
        ("Hợp tác xã Tân lập", "")
    assert validate_text("Hợp tác xã Tân Lập", {"ensure_prefix": "Hợp tác xã"}) == ("Hợp tác xã Tân Lập", "")
    assert validate_text("x" * 400, {})[0] is None


def test_provinces_after_the_2025_merger() -> None:
    step = load_form(ROOT / "knowledge" / "forms" / "htx.yaml").step("province")
    assert step is not None and len(step.choices) == 34
    params = {"_choices": step.choices}
    assert validate_province("Quảng Trị", params) == ("tỉnh Quảng Trị", "")
    assert validate_province("tỉnh Quảng Trị", params) == ("tỉnh Quảng Trị", "")
    value, _ = validate_province("quang tri", params)
    assert value == NeedsConfirm("tỉnh Quảng Trị", "Ý bạn là tỉnh Quảng Trị?")
    value, _ = validate_province("Kon Tum", params)
    assert isinstance(value, NeedsConfirm) and value.value == "tỉnh Quảng Ngãi" and "Kon Tum cũ" in value.question
    value, _ = validate_province("tp hcm", params)
    assert isinstance(value, NeedsConfirm) and value.value == "thành phố Hồ Chí Minh"
    assert validate_province("Atlantis", params)[0] is None


def test_commune_names() -> None:
    value, _ = validate_commune("xa tan lap", {})  # typed without marks: restored, to be confirmed
    assert isinstance(value, NeedsConfirm) and value.value == "xã Tân Lập" and "phải có dấu" in value.question
    assert validate_commune("Phường Đông Hà", {}) == ("phường Đông Hà", "")
    value, _ = validate_commune("Tân Lập", {})
    assert isinstance(value, NeedsConfirm) and value.value == "xã Tân Lập"


def test_match_choice_exact_folded_fuzzy() -> None:
    choices = [Choice("full", "Đầy đủ"), Choice("simple", "Rút gọn", ("rut gon",))]
    assert match_choice("đầy đủ", choices) == (choices[0], True)
    assert match_choice("day du", choices) == (choices[0], False)
    assert match_choice("rut gonn", choices) == (choices[1], False)
    assert match_choice("xyz", choices) == (None, False)


def _member(name: str, number: str, money: int, role: str = "official") -> dict[str, object]:
    return {"name": name, "id_number": number, "contribution": money, "role": role}


def test_minimum_members_under_the_2023_law() -> None:
    four = [_member(f"Người {n}", f"00000000000{n}", 10) for n in range(4)]
    problems = check_min_members({"members": four}, {"kind": "htx"})
    assert problems and "05 thành viên chính thức" in problems[0].message and "khoản 7 Điều 4" in problems[0].message
    with_associate = [*four, _member("Người 5", "000000000005", 10, "associate")]
    assert check_min_members({"members": with_associate}, {"kind": "htx"})
    assert not check_min_members({"members": [*four, _member("Người 5", "000000000005", 10)]}, {"kind": "htx"})
    assert not check_min_members({"members": four[:2]}, {"kind": "tht"})
    assert "02 thành viên" in check_min_members({"members": four[:1]}, {"kind": "tht"})[0].message


def test_duplicates() -> None:
    members = [_member("A", "1", 31), _member("B", "1", 10, "associate"), _member("C", "3", 25, "associate")]
    dups = check_unique_ids({"members": members}, {})
    assert len(dups) == 1 and "A và B" in dups[0].message


HTX = load_form(ROOT / "knowledge" / "forms" / "htx.yaml")


def refusals(step: str, value: object, answers: dict[str, object]) -> list[str]:
    found = HTX.step(step)
    assert found is not None
    return broken(found, value, answers, HTX)


def test_caps_are_measured_against_the_members_total_not_a_declared_figure() -> None:
    # the audit's case: 30 m + 4 × 5 m = 50 m, one member holds 60% (declared 100 m would hide it)
    members = [_member("A", "1", 30_000_000)] + [_member(n, n, 5_000_000) for n in "BCDE"]
    [cap] = refusals("members", members, {"charter_capital": 100_000_000})
    assert "A góp 30.000.000 đồng, bằng 60,0%" in cap and "khoản 1 Điều 74 Luật HTX 2023" in cap
    [declared] = refusals("charter_capital", 100_000_000, {"members": members})
    assert "tức 50.000.000 đồng" in declared and "khoản 24 Điều 4 Luật HTX 2023" in declared
    assert refusals("charter_capital", 50_000_000, {"members": members}) == []
    associates = [_member(n, n, 20_000_000) for n in "ABC"] + [_member(n, n, 20_000_000, "associate") for n in "DE"]
    [group] = refusals("members", associates, {})
    assert "40,0%" in group and "khoản 2 Điều 74 Luật HTX 2023" in group
    an_associate_alone = [_member(n, n, 10_000_000) for n in "ABCDE"] + [_member("F", "F", 15_000_000, "associate")]
    assert refusals("members", an_associate_alone, {}) == []  # Art. 74(1) caps official members; 23% here


def test_every_pair_article_62_names_is_refused() -> None:
    people = [_member(n, n, 10) for n in ("An", "Bình", "Cường", "Dung", "Em")]
    people.append(_member("Giàu", "G", 10, "associate"))
    full = {"members": people, "governance": "full", "chair": "An", "board": ["Bình", "Cường"], "director": "Dung"}
    assert any("điểm b khoản 1 và điểm b khoản 3 Điều 62" in m for m in refusals("supervisor", "An", full))
    assert any("điểm b khoản 1 và điểm b khoản 3 Điều 62" in m for m in refusals("supervisor", "Cường", full))
    assert any("điểm b khoản 2 và điểm b khoản 3 Điều 62" in m for m in refusals("supervisor", "Dung", full))
    assert any("điểm a khoản 3 Điều 62" in m for m in refusals("supervisor", "Giàu", full))
    assert refusals("supervisor", "Em", full) == []
    others = {**full, "supervisor": "Em"}
    assert any("Hội đồng quản trị" in m for m in refusals("control_board", ["Bình"], others))
    assert any("là Giám đốc" in m for m in refusals("control_board", ["Dung"], others))
    simple = {"members": people, "governance": "simple", "director": "An"}
    assert any("điểm b khoản 2 và điểm b khoản 3 Điều 62" in m for m in refusals("controller", "An", simple))
    assert any("điểm a khoản 2 Điều 62" in m for m in refusals("director", "Người Ngoài", simple))
    assert refusals("director", "Người Ngoài", {**simple, "governance": "full"}) == []
    assert any("ít nhất 03" in m for m in refusals("board", ["Bình"], full))
    assert any("điểm a khoản 1 Điều 62" in m for m in refusals("chair", "Giàu", full))


def test_contract_terms_and_the_tht_route() -> None:
    assert validate_term("18 thang", {}) == ("18 tháng", "")
    assert validate_term("vô thời hạn", {}) == ("Không xác định thời hạn", "")
    assert validate_term("lâu lâu", {})[0] is None
    assert term_months("2 năm") == 24 and term_months("Không xác định thời hạn") is None
    capital = {"members": [{"contribution": 5_000_000}, {}]}
    assert route_of({**capital, "term": "12 tháng", "state_support": "no"})[0] == "register"
    assert route_of({**capital, "term": "Không xác định thời hạn", "state_support": "no"})[0] == "register"
    assert route_of({**capital, "term": "11 tháng", "state_support": "no"})[0] == "contract"
    assert route_of({"members": [{}, {}], "term": "5 năm", "state_support": "no"})[0] == "contract"
    assert route_of({"members": [{}, {}], "term": "6 tháng", "state_support": "yes"})[0] == "register"


def test_names_without_diacritics_are_restored_for_confirmation_and_bare_type_names_refused() -> None:
    value, _ = validate_person_name("nguyen van an", {})
    assert value == NeedsConfirm("Nguyễn Văn An", value.question) and "«Nguyễn Văn An»" in value.question
    assert validate_person_name("Nguyễn Văn An", {}) == ("Nguyễn Văn An", "")
    htx = {"ensure_prefix": "Hợp tác xã", "prefix_aliases": ["htx", "hop tac xa"]}
    refused, error = validate_text("htx", htx)
    assert refused is None and "chưa có tên riêng" in error
    one_word, _ = validate_text("Bình Minh", htx)
    assert one_word == "Hợp tác xã Bình Minh"
    single, _ = validate_text("Bình", htx)
    assert isinstance(single, NeedsConfirm) and "một chữ" in single.question
    unmarked, _ = validate_text("htx tan lap", htx)
    assert isinstance(unmarked, NeedsConfirm) and unmarked.value == "Hợp tác xã Tân Lập"
