"""The generic wizard runner: one question at a time over a Form loaded from YAML.

Shared by registration and surveys. The runner is pure: it reads and changes a plain JSON-able dict (the
dump of a `WizardState`, kept wherever the flow keeps its data), returns `Reply`s and never touches storage,
so a restart resumes where the user was.

Usage from a flow::

    form = load_form("knowledge/forms/htx.yaml")          # handlers.forms.wizard_form
    wizard = Wizard(form, prefix="reg", answerer=short_answer)
    data = wizard.new_state()                             # a plain dict: store it
    result = wizard.start(data)                           # first question (also: wizard.resume(data))
    result = wizard.on_text(data, turn.incoming.text)     # typed answers and /quaylai /boqua /tiendo /huy
    result = wizard.on_button(data, arg)                  # payloads "<prefix>:w:<action>…" made by the wizard
    if result.status == DONE: answers = wizard.answers(data)      # CANCELLED: the user confirmed /huy

So the flow must route its `on_button(turn, "w", arg)` to `wizard.on_button(data, arg)`, list
`COMMANDS` as its spec's `in_flow`, and pass typed text to `on_text`. On DONE and
CANCELLED the runner returns no replies: the flow says what happens next.

Step types: any key of `validators.VALIDATORS` (text, person_name, phone, email, id_number, date, money,
number, rating, province, commune, term), plus `choice`, `multi_choice` and `records` (a list of records,
e.g. members, each asked field by field or typed on one line: "Nguyễn Văn An, 12/03/1980, 001080012345, …").
Rules across answers (handlers/forms/wizard_rules.py) are checked when their step is answered and on the summary.
A typed question ("… thế nào?") is answered briefly by `answerer` and the current question is asked again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.core.flow import Command
from bot.core.types import Button, Reply
from bot.text import clean, fold, small_number
from handlers.forms import wizard_records as records
from handlers.forms import wizard_rules
from handlers.forms.validators import FIELD_CHECKS, FORM_CHECKS, VALIDATORS, FormCheck, NeedsConfirm, Problem, Validator
from handlers.forms.wizard_form import Choice, Form, Step
from handlers.forms.wizard_rules import RuleRefusal
from handlers.forms.wizard_state import Action, Mode, WizardState
from handlers.forms.wizard_texts import DEFAULT_TEXTS, display, looks_like_question, yes_no

ACTIVE, DONE, CANCELLED = "active", "done", "cancelled"
# The commands a wizard understands while it runs: a flow using it lists them as its spec's `in_flow`.
COMMANDS = (Command("quaylai", typed=("quay lai",)), Command("boqua", typed=("bo qua",)),
            Command("tiendo", typed=("tien do",)), Command("huy", typed=("huy", "huy bo")))
DONE_WORDS = {"xong", "du roi", "het", "het roi", "xong roi", "du"}
Answerer = Callable[[str], str | None]


@dataclass
class WizardResult:
    """What one user message produced: replies to show, and whether the form is done or cancelled."""

    replies: list[Reply] = field(default_factory=list)
    status: str = ACTIVE


class Wizard:
    """Runs one Form. Holds no per-user state: everything lives in the `data` dict passed in."""

    def __init__(self, form: Form, prefix: str, answerer: Answerer | None = None,
                 form_checks: Mapping[str, FormCheck] | None = None,
                 validators: Mapping[str, Validator] | None = None) -> None:
        self.form = form
        self.prefix = prefix
        self.answerer = answerer
        self.form_checks = dict(FORM_CHECKS if form_checks is None else form_checks)
        self.validators = {**VALIDATORS, **(validators or {})}
        self.texts = {**DEFAULT_TEXTS, **form.texts}

    # --- public API: plain dicts in, plain dicts changed in place ---------------------------------

    def new_state(self) -> dict[str, Any]:
        """A fresh state as a plain dict, to be stored by the flow."""
        return WizardState(form=self.form.id).dump()

    def start(self, data: dict[str, Any]) -> WizardResult:
        """The first question that applies."""
        st = WizardState.load(data)
        st.step_index = self._next_index(st, -1)
        result = WizardResult(self.ask(st))
        st.save_into(data)
        return result

    def resume(self, data: dict[str, Any]) -> list[Reply]:
        """The current question again (after a restart, a question or /tiendo)."""
        return self.ask(WizardState.load(data))

    def answers(self, data: dict[str, Any]) -> dict[str, Any]:
        """The answers of the steps that apply (answers to steps that no longer apply are dropped)."""
        return self.applicable_answers(WizardState.load(data))

    def problems(self, data: dict[str, Any]) -> list[Problem]:
        """Form checks and broken rules over all the answers (shown on the summary)."""
        return self.state_problems(WizardState.load(data))

    def on_text(self, data: dict[str, Any], text: str) -> WizardResult:
        """A typed message: an answer, a command, a yes/no, or a question to answer briefly."""
        st = WizardState.load(data)
        result = self._on_text(st, text)
        st.save_into(data)
        return result

    def on_button(self, data: dict[str, Any], arg: str) -> WizardResult:
        """A pressed button ("<action>:<args>" after the "<prefix>:w:" of its payload)."""
        st = WizardState.load(data)
        result = self.press(st, arg)
        st.save_into(data)
        return result

    # --- on the state ----------------------------------------------------------------------------

    def applicable_answers(self, st: WizardState) -> dict[str, Any]:
        return {s.key: st.answers[s.key] for s in self.form.steps if s.key in st.answers and s.applies(st.answers)}

    def state_problems(self, st: WizardState) -> list[Problem]:
        answers = self.applicable_answers(st)
        found = [p for name in self.form.checks for p in self.form_checks[name](answers, self.form.params)]
        for step in self.form.steps:
            if step.key in answers:
                found += [Problem(step.key, m) for m in wizard_rules.broken(step, answers[step.key], answers,
                                                                              self.form)]
        return found

    def _on_text(self, st: WizardState, text: str) -> WizardResult:
        text = "\n".join(line for line in (clean(x) for x in text.splitlines()) if line)
        if text.startswith("/"):
            return self._command(st, text[1:].split()[0].split("@")[0].lower() if len(text) > 1 else "")
        if st.mode in (Mode.CONFIRM_VALUE, Mode.CONFIRM_CANCEL):
            answer = yes_no(text)
            if answer is not None:
                if st.mode == Mode.CONFIRM_VALUE:
                    return self.press(st, Action.YES.value if answer else Action.RETYPE.value)
                return self.press(st, Action.CANCEL_YES.value if answer else Action.CANCEL_NO.value)
        if looks_like_question(text):
            return WizardResult([*self._short_answer(text), *self.ask(st)])
        if st.mode == Mode.CONFIRM_VALUE:  # a new answer typed instead of yes/no
            st.mode, st.pending, st.pending_question, st.pending_record = Mode.ASK, None, "", False
        if st.mode == Mode.RECORD_MORE:
            if fold(text).strip(" .!") in DONE_WORDS:
                return records.finish(self, st)
            st.mode, st.record, st.field_index = Mode.ASK, {}, 0
            return records.on_text(self, st, text)
        if st.mode != Mode.ASK:
            return WizardResult(self.ask(st, self.texts["pick_one"]))
        step = self.step(st)
        if step.type == "records":
            return records.on_text(self, st, text)
        if step.type == "multi_choice":
            return self._multi_text(st, step, text)
        return self.accept(st, step, text)

    def press(self, st: WizardState, arg: str) -> WizardResult:
        """Run the action of a button, if the button belongs to what is on screen now."""
        word, _, rest = arg.partition(":")
        try:
            action = Action(word)
        except ValueError:
            return WizardResult(self.ask(st, self.texts["stale"]))
        modes, handler = _BUTTONS[action]
        if st.mode not in modes:
            return WizardResult(self.ask(st, self.texts["stale"]))
        return handler(self, st, rest)

    # --- asking ---------------------------------------------------------------------------------

    def step(self, st: WizardState) -> Step:
        return self.form.steps[st.step_index]

    def field(self, st: WizardState) -> Step:
        step = self.step(st)
        return step.fields[st.field_index] if step.type == "records" else step

    def pos(self, st: WizardState) -> str:
        return f"{st.step_index}.{st.field_index}" if self.step(st).type == "records" else str(st.step_index)

    def pay(self, action: Action, *parts: object) -> str:
        return ":".join([self.prefix, "w", action.value, *(str(p) for p in parts)])

    def progress(self, st: WizardState) -> str:
        applicable = [i for i, s in enumerate(self.form.steps) if s.applies(st.answers)]
        number = applicable.index(st.step_index) + 1 if st.step_index in applicable else len(applicable)
        return self.texts["progress"].format(n=number, total=len(applicable))

    def ask(self, st: WizardState, before: str = "") -> list[Reply]:
        """The reply for the current mode (question, confirmation, summary …), after an optional notice."""
        reply = _ASK[st.mode](self, st)
        if before:
            reply = Reply(f"{before}\n\n{reply.text}", reply.buttons)
        return [reply]

    def question(self, st: WizardState) -> Reply:
        step, fld = self.step(st), self.field(st)
        head = f"📝 {self.progress(st)} · {step.title}"
        if step.type == "records":
            head += f" — {step.params.get('item', 'mục')} {len(st.answers.get(step.key) or []) + 1}: {fld.title}"
        lines = [head, fld.prompt]
        if fld.help:
            lines.append(fld.help)
        hint = self.computed_hint(st, fld)
        if hint:
            lines.append(hint)
        if fld.type == "multi_choice":
            lines.append(self.texts["multi_hint"])
        if step.type == "records" and st.field_index == 0 and step.params.get("quick_hint"):
            lines.append(str(step.params["quick_hint"]).strip())
        current = st.record.get(fld.key) if step.type == "records" else st.answers.get(fld.key)
        if current not in (None, "", []) and fld.type != "records":
            lines.append(self.texts["current"].format(value=display(fld, current)))
        elif not fld.required:
            lines.append(self.texts["optional"])
        return Reply("\n".join(lines), self._choice_buttons(st, fld))

    def computed_hint(self, st: WizardState, fld: Step) -> str:
        """A figure the answer must match, computed from earlier answers (`hint_total: members.contribution`)."""
        source = fld.params.get("hint_total")
        if not source or "hint_text" not in fld.params:
            return ""
        key, _, attr = str(source).partition(".")
        total = sum(r.get(attr) or 0 for r in st.answers.get(key) or [] if isinstance(r.get(attr) or 0, int))
        return str(fld.params["hint_text"]).format(total=wizard_rules.money(total)) if total else ""

    def _choice_buttons(self, st: WizardState, fld: Step) -> list[Button]:
        if fld.type == "choice" and fld.params.get("buttons", True):
            return [Button(c.label, self.pay(Action.CHOOSE, self.pos(st), n))
                    for n, c in enumerate(self.choices(st, fld))]
        if fld.type == "multi_choice":
            chosen = set(st.picked if st.picked is not None else st.answers.get(fld.key) or [])
            buttons = [Button(("✅ " if c.value in chosen else "") + c.label, self.pay(Action.TOGGLE, self.pos(st), n))
                       for n, c in enumerate(self.choices(st, fld))]
            return [*buttons, Button(self.texts["multi_done"], self.pay(Action.PICKED, self.pos(st)))]
        return []

    def choices(self, st: WizardState, fld: Step) -> list[Choice]:
        """Static choices, or choices built from an earlier records step (`choices_from: members`)."""
        source = fld.params.get("choices_from")
        if not source:
            return list(fld.choices)
        label = fld.params.get("label_field", "name")
        return [Choice(str(r.get(label)), str(r.get(label))) for r in st.answers.get(source) or []]

    def _short_answer(self, text: str) -> list[Reply]:
        answer = self.answerer(text) if self.answerer else None
        return [Reply(answer or self.texts["no_answer"])]

    # --- answering ------------------------------------------------------------------------------

    def validate(self, st: WizardState, fld: Step, text: str) -> tuple[Any, str]:
        """Run the field's validator, then its contextual checks (unique within records, rules)."""
        if fld.type == "choice":
            value, error = self._match(st, fld, text)
        else:
            validator = self.validators.get(fld.type)
            if validator is None:
                raise ValueError(f"form {self.form.id}: no validator for type {fld.type!r}")
            value, error = validator(text, {**fld.params, "_choices": fld.choices})
        if error:
            return None, error
        raw = value.value if isinstance(value, NeedsConfirm) else value
        error = self.context_error(st, fld, raw)
        return (None, error) if error else (value, "")

    def context_error(self, st: WizardState, fld: Step, value: Any) -> str:
        """Field checks, uniqueness within a list, and the rules of a (non-list) step for this answer."""
        for name in fld.params.get("checks", []):
            error = FIELD_CHECKS[name](value, st.answers, {**self.form.params, **fld.params})
            if error:
                return error
        if fld.params.get("unique"):
            return records.duplicate(self, st, fld, value)
        if fld is self.step(st) and fld.type != "records":
            refusals = wizard_rules.broken(fld, value, self.applicable_answers(st), self.form)
            return RuleRefusal("\n".join(refusals)) if refusals else ""
        return ""

    def _match(self, st: WizardState, fld: Step, text: str) -> tuple[Any, str]:
        from handlers.forms.validators import match_choice

        options = self.choices(st, fld)
        if (small_number(text) or 0) and 0 < int(text) <= len(options):
            return options[int(text) - 1].value, ""
        choice, exact = match_choice(text, options)
        if choice is not None:
            return (choice.value if exact else NeedsConfirm(choice.value, f"Ý bạn là: {choice.label}?")), ""
        if fld.params.get("allow_other"):
            return self.validators[fld.params.get("other_type", "text")](text, fld.params)
        names = ", ".join(c.label for c in options[:8])
        return None, self.texts["bad_choice"].format(choices=names)

    def accept(self, st: WizardState, fld: Step, text: str) -> WizardResult:
        value, error = self.validate(st, fld, text)
        if error:
            return WizardResult(self.reask(st, error))
        if isinstance(value, NeedsConfirm):
            st.mode, st.pending, st.pending_question = Mode.CONFIRM_VALUE, value.value, value.question
            return WizardResult(self.ask(st))
        return self.store(st, value)

    def reask(self, st: WizardState, error: str) -> list[Reply]:
        fld = self.field(st)
        if fld.example and "Ví dụ" not in error and not isinstance(error, RuleRefusal):
            error += f" Ví dụ: {fld.example}."
        return self.ask(st, f"❗ {error}")

    def store(self, st: WizardState, value: Any) -> WizardResult:
        """Keep an answer already validated and go on (rules are checked again for values not typed)."""
        step = self.step(st)
        if step.type == "records":
            return records.store_field(self, st, value)
        if value not in (None, "", []):
            error = self.context_error(st, step, value)
            if error:
                return WizardResult(self.reask(st, error))
        if value in (None, "", []):
            st.answers.pop(step.key, None)
            st.skipped = [*(k for k in st.skipped if k != step.key), step.key]
        else:
            st.answers[step.key] = value
            st.skipped = [k for k in st.skipped if k != step.key]
        said = wizard_rules.notices(step, value, self.applicable_answers(st), self.form) if value else []
        return self.advance(st, "\n".join(f"ℹ️ {n}" for n in said))

    def advance(self, st: WizardState, notice: str = "") -> WizardResult:
        """Go to the next step that applies (when editing from the summary: the next unanswered one)."""
        st.mode, st.record, st.field_index, st.picked = Mode.ASK, {}, 0, None
        nxt = self._next_index(st, st.step_index)
        if nxt >= len(self.form.steps):
            return self.to_summary(st, notice)
        st.step_index = nxt
        if self.step(st).type == "records" and st.answers.get(self.step(st).key):
            st.mode = Mode.RECORD_MORE
        return WizardResult(self.ask(st, notice))

    def _next_index(self, st: WizardState, after: int) -> int:
        for j in range(after + 1, len(self.form.steps)):
            step = self.form.steps[j]
            if step.applies(st.answers) and not (st.returning and (step.key in st.answers or step.key in st.skipped)):
                return j
        return len(self.form.steps)

    def to_summary(self, st: WizardState, before: str = "") -> WizardResult:
        st.mode, st.returning, st.record, st.field_index = Mode.SUMMARY, False, {}, 0
        return WizardResult(self.ask(st, before))

    def _multi_text(self, st: WizardState, step: Step, text: str) -> WizardResult:
        values, error = records.parse_multi(self, st, step, text)
        if error:
            return WizardResult(self.reask(st, error))
        ticked = st.picked or []  # boxes ticked before typing are kept, not silently replaced
        return self.store(st, list(dict.fromkeys([*ticked, *values])))

    # --- commands -------------------------------------------------------------------------------

    def _command(self, st: WizardState, command: str) -> WizardResult:
        if command == "huy":
            if st.mode != Mode.CONFIRM_CANCEL:
                st.mode_before_cancel, st.mode = st.mode, Mode.CONFIRM_CANCEL
            return WizardResult(self.ask(st))
        if command == "tiendo":
            done = len(self.applicable_answers(st))
            return WizardResult(self.ask(st, self.texts["status"].format(progress=self.progress(st), done=done)))
        if command == "quaylai":
            return self.back(st)
        if command == "boqua":
            return self.skip(st)
        return WizardResult(self.ask(st, self.texts["commands"]))

    def back(self, st: WizardState) -> WizardResult:
        mode = st.mode
        if mode in (Mode.CONFIRM_VALUE, Mode.CONFIRM_CANCEL, Mode.RECORD_DELETE, Mode.EDIT_MENU):
            st.mode = {Mode.CONFIRM_CANCEL: st.mode_before_cancel, Mode.RECORD_DELETE: Mode.RECORD_MORE,
                       Mode.EDIT_MENU: Mode.SUMMARY}.get(mode, Mode.ASK)
            return WizardResult(self.ask(st))
        if self.step(st).type == "records" and mode in (Mode.ASK, Mode.RECORD_MORE) and records.back(self, st):
            return WizardResult(self.ask(st))
        previous = [j for j in range(st.step_index if mode != Mode.SUMMARY else len(self.form.steps))
                    if self.form.steps[j].applies(st.answers)]
        if not previous:
            return WizardResult(self.ask(st, self.texts["first"]))
        st.step_index, st.mode, st.record, st.field_index, st.returning = previous[-1], Mode.ASK, {}, 0, False
        if self.step(st).type == "records" and st.answers.get(self.step(st).key):
            st.mode = Mode.RECORD_MORE
        return WizardResult(self.ask(st))

    def skip(self, st: WizardState) -> WizardResult:
        if st.mode == Mode.RECORD_MORE:
            return records.finish(self, st)
        if st.mode != Mode.ASK:
            return WizardResult(self.ask(st))
        fld, step = self.field(st), self.step(st)
        kept = st.record.get(fld.key) if step.type == "records" else st.answers.get(fld.key)
        if kept not in (None, "", []):
            return self.store(st, kept)
        if fld.required:
            return WizardResult(self.ask(st, self.texts["required"]))
        return self.store(st, None)


