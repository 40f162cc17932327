"""Typed configuration: `config.yaml` (optional) + `HTXBOT_<SECTION>__<KEY>` environment overrides.

Secrets (tokens, webhook secrets, signing keys) are accepted only from the environment or from a
`<key>_file` path, never inline in the YAML file, and are never shown in `repr` or logs.
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PACKAGE_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(ValueError):
    """A configuration value is wrong; the message names the key."""


def _secret() -> Any:
    return field(default="", repr=False, metadata={"secret": True})


def _default_knowledge_dir() -> str:
    shipped = PACKAGE_ROOT / "knowledge"
    return str(shipped if shipped.is_dir() else Path("knowledge"))


@dataclass
class DatabaseConfig:
    # Empty: the SQLite file `htxbot.db` in `data_dir`. A relative SQLite path is taken inside `data_dir`.
    url: str = ""
    # Where the SQLite file and backups live; absolute. Empty: $XDG_DATA_HOME/htxbot, else ~/.local/share/htxbot.
    data_dir: str = ""
    # Not a setting: data/htxbot.db under the current folder (the place before data_dir existed) when
    # neither url nor data_dir is configured and that file exists; start-up then refuses to begin anew.
    legacy_sqlite: str = field(default="", repr=False, metadata={"internal": True})
    echo: bool = False
    schema: str = ""  # PostgreSQL only: the schema to use (search_path)


@dataclass
class KnowledgeConfig:
    path: str = field(default_factory=_default_knowledge_dir)


@dataclass
class SearchConfig:
    threshold: float = 0.0  # 0 = use the calibrated default in bot.knowledge.search
    ambiguity_margin: float = 0.0


@dataclass
class BotConfig:
    name: str = "Trợ lý HTX"
    contact: str = (
        "Liên minh Hợp tác xã tỉnh, thành phố nơi bạn ở (hoặc Liên minh HTX Việt Nam) "
        "hoặc bộ phận một cửa của UBND xã/phường nơi đặt trụ sở"
    )
    log_level: str = "INFO"
    log_format: str = "text"  # text | json (one JSON object per line, for log collectors)


@dataclass
class StaffConfig:
    admins: list[str] = field(default_factory=list)  # "channel:user_id", e.g. "telegram:12345"


@dataclass
class TelegramConfig:
    token: str = _secret()
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    mode: str = "polling"  # polling | webhook
    webhook_url: str = ""
    webhook_secret: str = _secret()
    max_rate_per_second: float = 30.0  # python-telegram-bot's overall limiter; 0 = no limit
    read_timeout: float = 5.0  # seconds to wait for Telegram's answer; later, a send's outcome is uncertain


@dataclass
class ZaloConfig:
    token: str = _secret()
    base_url: str = "https://bot-api.zaloplatforms.com/bot"
    mode: str = "polling"  # polling | webhook
    webhook_url: str = ""
    webhook_secret: str = _secret()
    # Off by default: whether "typing…" counts against the free plan's monthly quota is unknown.
    typing_indicator: bool = False


@dataclass
class ZaloOAConfig:
    """The Zalo Official Account channel (docs/zalo-oa.md). On when `app_id` is set."""

    app_id: str = ""
    app_secret: str = _secret()  # the App Secret Key: OAuth calls only
    oa_secret_key: str = _secret()  # the OA Secret Key: webhook signatures (not the App Secret)
    token_key: str = _secret()  # Fernet key encrypting the stored tokens
    redirect_uri: str = ""  # registered in the app; `htxbot zalo-oa connect` reads the code back from it
    openapi_base: str = "https://openapi.zalo.me"
    oauth_base: str = "https://oauth.zaloapp.com"
    webhook_max_age_seconds: int = 10800  # Zalo re-sends the same signed body for about 2 h
    button_type: str = "oa.query.show"  # or oa.query.hide (the pressed payload is not shown in the chat)
    reach_window_hours: int = 168  # announcements: 168 = Zalo's 7-day limit; 48 = only the free window
    refresh_margin_minutes: int = 60  # refresh the access token this long before it expires
    night_end_hour: int = 6  # Vietnam time: a message refused at night (-234) is retried after this hour


@dataclass
class WebConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str = "http://127.0.0.1:8080"
    link_secret: str = _secret()
    link_ttl_hours: int = 72
    # /healthz answers 503 when a polling channel has had no successful poll for this many seconds.
    max_poll_age: float = 180.0


@dataclass
class BroadcastConfig:
    rate_per_second: float = 25.0
    per_chat_interval: float = 1.0
    max_attempts: int = 5
    worker_in_bot: bool = True  # `htxbot run …` also delivers announcements (else run `htxbot broadcast work`)
    lease_seconds: float = 15.0  # a worker silent this long loses its rows to the others
    heartbeat_seconds: float = 3.0


@dataclass
class InboxConfig:
    """The durable inbox of incoming updates (bot/channels/inbox.py)."""

    concurrency: int = 32  # users handled at the same time by one process
    lease_seconds: float = 15.0  # a process silent this long loses its claimed updates to the others
    heartbeat_seconds: float = 3.0
    shutdown_grace: float = 3.0  # on SIGTERM, seconds to finish updates in progress before handing them back
    poll_seconds: float = 1.0  # how often to look for updates stored by other processes


@dataclass
class Config:
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    knowledge: KnowledgeConfig = field(default_factory=KnowledgeConfig)
    search: SearchConfig = field(default_factory=SearchConfig)
    bot: BotConfig = field(default_factory=BotConfig)
    staff: StaffConfig = field(default_factory=StaffConfig)
    telegram: TelegramConfig = field(default_factory=TelegramConfig)
    zalo: ZaloConfig = field(default_factory=ZaloConfig)
    zalo_oa: ZaloOAConfig = field(default_factory=ZaloOAConfig)
    web: WebConfig = field(default_factory=WebConfig)
    broadcast: BroadcastConfig = field(default_factory=BroadcastConfig)
    inbox: InboxConfig = field(default_factory=InboxConfig)


_CHOICES = {
    ("telegram", "mode"): {"polling", "webhook"},
    ("zalo", "mode"): {"polling", "webhook"},
    ("zalo_oa", "button_type"): {"oa.query.show", "oa.query.hide"},
    ("bot", "log_level"): {"DEBUG", "INFO", "WARNING", "ERROR"},
    ("bot", "log_format"): {"text", "json"},
}


def load_config(path: str | os.PathLike[str] | None = None, env: dict[str, str] | None = None) -> Config:
    """Build the config from an optional YAML file and the environment; raise ConfigError on bad values."""
    env = dict(os.environ if env is None else env)
    path = path or env.get("HTXBOT_CONFIG")
    raw: dict[str, Any] = {}
    if path:
        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"config file not found: {p}")
        try:
            raw = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{p}: not valid YAML: {exc}") from exc
        if not isinstance(raw, dict):
            raise ConfigError(f"{p}: the top level must be a mapping of sections")
    config = Config()
    for f in dataclasses.fields(Config):
        section_raw = raw.get(f.name) or {}
        if not isinstance(section_raw, dict):
            raise ConfigError(f"{f.name}: must be a mapping")
        _fill_section(f.name, getattr(config, f.name), section_raw, env)
    unknown = set(raw) - {f.name for f in dataclasses.fields(Config)}
    if unknown:
        raise ConfigError(f"{sorted(unknown)[0]}: unknown section")
    _resolve_data_location(config.database, env)
    return config


def _resolve_data_location(db: DatabaseConfig, env: dict[str, str]) -> None:
    """Make the data directory absolute and put the default (or a relative) SQLite file inside it, so
    that the database never depends on the folder the bot was started from."""
    if db.data_dir:
        data_dir = Path(db.data_dir).expanduser()
        if not data_dir.is_absolute():
            raise ConfigError(f"database.data_dir: must be an absolute path, not {db.data_dir!r}")
    else:
        xdg = env.get("XDG_DATA_HOME", "")
        data_dir = (Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "share") / "htxbot"
    legacy = Path.cwd() / "data" / "htxbot.db"
    if not db.url and not db.data_dir and legacy.exists():
        db.legacy_sqlite = str(legacy)
    db.data_dir = str(data_dir)
    if not db.url:
        db.url = f"sqlite+aiosqlite:///{data_dir / 'htxbot.db'}"
        return
    prefix, sep, path = db.url.partition(":///")
    if prefix.startswith("sqlite") and sep and path and path != ":memory:" and not path.startswith("/"):
        db.url = f"{prefix}:///{data_dir / path}"


def _fill_section(name: str, section: Any, raw: dict[str, Any], env: dict[str, str]) -> None:
    known = {f.name for f in dataclasses.fields(section) if not f.metadata.get("internal")}
    for key in raw:
        base = key[:-5] if key.endswith("_file") else key
        if base not in known:
            raise ConfigError(f"{name}.{key}: unknown key")
    hints = typing.get_type_hints(type(section))
    for f in dataclasses.fields(section):
        if f.metadata.get("internal"):
            continue
        dotted = f"{name}.{f.name}"
        env_key = f"HTXBOT_{name.upper()}__{f.name.upper()}"
        secret = f.metadata.get("secret", False)
        value: Any = dataclasses.MISSING
        if secret and f.name in raw and raw[f.name] not in (None, ""):
            raise ConfigError(f"{dotted}: secrets may not be written in the config file; "
                              f"set {env_key} or {f.name}_file")
        if f.name in raw:
            value = raw[f.name]
        file_path = env.get(env_key + "_FILE") or raw.get(f.name + "_file")
        if file_path:
            try:
                value = Path(file_path).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(f"{dotted}_file: cannot read {file_path}: {exc.strerror}") from exc
        if env_key in env:
            value = env[env_key]
        if value is dataclasses.MISSING:
            continue
        setattr(section, f.name, _coerce(dotted, value, hints[f.name]))
        allowed = _CHOICES.get((name, f.name))
        if allowed and getattr(section, f.name) not in allowed:
            raise ConfigError(f"{dotted}: must be one of {', '.join(sorted(allowed))}, "
                              f"not {getattr(section, f.name)!r}")


def _coerce(dotted: str, value: Any, target: Any) -> Any:
    origin = typing.get_origin(target)
    try:
        if target is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in {"1", "true", "yes", "on"}:
                return True
            if text in {"0", "false", "no", "off"}:
                return False
            raise ValueError
        if target is int:
            if isinstance(value, bool):
                raise ValueError
            return int(value)
        if target is float:
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        if target is str:
            if isinstance(value, (dict, list)):
                raise ValueError
            return "" if value is None else str(value)
        if origin is list:
            if isinstance(value, str):
                return [v.strip() for v in value.split(",") if v.strip()]
            if not isinstance(value, list):
                raise ValueError
            return [str(v) for v in value]
        if origin in (types.UnionType, typing.Union):
            return value
    except (TypeError, ValueError):
        pass
    else:
        return value
    kind = getattr(target, "__name__", str(target))
    raise ConfigError(f"{dotted}: expected {kind}, got {value!r}")
