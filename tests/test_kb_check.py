"""`htxbot kb check`: every problem as file:line: message, and a bot that refuses a broken base."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from bot.app import App
from bot.knowledge.loader import KnowledgeError, load_knowledge
from tests.conftest import make_config

GOOD = """\
  - id: {id}
    topic: thanh-vien
    law: "2023"
    questions: [{q} một, {q} hai, {q} ba]
    answer: Câu trả lời.
    sources:
      - doc: Luật Hợp tác xã số 17/2023/QH15
        article: Điều 4
        date: 2023-06-20
    reviewed: 2026-11-21
    basis:
      - doc: Luật Hợp tác xã số 17/2023/QH15
        article: khoản 7 Điều 4
        checked: 2026-11-21
"""

BROKEN = """\
entries:
""" + GOOD.format(id="a", q="câu a") + GOOD.format(id="a", q="câu b") + """\
  - id: no-source
    topic: thanh-vien
    law: "2023"
    questions: [hỏi x, hỏi y, hỏi z]
    answer: Trả lời.
    reviewed: 2026-11-21
    basis: [{doc: Luật 17/2023/QH15, article: Điều 4, checked: 2026-11-21}]
  - id: bad-date
    topic: thanh-vien
    law: "2023"
    questions: [hỏi d1, hỏi d2, hỏi d3]
    answer: Trả lời.
    sources: [{doc: Luật, date: 20/06/2023}]
    reviewed: 2026-11-21
    basis: [{doc: Luật 17/2023/QH15, article: Điều 4, checked: 2026-11-21}]
    related: [khong-ton-tai]
  - id: het-hieu-luc
    topic: thanh-vien
    law: "2012"
    questions: [hỏi e1, hỏi e2, hỏi e3]
    answer: Trả lời.
    sources: [{doc: Luật 23/2012/QH13}]
    valid_to: 2024-06-30
    reviewed: 2026-11-21
"""


def _line(text: str, needle: str, nth: int = 1) -> int:
    """1-based number of the line holding the nth occurrence of `needle`."""
    lines = [i for i, line in enumerate(text.splitlines(), 1) if needle in line]
    return lines[nth - 1]


def _write(tmp_path: Path, text: str, name: str = "kb") -> Path:
    kb = tmp_path / name
    kb.mkdir()
    (kb / "entries.yaml").write_text(text, encoding="utf-8")
    return kb


def _problems(tmp_path: Path, text: str, name: str = "kb") -> list[str]:
    _, problems = load_knowledge(_write(tmp_path, "entries:\n" + text, name), today=date(2026, 12, 2))
    return [str(p) for p in problems]


def test_every_problem_is_reported_with_file_and_line(tmp_path: Path) -> None:
    kb, problems = load_knowledge(_write(tmp_path, BROKEN), today=date(2026, 11, 21))
    shown = [str(p) for p in problems]
    expected = [
        (_line(BROKEN, "id: a", 2), "duplicate id 'a'"),
        (_line(BROKEN, "id: no-source"), "no-source: missing source"),
        (_line(BROKEN, "date: 20/06/2023"), "bad-date: bad date '20/06/2023' in 'sources'"),
        (_line(BROKEN, "id: bad-date"), "bad-date: unknown related id 'khong-ton-tai'"),
        (_line(BROKEN, 'law: "2012"'), "het-hieu-luc: a 2012-law entry must say in 'today'"),
        (_line(BROKEN, "id: het-hieu-luc"), "het-hieu-luc: entry out of force since 30/06/2024"),
    ]
    assert len(shown) == len(expected), shown
    for line, message in expected:
        assert any(s.startswith(f"kb/entries.yaml:{line}: {message}") for s in shown), (line, message, shown)


def test_a_rule_entry_without_basis_is_reported(tmp_path: Path) -> None:
    text = GOOD.format(id="ok", q="câu ok") + GOOD.format(id="no-basis", q="câu nb").split("    basis:")[0]
    policy = GOOD.format(id="policy-no-basis", q="câu p").split("    basis:")[0].replace('law: "2023"', "law: policy")
    shown = _problems(tmp_path, text + policy)
    assert len(shown) == 2, shown
    assert "no-basis: a law \"2023\" entry needs 'basis:'" in shown[0]
    assert "policy-no-basis: a law \"policy\" entry needs 'basis:'" in shown[1]


def test_a_basis_without_article_or_date_is_reported(tmp_path: Path) -> None:
    text = GOOD.format(id="x", q="câu x").replace("        article: khoản 7 Điều 4\n", "")
    text += GOOD.format(id="y", q="câu y").replace("checked: 2026-11-21", "checked: 21/11/2026")
    text += GOOD.format(id="z", q="câu z").replace("checked: 2026-11-21", "checked: 2027-01-01")
    shown = _problems(tmp_path, text)
    assert any("x: every basis needs 'doc', 'article'" in s for s in shown), shown
    assert any("y: bad date '21/11/2026' in 'basis'" in s for s in shown), shown
    assert any("z: basis checked on 01/01/2027, in the future" in s for s in shown), shown


def test_an_entry_resting_only_on_secondary_sources_must_say_so_to_members(tmp_path: Path) -> None:
    secondary = GOOD.format(id="tin-bao", q="câu tb").replace(
        "        checked: 2026-11-21\n", "        checked: 2026-11-21\n        secondary: báo điện tử\n")
    shown = _problems(tmp_path, secondary)
    assert len(shown) == 1 and "tin-bao: checked only against secondary sources" in shown[0], shown
    marked = secondary.replace("    reviewed:", "    unconfirmed: Dẫn theo báo chí; hãy hỏi UBND xã.\n    reviewed:")
    assert _problems(tmp_path, marked, name="marked") == []


def test_a_2012_entry_needs_its_end_date_and_then_is_accepted(tmp_path: Path) -> None:
    entry = """\
  - id: luat-cu
    topic: thanh-vien
    law: "2012"
    questions: [luật cũ một, luật cũ hai, luật cũ ba]
    answer: Theo Luật 2012 cần 07 thành viên.
    today: Nay cần 05 thành viên chính thức.
    sources: [{doc: Luật 23/2012/QH13}]
    reviewed: 2026-11-21
