"""Search quality on the shipped knowledge base, measured on the labelled question sets."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.knowledge.evaluate import evaluate, load_cases
from bot.knowledge.loader import load_valid_knowledge
from bot.knowledge.search import SearchIndex

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def index() -> SearchIndex:
    return SearchIndex(load_valid_knowledge(ROOT / "knowledge"))


def test_labelled_set_is_large_and_mixed() -> None:
    cases = load_cases([ROOT / "tests" / "labelled"])
    assert len(cases) >= 400
    assert sum(c.expect is None for c in cases) >= 30


def test_labelled_questions_get_the_right_entry(index: SearchIndex) -> None:
    report = evaluate(index, load_cases([ROOT / "tests" / "labelled"]))
    assert report.accuracy >= 0.95, report.summary() + "\n" + "\n".join(report.misses[:20])
    assert report.wrong <= 0.02 * report.in_scope, report.summary()
    assert report.oos_answered_rate <= 0.03, report.summary() + "\n" + "\n".join(report.misses[:20])
