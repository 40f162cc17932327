"""`htxbot kb check`: every problem as file:line: message, and a bot that refuses a broken base."""

from __future__ import annotations

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
  - id: bad-date
    topic: thanh-vien
    law: "2023"
    questions: [hỏi d1, hỏi d2, hỏi d3]
    answer: Trả lời.
    sources: [{doc: Luật, date: 20/06/2023}]
    reviewed: 2026-11-21
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


def _write(tmp_path: Path, text: str) -> Path:
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "entries.yaml").write_text(text, encoding="utf-8")
    return kb


def test_every_problem_is_reported_with_file_and_line(tmp_path: Path) -> None:
    kb, problems = load_knowledge(_write(tmp_path, BROKEN), today=date(2026, 11, 21))
    shown = [str(p) for p in problems]
    expected = [
        (12, "duplicate id 'a'"),
        (22, "no-source: missing source"),
        (33, "bad-date: bad date '20/06/2023' in 'sources'"),
        (28, "bad-date: unknown related id 'khong-ton-tai'"),
        (38, "het-hieu-luc: a 2012-law entry must say in 'today'"),
        (36, "het-hieu-luc: entry out of force since 30/06/2024"),
    ]
    assert len(shown) == len(expected), shown
    for line, message in expected:
        assert any(s.startswith(f"kb/entries.yaml:{line}: {message}") for s in shown), (line, message, shown)


def test_invalid_yaml_is_reported_at_its_line(tmp_path: Path) -> None:
    _, problems = load_knowledge(_write(tmp_path, "entries:\n  - id: x\n    questions: [a, b\n"))
    assert problems and problems[0].line >= 3 and "invalid YAML" in problems[0].message


def test_cli_exits_non_zero_and_prints_problems(tmp_path: Path) -> None:
    kb = _write(tmp_path, BROKEN)
    env = {**os.environ, "HTXBOT_KNOWLEDGE__PATH": str(kb)}
    run = subprocess.run([sys.executable, "-m", "bot", "kb", "check"], capture_output=True, text=True, env=env,
                         timeout=60)
    assert run.returncode == 1
    assert "kb/entries.yaml:22: no-source: missing source" in run.stdout


async def test_the_bot_refuses_to_start_on_an_invalid_base(tmp_path: Path) -> None:
    config = make_config(tmp_path, kb=_write(tmp_path, BROKEN))
    with pytest.raises(KnowledgeError, match="duplicate id"):
        await App.open(config)


def test_the_shipped_knowledge_base_is_clean() -> None:
    root = Path(__file__).resolve().parent.parent / "knowledge"
    kb, problems = load_knowledge(root)
    assert problems == []
    assert len(kb.entries) >= 60
