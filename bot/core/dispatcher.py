"""Route one turn: button payloads and commands to flows, else the active flow, else Q&A.

Each flow's `spec` (bot.core.flow.FlowSpec) is enforced here, before the flow runs: staff-only
commands, buttons and flows are refused to members, private-only flows are refused in group chats.
A picture or file a user sends reaches only flows whose spec `accepts_files`. Every other flow sees the
message as a text-only channel did before: a caption that is a command still runs as that command
(without the file); anything else arrives as an empty message, which flows already answer politely
("please type your question").
"""

from __future__ import annotations

from dataclasses import replace

from bot.core.catalogue import Catalogue
from bot.core.flow import MENU_BUTTON, Command, Flow, Turn
from bot.core.render import match_option
from bot.core.types import Reply
from bot.text import fold

STAFF_ONLY = "Xin lỗi, lệnh này chỉ dành cho cán bộ Liên minh HTX."
PRIVATE_ONLY = ("🔒 Việc này cần thông tin riêng nên mình chỉ làm trong tin nhắn riêng. "
                "Bạn nhắn riêng cho mình nhé (bấm vào tên bot rồi chọn nhắn tin).")


class Dispatcher:
    """Commands and buttons first, then the active flow, then the Q&A fallback."""

    def __init__(self, flows: list[Flow], fallback: Flow) -> None:
        self.flows: dict[str, Flow] = {f.name: f for f in [*flows, fallback]}
        self.catalogue = Catalogue(flows, fallback)  # refuses two flows claiming one command
        self.commands: dict[str, Flow] = {word: self.flows[f.name] for word, f in self.catalogue.starts.items()}
        self.fallback = fallback

    async def dispatch(self, turn: Turn) -> list[Reply]:
        incoming = turn.incoming
        text = incoming.text.strip()
        folded = fold(text).strip(" .!")
        alias = self.catalogue.typed.get(folded)
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
            text = f"/{alias}"
            turn.incoming = replace(incoming, text=text)
        active = self.flows.get(turn.state.flow)
        if text.startswith("/") and len(text) > 1:
            command, _, arg = text[1:].partition(" ")
            command = command.split("@")[0].lower()
            continues = active.spec.in_flow_command(command) if active else None
            if active and continues:
                return _refused(turn, active, continues) or await active.handle(_fit(turn, active, command=True))
            flow = self.commands.get(command)
            starts = flow.spec.command(command) if flow else None
            if flow and starts:
                return _refused(turn, flow, starts) or await flow.start(_fit(turn, flow, command=True), arg.strip())
            return [Reply(f"Mình không biết lệnh /{command}. Gõ /menu để xem những việc mình làm được.",
                          buttons=[MENU_BUTTON])]
        if active is not None:
            return _refused(turn, active) or await active.handle(_fit(turn, active))
        return await self.fallback.handle(_fit(turn, self.fallback))

    async def _button(self, turn: Turn, payload: str) -> list[Reply]:
        name, _, rest = payload.partition(":")
        action, _, arg = rest.partition(":")
        flow = self.flows.get(name)
        if flow is None:
            return [Reply("Lựa chọn này đã cũ. Mời bạn chọn lại từ menu.", buttons=[MENU_BUTTON])]
        staff_action = action in flow.spec.staff_actions
        return _refused(turn, flow, staff_action=staff_action) or await flow.on_button(turn, action, arg)


def _refused(turn: Turn, flow: Flow, command: Command | None = None, *,
             staff_action: bool = False) -> list[Reply] | None:
    """The refusal when the flow's spec forbids this turn: staff-only for a member (a staff-only flow
    left active, e.g. after losing the role, ends), or personal data in a group chat."""
    spec = flow.spec
    for_staff = spec.staff_only or staff_action or (command is not None and spec.for_staff(command))
    if for_staff and not turn.is_staff:
        if turn.state.flow == flow.name:
            turn.finish()
        return [Reply(STAFF_ONLY, buttons=[MENU_BUTTON])]
    if spec.private_only and not turn.incoming.is_private:
        return [Reply(PRIVATE_ONLY)]
    return None


def _fit(turn: Turn, flow: Flow, command: bool = False) -> Turn:
    """Hide a received file from a flow that does not take files (see the module docstring)."""
    incoming = turn.incoming
    if incoming.attachment is not None and not flow.spec.accepts_files:
        turn.incoming = replace(incoming, attachment=None, text=incoming.text if command else "")
    return turn
