"""What a flow is and what it receives each turn."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from bot.core.types import Button, Incoming, Reply

if TYPE_CHECKING:  # annotations only: `htxbot ask` answers without loading the database layer
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.config import Config
    from bot.knowledge.search import SearchIndex
    from bot.storage.repo.conversations import ConversationState
    from bot.storage.repo.users import UserRecord

# The way back to the menu, offered under most replies (the start flow handles "start:menu").
MENU_BUTTON = Button("📋 Menu", "start:menu")


@dataclass
class Services:
    """Long-lived things flows use: config, knowledge search, and the other flows (for the menu)."""

    config: Config
    index: SearchIndex
    flows: dict[str, Flow] = field(default_factory=dict)
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

    `commands` start it ("/dangky"); payloads "<name>:<action>[:<arg>]" reach `on_button`; while it is
    the active flow every other message reaches `handle`. `menu_label`, when set, puts it on the menu.
    A flow that sets `private_only = True` (personal data: registration, profile, surveys, staff tools)
    is refused in group chats. A flow that sets `accepts_attachments = True` receives pictures and files users send
    (`Incoming.attachment`); the dispatcher hides them from every other flow.
    """

    name: str
    commands: tuple[str, ...]
    menu_label: str | None

    async def start(self, turn: Turn, arg: str) -> list[Reply]: ...

    async def handle(self, turn: Turn) -> list[Reply]: ...

    async def on_button(self, turn: Turn, action: str, arg: str) -> list[Reply]: ...
