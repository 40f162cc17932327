"""List-of-records steps (members) and multi-choice steps for the wizard runner.

A record is asked field by field, or typed on one line ("Nguyễn Văn An, 12/03/1980, 001080012345,
thôn 3 xã Tân Lập, 20 triệu"), several lines at once allowed. Pieces are matched to fields by what
they look like (date, 12 digits, amount, choice); the remaining pieces fill the text fields in order and
the last text field takes the rest, so an address may contain commas.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from bot.core.types import Button, Reply
from bot.text import clean, fold, small_number
from handlers.forms.validators import LOOKS_LIKE, NeedsConfirm, match_choice
from handlers.forms.wizard_form import Step
from handlers.forms.wizard_state import Action, Mode, WizardState
from handlers.forms.wizard_texts import record_line

if TYPE_CHECKING:
    from handlers.forms.wizard import Wizard, WizardResult

TEXT_TYPES = ("text", "person_name", "commune")


def _item(step: Step) -> str:
    return str(step.params.get("item", "mục"))


def _list(w: Wizard, st: WizardState) -> list[dict[str, Any]]:
    return st.answers.setdefault(w.step(st).key, [])


def on_text(w: Wizard, st: WizardState, text: str) -> WizardResult:
    step = w.step(st)
    if st.field_index == 0 and step.params.get("quick", True) and re.search(r"[,;\n]", text):
        return _quick(w, st, step, text)
    return w.accept(st, w.field(st), text)


def store_field(w: Wizard, st: WizardState, value: Any) -> WizardResult:
    from handlers.forms.wizard import WizardResult

    step = w.step(st)
    fld = step.fields[st.field_index]
    if value not in (None, ""):
        st.record[fld.key] = value
    st.field_index += 1
    if st.field_index < len(step.fields):
        st.mode = Mode.ASK
        return WizardResult(w.ask(st))
    records = _list(w, st)
    records.append(st.record)
    st.record, st.field_index, st.mode = {}, 0, Mode.RECORD_MORE
    notice = w.texts["added"].format(item=_item(step), n=len(records), line=record_line(step, records[-1]))
    return _after_add(w, st, notice)


def _after_add(w: Wizard, st: WizardState, notice: str) -> WizardResult:
    from handlers.forms.wizard import WizardResult

    step = w.step(st)
    if len(_list(w, st)) >= int(step.params.get("max_items", 10_000)):
        return finish(w, st, notice)
    return WizardResult(w.ask(st, notice))


def _quick(w: Wizard, st: WizardState, step: Step, text: str) -> WizardResult:
    from handlers.forms.wizard import WizardResult

    lines = [ln for ln in (clean(x) for x in re.split(r"\n", text)) if ln]
    added, errors = [], []
    for number, line in enumerate(lines, start=1):
        record, error, questions = parse_record(w, st, step, line)
        if questions and not error and len(lines) == 1:  # "Ý bạn là «Nguyễn Văn An»?" before adding it
            st.mode, st.pending, st.pending_record = Mode.CONFIRM_VALUE, record, True
            st.pending_question = "\n".join(questions)
            return WizardResult(w.ask(st))
        if questions and not error:
            error = " ".join(questions) + " " + w.texts["retype_line"]
        if error:
            errors.append(w.texts["line"].format(n=number, error=error) if len(lines) > 1 else error)
            continue
        _list(w, st).append(record)
        added.append(w.texts["added"].format(item=_item(step), n=len(_list(w, st)), line=record_line(step, record)))
    if not added:
        st.mode, st.record, st.field_index = Mode.ASK, {}, 0
        return WizardResult(w.ask(st, "\n".join(f"❗ {e}" for e in errors)))
    st.mode, st.record, st.field_index = Mode.RECORD_MORE, {}, 0
    return _after_add(w, st, "\n".join(added + [f"❗ {e}" for e in errors]))


def confirmed(w: Wizard, st: WizardState, record: dict[str, Any]) -> WizardResult:
    """A record typed on one line whose spelling the user has just confirmed: add it to the list."""
    step = w.step(st)
    _list(w, st).append(dict(record))
    st.mode, st.record, st.field_index = Mode.RECORD_MORE, {}, 0
    return _after_add(w, st, w.texts["added"].format(item=_item(step), n=len(_list(w, st)),
                                                      line=record_line(step, record)))


def parse_record(w: Wizard, st: WizardState, step: Step, line: str) -> tuple[dict[str, Any], str, list[str]]:
    """One line → a validated record, or an error naming what is wrong or missing; and the spellings to
    confirm (names typed without diacritics)."""
    sep = ";" if ";" in line else ","
    pieces = [p.strip() for p in re.sub(r"(\d),(\d)(?=\s*(?:ty|tỷ|tỉ|trieu|triệu|tr)\b)", r"\1.\2", line).split(sep)]
    pieces = [p for p in pieces if p]
    assigned: dict[str, str] = {}
    rest: list[str] = []
    for piece in pieces:
        target = next((f for f in step.fields if f.key not in assigned and _looks_like(w, st, f, piece)), None)
        if target is None:
            rest.append(piece)
        else:
            assigned[target.key] = piece
    texts = [f for f in step.fields if f.type in TEXT_TYPES and f.key not in assigned]
    for n, fld in enumerate(texts):
        if rest:
            assigned[fld.key] = ", ".join(rest) if n == len(texts) - 1 else rest.pop(0)
            rest = [] if n == len(texts) - 1 else rest
    return _validate_record(w, st, step, assigned)


def _looks_like(w: Wizard, st: WizardState, fld: Step, piece: str) -> bool:
    if fld.type == "choice":
        choice, _ = match_choice(piece, w.choices(st, fld), cutoff=90)
        return choice is not None
    test = LOOKS_LIKE.get(fld.type)
    return bool(test and test(piece))


def _validate_record(w: Wizard, st: WizardState, step: Step,
                     raw: dict[str, str]) -> tuple[dict[str, Any], str, list[str]]:
    record: dict[str, Any] = {}
    missing, questions = [], []
    for fld in step.fields:
        if fld.key not in raw:
            if "default" in fld.params:
                record[fld.key] = fld.params["default"]
            elif fld.required:
                missing.append(fld.title[:1].lower() + fld.title[1:])
            continue
        value, error = w.validate(st, fld, raw[fld.key])
        if error:
            return {}, f"{fld.title}: {error}", []
        if isinstance(value, NeedsConfirm) and fld.type in TEXT_TYPES:
            questions.append(value.question)
        record[fld.key] = value.value if isinstance(value, NeedsConfirm) else value
    if missing:
        return {}, f"{w.texts['quick_bad']} ({w.texts['missing'].format(fields=', '.join(missing))}).", []
    return record, "", questions


def duplicate(w: Wizard, st: WizardState, fld: Step, value: Any) -> str:
    """Error text when `value` is already used by another record of the current records step."""
    step = w.step(st)
    for n, record in enumerate(st.answers.get(step.key) or [], start=1):
        if record.get(fld.key) == value:
            return w.texts["duplicate"].format(value=value, item=_item(step), n=n, name=record.get("name", ""))
    return ""


def back(w: Wizard, st: WizardState) -> bool:
    """Step back inside a records step; False when the previous step should be shown instead."""
    step = w.step(st)
    if st.mode == Mode.ASK and st.field_index > 0:
        st.field_index -= 1
        st.record.pop(step.fields[st.field_index].key, None)
        return True
    records = st.answers.get(step.key) or []
    if st.mode == Mode.ASK and records:
        st.mode = Mode.RECORD_MORE
        return True
    if st.mode == Mode.RECORD_MORE and records:
        st.record, st.field_index, st.mode = records.pop(), len(step.fields) - 1, Mode.ASK
        st.record.pop(step.fields[-1].key, None)
        return True
    return False


def finish(w: Wizard, st: WizardState, notice: str = "") -> WizardResult:
    from handlers.forms.wizard import WizardResult

    step = w.step(st)
    count, low = len(st.answers.get(step.key) or []), int(step.params.get("min_items", 0))
    errors = [w.texts["min_items"].format(min=low, item=_item(step), n=count)] if count < low else []
    errors += [p.message for p in w.state_problems(st) if p.step == step.key and count >= low]
    if errors:
        st.mode = Mode.RECORD_MORE
        return WizardResult(w.ask(st, "\n".join(filter(None, [notice, *(f"❗ {e}" for e in errors)]))))
    result = w.advance(st)
    if notice:
        result.replies[0] = Reply(f"{notice}\n\n{result.replies[0].text}", result.replies[0].buttons)
    return result


def ask_more(w: Wizard, st: WizardState) -> Reply:
    step = w.step(st)
    records = st.answers.get(step.key) or []
    item = _item(step)
    lines = [f"📝 {w.progress(st)} · {step.title}", w.texts["list_head"].format(item=item, n=len(records))]
    lines += [f"{n}. {record_line(step, r)}" for n, r in enumerate(records, start=1)]
    lines.append(w.texts["more_q"].format(item=item))
    buttons = [Button(w.texts["more"].format(item=item), w.pay(Action.ADD)),
               Button(w.texts["finish"], w.pay(Action.FINISH))]
    if records:
        buttons.append(Button(w.texts["delete"].format(item=item), w.pay(Action.DELETE_MENU)))
    return Reply("\n".join(lines), buttons)


def ask_delete(w: Wizard, st: WizardState) -> Reply:
    step = w.step(st)
    records = st.answers.get(step.key) or []
    buttons = [Button(f"🗑 {n + 1}. {r.get('name', '')}"[:60], w.pay(Action.REMOVE, n)) for n, r in enumerate(records)]
    return Reply(w.texts["delete_q"].format(item=_item(step)), [*buttons, Button(w.texts["back"], w.pay(Action.BACK))])


def on_more(w: Wizard, st: WizardState, rest: str) -> WizardResult:
    from handlers.forms.wizard import WizardResult

    st.mode, st.record, st.field_index = Mode.ASK, {}, 0
    return WizardResult(w.ask(st))


def on_remove(w: Wizard, st: WizardState, rest: str) -> WizardResult:
    from handlers.forms.wizard import WizardResult

    key = w.step(st).key
    records = st.answers.get(key) or []
    if small_number(rest) is not None and int(rest) < len(records):
        forget_person(w, st, key, records.pop(int(rest)).get("name"))
    st.mode = Mode.RECORD_MORE
    return WizardResult(w.ask(st))


def forget_person(w: Wizard, st: WizardState, records_key: str, name: Any) -> None:
    """A person removed from the list no longer holds the offices chosen from it: those answers are dropped
    (or the name taken out of a multiple choice), so the wizard asks them again instead of treating the
    person as someone from outside the list."""
    for step in w.form.steps:
        if step.params.get("choices_from") != records_key or step.key not in st.answers:
            continue
        answer = st.answers[step.key]
        if isinstance(answer, list) and name in answer:
            kept = [v for v in answer if v != name]
            if kept:
                st.answers[step.key] = kept
            else:
                del st.answers[step.key]
        elif answer == name:
            del st.answers[step.key]


# --- multi choice -------------------------------------------------------------------------------

def parse_multi(w: Wizard, st: WizardState, step: Step, text: str) -> tuple[list[str], str]:
    """ "1, 3" (numbers of the listed options) or names separated by commas; unknown names kept if allowed."""
    options = w.choices(st, step)
    numbers = re.findall(r"\d+", text)
    if numbers and re.fullmatch(r"[\d\s,;.&+va]+", fold(text)):
        picked = [int(n) - 1 for n in numbers]
        if all(0 <= n < len(options) for n in picked):
            return list(dict.fromkeys(options[n].value for n in picked)), ""
        return [], f"Bạn chọn các số từ 1 đến {len(options)}. {w.texts['multi_hint']}"
    values = []
    for piece in (p.strip() for p in re.split(r"[,;\n]", text) if p.strip()):
        choice, _ = match_choice(piece, options)
        if choice is not None:
            values.append(choice.value)
        elif step.params.get("allow_other") and len(piece) >= 3 and not piece[0].isdigit():
            values.append(piece)  # a name typed by the user; "6 tháng" or a number is not one
        else:
            return [], w.texts["bad_choice"].format(choices=", ".join(c.label for c in options[:6]) + "…")
    return list(dict.fromkeys(values)), ""


def on_toggle(w: Wizard, st: WizardState, rest: str) -> WizardResult:
    from handlers.forms.wizard import WizardResult

    pos, _, n = rest.partition(":")
    step = w.step(st)
    options = w.choices(st, step)
    if pos != w.pos(st) or small_number(n) is None or int(n) >= len(options):
        return WizardResult(w.ask(st, w.texts["stale"]))
    chosen = list(st.picked if st.picked is not None else st.answers.get(step.key) or [])
    value = options[int(n)].value
    chosen = [v for v in chosen if v != value] if value in chosen else [*chosen, value]
    st.picked = chosen
    return WizardResult(w.ask(st))


def on_multi_done(w: Wizard, st: WizardState, rest: str) -> WizardResult:
    from handlers.forms.wizard import WizardResult

    step = w.step(st)
    chosen = list(st.picked if st.picked is not None else st.answers.get(step.key) or [])
    if rest != w.pos(st):
        return WizardResult(w.ask(st, w.texts["stale"]))
    if not chosen and step.required:
        return WizardResult(w.ask(st, w.texts["required"]))
    return w.store(st, chosen)
