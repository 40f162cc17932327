"""The deployment kit: the compose file is valid, the image's health check and commands really work."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.cli import _parser

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
DOCUMENTS = [ROOT / "README.md", ROOT / "docs" / "deploy.md", ROOT / "compose.yaml",
             *sorted((ROOT / "deploy").glob("*.service"))]


def _compose_command() -> list[str] | None:
    """Docker Compose v2 or later (v1, still packaged by Debian, does not read the Compose Specification)."""
    for command in (["docker", "compose"], ["docker-compose"]):
        if not shutil.which(command[0]):
            continue
        run = subprocess.run([*command, "version", "--short"], capture_output=True, text=True, timeout=30)
        if run.returncode == 0 and run.stdout.strip().lstrip("v")[:1].isdigit() and \
                int(run.stdout.strip().lstrip("v").split(".")[0]) >= 2:
            return command
    return None


def test_docker_compose_accepts_the_compose_file(tmp_path: Path) -> None:
    command = _compose_command()
    if command is None:
        pytest.skip("Docker Compose v2 is not installed here (`docker compose version` fails or reports v1); "
                    "the file's structure is checked by the other tests")
    for name in ("compose.yaml", "Dockerfile"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "deploy", tmp_path / "deploy")
    shutil.copy(ROOT / "deploy" / "env.example", tmp_path / ".env")
    run = subprocess.run([*command, "config", "--quiet"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr


def test_compose_runs_postgresql_the_bot_and_a_tls_proxy() -> None:
    services = COMPOSE["services"]
    assert set(services) == {"postgres", "bot", "caddy"}
    bot = services["bot"]
    assert bot["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert bot["environment"]["HTXBOT_DATABASE__URL"].startswith("postgresql+asyncpg://")
    assert "bot-data:/data" in bot["volumes"] and "ports" not in bot  # only the proxy is public
    assert "443:443" in services["caddy"]["ports"]
    lines = (ROOT / "deploy" / "Caddyfile").read_text(encoding="utf-8").splitlines()
    caddyfile = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    assert "/telegram/webhook" in caddyfile and "/zalo/webhook" in caddyfile and "/metrics" not in caddyfile
    assert "/zalo-oa/webhook" in caddyfile and "/admin" in caddyfile and "/healthz" not in caddyfile


def test_the_image_runs_as_an_unprivileged_user_with_htxbot_as_entry_point() -> None:
    users = re.findall(r"^USER\s+(\S+)", DOCKERFILE, re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    assert DOCKERFILE.index("USER ") < DOCKERFILE.index("ENTRYPOINT")
    assert 'ENTRYPOINT ["htxbot"]' in DOCKERFILE and 'CMD ["run"]' in DOCKERFILE
    assert "HTXBOT_DATABASE__DATA_DIR=/data" in DOCKERFILE


async def test_the_images_health_check_fails_on_503_and_passes_on_200() -> None:
    healthcheck = re.search(r'HEALTHCHECK.*?CMD python -c "(.+?)"\n', DOCKERFILE, re.DOTALL)
    assert healthcheck is not None
    status = {"code": 200}

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({}, status=status["code"])

    web_app = web.Application()
    web_app.router.add_get("/healthz", healthz)
    async with TestServer(web_app, host="127.0.0.1") as server:
        codes = []
        for code in (200, 503):
            status["code"] = code
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-c", healthcheck.group(1), env={"HTXBOT_WEB__PORT": str(server.port)},
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
            codes.append(await asyncio.wait_for(proc.wait(), 30))
    assert codes[0] == 0 and codes[1] != 0


def _documented_commands() -> set[tuple[str, ...]]:
    found: set[tuple[str, ...]] = set()
    for path in DOCUMENTS:
        # commands as written in code: `htxbot …`, …/bin/htxbot …, `exec bot htxbot …`, sh -c 'htxbot …'
        for match in re.finditer(r"(?:`|/bin/|bot |')htxbot((?: [a-z][a-z-]*)+)", path.read_text(encoding="utf-8")):
            words = tuple(match.group(1).split())
            found.add(words[:3] if words[0] in {"staff"} else words[:2])
    return found


def test_every_command_in_the_readme_docs_and_units_exists(capsys: pytest.CaptureFixture[str]) -> None:
    commands = _documented_commands()
    assert {("run",), ("db", "backup"), ("db", "restore"), ("staff", "list")} <= {c[:2] for c in commands}
    for words in commands:
        with pytest.raises(SystemExit) as done:
            _parser().parse_args([*words, "--help"])
        assert done.value.code == 0, f"documented but unknown: htxbot {' '.join(words)}"
    capsys.readouterr()


def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed here; the units' commands are checked above")
    units = [*sorted((ROOT / "deploy").glob("*.service")), *sorted((ROOT / "deploy").glob("*.timer"))]
    for unit in units:
        shutil.copy(unit, tmp_path / unit.name)
    run = subprocess.run(["systemd-analyze", "verify", "--man=no", *(f"./{u.name}" for u in units)],
                         cwd=tmp_path, capture_output=True, text=True, timeout=60)
    # The programs live in /opt/htxbot only once installed: that is the one complaint allowed here.
    complaints = [line for line in (run.stdout + run.stderr).splitlines()
                  if line.strip() and "is not executable" not in line]
    assert complaints == []
