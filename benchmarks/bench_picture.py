"""How long drawing the journey picture takes (issue 17: under a second for a month of logs).

The picture is drawn from the Diagnosis, never from the logs, so its cost does not grow
with the upload: what can grow is the number of marks (evidence, updates and their steps),
and those are capped by the engine. Measured, each in a fresh Python process:

  month       the Diagnosis of make_big_zip.py's month of logs (--mb, default 40 MiB;
              the zip is built once and cached like bench_pipeline.py's), drawn to PNG
  busiest     a made-up Diagnosis at the engine's caps: the most evidence lines an
              answer keeps, 50 updates (the most it lists) with a failure and a retry at
              every stage: more marks than any upload can give
  example     the bundled examples/ccm-logs-example.zip

For each: `import` is importing matplotlib (once per process, paid by the first picture
only: `sccm diagnose --picture` pays it, plain `sccm diagnose` never does), `first` the
first drawing after it, `warm` the best of --repeat later ones (what the Slack app pays
for every picture after its first). Diagnosing is not counted. The target applies to
`first`.

Usage: python benchmarks/bench_picture.py [--mb 40] [--repeat 5] [--cache-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
for path in (str(REPO_ROOT), str(HERE)):
    if path not in sys.path:
        sys.path.insert(0, path)

TARGET_SECONDS = 1.0


def _busiest():
    from knowledge.diagnosis.verdict import MAX_EVIDENCE
    from knowledge.models import (
        STAGE_IDS,
        Diagnosis,
        Evidence,
        LedgerRow,
        UpdateProgress,
        UpdateStep,
    )

    start = datetime(2024, 1, 1)

    def at(minutes: float) -> str:
        return (start + timedelta(minutes=minutes)).isoformat(timespec="milliseconds") + "Z"

    evidence = [
        Evidence(
            file=f"Logs/log{i}.log",
            line=i,
            time=at(i * 700),
            first_time=at(i * 700 - 600),
            last_time=at(i * 700),
            count=40,
            text=f"Failed, error 0x8024{i:04X}",
            stage=STAGE_IDS[i % 10],
            outcome="failed" if i % 2 else "ok",
        )
        for i in range(MAX_EVIDENCE)
    ]
    updates = []
    for u in range(50):
        steps = []
        for s, stage in enumerate(STAGE_IDS):
            minute = u * 800 + s * 60
            steps.append(UpdateStep(stage=stage, outcome="failed", time=at(minute), code=None))
            steps.append(UpdateStep(stage=stage, outcome="ok", time=at(minute + 30)))
        updates.append(UpdateProgress(update=f"KB50{u:05d}", status="ok", steps=steps))
    return Diagnosis(
        verdict="failure",
        stage="install",
        summary="made up",
        evidence=evidence,
        updates=updates,
        ledger=[LedgerRow(stage=s, status="ok") for s in STAGE_IDS],
        time_zone="UTC-05:00",
        utc_offset_minutes=-300,
    )


def child(case: str, source: str, repeat: int) -> dict:
    from knowledge.api import diagnose_path

    diagnosis = _busiest() if case == "busiest" else diagnose_path(source)
    began = time.perf_counter()
    # What bot/picture.py imports when the first picture is asked for.
    import matplotlib.backends.backend_agg  # noqa: F401
    import matplotlib.dates  # noqa: F401
    import matplotlib.figure  # noqa: F401

    imported = time.perf_counter() - began
    from bot.picture import render_png

    began = time.perf_counter()
    png = render_png(diagnosis)
    first = time.perf_counter() - began
    warm = []
    for _ in range(repeat):
        began = time.perf_counter()
        render_png(diagnosis)
        warm.append(time.perf_counter() - began)
    marks = len(diagnosis.evidence) + sum(len(u.steps) for u in diagnosis.updates)
    return {
        "case": case,
        "import": imported,
        "first": first,
        "warm": min(warm),
        "bytes": len(png),
        "marks": marks,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=40, help="size of the month of logs (40 MiB)")
    parser.add_argument("--repeat", type=int, default=5, help="warm drawings; best kept (5)")
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "sccm-triage-bench",
        help="where generated zips are kept between runs",
    )
    parser.add_argument("--child", nargs=2, metavar=("CASE", "SOURCE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child[0], args.child[1], args.repeat)))
        return 0

    from bench_pipeline import ensure_zip

    month = ensure_zip(args.cache_dir, args.mb, 1)
    cases = [
        ("month", str(month)),
        ("busiest", "-"),
        ("example", str(REPO_ROOT / "examples" / "ccm-logs-example.zip")),
    ]
    print(f"{'case':<10}{'marks':>7}{'import s':>10}{'first s':>9}{'warm s':>9}{'PNG KiB':>9}")
    worst = 0.0
    for case, source in cases:
        command = [sys.executable, __file__, "--repeat", str(args.repeat), "--child", case, source]
        done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=REPO_ROOT)
        row = json.loads(done.stdout.strip().splitlines()[-1])
        worst = max(worst, row["first"])
        print(
            f"{case:<10}{row['marks']:>7}{row['import']:>10.3f}{row['first']:>9.3f}"
            f"{row['warm']:>9.3f}{row['bytes'] / 1024:>9.0f}"
        )
    verdict = "meets" if worst < TARGET_SECONDS else "MISSES"
    print(f"slowest first drawing {worst:.3f} s: {verdict} the {TARGET_SECONDS:.0f} s target")
    return 0 if worst < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
