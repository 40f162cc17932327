"""The flows' declared commands read as one catalogue: the command table, typed words, help and menus.

Built from the `spec` each flow type declares (bot.core.flow.FlowSpec), so a new flow's listed command
appears in the help text, the Telegram command menus and the typed words without another list to edit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.core.flow import Command, FlowSpec


class Declared(Protocol):
    """A flow type or instance: its name and its spec."""

    name: str
    spec: FlowSpec


@dataclass(frozen=True)
class Listed:
    """A command as shown to people: in help and menus."""

    word: str
    about: str
    staff: bool
    private_only: bool


@dataclass(frozen=True)
class MenuEntry:
    """A flow on the menu: its button label and the flow's name (the button starts it)."""

    label: str
    flow: str
    staff: bool


@dataclass(frozen=True)
class CommandMenus:
    """The Telegram command menus: (word, description) for private chats and for groups."""

    private: tuple[tuple[str, str], ...] = ()
    group: tuple[tuple[str, str], ...] = ()


NO_MENUS = CommandMenus()


class Catalogue:
    """Every flow's declared commands, in registry order with the fallback (Q&A) first."""

    def __init__(self, flows: Sequence[Declared], fallback: Declared | None = None) -> None:
        self.ordered: list[Declared] = [*([fallback] if fallback else []), *flows]
        self.starts: dict[str, Declared] = {}
        self.typed: dict[str, str] = {}
        for flow in self.ordered:
            for command in flow.spec.commands:
                if command.word in self.starts:
                    raise ValueError(f"command /{command.word} claimed by {self.starts[command.word].name} "
                                     f"and {flow.name}")
                self.starts[command.word] = flow
            for command in (*flow.spec.commands, *flow.spec.in_flow):
                self._add_typed(command)

    def _add_typed(self, command: Command) -> None:
        for words in command.typed:
            if self.typed.setdefault(words, command.word) != command.word:
                raise ValueError(f"typed «{words}» means both /{self.typed[words]} and /{command.word}")

    def listed(self, *, staff: bool, group: bool = False) -> list[Listed]:
        """Commands with a description that this person may use here (members never see staff commands;
        a group never sees private-only ones)."""
        shown: list[Listed] = []
        for flow in self.ordered:
            spec = flow.spec
            for command in spec.commands:
                item = Listed(command.word, command.about, spec.for_staff(command), spec.private_only)
                if item.about and (staff or not item.staff) and not (group and item.private_only):
                    shown.append(item)
        return shown

    def menu(self, *, staff: bool) -> list[MenuEntry]:
        """The flows on the menu for this person, Q&A first."""
        entries = [MenuEntry(f.spec.menu_label, f.name, f.spec.staff_only) for f in self.ordered if f.spec.menu_label]
        return [e for e in entries if staff or not e.staff]

    def telegram_menus(self) -> CommandMenus:
        """What members see in Telegram's command menu: private chats, and groups without private-only."""
        return CommandMenus(tuple((c.word, c.about) for c in self.listed(staff=False)),
                            tuple((c.word, c.about) for c in self.listed(staff=False, group=True)))
