"""Score the Q&A on labelled questions, in two formats.

- YAML (tests/labelled): `- q: text` / `expect: entry-id` (null = must not answer), scored on the entry
  the search picks.
- JSON (tests/heldout, the outside evaluation's format): `{"q", "expect": [regex, ...]}` (every pattern
  must match the answer's body, folded, without its source lines), `{"q", "oos": true}` (must be
  declined), or `{"conv": [case, ...]}`, a conversation whose turns are asked in order with context;
  scored on the full reply through an `Answerer` (the same code as `htxbot ask --json`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.knowledge.search import SearchIndex
from bot.text import fold

# The sets the content and the search were tuned on: their figures are not a measure of new questions.
TUNED_ON = ("tests/labelled (all, YAML and JSON)", "tests/heldout/blind-set.json (even-numbered cases: 0, 2, 4 …)")
NOT_TUNED_ON = "tests/heldout/blind-set.json odd-numbered cases (`--half odd`)"

# (question, conversation context) → (answered, reply text, new context)
Answerer = Callable[[str, Any], tuple[bool, str, Any]]


@dataclass(frozen=True)
class Case:
    question: str
    expect: str | None
    source: str
    patterns: tuple[str, ...] = ()  # JSON format: regexes the answer body must match
    oos: bool = False  # JSON format: must be declined
    conversation: str = ""  # JSON format: turns of one conversation share this key
    follow_up: bool = False  # a later turn of a conversation

    @property
    def by_pattern(self) -> bool:
        return bool(self.patterns) or self.oos or bool(self.conversation)


@dataclass
class Report:
    in_scope: int = 0
    correct: int = 0
    wrong: int = 0  # answered with another entry (or a reply missing the expected fact): the worst outcome
    out_of_scope: int = 0
    declined: int = 0
    follow_ups: int = 0
    follow_ups_correct: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.in_scope if self.in_scope else 0.0

    @property
    def oos_answered_rate(self) -> float:
        return 1 - self.declined / self.out_of_scope if self.out_of_scope else 0.0

    def summary(self) -> str:
        text = (f"in-scope correct {self.correct}/{self.in_scope} = {self.accuracy:.1%}; wrong answers {self.wrong}; "
                f"out-of-scope answered {self.out_of_scope - self.declined}/{self.out_of_scope} "
                f"= {self.oos_answered_rate:.1%}")
        if self.follow_ups:
            text += f"; follow-up turns correct {self.follow_ups_correct}/{self.follow_ups}"
        return text


def load_cases(paths: list[Path], half: str = "all") -> list[Case]:
    """Cases from YAML and JSON files (or folders of them). `half` = even/odd keeps every other case of a
    JSON file (a conversation counts as one case), for tuning on one half and reporting the other."""
    cases = []
    for path in paths:
        files = sorted([*path.glob("*.yaml"), *path.glob("*.json")]) if path.is_dir() else [path]
        for file in files:
            if file.suffix == ".json":
                cases.extend(_json_cases(file, half))
                continue
            for item in yaml.safe_load(file.read_text(encoding="utf-8")) or []:
                cases.append(Case(str(item["q"]), item.get("expect"), file.name))
    return cases


def _json_cases(file: Path, half: str) -> list[Case]:
    items = json.loads(file.read_text(encoding="utf-8"))
    if half in ("even", "odd"):
        items = items[0 if half == "even" else 1::2]
    out: list[Case] = []
    for n, item in enumerate(items):
        if "conv" in item:
            for i, turn in enumerate(item["conv"]):
                out.append(_json_case(turn, file.name, f"{file.name}#{n}", i > 0))
        else:
            out.append(_json_case(item, file.name, "", False))
    return out


def _json_case(item: dict[str, Any], source: str, conversation: str, follow_up: bool) -> Case:
    return Case(str(item["q"]), None, source, tuple(item.get("expect") or ()), bool(item.get("oos")), conversation,
                follow_up)


def body(answer: str) -> str:
    """The answer a member reads without its source lines, folded, whitespace collapsed."""
    kept = []
    for line in answer.splitlines():
        if line.lstrip().startswith("📚"):
            break
        kept.append(line)
    return re.sub(r"\s+", " ", fold("\n".join(kept))).strip()


def evaluate(index: SearchIndex, cases: list[Case], answerer: Answerer | None = None) -> Report:
    """YAML cases: answered = the best hit is confident and is not a recognised out-of-scope intent.
    JSON cases (need `answerer`): answered as `htxbot ask --json` says, facts checked in the body."""
    report = Report()
    contexts: dict[str, Any] = {}
    for case in cases:
        if case.by_pattern:
            if answerer is None:
                raise ValueError("JSON cases are scored on full replies: pass an answerer")
            _score_reply(report, case, answerer, contexts)
            continue
        result = index.search(case.question)
        best = result.best
        answered = best is not None and best.entry.kind != "decline"
        got = best.entry.id if answered and best else None
        if case.expect is None:
            report.out_of_scope += 1
            report.declined += got is None
            if got is not None:
                report.misses.append(f"{case.source}: {case.question!r} answered by {got}")
            continue
        report.in_scope += 1
        if got == case.expect:
            report.correct += 1
            continue
        report.wrong += got is not None
        top = result.hits[0] if result.hits else None
        shown = f"{top.entry.id} {top.score:.3f}" if top else "nothing"
        report.misses.append(f"{case.source}: {case.question!r} expected {case.expect}, got {got} (top {shown})")
    return report


def _score_reply(report: Report, case: Case, answerer: Answerer, contexts: dict[str, Any]) -> None:
    context = contexts.get(case.conversation) if case.conversation else None
    answered, text, new_context = answerer(case.question, context)
    if case.conversation:
        contexts[case.conversation] = new_context
    if case.oos:
        report.out_of_scope += 1
        report.declined += not answered
        if answered:
            report.misses.append(f"{case.source}: {case.question!r} answered out of scope")
        return
    report.in_scope += 1
    report.follow_ups += case.follow_up
    folded = body(text)
    missing = [rx for rx in case.patterns if not re.search(rx, folded)]
    if answered and not missing:
        report.correct += 1
        report.follow_ups_correct += case.follow_up
        return
    report.wrong += answered
    why = f"missing {', '.join(missing)}" if answered else "not answered"
    report.misses.append(f"{case.source}: {case.question!r}: {why}")
