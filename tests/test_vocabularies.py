"""Provinces and sectors are data, one list each under knowledge/forms/: the profile, the announcement
audience and the forms offer the same entries, in the file's order."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml

from bot.app import App
from bot.config import PACKAGE_ROOT
from handlers.forms.wizard_form import load_form
from handlers.member.profile_fields import PROVINCES, SECTORS
from tests.staff_support import ADMIN, Chat, make_config

FORMS = PACKAGE_ROOT / "knowledge" / "forms"


def listed(name: str) -> list[tuple[str, str]]:
    """(value, label) of every choice in a knowledge/forms vocabulary file."""
    choices = yaml.safe_load((FORMS / name).read_text(encoding="utf-8"))["choices"]
    return [(str(c["value"]), str(c["label"])) for c in choices]


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[App]:
    app = await App.open(make_config(tmp_path))
    yield app
    await app.close()


def test_sectors_and_provinces_are_the_knowledge_files() -> None:
    assert list(SECTORS.items()) == listed("sectors.yaml")
    assert list(PROVINCES) == [label for _, label in listed("provinces.yaml")]
    assert len(PROVINCES) == 34  # provincial units from 1 July 2025


async def test_profile_and_announcement_audience_offer_the_same_sectors(app: App) -> None:
    chat = Chat(app)
    await chat.say("lan", "/hoso")
    await chat.say("lan", "Nghệ An")
    asked = await chat.say("lan", "Xã Diễn Châu")
    profile_offers = [p.removeprefix("profile:set:") for p in chat.payloads(asked) if p.startswith("profile:set:")]
    await chat.say(ADMIN, "/thongbao Họp toàn thể thành viên ngày 5/1.")
    offered = await chat.press(ADMIN, "announce:aud:sector")
    audience_offers = [p.removeprefix("announce:set:sector.") for p in chat.payloads(offered)]
    assert profile_offers == audience_offers == [value for value, _ in listed("sectors.yaml")]


def test_a_form_step_reads_the_same_sector_list(tmp_path: Path) -> None:
    form = tmp_path / "form.yaml"
    form.write_text(yaml.safe_dump({
        "id": "demo", "title": "Demo",
        "steps": [{"key": "sector", "type": "choice", "prompt": "Lĩnh vực?",
                   "choices_file": str(FORMS / "sectors.yaml")}],
    }, allow_unicode=True), encoding="utf-8")
    step = load_form(form).step("sector")
    assert [(c.value, c.label) for c in step.choices] == listed("sectors.yaml")