"""
    shown = _problems(tmp_path, entry)
    assert len(shown) == 1 and "luat-cu: a 2012-law entry needs 'valid_to: 2024-06-30'" in shown[0], shown
    fixed = entry.replace("    reviewed:", "    valid_to: 2024-06-30\n    reviewed:")
    assert _problems(tmp_path, fixed, name="fixed") == []


def test_an_editors_note_in_member_text_is_reported(tmp_path: Path) -> None:
    text = GOOD.format(id="note", q="câu n").replace(
        "    reviewed:", "    unconfirmed: Chúng tôi chưa đọc Điều 25 của Nghị định.\n    reviewed:")
    text += GOOD.format(id="fine", q="câu f").replace(
        "    reviewed:", "    unconfirmed: Mức lãi chưa được xác minh; hãy hỏi Quỹ HTX tỉnh.\n    reviewed:")
    shown = _problems(tmp_path, text)
    assert len(shown) == 1 and "note: 'unconfirmed' reads like an editor's note ('chua doc')" in shown[0], shown


def test_kb_stats_counts_entries_checked_against_a_primary_text(tmp_path: Path) -> None:
    text = GOOD.format(id="primary", q="câu p") + GOOD.format(id="secondary", q="câu s").replace(
        "        checked: 2026-11-21\n", "        checked: 2026-11-21\n        secondary: báo điện tử\n").replace(
        "    reviewed:", "    unconfirmed: Dẫn theo báo chí.\n    reviewed:")
    kb = _write(tmp_path, "entries:\n" + text)
    env = {**os.environ, "HTXBOT_KNOWLEDGE__PATH": str(kb)}
    run = subprocess.run([sys.executable, "-m", "bot", "kb", "stats", "--json"], capture_output=True, text=True,
                         env=env, timeout=60)
    basis = json.loads(run.stdout)["basis"]
    assert basis["answers"] == 2 and basis["checked_primary"] == 1 and basis["checked_secondary_only"] == 1


def test_invalid_yaml_is_reported_at_its_line(tmp_path: Path) -> None:
    _, problems = load_knowledge(_write(tmp_path, "entries:\n  - id: x\n    questions: [a, b\n"))
    assert problems and problems[0].line >= 3 and "invalid YAML" in problems[0].message


def test_cli_exits_non_zero_and_prints_problems(tmp_path: Path) -> None:
    kb = _write(tmp_path, BROKEN)
    env = {**os.environ, "HTXBOT_KNOWLEDGE__PATH": str(kb)}
    run = subprocess.run([sys.executable, "-m", "bot", "kb", "check"], capture_output=True, text=True, env=env,
                         timeout=60)
    assert run.returncode == 1
    assert f"kb/entries.yaml:{_line(BROKEN, 'id: no-source')}: no-source: missing source" in run.stdout


async def test_the_bot_refuses_to_start_on_an_invalid_base(tmp_path: Path) -> None:
    config = make_config(tmp_path, kb=_write(tmp_path, BROKEN))
    with pytest.raises(KnowledgeError, match="duplicate id"):
        await App.open(config)


def test_the_shipped_knowledge_base_is_clean() -> None:
    root = Path(__file__).resolve().parent.parent / "knowledge"
    kb, problems = load_knowledge(root)
    assert problems == []
    assert len(kb.entries) >= 60
