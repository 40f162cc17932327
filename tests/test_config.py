"""Configuration: defaults with no file, environment overrides, clear errors naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_config


def test_every_setting_has_a_working_default_without_a_config_file() -> None:
    config = load_config(env={})
    assert config.database.url.startswith("sqlite+aiosqlite:///")
    assert Path(config.knowledge.path).name == "knowledge"
    assert config.telegram.mode == "polling"


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("web:\n  port: 9000\ntelegram:\n  mode: webhook\n", encoding="utf-8")
    config = load_config(path, env={"HTXBOT_WEB__PORT": "9100", "HTXBOT_TELEGRAM__TOKEN": "123:abc"})
    assert config.web.port == 9100 and config.telegram.mode == "webhook" and config.telegram.token == "123:abc"
    assert "123:abc" not in repr(config)


def test_config_path_can_come_from_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("bot:\n  name: Trợ lý HTX Quảng Trị\n", encoding="utf-8")
    assert load_config(env={"HTXBOT_CONFIG": str(path)}).bot.name == "Trợ lý HTX Quảng Trị"


@pytest.mark.parametrize(("content", "env", "key"), [
    ("web:\n  port: abc\n", {}, "web.port"),
    ("", {"HTXBOT_BROADCAST__RATE_PER_SECOND": "fast"}, "broadcast.rate_per_second"),
    ("telegram:\n  mode: push\n", {}, "telegram.mode"),
    ("telegram:\n  token: 123:abc\n", {}, "telegram.token"),
    ("zalo:\n  tokn: x\n", {}, "zalo.tokn"),
    ("databse:\n  url: x\n", {}, "databse"),
])
def test_a_wrong_value_names_its_key(tmp_path: Path, content: str, env: dict[str, str], key: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path, env=env)
    assert str(err.value).startswith(key)


def test_secrets_can_come_from_files(tmp_path: Path) -> None:
    secret = tmp_path / "token"
    secret.write_text("777:secret\n", encoding="utf-8")
    config = load_config(env={"HTXBOT_ZALO__TOKEN_FILE": str(secret)})
    assert config.zalo.token == "777:secret"


def test_missing_config_file_is_reported() -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config("/nonexistent/config.yaml", env={})


def test_the_documented_example_config_loads() -> None:
    example = Path(__file__).resolve().parent.parent / "config.example.yaml"
    config = load_config(example, env={})
    assert config.web.port == 8080 and config.broadcast.rate_per_second == 25