def _ask_confirm_value(w: Wizard, st: WizardState) -> Reply:
    return Reply(st.pending_question, [Button(w.texts["yes"], w.pay(Action.YES)),
                                       Button(w.texts["retype"], w.pay(Action.RETYPE))])


def _ask_confirm_cancel(w: Wizard, st: WizardState) -> Reply:
    return Reply(w.texts["cancel_q"], [Button(w.texts["cancel_yes"], w.pay(Action.CANCEL_YES)),
                                       Button(w.texts["cancel_no"], w.pay(Action.CANCEL_NO))])


def _ask_summary(w: Wizard, st: WizardState) -> Reply:
    lines = [w.texts["summary_head"].format(title=w.form.title)]
    answers = w.applicable_answers(st)
    for step in (s for s in w.form.steps if s.applies(st.answers)):
        lines.append(f"• {step.title}: {display(step, answers.get(step.key), full=True)}")
    problems = w.state_problems(st)
    lines += [f"⚠️ {p.message}" for p in problems]
    lines.append(w.texts["summary_fix" if problems else "summary_ok"])
    return Reply("\n".join(lines), [Button(w.texts["confirm"], w.pay(Action.CONFIRM)),
                                    Button(w.texts["edit"], w.pay(Action.EDIT_MENU)),
                                    Button(w.texts["cancel"], w.pay(Action.CANCEL))])


