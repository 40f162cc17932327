"""The generic wizard runner: one question at a time over a Form loaded from YAML.

Shared by registration and surveys. The runner is pure: it reads and changes a plain JSON-able dict (keep it
in `turn.state.data`), returns `Reply`s and never touches storage, so a restart resumes where the user was.

Usage from a flow::

    form = load_form("knowledge/forms/htx.yaml")          # handlers.wizard_form
    wizard = Wizard(form, prefix="reg", answerer=short_answer)
    data = wizard.new_state()                             # store it: turn.begin("reg", {"w": data})
    result = wizard.start(data)                           # first question (also: wizard.resume(data))
    result = wizard.on_text(data, turn.incoming.text)     # typed answers and /quaylai /boqua /tiendo /huy
    result = wizard.on_button(data, arg)                  # payloads "<prefix>:w:<arg>" made by the wizard
    if result.status == DONE: answers = wizard.answers(data)      # CANCELLED: the user confirmed /huy

So the flow must route its `on_button(turn, "w", arg)` to `wizard.on_button(data, arg)`, list
("quaylai", "huy", "boqua", "tiendo") in `flow_commands`, and pass typed text to `on_text`. On DONE and
CANCELLED the runner returns no replies: the flow says what happens next.

Step types: any key of `validators.VALIDATORS` (text, person_name, phone, email, id_number, date, money,
number, rating, province, commune), plus `choice`, `multi_choice` and `records` (a list of records, e.g.
members, each asked field by field or typed on one line: "Nguyễn Văn An, 12/03/1980, 001080012345, ...").
Modes in `data["mode"]`: ask, confirm_value, record_more, record_delete, summary, edit_menu, confirm_cancel.
A typed question ("… thế nào?") is answered briefly by `answerer` and the current question is asked again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.core.types import Button, Reply
from bot.text import clean, fold, small_number
from handlers import wizard_records as records
from handlers.validators import FIELD_CHECKS, FORM_CHECKS, VALIDATORS, FormCheck, NeedsConfirm, Problem, Validator
from handlers.wizard_form import Form, Step
from handlers.wizard_texts import DEFAULT_TEXTS, display, looks_like_question, yes_no

ACTIVE, DONE, CANCELLED = "active", "done", "cancelled"
COMMANDS = ("quaylai", "boqua", "tiendo", "huy")
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

    # --- public API -----------------------------------------------------------------------------

    def new_state(self) -> dict[str, Any]:
        return {"form": self.form.id, "i": 0, "mode": "ask", "a": {}, "rec": {}, "sub": 0}

    def start(self, data: dict[str, Any]) -> WizardResult:
        data["i"] = self._next_index(data, -1)
        return WizardResult(self.ask(data))

    def resume(self, data: dict[str, Any]) -> list[Reply]:
        """The current question again (after a restart, a question or /tiendo)."""
        return self.ask(data)

    def answers(self, data: dict[str, Any]) -> dict[str, Any]:
        """The answers of the steps that apply (answers to steps that no longer apply are dropped)."""
        answers = data["a"]
        return {s.key: answers[s.key] for s in self.form.steps if s.key in answers and s.applies(answers)}

    def problems(self, data: dict[str, Any]) -> list[Problem]:
        answers = self.answers(data)
        return [p for name in self.form.checks for p in self.form_checks[name](answers, self.form.params)]

    def on_text(self, data: dict[str, Any], text: str) -> WizardResult:
        text = "\n".join(line for line in (clean(x) for x in text.splitlines()) if line)
        if text.startswith("/"):
            return self._command(data, text[1:].split()[0].split("@")[0].lower() if len(text) > 1 else "")
        mode = data["mode"]
        if mode in ("confirm_value", "confirm_cancel"):
            answer = yes_no(text)
            if answer is not None:
                return self.on_button(data, ("y" if answer else "n") if mode == "confirm_value" else
                                      ("xy" if answer else "xn"))
        if looks_like_question(text):
            return WizardResult([*self._short_answer(text), *self.ask(data)])
        if mode == "confirm_value":  # a new answer typed instead of yes/no
            data.update(mode="ask", pending=None, q="")
            mode = "ask"
        if mode == "record_more":
            if fold(text).strip(" .!") in DONE_WORDS:
                return records.finish(self, data)
            data["mode"], data["rec"], data["sub"] = "ask", {}, 0
            return records.on_text(self, data, text)
        if mode != "ask":
            return WizardResult(self.ask(data, self.texts["pick_one"]))
        step = self.step(data)
        if step.type == "records":
            return records.on_text(self, data, text)
        if step.type == "multi_choice":
            return self._multi_text(data, step, text)
        return self.accept(data, step, text)

    def on_button(self, data: dict[str, Any], arg: str) -> WizardResult:
        op, _, rest = arg.partition(":")
        handler = _BUTTONS.get(op)
        if handler is None or data["mode"] not in handler[0]:
            return WizardResult(self.ask(data, self.texts["stale"]))
        return handler[1](self, data, rest)

    # --- asking ---------------------------------------------------------------------------------

    def step(self, data: dict[str, Any]) -> Step:
        return self.form.steps[data["i"]]

    def field(self, data: dict[str, Any]) -> Step:
        step = self.step(data)
        return step.fields[data["sub"]] if step.type == "records" else step

    def pos(self, data: dict[str, Any]) -> str:
        return f"{data['i']}.{data['sub']}" if self.step(data).type == "records" else str(data["i"])

    def pay(self, *parts: object) -> str:
        return ":".join([self.prefix, "w", *(str(p) for p in parts)])

    def progress(self, data: dict[str, Any]) -> str:
        applicable = [i for i, s in enumerate(self.form.steps) if s.applies(data["a"])]
        number = applicable.index(data["i"]) + 1 if data["i"] in applicable else len(applicable)
        return self.texts["progress"].format(n=number, total=len(applicable))

    def ask(self, data: dict[str, Any], before: str = "") -> list[Reply]:
        """The reply for the current mode (question, confirmation, summary …), after an optional notice."""
        reply = _ASK[data["mode"]](self, data)
        if before:
            reply = Reply(f"{before}\n\n{reply.text}", reply.buttons)
        return [reply]

    def question(self, data: dict[str, Any]) -> Reply:
        step, fld = self.step(data), self.field(data)
        head = f"📝 {self.progress(data)} · {step.title}"
        if step.type == "records":
            head += f" — {step.params.get('item', 'mục')} {len(data['a'].get(step.key) or []) + 1}: {fld.title}"
        lines = [head, fld.prompt]
        if fld.help:
            lines.append(fld.help)
        if fld.type == "multi_choice":
            lines.append(self.texts["multi_hint"])
        if step.type == "records" and data["sub"] == 0 and step.params.get("quick_hint"):
            lines.append(str(step.params["quick_hint"]).strip())
        current = data["rec"].get(fld.key) if step.type == "records" else data["a"].get(fld.key)
        if current not in (None, "", []) and fld.type != "records":
            lines.append(self.texts["current"].format(value=display(fld, current)))
        elif not fld.required:
            lines.append(self.texts["optional"])
        return Reply("\n".join(lines), self._choice_buttons(data, fld))

    def _choice_buttons(self, data: dict[str, Any], fld: Step) -> list[Button]:
        if fld.type == "choice" and fld.params.get("buttons", True):
            return [Button(c.label, self.pay("c", self.pos(data), n)) for n, c in enumerate(self.choices(data, fld))]
        if fld.type == "multi_choice":
            chosen = set(data["multi"] if "multi" in data else data["a"].get(fld.key) or [])
            buttons = [Button(("✅ " if c.value in chosen else "") + c.label, self.pay("t", self.pos(data), n))
                       for n, c in enumerate(fld.choices)]
            return [*buttons, Button(self.texts["multi_done"], self.pay("d", self.pos(data)))]
        return []

    def choices(self, data: dict[str, Any], fld: Step) -> list[Any]:
        """Static choices, or choices built from an earlier records step (`choices_from: members`)."""
        source = fld.params.get("choices_from")
        if not source:
            return list(fld.choices)
        from handlers.wizard_form import Choice

        label = fld.params.get("label_field", "name")
        return [Choice(str(r.get(label)), str(r.get(label))) for r in data["a"].get(source) or []]

    def _short_answer(self, text: str) -> list[Reply]:
        answer = self.answerer(text) if self.answerer else None
        return [Reply(answer or self.texts["no_answer"])]

    # --- answering ------------------------------------------------------------------------------

    def validate(self, data: dict[str, Any], fld: Step, text: str) -> tuple[Any, str]:
        """Run the field's validator, then its contextual checks (unique within records, share limits)."""
        if fld.type == "choice":
            value, error = self._match(data, fld, text)
        else:
            validator = self.validators.get(fld.type)
            if validator is None:
                raise ValueError(f"form {self.form.id}: no validator for type {fld.type!r}")
            value, error = validator(text, {**fld.params, "_choices": fld.choices})
        if error:
            return None, error
        raw = value.value if isinstance(value, NeedsConfirm) else value
        for name in fld.params.get("checks", []):
            error = FIELD_CHECKS[name](raw, data["a"], {**self.form.params, **fld.params})
            if error:
                return None, error
        if fld.params.get("unique"):
            error = records.duplicate(self, data, fld, raw)
        return (None, error) if error else (value, "")

    def _match(self, data: dict[str, Any], fld: Step, text: str) -> tuple[Any, str]:
        from handlers.validators import match_choice

        options = self.choices(data, fld)
        if (small_number(text) or 0) and 0 < int(text) <= len(options):
            return options[int(text) - 1].value, ""
        choice, exact = match_choice(text, options)
        if choice is not None:
            return (choice.value if exact else NeedsConfirm(choice.value, f"Ý bạn là: {choice.label}?")), ""
        if fld.params.get("allow_other"):
            return self.validators[fld.params.get("other_type", "text")](text, fld.params)
        names = ", ".join(c.label for c in options[:8])
        return None, self.texts["bad_choice"].format(choices=names)

    def accept(self, data: dict[str, Any], fld: Step, text: str) -> WizardResult:
        value, error = self.validate(data, fld, text)
        if error:
            return WizardResult(self.reask(data, error))
        if isinstance(value, NeedsConfirm):
            data.update(mode="confirm_value", pending=value.value, q=value.question)
            return WizardResult(self.ask(data))
        return self.store(data, value)

    def reask(self, data: dict[str, Any], error: str) -> list[Reply]:
        fld = self.field(data)
        if fld.example and "Ví dụ" not in error:
            error += f" Ví dụ: {fld.example}."
        return self.ask(data, f"❗ {error}")

    def store(self, data: dict[str, Any], value: Any) -> WizardResult:
        step = self.step(data)
        if step.type == "records":
            return records.store_field(self, data, value)
        if value in (None, "", []):
            data["a"].pop(step.key, None)
        else:
            data["a"][step.key] = value
        return self.advance(data)

    def advance(self, data: dict[str, Any]) -> WizardResult:
        """Go to the next step that applies (when editing from the summary: the next unanswered one)."""
        data.update(mode="ask", rec={}, sub=0)
        data.pop("multi", None)
        nxt = self._next_index(data, data["i"])
        if nxt >= len(self.form.steps):
            return self.to_summary(data)
        data["i"] = nxt
        if self.step(data).type == "records" and data["a"].get(self.step(data).key):
            data["mode"] = "record_more"
        return WizardResult(self.ask(data))

    def _next_index(self, data: dict[str, Any], after: int) -> int:
        for j in range(after + 1, len(self.form.steps)):
            step = self.form.steps[j]
            if step.applies(data["a"]) and not (data.get("ret") and step.key in data["a"]):
                return j
        return len(self.form.steps)

    def to_summary(self, data: dict[str, Any], before: str = "") -> WizardResult:
        data.update(mode="summary", ret=False, rec={}, sub=0)
        return WizardResult(self.ask(data, before))

    def _multi_text(self, data: dict[str, Any], step: Step, text: str) -> WizardResult:
        values, error = records.parse_multi(self, step, text)
        if error:
            return WizardResult(self.reask(data, error))
        return self.store(data, values)

    # --- commands -------------------------------------------------------------------------------

    def _command(self, data: dict[str, Any], command: str) -> WizardResult:
        if command == "huy":
            if data["mode"] != "confirm_cancel":
                data.update(prev=data["mode"], mode="confirm_cancel")
            return WizardResult(self.ask(data))
        if command == "tiendo":
            done = len(self.answers(data))
            return WizardResult(self.ask(data, self.texts["status"].format(progress=self.progress(data), done=done)))
        if command == "quaylai":
            return self.back(data)
        if command == "boqua":
            return self.skip(data)
        return WizardResult(self.ask(data, self.texts["commands"]))

    def back(self, data: dict[str, Any]) -> WizardResult:
        mode = data["mode"]
        if mode in ("confirm_value", "confirm_cancel", "record_delete", "edit_menu"):
            data["mode"] = {"confirm_cancel": data.get("prev", "ask"), "record_delete": "record_more",
                            "edit_menu": "summary"}.get(mode, "ask")
            return WizardResult(self.ask(data))
        if self.step(data).type == "records" and mode in ("ask", "record_more") and records.back(self, data):
            return WizardResult(self.ask(data))
        previous = [j for j in range(data["i"] if mode != "summary" else len(self.form.steps))
                    if self.form.steps[j].applies(data["a"])]
        if not previous:
            return WizardResult(self.ask(data, self.texts["first"]))
        data.update(i=previous[-1], mode="ask", rec={}, sub=0, ret=False)
        if self.step(data).type == "records" and data["a"].get(self.step(data).key):
            data["mode"] = "record_more"
        return WizardResult(self.ask(data))

    def skip(self, data: dict[str, Any]) -> WizardResult:
        if data["mode"] == "record_more":
            return records.finish(self, data)
        if data["mode"] != "ask":
            return WizardResult(self.ask(data))
        fld, step = self.field(data), self.step(data)
        kept = data["rec"].get(fld.key) if step.type == "records" else data["a"].get(fld.key)
        if kept not in (None, "", []):
            return self.store(data, kept)
        if fld.required:
            return WizardResult(self.ask(data, self.texts["required"]))
        return self.store(data, None)


