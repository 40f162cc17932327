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
from handlers.validators import LOOKS_LIKE, NeedsConfirm, match_choice
from handlers.wizard_form import Step
from handlers.wizard_texts import record_line

if TYPE_CHECKING:
    from handlers.wizard import Wizard, WizardResult

TEXT_TYPES = ("text", "person_name", "commune")


def _item(step: Step) -> str:
    return str(step.params.get("item", "mục"))


def _list(w: Wizard, data: dict[str, Any]) -> list[dict[str, Any]]:
    return data["a"].setdefault(w.step(data).key, [])


def on_text(w: Wizard, data: dict[str, Any], text: str) -> WizardResult:
    step = w.step(data)
    if data["sub"] == 0 and step.params.get("quick", True) and re.search(r"[,;\n]", text):
        return _quick(w, data, step, text)
    return w.accept(data, w.field(data), text)


def store_field(w: Wizard, data: dict[str, Any], value: Any) -> WizardResult:
    from handlers.wizard import WizardResult

    step = w.step(data)
    fld = step.fields[data["sub"]]
    if value not in (None, ""):
        data["rec"][fld.key] = value
    data["sub"] += 1
    if data["sub"] < len(step.fields):
        data["mode"] = "ask"
        return WizardResult(w.ask(data))
    records = _list(w, data)
    records.append(data["rec"])
    data.update(rec={}, sub=0, mode="record_more")
    notice = w.texts["added"].format(item=_item(step), n=len(records), line=record_line(step, records[-1]))
    return _after_add(w, data, notice)


def _after_add(w: Wizard, data: dict[str, Any], notice: str) -> WizardResult:
    from handlers.wizard import WizardResult

    step = w.step(data)
    if len(_list(w, data)) >= int(step.params.get("max_items", 10_000)):
        return finish(w, data, notice)
    return WizardResult(w.ask(data, notice))


def _quick(w: Wizard, data: dict[str, Any], step: Step, text: str) -> WizardResult:
    from handlers.wizard import WizardResult

    lines = [ln for ln in (clean(x) for x in re.split(r"\n", text)) if ln]
    added, errors = [], []
    for number, line in enumerate(lines, start=1):
        record, error = parse_record(w, data, step, line)
        if error:
            errors.append(w.texts["line"].format(n=number, error=error) if len(lines) > 1 else error)
            continue
        _list(w, data).append(record)
        added.append(w.texts["added"].format(item=_item(step), n=len(_list(w, data)), line=record_line(step, record)))
    if not added:
        data.update(mode="ask", rec={}, sub=0)
        return WizardResult(w.ask(data, "\n".join(f"❗ {e}" for e in errors)))
    data.update(mode="record_more", rec={}, sub=0)
    return _after_add(w, data, "\n".join(added + [f"❗ {e}" for e in errors]))


def parse_record(w: Wizard, data: dict[str, Any], step: Step, line: str) -> tuple[dict[str, Any], str]:
    """One line → a validated record, or an error naming what is wrong or missing."""
    sep = ";" if ";" in line else ","
    pieces = [p.strip() for p in re.sub(r"(\d),(\d)(?=\s*(?:ty|tỷ|tỉ|trieu|triệu|tr)\b)", r"\1.\2", line).split(sep)]
    pieces = [p for p in pieces if p]
    assigned: dict[str, str] = {}
    rest: list[str] = []
    for piece in pieces:
        target = next((f for f in step.fields if f.key not in assigned and _looks_like(w, data, f, piece)), None)
        if target is None:
            rest.append(piece)
        else:
            assigned[target.key] = piece
    texts = [f for f in step.fields if f.type in TEXT_TYPES and f.key not in assigned]
    for n, fld in enumerate(texts):
        if rest:
            assigned[fld.key] = ", ".join(rest) if n == len(texts) - 1 else rest.pop(0)
            rest = [] if n == len(texts) - 1 else rest
    return _validate_record(w, data, step, assigned)


def _looks_like(w: Wizard, data: dict[str, Any], fld: Step, piece: str) -> bool:
    if fld.type == "choice":
        choice, _ = match_choice(piece, w.choices(data, fld), cutoff=90)
        return choice is not None
    test = LOOKS_LIKE.get(fld.type)
    return bool(test and test(piece))


def _validate_record(w: Wizard, data: dict[str, Any], step: Step, raw: dict[str, str]) -> tuple[dict[str, Any], str]:
    record: dict[str, Any] = {}
    missing = []
    for fld in step.fields:
        if fld.key not in raw:
            if "default" in fld.params:
                record[fld.key] = fld.params["default"]
            elif fld.required:
                missing.append(fld.title[:1].lower() + fld.title[1:])
            continue
        value, error = w.validate(data, fld, raw[fld.key])
        if error:
            return {}, f"{fld.title}: {error}"
        record[fld.key] = value.value if isinstance(value, NeedsConfirm) else value
    if missing:
        return {}, f"{w.texts['quick_bad']} ({w.texts['missing'].format(fields=', '.join(missing))})."
    return record, ""


def duplicate(w: Wizard, data: dict[str, Any], fld: Step, value: Any) -> str:
    """Error text when `value` is already used by another record of the current records step."""
    step = w.step(data)
    for n, record in enumerate(data["a"].get(step.key) or [], start=1):
        if record.get(fld.key) == value:
            return w.texts["duplicate"].format(value=value, item=_item(step), n=n, name=record.get("name", ""))
    return ""


