"""Sweep the answer threshold and the ambiguity margin over labelled questions and print the trade-off:
in-scope accuracy against out-of-scope questions answered. Used to choose THRESHOLD in
bot/knowledge/search.py. Prints figures; changes nothing.

    .venv/bin/python bench/calibrate.py [paths of labelled YAML files or folders]
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.knowledge.evaluate import evaluate, load_cases  # noqa: E402
from bot.knowledge.loader import load_valid_knowledge  # noqa: E402
from bot.knowledge.search import AMBIGUITY_MARGIN, THRESHOLD, SearchIndex  # noqa: E402


def main() -> None:
    paths = [Path(p) for p in sys.argv[1:]] or [ROOT / "tests" / "labelled"]
    cases = [c for c in load_cases(paths) if not c.by_pattern]  # entry-labelled questions only
    kb = load_valid_knowledge(ROOT / "knowledge")
    print(f"{len(cases)} labelled questions; current threshold {THRESHOLD}, margin {AMBIGUITY_MARGIN}")
    print("threshold  margin  in-scope-correct  wrong  oos-answered")
    for threshold in (0.36, 0.40, 0.43, 0.46, 0.50, 0.54, 0.58, 0.62):
        for margin in (0.0001, 0.015, 0.03):
            report = evaluate(SearchIndex(kb, threshold, margin), cases)
            print(f"{threshold:9.2f}  {margin:6.3f}  {report.accuracy:15.1%}  {report.wrong:5d}  "
                  f"{report.oos_answered_rate:11.1%}")


if __name__ == "__main__":
    main()