def _ask_confirm_value(w: Wizard, data: dict[str, Any]) -> Reply:
    return Reply(data.get("q", ""), [Button(w.texts["yes"], w.pay("y")), Button(w.texts["retype"], w.pay("n"))])


def _ask_confirm_cancel(w: Wizard, data: dict[str, Any]) -> Reply:
    return Reply(w.texts["cancel_q"], [Button(w.texts["cancel_yes"], w.pay("xy")),
                                       Button(w.texts["cancel_no"], w.pay("xn"))])


def _ask_summary(w: Wizard, data: dict[str, Any]) -> Reply:
    lines = [w.texts["summary_head"].format(title=w.form.title)]
    answers = w.answers(data)
    for step in (s for s in w.form.steps if s.applies(data["a"])):
        lines.append(f"• {step.title}: {display(step, answers.get(step.key), full=True)}")
    problems = w.problems(data)
    lines += [f"⚠️ {p.message}" for p in problems]
    lines.append(w.texts["summary_fix" if problems else "summary_ok"])
    return Reply("\n".join(lines), [Button(w.texts["confirm"], w.pay("ok")), Button(w.texts["edit"], w.pay("ed")),
                                    Button(w.texts["cancel"], w.pay("x"))])


def _ask_edit_menu(w: Wizard, data: dict[str, Any]) -> Reply:
    buttons = [Button(f"✏️ {s.title}", w.pay("e", i)) for i, s in enumerate(w.form.steps) if s.applies(data["a"])]
    return Reply(w.texts["edit_q"], [*buttons, Button(w.texts["to_summary"], w.pay("sum"))])