def _ask_edit_menu(w: Wizard, st: WizardState) -> Reply:
    buttons = [Button(f"✏️ {s.title}", w.pay(Action.EDIT_STEP, i)) for i, s in enumerate(w.form.steps)
               if s.applies(st.answers)]
    return Reply(w.texts["edit_q"], [*buttons, Button(w.texts["to_summary"], w.pay(Action.TO_SUMMARY))])


def _on_choice(w: Wizard, st: WizardState, rest: str) -> WizardResult:
    pos, _, n = rest.partition(":")
    options = w.choices(st, w.field(st))
    if pos != w.pos(st) or small_number(n) is None or int(n) >= len(options):
        return WizardResult(w.ask(st, w.texts["stale"]))
    value = options[int(n)].value
    if w.step(st).type != "records":
        return w.store(st, value)
    error = w.context_error(st, w.field(st), value)
    return WizardResult(w.reask(st, error)) if error else w.store(st, value)


def _on_confirm(w: Wizard, st: WizardState, yes: bool) -> WizardResult:
    value, whole_record = st.pending, st.pending_record
    st.pending, st.pending_question, st.pending_record, st.mode = None, "", False, Mode.ASK
    if whole_record:
        return records.confirmed(w, st, value) if yes else WizardResult(w.ask(st))
    return w.store(st, value) if yes else WizardResult(w.ask(st))


