"""The generic wizard runner on a small form: ask, re-ask, back, skip, edit, cancel, records, resume."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from handlers.forms.validators import Problem
from handlers.forms.wizard import CANCELLED, DONE, Wizard, WizardResult
from handlers.forms.wizard_form import FormError, load_form
from handlers.forms.wizard_state import Mode, WizardState

FORM = """
id: demo
title: Khảo sát thử
checks: [at_least_two]
steps:
  - {key: name, label: Tên, prompt: "Tên tổ?", type: text, example: Tổ rau}
  - {key: note, label: Ghi chú, prompt: "Ghi chú?", type: text, required: false}
  - key: model
    label: Mô hình
    prompt: Mô hình nào?
    type: choice
    choices: [{value: full, label: Đầy đủ}, {value: simple, label: Rút gọn}]
  - {key: chair, label: Chủ tịch, prompt: "Ai là chủ tịch?", type: choice, choices_from: people, when: {model: full}}
  - {key: capital, label: Vốn, prompt: "Vốn?", type: money, example: 50 triệu}
  - key: lines
    label: Ngành
    prompt: Ngành nào?
    type: multi_choice
    choices:
      - {value: "0111", label: Trồng lúa}
      - {value: "0146", label: Chăn nuôi gia cầm}
      - {value: "0322", label: Nuôi cá}
  - key: people
    label: Thành viên
    prompt: Họ tên?
    type: records
    item: người
    min_items: 1
    fields:
      - {key: name, label: Họ tên, prompt: "Họ tên?", type: person_name}
      - {key: id_number, label: CCCD, prompt: "CCCD?", type: id_number, unique: true}
      - {key: money, label: Góp, prompt: "Góp bao nhiêu?", type: money}
