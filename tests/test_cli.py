"""The command line as outside tools and people use it (real subprocesses)."""

from __future__ import annotations

import getpass
import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import FIXTURE_KB, free_port


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


def _bot(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m bot …` with only the given HTXBOT_ settings (plus the fixture knowledge base)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HTXBOT_")}
    clean.update({"HTXBOT_KNOWLEDGE__PATH": str(FIXTURE_KB), "HTXBOT_WEB__PORT": str(free_port()), **env})
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, env=clean,
                          timeout=120, cwd=cwd)


def _one_line_error(run: subprocess.CompletedProcess[str]) -> str:
    assert run.returncode != 0
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in run.stderr, run.stderr
    return lines[0]


def test_the_database_is_found_from_any_folder(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = _bot(["chat"], tmp_path / "a", HTXBOT_DATABASE__DATA_DIR=str(data))
    assert first.returncode == 0 and (data / "htxbot.db").exists()
    _bot(["chat"], tmp_path / "a", HTXBOT_DATABASE__DATA_DIR=str(data)).check_returncode()
    # a question asked from folder a is in the database the bot opens from folder b
    subprocess.run([sys.executable, "-m", "bot", "chat"], input="giá vàng hôm nay\n", text=True,
                   capture_output=True, timeout=120, cwd=tmp_path / "a", check=True,
                   env={**os.environ, "HTXBOT_KNOWLEDGE__PATH": str(FIXTURE_KB),
                        "HTXBOT_DATABASE__DATA_DIR": str(data)})
    run = _bot(["kb", "unanswered"], tmp_path / "b", HTXBOT_DATABASE__DATA_DIR=str(data))
    assert "giá vàng hôm nay" in run.stdout
    assert not list((tmp_path / "b").iterdir())  # nothing created in the current folder


def test_default_data_directory_is_under_the_users_data_home(tmp_path: Path) -> None:
    run = _bot(["db", "upgrade"], tmp_path, XDG_DATA_HOME=str(tmp_path / "xdg"))
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "xdg" / "htxbot" / "htxbot.db").exists()


def test_a_relative_data_directory_is_refused(tmp_path: Path) -> None:
    assert "database.data_dir" in _one_line_error(_bot(["db", "upgrade"], tmp_path,
                                                       HTXBOT_DATABASE__DATA_DIR="data"))


def test_a_bad_database_url_is_one_line(tmp_path: Path) -> None:
    assert "database.url" in _one_line_error(_bot(["db", "upgrade"], tmp_path, HTXBOT_DATABASE__URL="nonsense"))
    line = _one_line_error(_bot(["db", "upgrade"], tmp_path,
                                HTXBOT_DATABASE__URL="mysql+nodriver://u:pw@127.0.0.1/x"))
    assert "database.url" in line and "pw" not in line


def test_an_unreachable_database_is_one_line_without_the_password(tmp_path: Path) -> None:
    line = _one_line_error(_bot(["db", "upgrade"], tmp_path,
                                HTXBOT_DATABASE__URL="postgresql+asyncpg://bot:s3cret@127.0.0.1:1/htx"))
    assert line.startswith("htxbot: database.url: cannot connect") and "s3cret" not in line


def test_a_missing_token_is_reported_before_the_database_is_touched(tmp_path: Path) -> None:
    db = tmp_path / "never.db"
    line = _one_line_error(_bot(["run", "telegram"], tmp_path, HTXBOT_DATABASE__URL=f"sqlite+aiosqlite:///{db}"))
    assert "HTXBOT_TELEGRAM__TOKEN" in line
    line = _one_line_error(_bot(["run", "zalo"], tmp_path, HTXBOT_DATABASE__URL=f"sqlite+aiosqlite:///{db}"))
    assert "HTXBOT_ZALO__TOKEN" in line
    assert not db.exists()


def test_run_and_broadcast_work_without_any_channel_fail_clearly(tmp_path: Path) -> None:
    db = tmp_path / "never.db"
    for args in (["run"], ["broadcast", "work", "--exit-when-idle"]):
        run = _bot(args, tmp_path, HTXBOT_DATABASE__URL=f"sqlite+aiosqlite:///{db}")
        assert run.returncode == 2 and "HTXBOT_TELEGRAM__TOKEN" in run.stderr, run.stderr
    assert not db.exists()


def test_an_unreachable_platform_is_one_line_naming_it(tmp_path: Path) -> None:
    closed = "http://127.0.0.1:1"
    line = _one_line_error(_bot(["run"], tmp_path, HTXBOT_DATABASE__URL=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
                                HTXBOT_ZALO__TOKEN="1:abc", HTXBOT_ZALO__BASE_URL=f"{closed}/bot",
                                HTXBOT_BOT__LOG_LEVEL="ERROR"))
    assert line.startswith("htxbot: zalo: cannot reach the platform at http://127.0.0.1:1/bot")
    line = _one_line_error(_bot(["run", "telegram"], tmp_path,
                                HTXBOT_DATABASE__URL=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
                                HTXBOT_TELEGRAM__TOKEN="1:abc", HTXBOT_TELEGRAM__BASE_URL=f"{closed}/bot",
                                HTXBOT_BOT__LOG_LEVEL="ERROR"))
    assert line.startswith("htxbot: telegram: cannot reach the platform")


def test_staff_list_shows_config_admins_and_granted_staff(tmp_path: Path) -> None:
    env = {"HTXBOT_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path / 's.db'}",
           "HTXBOT_STAFF__ADMINS": "telegram:1"}
    empty = _bot(["staff", "list"], tmp_path, **env)
    assert empty.returncode == 0 and empty.stdout.split() == ["telegram:1", "admin", "(config)"]
    subprocess.run([sys.executable, "-m", "bot", "chat"], input="xin chào\n", text=True, capture_output=True,
                   timeout=120, cwd=tmp_path, check=True,
                   env={**os.environ, "HTXBOT_KNOWLEDGE__PATH": str(FIXTURE_KB), **env})
    me = f"console:{getpass.getuser()}"  # the console's user
    assert _bot(["staff", "grant", me], tmp_path, **env).returncode == 0
    listed = _bot(["staff", "list"], tmp_path, **env).stdout.splitlines()
    assert [line.split("\t")[:2] for line in listed] == [["telegram:1", "admin (config)"], [me, "staff"]]


def test_an_old_database_in_the_current_folder_is_not_silently_replaced(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "htxbot.db").write_bytes(b"")
    line = _one_line_error(_bot(["db", "upgrade"], tmp_path, XDG_DATA_HOME=str(tmp_path / "xdg")))
    assert f"HTXBOT_DATABASE__DATA_DIR={tmp_path / 'data'}" in line
    assert not (tmp_path / "xdg" / "htxbot" / "htxbot.db").exists()
    explicit = _bot(["db", "upgrade"], tmp_path, HTXBOT_DATABASE__URL=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    assert explicit.returncode == 0, explicit.stderr  # a configured database is the operator's choice