def _on_choice(w: Wizard, data: dict[str, Any], rest: str) -> WizardResult:
    pos, _, n = rest.partition(":")
    options = w.choices(data, w.field(data))
    if pos != w.pos(data) or small_number(n) is None or int(n) >= len(options):
        return WizardResult(w.ask(data, w.texts["stale"]))
    return w.store(data, options[int(n)].value)


def _on_confirm(w: Wizard, data: dict[str, Any], rest: str, yes: bool) -> WizardResult:
    value = data.pop("pending", None)
    data.pop("q", None)
    data["mode"] = "ask"
    return w.store(data, value) if yes else WizardResult(w.ask(data))


def _on_cancel(w: Wizard, data: dict[str, Any], rest: str, yes: bool) -> WizardResult:
    if yes:
        data["mode"] = "cancelled"
        return WizardResult([], CANCELLED)
    data["mode"] = data.pop("prev", "ask")
    return WizardResult(w.ask(data, w.texts["continue"]))


def _on_ok(w: Wizard, data: dict[str, Any], rest: str) -> WizardResult:
    if w.problems(data):
        return WizardResult(w.ask(data, w.texts["fix_first"]))
    data["mode"] = "done"
    return WizardResult([], DONE)


def _on_edit(w: Wizard, data: dict[str, Any], rest: str) -> WizardResult:
    if small_number(rest) is None or int(rest) >= len(w.form.steps) or not w.form.steps[int(rest)].applies(data["a"]):
        return WizardResult(w.ask(data, w.texts["stale"]))
    data.update(i=int(rest), mode="ask", ret=True, rec={}, sub=0)
    if w.step(data).type == "records":
        data["mode"] = "record_more"
    return WizardResult(w.ask(data))


