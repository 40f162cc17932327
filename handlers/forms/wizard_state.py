"""Where one user stands in a form: a named, JSON-storable state, and the actions its buttons carry.

The runner keeps no per-user state; a flow stores `WizardState.dump()` (a plain dict) wherever it keeps
its data and hands it back on the next message. States saved by older versions (one-letter keys) still load.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Mode(StrEnum):
    """What the user is being asked right now."""

    ASK = "ask"                      # the current question (or the current field of a record)
    CONFIRM_VALUE = "confirm_value"  # "Ý bạn là …?" before storing an answer understood approximately
    RECORD_MORE = "record_more"      # a list (members): add another one or finish
    RECORD_DELETE = "record_delete"  # a list: which one to delete
    SUMMARY = "summary"              # all answers, confirm / edit / cancel
    EDIT_MENU = "edit_menu"          # which answer to change
    CONFIRM_CANCEL = "confirm_cancel"
    DONE = "done"
    CANCELLED = "cancelled"


class Action(StrEnum):
    """What a button of the wizard asks for. The value is its compact wire form in the payload
    ("<prefix>:w:<value>:<args>"), kept short for Telegram's 64-byte limit and stable for buttons on screen."""

    CHOOSE = "c"          # c:<position>:<n>   one option of a choice step
    TOGGLE = "t"          # t:<position>:<n>   tick or untick an option of a multi-choice step
    PICKED = "d"          # d:<position>       the multi-choice ticks are final
    YES = "y"             # the approximate answer is right
    RETYPE = "n"          # it is not: ask again
    ADD = "more"          # another record
    FINISH = "fin"        # the list is complete
    DELETE_MENU = "del"   # which record to delete
    REMOVE = "rm"         # rm:<n>
    CONFIRM = "ok"        # the summary is right: done
    EDIT_MENU = "ed"      # which answer to change
    EDIT_STEP = "e"       # e:<n>
    TO_SUMMARY = "sum"
    CANCEL = "x"          # asks "are you sure?"
    CANCEL_YES = "xy"
    CANCEL_NO = "xn"
    BACK = "b"
    SKIP = "s"


_OLD_KEYS = {"i": "step_index", "a": "answers", "rec": "record", "sub": "field_index", "q": "pending_question",
             "ret": "returning", "prev": "mode_before_cancel", "multi": "picked"}


@dataclass
class WizardState:
    """One user's progress through one form."""

    form: str
    step_index: int = 0
    mode: Mode = Mode.ASK
    answers: dict[str, Any] = field(default_factory=dict)
    record: dict[str, Any] = field(default_factory=dict)  # the record being filled, field by field
    field_index: int = 0                                    # which field of that record is asked
    pending: Any = None                                     # an answer waiting for "Ý bạn là …?"
    pending_question: str = ""
    pending_record: bool = False   # the pending answer is a whole record typed on one line
    returning: bool = False        # editing from the summary: back to the summary after this answer
    mode_before_cancel: Mode = Mode.ASK
    picked: list[Any] | None = None  # multi-choice ticks not yet confirmed
    skipped: list[str] = field(default_factory=list)  # optional steps answered with /boqua: not asked again

    def dump(self) -> dict[str, Any]:
        """A plain JSON-able dict (what the flow stores)."""
        return {"form": self.form, "step_index": self.step_index, "mode": self.mode.value, "answers": self.answers,
                "record": self.record, "field_index": self.field_index, "pending": self.pending,
                "pending_question": self.pending_question,
                "pending_record": self.pending_record, "returning": self.returning,
                "mode_before_cancel": self.mode_before_cancel.value, "picked": self.picked, "skipped": self.skipped}

    @classmethod
    def load(cls, data: dict[str, Any]) -> WizardState:
        """The state from a stored dict (current names, or the one-letter keys of older drafts)."""
        named = {_OLD_KEYS.get(k, k): v for k, v in data.items()}
        return cls(form=str(named.get("form", "")), step_index=int(named.get("step_index") or 0),
                   mode=_mode(named.get("mode")), answers=dict(named.get("answers") or {}),
                   record=dict(named.get("record") or {}), field_index=int(named.get("field_index") or 0),
                   pending=named.get("pending"), pending_question=str(named.get("pending_question") or ""),
                   pending_record=bool(named.get("pending_record")),
                   returning=bool(named.get("returning")), mode_before_cancel=_mode(named.get("mode_before_cancel")),
                   picked=named.get("picked"), skipped=[str(k) for k in named.get("skipped") or []])

    def save_into(self, data: dict[str, Any]) -> None:
        """Write the state back into the flow's dict, in place."""
        data.clear()
        data.update(self.dump())


def _mode(value: Any) -> Mode:
    try:
        return Mode(value)
    except ValueError:
        return Mode.ASK