def back(w: Wizard, data: dict[str, Any]) -> bool:
    """Step back inside a records step; False when the previous step should be shown instead."""
    step = w.step(data)
    if data["mode"] == "ask" and data["sub"] > 0:
        data["sub"] -= 1
        data["rec"].pop(step.fields[data["sub"]].key, None)
        return True
    records = data["a"].get(step.key) or []
    if data["mode"] == "ask" and records:
        data["mode"] = "record_more"
        return True
    if data["mode"] == "record_more" and records:
        data.update(rec=records.pop(), sub=len(step.fields) - 1, mode="ask")
        data["rec"].pop(step.fields[-1].key, None)
        return True
    return False


def finish(w: Wizard, data: dict[str, Any], notice: str = "") -> WizardResult:
    from handlers.wizard import WizardResult

    step = w.step(data)
    count, low = len(data["a"].get(step.key) or []), int(step.params.get("min_items", 0))
    errors = [w.texts["min_items"].format(min=low, item=_item(step), n=count)] if count < low else []
    errors += [p.message for p in w.problems(data) if p.step == step.key and count >= low]
    if errors:
        data["mode"] = "record_more"
        return WizardResult(w.ask(data, "\n".join(filter(None, [notice, *(f"❗ {e}" for e in errors)]))))
    result = w.advance(data)
    if notice:
        result.replies[0] = Reply(f"{notice}\n\n{result.replies[0].text}", result.replies[0].buttons)
    return result


def ask_more(w: Wizard, data: dict[str, Any]) -> Reply:
    step = w.step(data)
    records = data["a"].get(step.key) or []
    item = _item(step)
    lines = [f"📝 {w.progress(data)} · {step.title}", w.texts["list_head"].format(item=item, n=len(records))]
    lines += [f"{n}. {record_line(step, r)}" for n, r in enumerate(records, start=1)]
    lines.append(w.texts["more_q"].format(item=item))
    buttons = [Button(w.texts["more"].format(item=item), w.pay("more")), Button(w.texts["finish"], w.pay("fin"))]
    if records:
        buttons.append(Button(w.texts["delete"].format(item=item), w.pay("del")))
    return Reply("\n".join(lines), buttons)


def ask_delete(w: Wizard, data: dict[str, Any]) -> Reply:
    step = w.step(data)
    records = data["a"].get(step.key) or []
    buttons = [Button(f"🗑 {n + 1}. {r.get('name', '')}"[:60], w.pay("rm", n)) for n, r in enumerate(records)]
    return Reply(w.texts["delete_q"].format(item=_item(step)), [*buttons, Button(w.texts["back"], w.pay("b"))])


def on_more(w: Wizard, data: dict[str, Any], rest: str) -> WizardResult:
    from handlers.wizard import WizardResult

    data.update(mode="ask", rec={}, sub=0)
    return WizardResult(w.ask(data))


def on_delete_menu(w: Wizard, data: dict[str, Any], rest: str) -> WizardResult:
    from handlers.wizard import WizardResult

    data["mode"] = "record_delete"
    return WizardResult(w.ask(data))


def on_remove(w: Wizard, data: dict[str, Any], rest: str) -> WizardResult:
    from handlers.wizard import WizardResult

    records = data["a"].get(w.step(data).key) or []
    if small_number(rest) is not None and int(rest) < len(records):
        records.pop(int(rest))
    data["mode"] = "record_more"
    return WizardResult(w.ask(data))


# --- multi choice -------------------------------------------------------------------------------

def parse_multi(w: Wizard, step: Step, text: str) -> tuple[list[str], str]:
    """ "1, 3" (numbers of the listed options) or names separated by commas; unknown names kept if allowed."""
    numbers = re.findall(r"\d+", text)
    if numbers and re.fullmatch(r"[\d\s,;.&+va]+", fold(text)):
        picked = [int(n) - 1 for n in numbers]
        if all(0 <= n < len(step.choices) for n in picked):
            return list(dict.fromkeys(step.choices[n].value for n in picked)), ""
        return [], f"Bạn chọn các số từ 1 đến {len(step.choices)}. {w.texts['multi_hint']}"
    values = []
    for piece in (p.strip() for p in re.split(r"[,;\n]", text) if p.strip()):
        choice, _ = match_choice(piece, step.choices)
        if choice is not None:
            values.append(choice.value)
        elif step.params.get("allow_other") and len(piece) >= 3:
            values.append(piece)
        else:
            return [], w.texts["bad_choice"].format(choices=", ".join(c.label for c in step.choices[:6]) + "…")
    return list(dict.fromkeys(values)), ""


def on_toggle(w: Wizard, data: dict[str, Any], rest: str) -> WizardResult:
    from handlers.wizard import WizardResult

    pos, _, n = rest.partition(":")
    step = w.step(data)
    if pos != w.pos(data) or small_number(n) is None or int(n) >= len(step.choices):
        return WizardResult(w.ask(data, w.texts["stale"]))
    chosen = list(data["multi"] if "multi" in data else data["a"].get(step.key) or [])
    value = step.choices[int(n)].value
    chosen = [v for v in chosen if v != value] if value in chosen else [*chosen, value]
    data["multi"] = chosen
    return WizardResult(w.ask(data))


def on_multi_done(w: Wizard, data: dict[str, Any], rest: str) -> WizardResult:
    from handlers.wizard import WizardResult

    step = w.step(data)
    chosen = list(data["multi"] if "multi" in data else data["a"].get(step.key) or [])
    if rest != w.pos(data):
        return WizardResult(w.ask(data, w.texts["stale"]))
    if not chosen and step.required:
        return WizardResult(w.ask(data, w.texts["required"]))
    return w.store(data, chosen)