_ASK: dict[str, Callable[[Wizard, dict[str, Any]], Reply]] = {
    "ask": lambda w, d: w.question(d), "confirm_value": _ask_confirm_value, "confirm_cancel": _ask_confirm_cancel,
    "summary": _ask_summary, "edit_menu": _ask_edit_menu, "record_more": records.ask_more,
    "record_delete": records.ask_delete, "done": _ask_summary, "cancelled": _ask_confirm_cancel,
}
_ALL = tuple(_ASK)
_BUTTONS: dict[str, tuple[tuple[str, ...], Callable[[Wizard, dict[str, Any], str], WizardResult]]] = {
    "c": (("ask",), _on_choice),
    "t": (("ask",), records.on_toggle),
    "d": (("ask",), records.on_multi_done),
    "y": (("confirm_value",), lambda w, d, r: _on_confirm(w, d, r, True)),
    "n": (("confirm_value",), lambda w, d, r: _on_confirm(w, d, r, False)),
    "more": (("record_more",), records.on_more),
    "fin": (("record_more",), lambda w, d, r: records.finish(w, d)),
    "del": (("record_more",), records.on_delete_menu),
    "rm": (("record_delete",), records.on_remove),
    "ok": (("summary",), _on_ok),
    "ed": (("summary",), lambda w, d, r: (d.update(mode="edit_menu"), WizardResult(w.ask(d)))[1]),
    "e": (("edit_menu",), _on_edit),
    "sum": (("edit_menu",), lambda w, d, r: w.to_summary(d)),
    "x": (tuple(m for m in _ALL if m not in ("confirm_cancel", "done", "cancelled")),
          lambda w, d, r: w._command(d, "huy")),
    "xy": (("confirm_cancel",), lambda w, d, r: _on_cancel(w, d, r, True)),
    "xn": (("confirm_cancel",), lambda w, d, r: _on_cancel(w, d, r, False)),
    "b": (_ALL, lambda w, d, r: w.back(d)),
    "s": (_ALL, lambda w, d, r: w.skip(d)),
}

