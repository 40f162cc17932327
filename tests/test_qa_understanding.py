"""How a message is read before it is searched: dates, the law version named, filler, several questions,
follow-ups, other fields, English; and the `ask --json` conversation contract."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.knowledge import followup
from bot.knowledge.query import (
    asks_yes_no,
    is_english,
    law_time,
    names_old_law,
    other_field,
    question_sentences,
    rewrite_dates,
    split_clauses,
)
from bot.text import fold

ROOT = Path(__file__).resolve().parent.parent


def test_a_date_becomes_words_and_a_document_number_stays() -> None:
    assert "ngay 1 thang 7 nam 2025" in rewrite_dates("truoc 1/7/2025")
    assert rewrite_dates("nghi dinh 92/2024/nd-cp") == "nghi dinh 92/2024/nd-cp"


@pytest.mark.parametrize("question, old", [
    ("luật cũ quy định thế nào", "old"), ("theo luật 2012 thì sao", "old"), ("trước đây đăng ký ở đâu", "old"),
    ("trước 1/7/2024 cần mấy người", "old"), ("HTX em đăng ký năm 2018", "past"),
    ("trước 1/7/2025 nộp hồ sơ ở đâu", "past"), ("luật HTX năm 2023 có hiệu lực khi nào", ""),
    ("nghị định về tổ hợp tác năm 2019", ""), ("từ 1/7/2025 nộp hồ sơ ở đâu", ""), ("lập htx cần mấy người", ""),
])
def test_the_old_law_is_named_only_by_old_law_words_or_dates_before_the_change(question: str, old: str) -> None:
    assert law_time(fold(question)) == old
    assert names_old_law(fold(question)) is (old == "old")


def test_yes_no_questions() -> None:
    assert asks_yes_no(fold("ra khỏi HTX có được trả lại vốn không ạ"))
    assert asks_yes_no(fold("tht có tư cách pháp nhân ko"))
    assert not asks_yes_no(fold("thành viên không góp vốn là gì"))


def test_greetings_thanks_and_context_are_left_out_of_a_long_message() -> None:
    parts = question_sentences("Chào ad ạ. Nhà em trồng lúa. Cho em hỏi lập htx cần mấy người? Em cảm ơn ạ!")
    assert [p.text for p in parts] == ["lập htx cần mấy người?"]


def test_two_questions_in_one_sentence_are_split_a_list_is_not() -> None:
    [sentence] = question_sentences("lập htx cần mấy người, góp vốn tối đa bao nhiêu?")
    assert [p.text for p in split_clauses(sentence)] == ["lập htx cần mấy người", "góp vốn tối đa bao nhiêu?"]
    [listing] = question_sentences("hồ sơ gồm điều lệ, danh sách thành viên và nghị quyết phải không")
    assert len(split_clauses(listing)) == 1


def test_a_fragment_takes_the_earlier_subject_and_swaps_the_organisation() -> None:
    assert followup.is_fragment(fold("nộp ở đâu?")) and followup.is_fragment(fold("còn THT thì sao?"))
    assert not followup.is_fragment(fold("hợp tác xã có phải đóng thuế môn bài không"))
    assert followup.combine("lap hop tac xa nguoi", fold("còn THT thì sao?")) == "lap nguoi tht"
    assert followup.combine("ho so dang ky htx", fold("nộp ở đâu?")) == "ho so dang ky htx nop o dau"


def test_a_context_expires() -> None:
    context = followup.new_context("ho so dang ky htx", ["ho-so-dang-ky-thanh-lap-htx"], now=1000.0)
    assert followup.fresh(context, 1000.0 + 60) is context
    assert followup.fresh(context, 1000.0 + followup.CONTEXT_TTL_SECONDS + 1) is None
    assert followup.fresh({"words": "x", "at": "garbage"}, 1000.0) is None


@pytest.mark.parametrize("question, decline", [
    ("thành lập công ty TNHH cần gì", "ngoai-luat-doanh-nghiep-cong-ty"),
    ("hộ kinh doanh có phải đóng thuế không", "ngoai-dang-ky-ho-kinh-doanh"),
    ("làm sổ đỏ mất bao lâu", "ngoai-so-do-dat-dai"),
    ("đóng bảo hiểm xã hội tự nguyện", "ngoai-bao-hiem"),
    ("làm lại căn cước ở đâu", "ngoai-cccd-ho-chieu"),
    ("công ty có được làm thành viên hợp tác xã không", None),
])
def test_other_fields_are_recognised_unless_the_cooperative_sector_is_named(question: str, decline: str) -> None:
    assert other_field(fold(question)) == decline


def test_english_is_told_from_vietnamese_typed_without_marks() -> None:
    assert is_english("How many members does a cooperative need?")
    assert not is_english("lap htx can bao nhieu nguoi")
    assert not is_english("hello")


def test_ask_json_lines_of_one_user_are_a_conversation_and_plain_lines_stay_alone(tmp_path: Path) -> None:
    lines = [
        json.dumps({"q": "hồ sơ đăng ký htx gồm những gì", "user": "a"}, ensure_ascii=False),
        json.dumps({"q": "lập htx cần mấy người", "user": "b"}, ensure_ascii=False),
        json.dumps({"q": "nộp ở đâu?", "user": "a"}, ensure_ascii=False),
        json.dumps({"q": "còn THT thì sao?", "user": "b"}, ensure_ascii=False),
        "nộp ở đâu?",
    ]
    env = {**os.environ, "HTXBOT_KNOWLEDGE__PATH": str(ROOT / "knowledge"),
           "HTXBOT_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"}
    env.pop("HTXBOT_CONFIG", None)
    run = subprocess.run([sys.executable, "-m", "bot", "ask", "--json"], input="\n".join(lines) + "\n",
                         capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    rows = [json.loads(line) for line in run.stdout.splitlines()]
    assert [r["question"] for r in rows] == ["hồ sơ đăng ký htx gồm những gì", "lập htx cần mấy người", "nộp ở đâu?",
                                             "còn THT thì sao?", "nộp ở đâu?"]
    for row in rows:
        assert set(row) == {"question", "answered", "entry_id", "score", "answer", "sources"}
    assert rows[2]["entry_id"] == "noi-nop-ho-so-dang-ky-htx"  # read after user a's dossier question
    assert rows[3]["entry_id"] == "so-thanh-vien-toi-thieu-to-hop-tac"  # user b's context, not a's
    assert not rows[4]["answered"] and "1. " in rows[4]["answer"]  # alone: topics offered, numbered


def _cli(args: list[str], tmp_path: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HTXBOT_KNOWLEDGE__PATH": str(ROOT / "knowledge"),
           "HTXBOT_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"}
    env.pop("HTXBOT_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, text=True,
                          env=env, timeout=120, cwd=tmp_path)


def test_kb_eval_reads_the_held_out_format_with_conversations_and_names_the_tuning_sets(tmp_path: Path) -> None:
    cases = [
        {"q": "lập htx cần mấy người", "expect": ["\\b0?5\\b"]},
        {"q": "giá vàng hôm nay", "oos": True},
        {"conv": [{"q": "hồ sơ đăng ký htx gồm những gì", "expect": ["giay de nghi"]},
                  {"q": "nộp ở đâu?", "expect": ["ubnd xa"]}]},
    ]
    path = tmp_path / "set.json"
    path.write_text(json.dumps(cases, ensure_ascii=False), encoding="utf-8")
    run = _cli(["kb", "eval", str(path)], tmp_path)
    assert run.returncode == 0, run.stderr
    assert "tuned on: tests/labelled" in run.stdout
    assert "in-scope correct 3/3" in run.stdout and "follow-up turns correct 1/1" in run.stdout
    assert "out-of-scope answered 0/1" in run.stdout


def test_kb_unanswered_never_shows_personal_numbers(tmp_path: Path) -> None:
    _cli(["chat"], tmp_path, "giá vàng hôm nay, số tôi 0912345678\n")
    run = _cli(["kb", "unanswered"], tmp_path)
    assert run.returncode == 0, run.stderr
    assert "giá vàng" in run.stdout and "0912345678" not in run.stdout
