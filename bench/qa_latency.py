"""Q&A speed: in-process latency per question (p50/p95) with the whole knowledge base loaded, questions per
second through `htxbot ask --json`, its cold start, and peak memory. Prints figures; asserts nothing.

    .venv/bin/python bench/qa_latency.py [--rounds 20]

The machine may be shared: besides wall-clock time, the in-process figures give the CPU time of this
thread per question (what the code costs, without the wait for a busy CPU), and the cold start is the
best of several runs together with its CPU time.
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
from handlers.qa.qa import answer_question  # noqa: E402


def questions() -> list[str]:
    qs = [c.question for c in load_cases([ROOT / "tests" / "labelled"])]
    dev = ROOT.parent / "shared" / "eval" / "dev-set.json"
    if dev.exists():
        qs += [c.question for c in load_cases([dev])]
    return qs


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def _timed(fn: object, *args: object) -> tuple[float, float]:
    """(wall ms, CPU ms of this thread) of one call."""
    w, c = time.perf_counter(), time.thread_time()
    fn(*args)  # type: ignore[operator]
    return (time.perf_counter() - w) * 1000, (time.thread_time() - c) * 1000


def in_process(rounds: int) -> None:
    t0 = time.perf_counter()
    kb = load_valid_knowledge(ROOT / "knowledge")
    index = SearchIndex(kb)
    load_ms = (time.perf_counter() - t0) * 1000
    services = Services(config=load_config(env={}), index=index)
    qs = questions()
    for q in qs:  # warm-up: first calls of regexes, numpy and rapidfuzz
        answer_question(services, q)
    search_wall: list[float] = []
    answer_wall: list[float] = []
    answer_cpu: list[float] = []
    for _ in range(rounds):
        for q in qs:
            search_wall.append(_timed(index.search, q)[0])
            wall, cpu = _timed(answer_question, services, q)
            answer_wall.append(wall)
            answer_cpu.append(cpu)
    print(f"knowledge base: {len(kb.entries)} entries, {sum(len(e.questions) for e in kb.entries)} phrasings; "
          f"load + index {load_ms:.0f} ms")
    print(f"search only   ({len(search_wall)} queries): p50 {percentile(search_wall, 50):.2f} ms, "
          f"p95 {percentile(search_wall, 95):.2f} ms wall")
    print(f"full answer   ({len(answer_wall)} questions): p50 {percentile(answer_wall, 50):.2f} ms, "
          f"p95 {percentile(answer_wall, 95):.2f} ms, mean {statistics.fmean(answer_wall):.2f} ms wall; "
          f"CPU p50 {percentile(answer_cpu, 50):.2f} ms, p95 {percentile(answer_cpu, 95):.2f} ms per question")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of this process: {peak_mb:.0f} MB")


def through_cli(starts: int) -> None:
    qs = [json.dumps({"q": q}, ensure_ascii=False) if i % 2 else q for i, q in enumerate(questions())]
    exe = ROOT / ".venv" / "bin" / "htxbot"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "bot"]
    t0 = time.perf_counter()
    run = subprocess.run([*cmd, "ask", "--json"], input="\n".join(qs) + "\n", capture_output=True, text=True,
                         cwd=ROOT, check=True)
    wall = time.perf_counter() - t0
    rows = run.stdout.count("\n")
    walls: list[float] = []
    cpus: list[float] = []
    for _ in range(starts):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t1 = time.perf_counter()
        subprocess.run([*cmd, "ask", "--json"], input="", capture_output=True, text=True, cwd=ROOT, check=True)
        walls.append(time.perf_counter() - t1)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    startup = min(walls)
    print(f"htxbot ask --json: {rows} answers in {wall:.2f} s wall ({rows / wall:.0f} questions/s including "
          f"start-up); steady state {rows / max(wall - startup, 1e-9):.0f} questions/s")
    print(f"cold start of htxbot ask: best {startup:.2f} s, median {statistics.median(walls):.2f} s wall of "
          f"{starts} runs; CPU {min(cpus):.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--starts", type=int, default=5, help="cold starts to time")
    args = parser.parse_args()
    in_process(args.rounds)
    through_cli(args.starts)


if __name__ == "__main__":
    main()