"""


def at_least_two(answers: dict, params: dict) -> list[Problem]:
    people = answers.get("people") or []
    return [] if len(people) >= 2 else [Problem("people", "Cần ít nhất 2 người.")]


@pytest.fixture
def wizard(tmp_path: Path) -> Wizard:
    path = tmp_path / "demo.yaml"
    path.write_text(FORM, encoding="utf-8")
    answers = {"lệ phí bao nhiêu?": "Lệ phí 50.000 đồng."}
    return Wizard(load_form(path), "t", answerer=answers.get, form_checks={"at_least_two": at_least_two})


def state(data: dict) -> WizardState:
    return WizardState.load(data)


def said(result: WizardResult) -> str:
    return "\n".join(r.text for r in result.replies)


def buttons(result: WizardResult) -> list[tuple[str, str]]:
    return [(b.label, b.payload) for r in result.replies for b in r.buttons]


def fill_until_people(w: Wizard, data: dict) -> WizardResult:
    w.start(data)
    w.on_text(data, "Tổ rau")
    w.on_text(data, "/boqua")
    w.on_button(data, "c:2:1")  # Rút gọn: no chair question
    w.on_text(data, "50 triệu")
    return w.on_text(data, "1, 2")


def test_asks_in_order_with_progress_and_reasks_with_example(wizard: Wizard) -> None:
    data = wizard.new_state()
    first = wizard.start(data)
    assert "Bước 1/6 · Tên" in said(first) and buttons(first) == []
    assert "Bước 2/6" in said(wizard.on_text(data, "Tổ rau"))
    assert "Không bắt buộc" in wizard.resume(data)[0].text
    third = wizard.on_text(data, "/boqua")
    assert buttons(third) == [("Đầy đủ", "t:w:c:2:0"), ("Rút gọn", "t:w:c:2:1")]
    fourth = wizard.on_text(data, "day du")  # understood without diacritics, confirmed first
    assert "Ý bạn là: Đầy đủ?" in said(fourth)
    wizard.on_text(data, "đúng")
    assert state(data).answers["model"] == "full"
    assert "Bước 4/7 · Chủ tịch" in said(WizardResult(wizard.resume(data)))  # the conditional step now applies
    wizard.on_text(data, "/quaylai")
    wizard.on_button(data, "c:2:1")
    bad = wizard.on_text(data, "nhiều tiền")
    assert "❗ Mình chưa đọc được số tiền" in said(bad) and "Bước 4/6 · Vốn" in said(bad)
    assert state(data).answers.get("capital") is None


def test_required_step_cannot_be_skipped_and_back_keeps_answers(wizard: Wizard) -> None:
    data = wizard.new_state()
    wizard.start(data)
    assert "bắt buộc" in said(wizard.on_text(data, "/boqua"))
    wizard.on_text(data, "Tổ rau")
    assert "Đây đã là câu đầu tiên" not in said(wizard.on_text(data, "/quaylai"))
    again = wizard.on_text(data, "/tiendo")
    assert "Bước 1/6, đã trả lời 1 câu" in said(again) and "Hiện tại: Tổ rau" in said(again)
    assert "Đây đã là câu đầu tiên" in said(wizard.on_text(data, "/quaylai"))
    wizard.on_text(data, "/boqua")  # keeps "Tổ rau"
    assert state(data).answers["name"] == "Tổ rau" and state(data).step_index == 1


def test_stale_and_unknown_buttons_do_not_advance(wizard: Wizard) -> None:
    data = wizard.new_state()
    wizard.start(data)
    assert "thuộc câu hỏi trước" in said(wizard.on_button(data, "c:2:0"))
    assert "thuộc câu hỏi trước" in said(wizard.on_button(data, "ok"))
    assert state(data).step_index == 0 and state(data).answers == {}


def test_multi_choice_by_numbers_and_by_toggles(wizard: Wizard) -> None:
    data = wizard.new_state()
    fill_until_people(wizard, data)
    assert state(data).answers["lines"] == ["0111", "0146"]
    wizard.on_text(data, "/quaylai")
    wizard.on_button(data, "t:5:0")  # untick Trồng lúa
    shown = wizard.on_button(data, "t:5:2")
    assert ("✅ Nuôi cá", "t:w:t:5:2") in buttons(shown) and ("Trồng lúa", "t:w:t:5:0") in buttons(shown)
    wizard.on_button(data, "d:5")
    assert state(data).answers["lines"] == ["0146", "0322"]
    wizard.on_text(data, "/quaylai")
    assert "1 đến 3" in said(wizard.on_text(data, "4, 9"))


def test_records_one_by_one_quick_lines_duplicates_back_and_delete(wizard: Wizard) -> None:
    data = wizard.new_state()
    asked = fill_until_people(wizard, data)
    assert "người 1: Họ tên" in said(asked)
    wizard.on_text(data, "Nguyễn Văn An")
    wizard.on_text(data, "001080012345")
    more = wizard.on_text(data, "20 triệu")
    assert "Đã thêm người 1: Nguyễn Văn An · 001080012345 · 20.000.000 đồng" in said(more)
    dup = wizard.on_text(data, "Trần Bình, 001080012345, 10tr")
    assert "đã có ở người 1 (Nguyễn Văn An)" in said(dup)
    two = wizard.on_text(data, "Trần Bình, 001080012399, 10tr\nLê Cường, 12345, 5tr")
    assert "Đã thêm người 2: Trần Bình" in said(two) and "❗ Dòng 2" in said(two)
    back = wizard.on_text(data, "/quaylai")  # reopens the last record at its last field
    assert "người 2: Góp" in said(back) and len(state(data).answers["people"]) == 1
    wizard.on_text(data, "15tr")
    wizard.on_button(data, "del")
    wizard.on_button(data, "rm:0")
    assert [p["name"] for p in state(data).answers["people"]] == ["Trần Bình"]
    refused = wizard.on_text(data, "xong")
    assert "Cần ít nhất 2 người" in said(refused) and state(data).mode == Mode.RECORD_MORE
    wizard.on_text(data, "Nguyễn Văn An, 001080012345, 20tr")
    summary = wizard.on_button(data, "fin")
    assert "📋 Tóm tắt: Khảo sát thử" in said(summary) and "Mô hình: Rút gọn" in said(summary)


def test_summary_edit_cancel_and_done(wizard: Wizard) -> None:
    data = wizard.new_state()
    fill_until_people(wizard, data)
    wizard.on_text(data, "Nguyễn Văn An, 001080012345, 20tr\nTrần Bình, 001080012399, 10tr")
    wizard.on_button(data, "fin")
    menu = wizard.on_button(data, "ed")
    assert ("✏️ Mô hình", "t:w:e:2") in buttons(menu)
    wizard.on_button(data, "e:2")
    follow_up = wizard.on_button(data, "c:2:0")  # now "full": the new chair question is asked, then the summary
    assert "Ai là chủ tịch?" in said(follow_up)
    assert ("Nguyễn Văn An", "t:w:c:3:0") in buttons(follow_up)
    summary = wizard.on_button(data, "c:3:1")
    assert "Chủ tịch: Trần Bình" in said(summary)
    ask = wizard.on_text(data, "/huy")
    assert "Bạn có chắc muốn huỷ?" in said(ask)
    assert "Mình làm tiếp nhé" in said(wizard.on_text(data, "không")) and state(data).mode == Mode.SUMMARY
    done = wizard.on_button(data, "ok")
    assert done.status == DONE and done.replies == []
    assert wizard.answers(data)["chair"] == "Trần Bình"


def test_cancel_confirmed_and_question_mid_form(wizard: Wizard) -> None:
    data = wizard.new_state()
    wizard.start(data)
    answered = wizard.on_text(data, "lệ phí bao nhiêu?")
    assert [r.text for r in answered.replies][0] == "Lệ phí 50.000 đồng."
    assert "Bước 1/6 · Tên" in answered.replies[1].text and state(data).answers == {}
    unknown = wizard.on_text(data, "vay vốn thế nào?")
    assert "chưa trả lời chắc chắn" in said(unknown)
    wizard.on_text(data, "/huy")
    assert wizard.on_button(data, "xy").status == CANCELLED


def test_state_survives_a_json_round_trip(wizard: Wizard) -> None:
    data = wizard.new_state()
    fill_until_people(wizard, data)
    wizard.on_text(data, "Nguyễn Văn An")
    restored = json.loads(json.dumps(data))
    resumed = wizard.resume(restored)
    assert "người 1: CCCD" in resumed[0].text
    wizard.on_text(restored, "001080012345")
    assert state(restored).record == {"name": "Nguyễn Văn An", "id_number": "001080012345"}


def test_payloads_fit_telegram_limits(wizard: Wizard) -> None:
    data = wizard.new_state()
    shown = fill_until_people(wizard, data)
    wizard.on_text(data, "/quaylai")
    every = buttons(shown) + buttons(WizardResult(wizard.resume(data)))
    assert every and all(len(p.encode()) <= 64 and p.isascii() for _, p in every)


def test_malformed_forms_are_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nsteps:\n  - {key: a, prompt: \"A?\", type: choice}\n", encoding="utf-8")
    with pytest.raises(FormError, match="needs `choices`"):
        load_form(bad)
    bad.write_text("id: x\nsteps:\n  - {key: a}\n", encoding="utf-8")
    with pytest.raises(FormError, match="needs `key` and `prompt`"):
        load_form(bad)
    bad.write_text("id: x\nsteps:\n  - key: a\n    prompt: A?\n    type: choice\n    choices:\n"
                   "      - {label: Cần Thơ, note: gồm Cần Thơ, Sóc Trăng và Hậu Giang cũ}\n", encoding="utf-8")
    with pytest.raises(FormError, match="must be quoted"):  # the comma cut the note: a stray key appeared
        load_form(bad)
    bad.write_text("id: x\nsteps:\n  - key: a\n    prompt: A?\n    rules: [{check: not_same_as}]\n",
                   encoding="utf-8")
    with pytest.raises(FormError, match="article"):  # a rule without the article it rests on
        load_form(bad)


def test_a_draft_saved_with_the_old_one_letter_keys_still_resumes(wizard: Wizard) -> None:
    old = {"form": "demo", "i": 4, "mode": "ask", "a": {"name": "Tổ rau", "model": "simple"}, "rec": {}, "sub": 0}
    assert "Bước 4/6 · Vốn" in wizard.resume(old)[0].text
    wizard.on_text(old, "50 triệu")
    assert state(old).answers["capital"] == 50_000_000 and "a" not in old and old["step_index"] == 5
