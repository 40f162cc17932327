"""The command line as outside tools and people use it (real subprocesses)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import FIXTURE_KB


def _run(args: list[str], tmp_path: Path, stdin: str = "", kb: Path = FIXTURE_KB) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HTXBOT_KNOWLEDGE__PATH": str(kb),
           "HTXBOT_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"}
    env.pop("HTXBOT_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, text=True,
                          env=env, timeout=120, cwd=tmp_path)


def test_ask_json_answers_each_line_in_order_with_the_contract_fields(tmp_path: Path) -> None:
    questions = ["lap htx can bao nhieu nguoi", "giá vàng hôm nay", "", "Tổ hợp tác cần mấy người"]
    run = _run(["ask", "--json"], tmp_path, "\n".join(questions) + "\n")
    assert run.returncode == 0, run.stderr
    rows = [json.loads(line) for line in run.stdout.splitlines()]
    assert [r["question"] for r in rows] == questions
    for row in rows:
        assert set(row) == {"question", "answered", "entry_id", "score", "answer", "sources"}
        assert isinstance(row["score"], float) and isinstance(row["sources"], list)
    first, gold, empty, tht = rows
    assert first["answered"] and first["entry_id"] == "so-thanh-vien-toi-thieu-htx"
    assert "05" in first["answer"] and "17/2023/QH15" in first["answer"]
    assert first["sources"] == ["Luật Hợp tác xã số 17/2023/QH15, khoản 7 Điều 4 (ngày 20/06/2023)"]
    assert not gold["answered"] and gold["entry_id"] is None and gold["sources"] == []
    assert not empty["answered"]
    assert tht["entry_id"] == "to-hop-tac-toi-thieu"


def test_ask_one_question_prints_the_answer(tmp_path: Path) -> None:
    run = _run(["ask", "THT", "toi", "thieu", "bao", "nhieu", "thanh", "vien"], tmp_path)
    assert run.returncode == 0 and "02 thành viên" in run.stdout


def test_chat_is_a_usable_repl_over_pipes(tmp_path: Path) -> None:
    run = _run(["chat"], tmp_path, "/start\nlap htx can bao nhieu nguoi\n1\n/thoat\n")
    assert run.returncode == 0, run.stderr
    assert "Xin chào" in run.stdout and "05 thành viên" in run.stdout and "07 thành viên" in run.stdout
    assert (tmp_path / "cli.db").exists()


def test_kb_stats_json(tmp_path: Path) -> None:
    run = _run(["kb", "stats", "--json"], tmp_path)
    stats = json.loads(run.stdout)
    assert stats["entries"] == 6 and stats["phrasings"] == 18
    assert stats["by_topic"]["thanh-vien"] == 2 and stats["by_law"]["2012"] == 1


def test_kb_unanswered_lists_what_users_asked_most(tmp_path: Path) -> None:
    _run(["chat"], tmp_path, "giá vàng hôm nay\ngiá vàng hôm nay\nxổ số miền bắc\n")
    run = _run(["kb", "unanswered"], tmp_path)
    lines = run.stdout.strip().splitlines()
    assert lines[0].split() == ["2", "giá", "vàng", "hôm", "nay"]
    assert "xổ số miền bắc" in lines[1]


def test_a_config_error_stops_with_the_key_named(tmp_path: Path) -> None:
    env_run = subprocess.run([sys.executable, "-m", "bot", "kb", "check"], capture_output=True, text=True,
                             env={**os.environ, "HTXBOT_WEB__PORT": "eighty"}, timeout=60, cwd=tmp_path)
    assert env_run.returncode != 0 and "web.port" in env_run.stderr


def test_db_upgrade(tmp_path: Path) -> None:
    run = _run(["db", "upgrade"], tmp_path)
    assert run.returncode == 0 and "up to date" in run.stdout
