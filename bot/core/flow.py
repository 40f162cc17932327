"""What a flow is and what it receives each turn."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from bot.core.types import Button, Incoming, Reply

if TYPE_CHECKING:  # annotations only: `htxbot ask` answers without loading the database layer
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.config import Config
    from bot.knowledge.search import SearchIndex
    from bot.storage.repo.conversations import ConversationState
    from bot.storage.repo.users import UserRecord

# The way back to the menu, offered under most replies (the start flow handles "start:menu").
MENU_BUTTON = Button("📋 Menu", "start:menu")


@dataclass(frozen=True)
class Command:
    """A command word a flow answers ("dangky" for /dangky).

    `about` is its line in the help text and the Telegram command menu; a command without one is
    understood but not listed. `staff` commands are refused to members by the dispatcher and never
    listed for them. `typed` are the words people write instead on channels without a command menu,
    without diacritics ("dang ky").
    """

    word: str
    about: str = ""
    staff: bool = False
    typed: tuple[str, ...] = ()


@dataclass(frozen=True)
class FlowSpec:
    """Everything the core needs to know about a flow, declared once on the flow type as `spec`.

    `commands` start the flow; `in_flow` commands (/quaylai) reach the flow only while it is active.
    `menu_label`, when set, puts the flow on the menu. `staff_only` refuses the whole flow (commands,
    buttons, typed messages) to members; `staff_actions` refuses only those button actions.
    `private_only` flows (personal data) are refused in group chats. `accepts_files` flows receive the
    pictures and files users send (`Incoming.attachment`); every other flow never sees them.
    """

    commands: tuple[Command, ...] = ()
    in_flow: tuple[Command, ...] = ()
    menu_label: str | None = None
    staff_only: bool = False
    staff_actions: frozenset[str] = frozenset()
    private_only: bool = False
    accepts_files: bool = False

    def command(self, word: str) -> Command | None:
        """The command with this word that starts the flow, if declared."""
        return next((c for c in self.commands if c.word == word), None)

    def in_flow_command(self, word: str) -> Command | None:
        """The command with this word the flow understands while active (/quaylai), if declared."""
        return next((c for c in self.in_flow if c.word == word), None)

    def for_staff(self, command: Command) -> bool:
        """Whether members are refused this command."""
        return self.staff_only or command.staff


@dataclass
class Services:
    """Long-lived things flows use: config and knowledge search (other flows come through constructors)."""

    config: Config
    index: SearchIndex
    extras: dict[str, Any] = field(default_factory=dict)  # typed accessors live with their owners


@dataclass
class Turn:
    """One incoming message being handled: who, their saved state and the unit of work."""

    incoming: Incoming
    user: UserRecord
    state: ConversationState
    db: AsyncSession
    services: Services

    def begin(self, flow: str, data: dict[str, Any] | None = None) -> None:
        """Make `flow` the active flow: the user's next messages go to it."""
        self.state.flow = flow
        self.state.data = dict(data or {})

    def finish(self) -> None:
        """End the active flow; the user's next messages are questions again."""
        self.state.flow = ""
        self.state.data = {}

    @property
    def is_staff(self) -> bool:
        return self.incoming.is_staff

    @property
    def command(self) -> str:
        """The command word of the message: "/dangky@HtxBot 5" → "dangky"."""
        return self.incoming.text.strip().lstrip("/").split(" ")[0].split("@")[0].lower()


class Flow(Protocol):
    """A conversation flow in handlers/. Returns replies; never sends.

    Its `spec` (class attribute) declares commands, menu label, staff-only, private-only and files; the
    dispatcher enforces them. Commands reach `start`; payloads "<name>:<action>[:<arg>]" reach
    `on_button`; while it is the active flow every other message reaches `handle`.
    """

    name: ClassVar[str]
    spec: ClassVar[FlowSpec]

    async def start(self, turn: Turn, arg: str) -> list[Reply]: ...

    async def handle(self, turn: Turn) -> list[Reply]: ...

    async def on_button(self, turn: Turn, action: str, arg: str) -> list[Reply]: ...