def _on_cancel(w: Wizard, st: WizardState, yes: bool) -> WizardResult:
    if yes:
        st.mode = Mode.CANCELLED
        return WizardResult([], CANCELLED)
    st.mode = st.mode_before_cancel
    return WizardResult(w.ask(st, w.texts["continue"]))


def _on_ok(w: Wizard, st: WizardState, rest: str) -> WizardResult:
    if w.state_problems(st):
        return WizardResult(w.ask(st, w.texts["fix_first"]))
    st.mode = Mode.DONE
    return WizardResult([], DONE)


def _on_edit(w: Wizard, st: WizardState, rest: str) -> WizardResult:
    if small_number(rest) is None or int(rest) >= len(w.form.steps) or not w.form.steps[int(rest)].applies(st.answers):
        return WizardResult(w.ask(st, w.texts["stale"]))
    st.step_index, st.mode, st.returning, st.record, st.field_index = int(rest), Mode.ASK, True, {}, 0
    if w.step(st).type == "records":
        st.mode = Mode.RECORD_MORE
    return WizardResult(w.ask(st))


def _to_mode(mode: Mode) -> Callable[[Wizard, WizardState, str], WizardResult]:
    def go(w: Wizard, st: WizardState, rest: str) -> WizardResult:
        st.mode = mode
        return WizardResult(w.ask(st))
    return go


