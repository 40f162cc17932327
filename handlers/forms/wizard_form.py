"""Forms as data: the YAML schema of a wizard (registration, surveys) and its loader.

A form file looks like this (every key except `key`, `prompt` and `type` is optional)::

    id: htx
    title: Đăng ký thành lập hợp tác xã
    checks: [min_members, unique_ids]        # form-level checks, by name (see Wizard(form_checks=...))
    params: {min_members: 5}                 # handed to the form-level checks
    steps:
      - key: name                            # where the answer is stored
        label: Tên HTX                       # short name used in the summary and edit buttons
        prompt: Tên dự kiến của HTX?          # the question
        help: Tên gồm cụm từ «Hợp tác xã» …   # shown under the question
        example: Hợp tác xã Nông nghiệp Tân Lập   # shown after an error
        type: text                           # a validator name, or choice / multi_choice / records
        required: false                      # optional steps can be skipped with /boqua
        when: {governance: full}             # ask only when an earlier answer matches; {legal_rep: {not_in:
                                             #   members}}: only when that answer names no one in the list
        choices: [{value: full, label: Đầy đủ}]   # or plain strings; choices_file: list.yaml
        choices_from: members                # choices built from the names in a records step
        fields: [...]                        # the sub-steps of one record (type: records)
        min_items: 5                         # anything else goes to `params` for the validator
        rules: [...]                         # rules spanning several answers, see handlers/forms/wizard_rules.py

Types `province` and `commune` are plain validators; `province` reads its list from `choices_file`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

STEP_KEYS = {"key", "label", "prompt", "help", "example", "type", "required", "when", "choices",
             "choices_file", "fields", "rules"}
RULE_KEYS = {"check", "article", "message", "messages", "kind"}
CHOICE_TYPES = ("choice", "multi_choice")
CHOICE_KEYS = {"value", "label", "aliases", "note"}


class FormError(ValueError):
    """A form file is malformed; the message names the file and the step."""


@dataclass(frozen=True)
class Choice:
    """One option of a choice step. `aliases` are other ways people write it (matched without diacritics)."""

    value: str
    label: str
    aliases: tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class Rule:
    """A rule across answers: which check, the article it rests on and what to tell the user."""

    check: str
    article: str
    message: str = ""
    messages: dict[str, str] = field(default_factory=dict)  # inform rules: one message per case
    inform: bool = False
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Step:
    """One question. For `type: records`, `fields` are the questions asked for each record."""

    key: str
    prompt: str
    type: str = "text"
    label: str = ""
    help: str = ""
    example: str = ""
    required: bool = True
    when: dict[str, Any] = field(default_factory=dict)
    choices: tuple[Choice, ...] = ()
    fields: tuple[Step, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)
    rules: tuple[Rule, ...] = ()

    @property
    def title(self) -> str:
        return self.label or self.key

    def applies(self, answers: dict[str, Any]) -> bool:
        """True when every `when` condition holds for the answers given so far.

        A condition is a value, a list of values, or `{not_in: <records key>}`: the answer is given and is not
        the name of anyone in that list (e.g. a legal representative from outside the members)."""
        for key, expected in self.when.items():
            if isinstance(expected, dict) and "not_in" in expected:
                names = {r.get("name") for r in answers.get(expected["not_in"]) or [] if isinstance(r, dict)}
                if not answers.get(key) or answers.get(key) in names:
                    return False
                continue
            allowed = expected if isinstance(expected, list) else [expected]
            if answers.get(key) not in allowed:
                return False
        return True

    def choice_for(self, value: Any) -> Choice | None:
        return next((c for c in self.choices if c.value == value), None)


@dataclass(frozen=True)
class Form:
    """A whole wizard: ordered steps plus form-level checks run before the summary can be confirmed."""

    id: str
    title: str
    steps: tuple[Step, ...]
    checks: tuple[str, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)

    def step(self, key: str) -> Step | None:
        return next((s for s in self.steps if s.key == key), None)


def load_form(path: str | Path) -> Form:
    """Read and check a form file; raise FormError naming the file and step on any problem."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise FormError(f"{path}: cannot read form: {exc}") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("steps"), list):
        raise FormError(f"{path}: a form needs `id`, `title` and a list of `steps`")
    steps = tuple(_step(path, s, f"steps[{i}]") for i, s in enumerate(raw["steps"]))
    keys = [s.key for s in steps]
    if len(set(keys)) != len(keys):
        raise FormError(f"{path}: duplicate step keys")
    return Form(id=str(raw.get("id") or path.stem), title=str(raw.get("title", "")), steps=steps,
                checks=tuple(raw.get("checks") or ()), params=dict(raw.get("params") or {}),
                texts={str(k): str(v) for k, v in (raw.get("texts") or {}).items()})


