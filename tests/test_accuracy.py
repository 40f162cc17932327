"""Search quality on the shipped knowledge base, measured on the labelled question sets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.config import load_config
from bot.core.flow import Services
from bot.knowledge.evaluate import Answerer, evaluate, load_cases
from bot.knowledge.loader import load_valid_knowledge
from bot.knowledge.search import SearchIndex
from handlers.qa.qa import answer_question

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def index() -> SearchIndex:
    return SearchIndex(load_valid_knowledge(ROOT / "knowledge"))


@pytest.fixture(scope="module")
def answerer(index: SearchIndex) -> Answerer:
    services = Services(config=load_config(env={}), index=index)

    def ask(question: str, context: Any) -> tuple[bool, str, Any]:
        answer = answer_question(services, question, context)
        return answer.answered, "\n\n".join(r.text for r in answer.replies), answer.context

    return ask


def test_labelled_set_is_large_and_mixed() -> None:
    cases = load_cases([ROOT / "tests" / "labelled"])
    assert len(cases) >= 400
    assert sum(c.expect is None and not c.by_pattern for c in cases) >= 30
    assert sum(c.follow_up for c in cases) >= 5  # conversations, not only single questions


def test_labelled_questions_get_the_right_entry(index: SearchIndex, answerer: Answerer) -> None:
    report = evaluate(index, load_cases([ROOT / "tests" / "labelled"]), answerer)
    assert report.accuracy >= 0.95, report.summary() + "\n" + "\n".join(report.misses[:20])
    assert report.wrong <= 0.02 * report.in_scope, report.summary()
    assert report.oos_answered_rate <= 0.03, report.summary() + "\n" + "\n".join(report.misses[:20])


def test_conversations_several_questions_and_hard_negatives(index: SearchIndex, answerer: Answerer) -> None:
    report = evaluate(index, load_cases([ROOT / "tests" / "labelled" / "dialogue.json"]), answerer)
    assert report.correct == report.in_scope and report.wrong == 0, "\n".join(report.misses)
    assert report.follow_ups_correct == report.follow_ups >= 5
    assert report.declined == report.out_of_scope, "\n".join(report.misses)


def test_tuning_half_of_the_held_out_set_stays_at_its_level(index: SearchIndex, answerer: Answerer) -> None:
    report = evaluate(index, load_cases([ROOT / "tests" / "heldout" / "blind-set.json"], "even"), answerer)
    assert report.accuracy >= 0.88 and report.wrong <= 5, report.summary() + "\n" + "\n".join(report.misses)
    assert report.declined == report.out_of_scope
