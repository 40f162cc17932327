"""Score the search on labelled questions: `- q: text` / `expect: entry-id` (null = must not answer)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.knowledge.search import SearchIndex


@dataclass(frozen=True)
class Case:
    question: str
    expect: str | None
    source: str


@dataclass
class Report:
    in_scope: int = 0
    correct: int = 0
    wrong: int = 0  # answered with another entry: the worst outcome
    out_of_scope: int = 0
    declined: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.in_scope if self.in_scope else 0.0

    @property
    def oos_answered_rate(self) -> float:
        return 1 - self.declined / self.out_of_scope if self.out_of_scope else 0.0

    def summary(self) -> str:
        return (f"in-scope correct {self.correct}/{self.in_scope} = {self.accuracy:.1%}; wrong answers {self.wrong}; "
                f"out-of-scope answered {self.out_of_scope - self.declined}/{self.out_of_scope} "
                f"= {self.oos_answered_rate:.1%}")


def load_cases(paths: list[Path]) -> list[Case]:
    cases = []
    for path in paths:
        files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
        for file in files:
            for item in yaml.safe_load(file.read_text(encoding="utf-8")) or []:
                cases.append(Case(str(item["q"]), item.get("expect"), file.name))
    return cases


def evaluate(index: SearchIndex, cases: list[Case]) -> Report:
    """Answered = the best hit is above the threshold and is not a recognised out-of-scope intent."""
    report = Report()
    for case in cases:
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
