"""Score questions labelled by answer patterns (the dev-set format: {"q", "expect": [regex]} or
{"q", "oos": true}) in process, through the same `answer_question` as `htxbot ask --json`.

    .venv/bin/python bench/regex_eval.py tests/heldout/blind-set.json [--half even|odd] [--misses]

The held-out set is split in two: tune on one half (`--half even`), report the other (`--half odd`).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import load_config  # noqa: E402
from bot.core.flow import Services  # noqa: E402
from bot.knowledge.loader import load_valid_knowledge  # noqa: E402
from bot.knowledge.search import SearchIndex  # noqa: E402
from bot.text import fold  # noqa: E402
from handlers.qa.qa import answer_question  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("cases", type=Path)
    parser.add_argument("--half", choices=["even", "odd", "all"], default="all")
    parser.add_argument("--misses", action="store_true")
    parser.add_argument("--threshold", type=float, default=0.0, help="override the answer threshold")
    args = parser.parse_args()
    cases = json.loads(args.cases.read_text(encoding="utf-8"))
    if args.half != "all":
        cases = cases[0 if args.half == "even" else 1::2]
    services = Services(config=load_config(env={}), index=SearchIndex(load_valid_knowledge(ROOT / "knowledge"),
                                                                         args.threshold))
    ok = n = wrong = oos_n = oos_answered = 0
    for case in cases:
        answer = answer_question(services, case["q"])
        text = fold("\n\n".join(r.text for r in answer.replies))
        entry = answer.entry.id if answer.entry else None
        if case.get("oos"):
            oos_n += 1
            if answer.answered:
                oos_answered += 1
                if args.misses:
                    print(f"- OOS answered: {case['q']!r} -> {entry} {answer.score:.3f}")
            continue
        n += 1
        missing = [rx for rx in case["expect"] if not re.search(rx, text)]
        if answer.answered and not missing:
            ok += 1
            continue
        wrong += answer.answered
        if args.misses:
            why = f"missing {missing}" if answer.answered else "not answered"
            print(f"- {case['q']!r}: {why} ({entry} {answer.score:.3f})")
    print(f"{args.cases.name} [{args.half}]: in-scope correct {ok}/{n} = {ok / max(n, 1):.1%}; wrong answers "
          f"{wrong}; out-of-scope answered {oos_answered}/{oos_n} = {oos_answered / max(oos_n, 1):.1%}")


if __name__ == "__main__":
    main()
