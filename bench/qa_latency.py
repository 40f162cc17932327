"""Q&A speed: in-process search latency (p50/p95) with the whole knowledge base loaded, questions per
second through `htxbot ask --json`, and peak memory. Prints figures; asserts nothing.

    .venv/bin/python bench/qa_latency.py [--rounds 20]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import load_config  # noqa: E402
from bot.core.flow import Services  # noqa: E402
from bot.knowledge.evaluate import load_cases  # noqa: E402
from bot.knowledge.loader import load_valid_knowledge  # noqa: E402
from bot.knowledge.search import SearchIndex  # noqa: E402
from handlers.qa import answer_question  # noqa: E402


def questions() -> list[str]:
    qs = [c.question for c in load_cases([ROOT / "tests" / "labelled"])]
    dev = ROOT.parent / "shared" / "eval" / "dev-set.json"
    if dev.exists():
        qs += [c["q"] for c in json.loads(dev.read_text(encoding="utf-8"))]
    return qs


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def in_process(rounds: int) -> None:
    t0 = time.perf_counter()
    kb = load_valid_knowledge(ROOT / "knowledge")
    index = SearchIndex(kb)
    load_ms = (time.perf_counter() - t0) * 1000
    services = Services(config=load_config(env={}), index=index)
    qs = questions()
    search_ms: list[float] = []
    answer_ms: list[float] = []
    for _ in range(rounds):
        for q in qs:
            t = time.perf_counter()
            index.search(q)
            search_ms.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            answer_question(services, q)
            answer_ms.append((time.perf_counter() - t) * 1000)
    print(f"knowledge base: {len(kb.entries)} entries, {sum(len(e.questions) for e in kb.entries)} phrasings; "
          f"load + index {load_ms:.0f} ms")
    print(f"search only   ({len(search_ms)} queries): p50 {percentile(search_ms, 50):.2f} ms, "
          f"p95 {percentile(search_ms, 95):.2f} ms, max {max(search_ms):.2f} ms, "
          f"{len(search_ms) / (sum(search_ms) / 1000):.0f} queries/s")
    print(f"full answer   ({len(answer_ms)} queries): p50 {percentile(answer_ms, 50):.2f} ms, "
          f"p95 {percentile(answer_ms, 95):.2f} ms, mean {statistics.fmean(answer_ms):.2f} ms")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of this process: {peak_mb:.0f} MB")


def through_cli() -> None:
    qs = questions()
    exe = ROOT / ".venv" / "bin" / "htxbot"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "bot"]
    t0 = time.perf_counter()
    run = subprocess.run([*cmd, "ask", "--json"], input="\n".join(qs) + "\n", capture_output=True, text=True,
                         cwd=ROOT, check=True)
    wall = time.perf_counter() - t0
    rows = run.stdout.count("\n")
    start = subprocess.run([*cmd, "ask", "--json"], input="", capture_output=True, text=True, cwd=ROOT, check=True)
    del start
    t1 = time.perf_counter()
    subprocess.run([*cmd, "ask", "--json"], input="", capture_output=True, text=True, cwd=ROOT, check=True)
    startup = time.perf_counter() - t1
    print(f"htxbot ask --json: {rows} answers in {wall:.2f} s wall ({rows / wall:.0f} questions/s including "
          f"start-up); start-up alone {startup:.2f} s; steady state "
          f"{rows / max(wall - startup, 1e-9):.0f} questions/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    in_process(args.rounds)
    through_cli()


if __name__ == "__main__":
    main()
