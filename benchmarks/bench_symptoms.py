"""How fast symptom diagnosis is: cold index build and per-query latency.

Run from the repository root: `.venv/bin/python benchmarks/bench_symptoms.py`.
The queries are the texts of tests/symptom_eval.yaml, each answered `--repeat` times.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5, help="answers per query (default 5)")
    args = parser.parse_args()
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
    for _ in range(args.repeat):
        for text in texts:
            began = time.perf_counter()
            diagnose_text(text)
            latencies.append((time.perf_counter() - began) * 1000)
    latencies.sort()
    print(
        f"per query over {len(texts)} texts x {args.repeat}: "
        f"mean {statistics.mean(latencies):.2f} ms, "
        f"p50 {latencies[len(latencies) // 2]:.2f} ms, "
        f"p95 {latencies[int(len(latencies) * 0.95)]:.2f} ms, "
        f"max {latencies[-1]:.2f} ms"
    )


if __name__ == "__main__":
    main()