def _step(path: Path, raw: Any, where: str) -> Step:
    if not isinstance(raw, dict) or not raw.get("key") or not raw.get("prompt"):
        raise FormError(f"{path}: {where}: every step needs `key` and `prompt`")
    where = f"{where} ({raw['key']})"
    kind = str(raw.get("type", "text"))
    choices = _choices(path, raw, where)
    if kind in CHOICE_TYPES and not choices and not raw.get("choices_from"):
        raise FormError(f"{path}: {where}: a {kind} step needs `choices`, `choices_file` or `choices_from`")
    fields = tuple(_step(path, f, f"{where}.fields[{i}]") for i, f in enumerate(raw.get("fields") or []))
    if kind == "records" and not fields:
        raise FormError(f"{path}: {where}: a records step needs `fields`")
    params = {k: v for k, v in raw.items() if k not in STEP_KEYS}
    rules = tuple(_rule(path, r, f"{where}.rules[{i}]") for i, r in enumerate(raw.get("rules") or []))
    return Step(key=str(raw["key"]), prompt=str(raw["prompt"]).strip(), type=kind, label=str(raw.get("label", "")),
                help=str(raw.get("help", "")).strip(), example=str(raw.get("example", "")),
                required=bool(raw.get("required", True)), when=dict(raw.get("when") or {}), choices=choices,
                fields=fields, params=params, rules=rules)


def _rule(path: Path, raw: Any, where: str) -> Rule:
    from handlers.forms.wizard_rules import RULE_CHECKS

    if not isinstance(raw, dict) or raw.get("check") not in RULE_CHECKS:
        raise FormError(f"{path}: {where}: a rule needs `check`, one of {', '.join(RULE_CHECKS)}")
    inform = raw.get("kind") == "inform"
    if not raw.get("article") or not (raw.get("messages") if inform else raw.get("message")):
        raise FormError(f"{path}: {where}: a rule needs the `article` it rests on and its `message`")
    return Rule(check=str(raw["check"]), article=str(raw["article"]), message=str(raw.get("message", "")),
                messages={str(k): str(v) for k, v in (raw.get("messages") or {}).items()}, inform=inform,
                params={k: v for k, v in raw.items() if k not in RULE_KEYS})


def _choices(path: Path, raw: dict[str, Any], where: str) -> tuple[Choice, ...]:
    items = raw.get("choices") or []
    if raw.get("choices_file"):
        file = path.parent / str(raw["choices_file"])
        try:
            loaded = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise FormError(f"{path}: {where}: cannot read {file.name}: {exc}") from exc
        items = loaded.get("choices", []) if isinstance(loaded, dict) else loaded
    out = []
    for item in items:
        if isinstance(item, str):
            out.append(Choice(item, item))
        elif isinstance(item, dict) and "label" in item and not set(item) - CHOICE_KEYS:
            out.append(Choice(str(item.get("value", item["label"])), str(item["label"]),
                              tuple(str(a) for a in item.get("aliases") or ()), str(item.get("note", ""))))
        else:
            odd = ", ".join(str(k) for k in set(item) - CHOICE_KEYS) if isinstance(item, dict) else ""
            hint = f" (unknown keys: {odd}; a value with a comma must be quoted)" if odd else ""
            raise FormError(f"{path}: {where}: a choice is a string or a mapping with `label`, `value`, "
                            f"`aliases`, `note`{hint}")
    return tuple(out)
