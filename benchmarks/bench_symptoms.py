"""How fast and how right symptom diagnosis is.

Run from the repository root: `.venv/bin/python benchmarks/bench_symptoms.py`.
Speed: cold index build and per-query latency over the texts of tests/symptom_eval.yaml, each
answered `--repeat` times. Accuracy on real admins' threads (realworld/threads.yaml, plus
`--extra FILE` of the same schema kept outside the repository): top-1 and top-3 stage, and
whether the fix that worked is offered in the first three next steps; every miss is printed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from knowledge.kb import kb  # noqa: E402
from knowledge.symptoms import diagnose_text, symptom_index  # noqa: E402
from tests.thread_eval import THREADS_FILE, Outcome, evaluate, figures, load_threads  # noqa: E402


def _first_words(step: str, count: int = 6) -> str:
    words = step.split()
    return " ".join(words[:count]) + (" ..." if len(words) > count else "")


def _print_miss(outcome: Outcome, why: str) -> None:
    thread = outcome.thread
    text = " ".join(thread.text.split())
    print(f"  [{why}] {thread.id}: {text[:160]}{' ...' if len(text) > 160 else ''}")
    expected = "/".join([thread.stage, *thread.also])
    print(f"      expected {expected} ({thread.cause or 'no cause'}), fix: {thread.fix_terms}")
    print(f"      got {outcome.got} then {outcome.ranked[1:3]}")
    for number, step in enumerate(outcome.first_steps, 1):
        print(f"      step {number}: {_first_words(step)}")


def report_threads(name: str, path: Path, show_misses: bool = True) -> None:
    outcomes = [evaluate(thread) for thread in load_threads(path)]
    result = figures(outcomes)
    print(
        f"\n{name} ({path}): {result.count} threads\n"
        f"  top-1 stage {result.top1:.1%} (the thread's stage alone: {result.top1_strict:.1%})\n"
        f"  top-3 stage {result.top3:.1%}\n"
        f"  fix offered in the first three next steps {result.fix_offered:.1%}"
    )
    if not show_misses:
        return
    for outcome in outcomes:
        if not outcome.top1:
            _print_miss(outcome, "stage" if outcome.top3 else "stage, not in top 3")
    for outcome in outcomes:
        if outcome.top1 and not outcome.fix_offered:
            _print_miss(outcome, "fix")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5, help="answers per query (default 5)")
    parser.add_argument(
        "--extra", type=Path, action="append", default=[], help="more threads (same schema)"
    )
    parser.add_argument("--no-speed", action="store_true", help="only the real-thread figures")
    parser.add_argument("--no-misses", action="store_true", help="figures without the misses")
    args = parser.parse_args()
    if not args.no_speed:
        measure_speed(args.repeat)
    report_threads("real threads", THREADS_FILE, not args.no_misses)
    for extra in args.extra:
        report_threads("extra threads", extra, not args.no_misses)


def measure_speed(repeat: int) -> None:
    texts = [
        item["text"] for item in yaml.safe_load((ROOT / "tests/symptom_eval.yaml").read_text())
    ]

    started = time.perf_counter()
    kb()
    loaded = time.perf_counter()
    symptom_index()
    built = time.perf_counter()
    print(f"knowledge base load: {(loaded - started) * 1000:8.1f} ms")
    print(f"symptom index build: {(built - loaded) * 1000:8.1f} ms (cold, once per process)")

    latencies = []
    for _ in range(repeat):
        for text in texts:
            began = time.perf_counter()
            diagnose_text(text)
            latencies.append((time.perf_counter() - began) * 1000)
    latencies.sort()
    print(
        f"per query over {len(texts)} texts x {repeat}: "
        f"mean {statistics.mean(latencies):.2f} ms, "
        f"p50 {latencies[len(latencies) // 2]:.2f} ms, "
        f"p95 {latencies[int(len(latencies) * 0.95)]:.2f} ms, "
        f"max {latencies[-1]:.2f} ms"
    )


if __name__ == "__main__":
    main()
