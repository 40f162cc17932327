"""Flows declare commands, staff-only, private-only and menu label on their type; the dispatcher enforces
them and the help, menus, Telegram command menus and typed words are made from those declarations."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot.app import App
from bot.core.catalogue import Catalogue
from bot.core.dispatcher import PRIVATE_ONLY, STAFF_ONLY, Dispatcher
from bot.core.flow import Command, Flow, FlowSpec, Turn
from bot.core.types import Incoming, Reply
from handlers.registry import FLOW_TYPES, catalogue
from handlers.start import STAFF_HEADING, StartFlow
from tests.staff_support import ADMIN, Chat, make_config

POLL_STARTED = "poll: started"
POLL_RESULTS = "poll: results"


class PollFlow:
    """A flow the project does not have: declaring it is all it takes to be in help, menus and typed words."""

    name = "poll"
    spec = FlowSpec(commands=(Command("binhchon", "Bình chọn", typed=("binh chon",)),
                              Command("ketquabinhchon", "Kết quả bình chọn", staff=True)),
                    menu_label="🗳 Bình chọn", private_only=True)

    async def start(self, turn: Turn, arg: str) -> list[Reply]:
        return [Reply(POLL_RESULTS if turn.command == "ketquabinhchon" else POLL_STARTED)]

    async def handle(self, turn: Turn) -> list[Reply]:
        return [Reply(POLL_STARTED)]

    async def on_button(self, turn: Turn, action: str, arg: str) -> list[Reply]:
        return [Reply(POLL_STARTED)]


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[App]:
    app = await App.open(make_config(tmp_path))
    yield app
    await app.close()


def with_poll_flow(app: App) -> None:
    """The app's own flows plus PollFlow, composed the way handlers/registry.py composes them."""
    fallback = app.dispatcher.fallback
    others: list[Flow] = [f for f in app.dispatcher.flows.values() if f.name not in ("start", fallback.name)]
    others.append(PollFlow())
    start = StartFlow(Catalogue([StartFlow, *others], fallback))
    app.dispatcher = Dispatcher([start, *others], fallback)


def help_of(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


def menu_labels(replies: list[Reply]) -> list[str]:
    return [b.label for r in replies for b in r.buttons]


async def test_a_new_flow_is_in_help_menu_and_typed_words_by_its_declaration_alone(app: App) -> None:
    with_poll_flow(app)
    chat = Chat(app)
    assert "/binhchon" in help_of(await chat.say("eve", "/trogiup"))
    assert "🗳 Bình chọn" in menu_labels(await chat.say("eve", "/menu"))
    assert help_of(await chat.say("eve", "Bình chọn")) == POLL_STARTED  # typed, on channels without a menu
    private = [word for word, _ in app.dispatcher.catalogue.telegram_menus().private]
    group = [word for word, _ in app.dispatcher.catalogue.telegram_menus().group]
    assert "binhchon" in private and "binhchon" not in group  # private-only: not offered in groups


async def test_a_new_flows_staff_command_is_enforced_and_shown_only_to_staff(app: App) -> None:
    with_poll_flow(app)
    chat = Chat(app)
    assert help_of(await chat.say("eve", "/ketquabinhchon")) == STAFF_ONLY
    assert "/ketquabinhchon" not in help_of(await chat.say("eve", "/trogiup"))
    assert help_of(await chat.say(ADMIN, "/ketquabinhchon")) == POLL_RESULTS
    assert "/ketquabinhchon" in help_of(await chat.say(ADMIN, "/trogiup"))
    assert "ketquabinhchon" not in dict(app.dispatcher.catalogue.telegram_menus().private)


async def test_members_help_and_menus_hold_no_staff_work_and_staff_see_theirs(app: App) -> None:
    chat = Chat(app)
    member_help = help_of(await chat.say("eve", "/trogiup"))
    staff_words = {word for word, flow in app.dispatcher.commands.items()
                   if flow.spec.for_staff(flow.spec.command(word))}  # type: ignore[arg-type]
    assert {"thongbao", "guikhaosat", "ketqua", "cauhoimoi", "quantri", "capquyen"} <= staff_words
    assert {"/dangky", "/hoso", "/gopy", "/hoi", "/lienhe"} <= set(member_help.split())
    assert not {f"/{w}" for w in staff_words} & set(member_help.split())
    assert STAFF_HEADING not in member_help
    menus = catalogue().telegram_menus()
    assert not staff_words & {word for word, _ in (*menus.private, *menus.group)}
    staff_help = help_of(await chat.say(ADMIN, "/trogiup"))
    assert STAFF_HEADING in staff_help and {f"/{w}" for w in staff_words} <= set(staff_help.split())


async def test_the_dispatcher_refuses_staff_work_to_members_before_any_flow_runs(app: App) -> None:
    chat = Chat(app)
    for command in ("/guikhaosat", "/ketqua", "/cauhoimoi", "/quantri"):
        assert help_of(await chat.say("eve", command)) == STAFF_ONLY, command
    for payload in ("survey:results:kho_khan_htx_2025", "survey:launch:kho_khan_htx_2025", "review:page:0",
                    "quantri:start", "staff:start"):
        assert help_of(await chat.press("eve", payload)) == STAFF_ONLY, payload
    assert help_of(await chat.say("eve", "/khaosat")) != STAFF_ONLY  # the survey itself is for everyone


async def test_a_staff_flow_left_open_ends_when_the_role_is_revoked(app: App) -> None:
    chat = Chat(app)
    await chat.say("bob", "xin chào")
    await chat.say(ADMIN, "/capquyen test:bob")
    assert help_of(await chat.say("bob", "/thongbao")) != STAFF_ONLY  # composing an announcement
    await chat.say(ADMIN, "/thuhoi test:bob")
    assert help_of(await chat.say("bob", "Họp toàn thể thành viên ngày 5/1")) == STAFF_ONLY
    assert help_of(await chat.say("bob", "Họp toàn thể thành viên ngày 5/1")) != STAFF_ONLY  # a question now


async def test_private_only_is_declared_and_refused_in_groups(app: App) -> None:
    group = Incoming("test", "-100", "eve", "Người eve", text="/dangky", is_private=False)
    assert help_of(await app.handle(group)) == PRIVATE_ONLY
    help_in_group = help_of(await app.handle(replace(group, text="/trogiup")))
    assert "/menu" in help_in_group and "/dangky" not in help_in_group  # help in a group lists what runs there


def test_the_registry_lists_every_flow_type_and_the_catalogue_refuses_clashes() -> None:
    assert [t.name for t in FLOW_TYPES][:1] == ["start"]
    clash = type("Clash", (), {"name": "clash", "spec": FlowSpec(commands=(Command("dangky"),))})
    with pytest.raises(ValueError, match="/dangky"):
        Catalogue([*FLOW_TYPES, clash])
    typed = type("Typed", (), {"name": "typed", "spec": FlowSpec(commands=(Command("x", typed=("dang ky",)),))})
    with pytest.raises(ValueError, match="dang ky"):
        Catalogue([*FLOW_TYPES, typed])
