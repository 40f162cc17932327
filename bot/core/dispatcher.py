"""Route one turn: button payloads and commands to flows, else the active flow, else Q&A.

A picture or file a user sends reaches only flows that declare `accepts_attachments = True`. Every
other flow sees the message as a text-only channel did before: a caption that is a command still runs
as that command (without the file); anything else arrives as an empty message, which flows already
answer politely ("please type your question").
"""

from __future__ import annotations

from dataclasses import replace

from bot.core.flow import MENU_BUTTON, Flow, Turn
from bot.core.render import match_option
from bot.core.types import Reply
from bot.text import fold

# What people type instead of commands on channels without a command menu (Zalo, console).
COMMAND_ALIASES = {
    "menu": "/menu", "bat dau": "/start", "start": "/start", "tro giup": "/trogiup", "help": "/trogiup",
    "huy": "/huy", "huy bo": "/huy", "quay lai": "/quaylai", "bo qua": "/boqua", "tien do": "/tiendo",
    "dang ky": "/dangky", "gop y": "/gopy", "ho so": "/hoso",
}


class Dispatcher:
    """Commands and buttons first, then the active flow, then the Q&A fallback."""

    def __init__(self, flows: list[Flow], fallback: Flow) -> None:
        self.flows: dict[str, Flow] = {f.name: f for f in [*flows, fallback]}
        self.commands: dict[str, Flow] = {}
        for flow in [*flows, fallback]:
            for command in flow.commands:
                if command in self.commands:
                    raise ValueError(f"command /{command} claimed by {self.commands[command].name} and {flow.name}")
                self.commands[command] = flow
        self.fallback = fallback

    async def dispatch(self, turn: Turn) -> list[Reply]:
        incoming = turn.incoming
        text = incoming.text.strip()
        folded = fold(text).strip(" .!")
        alias = COMMAND_ALIASES.get(folded)
        payload = incoming.payload
        # A number picks an offered option; otherwise a command word beats a loose match on option words.
        # A caption sent with a file is never read as an option: the file would be lost.
        if payload is None and incoming.attachment is None and (folded.isdigit() or not alias):
            payload = match_option(incoming.text, turn.state.options)
            if payload is not None:
                turn.incoming = replace(incoming, payload=payload)
        if payload is not None:
            return await self._button(turn, payload)
        if alias and (not text.startswith("/")):
            text = alias
            turn.incoming = replace(incoming, text=alias)
        active = self.flows.get(turn.state.flow)
        if text.startswith("/") and len(text) > 1:
            command, _, arg = text[1:].partition(" ")
            command = command.split("@")[0].lower()
            if active and command in getattr(active, "flow_commands", ()):
                return _in_group(turn, active) or await active.handle(_fit(turn, active, command=True))
            flow = self.commands.get(command)
            if flow is not None:
                return _in_group(turn, flow) or await flow.start(_fit(turn, flow, command=True), arg.strip())
            return [Reply(f"Mình không biết lệnh /{command}. Gõ /menu để xem những việc mình làm được.",
                          buttons=[MENU_BUTTON])]
        if active is not None:
            return _in_group(turn, active) or await active.handle(_fit(turn, active))
        return await self.fallback.handle(_fit(turn, self.fallback))

    async def _button(self, turn: Turn, payload: str) -> list[Reply]:
        name, _, rest = payload.partition(":")
        action, _, arg = rest.partition(":")
        flow = self.flows.get(name)
        if flow is None:
            return [Reply("Lựa chọn này đã cũ. Mời bạn chọn lại từ menu.", buttons=[MENU_BUTTON])]
        return _in_group(turn, flow) or await flow.on_button(turn, action, arg)


PRIVATE_ONLY = ("🔒 Việc này cần thông tin riêng nên mình chỉ làm trong tin nhắn riêng. "
                "Bạn nhắn riêng cho mình nhé (bấm vào tên bot rồi chọn nhắn tin).")


def _in_group(turn: Turn, flow: Flow) -> list[Reply] | None:
    """Flows with personal data (`private_only = True`) never run in a group chat: nobody else sees it."""
    if not turn.incoming.is_private and getattr(flow, "private_only", False):
        return [Reply(PRIVATE_ONLY)]
    return None


def _fit(turn: Turn, flow: Flow, command: bool = False) -> Turn:
    """Hide a received file from a flow that does not take files (see the module docstring)."""
    incoming = turn.incoming
    if incoming.attachment is not None and not getattr(flow, "accepts_attachments", False):
        turn.incoming = replace(incoming, attachment=None, text=incoming.text if command else "")
    return turn