_ASK: dict[Mode, Callable[[Wizard, WizardState], Reply]] = {
    Mode.ASK: lambda w, st: w.question(st), Mode.CONFIRM_VALUE: _ask_confirm_value,
    Mode.CONFIRM_CANCEL: _ask_confirm_cancel, Mode.SUMMARY: _ask_summary, Mode.EDIT_MENU: _ask_edit_menu,
    Mode.RECORD_MORE: records.ask_more, Mode.RECORD_DELETE: records.ask_delete, Mode.DONE: _ask_summary,
    Mode.CANCELLED: _ask_confirm_cancel,
}
_ALL = tuple(Mode)
_BUTTONS: dict[Action, tuple[tuple[Mode, ...], Callable[[Wizard, WizardState, str], WizardResult]]] = {
    Action.CHOOSE: ((Mode.ASK,), _on_choice),
    Action.TOGGLE: ((Mode.ASK,), records.on_toggle),
    Action.PICKED: ((Mode.ASK,), records.on_multi_done),
    Action.YES: ((Mode.CONFIRM_VALUE,), lambda w, st, r: _on_confirm(w, st, True)),
    Action.RETYPE: ((Mode.CONFIRM_VALUE,), lambda w, st, r: _on_confirm(w, st, False)),
    Action.ADD: ((Mode.RECORD_MORE,), records.on_more),
    Action.FINISH: ((Mode.RECORD_MORE,), lambda w, st, r: records.finish(w, st)),
    Action.DELETE_MENU: ((Mode.RECORD_MORE,), _to_mode(Mode.RECORD_DELETE)),
    Action.REMOVE: ((Mode.RECORD_DELETE,), records.on_remove),
    Action.CONFIRM: ((Mode.SUMMARY,), _on_ok),
    Action.EDIT_MENU: ((Mode.SUMMARY,), _to_mode(Mode.EDIT_MENU)),
    Action.EDIT_STEP: ((Mode.EDIT_MENU,), _on_edit),
    Action.TO_SUMMARY: ((Mode.EDIT_MENU,), lambda w, st, r: w.to_summary(st)),
    Action.CANCEL: (tuple(m for m in _ALL if m not in (Mode.CONFIRM_CANCEL, Mode.DONE, Mode.CANCELLED)),
                    lambda w, st, r: w._command(st, "huy")),
    Action.CANCEL_YES: ((Mode.CONFIRM_CANCEL,), lambda w, st, r: _on_cancel(w, st, True)),
    Action.CANCEL_NO: ((Mode.CONFIRM_CANCEL,), lambda w, st, r: _on_cancel(w, st, False)),
    Action.BACK: (_ALL, lambda w, st, r: w.back(st)),
    Action.SKIP: (_ALL, lambda w, st, r: w.skip(st)),
}
