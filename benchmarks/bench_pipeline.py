"""How much reading and diagnosing a big logs zip cost, next to just decompressing it.

For each zip size (built once by make_big_zip.py and cached), every measurement runs in a
fresh Python process, so its peak memory is its own:

  bare        for each member: `for line in io.BufferedReader(zf.open(name), 1 << 20): pass`
  bare-plain  the same with `for line in zf.open(name): pass` (shown for transparency)
  read        knowledge.api.read_logs(zip)       (what `sccm logs` does)
  diagnose    knowledge.api.diagnose_path(zip)   (what `sccm diagnose` does)

Targets (from the issues): reading <= 1.5x bare, diagnosis <= 2x bare, and memory flat:
peak RSS at the larger size at most 1.25x the peak at the smaller one.

Usage: python benchmarks/bench_pipeline.py [--quick] [--sizes 100 300] [--repeat N]
                                           [--cache-dir DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
GENERATOR = HERE / "make_big_zip.py"

MODES = ("bare", "bare-plain", "read", "diagnose")
READ_TARGET = 1.5  # read_logs time / bare time
DIAGNOSE_TARGET = 2.0  # diagnose_path time / bare time
FLAT_TARGET = 1.25  # peak RSS at the larger size / peak RSS at the smaller size
MIB = 1024 * 1024


# --- the child: one measurement in a fresh process ---------------------------------------


def _peak_rss_mib() -> float:
    """The peak resident set of the largest process: this one or a worker it forked."""
    import resource

    peak = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )
    # Linux reports kilobytes, macOS bytes.
    return peak / MIB if sys.platform == "darwin" else peak / 1024


def _cpu_seconds() -> float:
    """Processor time (user and system) of this process and of the workers it waited for."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime


def _bare_pass(zip_path: Path, buffered: bool) -> str:
    lines = 0
    with zipfile.ZipFile(zip_path) as archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            member = archive.open(info)
            stream = io.BufferedReader(member, 1 << 20) if buffered else member
            with stream:
                for _line in stream:
                    lines += 1
    return f"{lines:,} lines"


def _prepare(mode: str):
    """Imports a mode's code before the clock starts: import time is not reading time."""
    sys.path.insert(0, str(REPO_ROOT))
    if mode == "read":
        import knowledge.reading.reader  # noqa: F401
        from knowledge.api import read_logs

        def run(zip_path: Path) -> str:
            report = read_logs(zip_path)
            entries = sum(f.entries for f in report.files)
            return f"{len(report.files)} files, {entries:,} entries"

        return run
    if mode == "diagnose":
        import knowledge.diagnosis.verdict  # noqa: F401
        from knowledge.api import diagnose_path

        def run(zip_path: Path) -> str:
            diagnosis = diagnose_path(zip_path)
            return f"{diagnosis.verdict} {diagnosis.stage or ''} {diagnosis.cause or ''}".strip()

        return run
    return lambda zip_path: _bare_pass(zip_path, buffered=(mode == "bare"))


def child(mode: str, zip_path: Path) -> int:
    """Runs one measurement and prints it as one JSON line; failures are reported, not raised."""
    try:
        run = _prepare(mode)
        cpu_before = _cpu_seconds()
        started = time.perf_counter()
        detail = run(zip_path)
        seconds = time.perf_counter() - started
        cpu = _cpu_seconds() - cpu_before
        result = {"seconds": seconds, "cpu": cpu, "peak_mib": _peak_rss_mib(), "detail": detail}
    except Exception as error:  # the core may not exist yet: say so in the table
        result = {"error": f"{type(error).__name__}: {error}"}
    print(json.dumps(result))
    return 0


# --- the parent: zips, runs, table ----------------------------------------------------------


@dataclass
class Measurement:
    seconds: float | None = None
    cpu: float | None = None
    peak_mib: float | None = None
    detail: str = ""
    error: str | None = None


def _generator_version() -> str:
    return hashlib.sha256(GENERATOR.read_bytes()).hexdigest()[:10]


def ensure_zip(cache_dir: Path, megabytes: int, seed: int) -> Path:
    """The cached zip for this size, built first when missing or when the generator changed."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / f"ccm-logs-{megabytes}mb-seed{seed}-{_generator_version()}.zip"
    if not path.exists():
        partial = path.with_suffix(".partial")
        print(f"building {path.name} ...", flush=True)
        command = [sys.executable, str(GENERATOR), str(partial), "--mb", str(megabytes)]
        subprocess.run([*command, "--seed", str(seed)], check=True)
        partial.rename(path)
    return path


def _warm_page_cache(path: Path) -> None:
    """Reads the zip once so the first measurement does not pay for the disk alone."""
    with path.open("rb") as handle:
        while handle.read(8 * MIB):
            pass


def measure(mode: str, zip_path: Path, repeat: int) -> Measurement:
    best = Measurement()
    for _ in range(repeat):
        completed = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--child", mode, str(zip_path)],
            capture_output=True,
            text=True,
        )
        lines = completed.stdout.strip().splitlines()
        if completed.returncode != 0 or not lines:
            return Measurement(error=(completed.stderr.strip().splitlines() or ["no output"])[-1])
        result = json.loads(lines[-1])
        if "error" in result:
            return Measurement(error=result["error"])
        if best.seconds is None or result["seconds"] < best.seconds:
            best.seconds, best.cpu, best.detail = result["seconds"], result["cpu"], result["detail"]
        best.peak_mib = max(best.peak_mib or 0.0, result["peak_mib"])
    return best


def _cell(m: Measurement) -> str:
    if m.error:
        return f"{'n/a':>6} {'':>6} {'':>8}"
    return f"{m.seconds:6.2f} {m.cpu:6.2f} {m.peak_mib:8.1f}"


def _ratio(a: Measurement, b: Measurement, field: str = "seconds") -> float | None:
    mine, yardstick = getattr(a, field), getattr(b, field)
    if mine is None or yardstick is None or yardstick == 0:
        return None
    return mine / yardstick


def _verdict(value: float | None, target: float) -> str:
    if value is None:
        return "n/a (not measured)"
    return f"{'PASS' if value <= target else 'MISS'} ({value:.2f}x, target <= {target}x)"


def _uncompressed_mib(zip_path: Path) -> float:
    with zipfile.ZipFile(zip_path) as archive:
        return sum(info.file_size for info in archive.infolist()) / MIB


def report(results: dict[int, dict[str, Measurement]], zips: dict[int, Path]) -> None:
    sizes = sorted(results)
    print()
    print(
        f"machine: {os.cpu_count()} cores, {platform.machine()}, Python "
        f"{platform.python_version()}, {platform.system()} {platform.release()}; "
        f"date: {time.strftime('%Y-%m-%d')}"
    )
    print(
        "s: wall-clock seconds (best of the runs); cpu: processor seconds of the process\n"
        "and of the workers it forked; peak: the largest process's peak RSS in MiB"
    )
    names = f"{'':17} |" + "".join(f" {mode:^22} |" for mode in MODES)
    units = f"{'logs MiB':>8} {'zip MiB':>8} |" + f" {'s':>6} {'cpu':>6} {'peak':>8} |" * len(MODES)
    print(names)
    print(units + f" {'read/bare':>9} {'diag/bare':>9} {'cpu read':>9} {'cpu diag':>9}")
    for size in sizes:
        row = results[size]
        line = f"{_uncompressed_mib(zips[size]):8.0f} {zips[size].stat().st_size / MIB:8.1f} |"
        for mode in MODES:
            line += f" {_cell(row[mode])} |"
        for field in ("seconds", "cpu"):
            for mode in ("read", "diagnose"):
                ratio = _ratio(row[mode], row["bare"], field)
                line += f" {'n/a':>9}" if ratio is None else f" {ratio:9.2f}"
        print(line)

    print()
    for size in sizes:
        row = results[size]
        for mode in MODES:
            if row[mode].error:
                print(f"{size} MiB {mode}: not measured: {row[mode].error}")
            else:
                print(f"{size} MiB {mode}: {row[mode].detail}")

    print()
    print("targets:")
    for size in sizes:
        row = results[size]
        print(
            f"  {size} MiB reading   <= {READ_TARGET}x bare: "
            f"{_verdict(_ratio(row['read'], row['bare']), READ_TARGET)}"
        )
        print(
            f"  {size} MiB diagnosis <= {DIAGNOSE_TARGET}x bare: "
            f"{_verdict(_ratio(row['diagnose'], row['bare']), DIAGNOSE_TARGET)}"
        )
        # The same targets in processor time: what the work costs the machine, however
        # many processes shared it (the bare pass runs in one).
        print(
            f"  {size} MiB reading   <= {READ_TARGET}x bare, in cpu time: "
            f"{_verdict(_ratio(row['read'], row['bare'], 'cpu'), READ_TARGET)}"
        )
        print(
            f"  {size} MiB diagnosis <= {DIAGNOSE_TARGET}x bare, in cpu time: "
            f"{_verdict(_ratio(row['diagnose'], row['bare'], 'cpu'), DIAGNOSE_TARGET)}"
        )
    if len(sizes) >= 2:
        small, large = sizes[0], sizes[-1]
        for mode in MODES:
            low, high = results[small][mode].peak_mib, results[large][mode].peak_mib
            growth = None if low is None or high is None else high / low
            detail = "" if growth is None else f", {low:.1f} -> {high:.1f} MiB"
            print(
                f"  memory flat, {mode} ({small} -> {large} MiB of logs): "
                f"{_verdict(growth, FLAT_TARGET)}{detail}"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=[100, 300],
        help="uncompressed sizes in MiB (100 300)",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes (20 40) for a fast check")
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per measurement; best time kept"
    )
    parser.add_argument("--seed", type=int, default=1, help="seed for the generated logs")
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "sccm-triage-bench",
        help="where generated zips are kept between runs",
    )
    parser.add_argument("--child", nargs=2, metavar=("MODE", "ZIP"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child[0], Path(args.child[1]))

    sizes = [20, 40] if args.quick else sorted(set(args.sizes))
    zips = {size: ensure_zip(args.cache_dir, size, args.seed) for size in sizes}
    results: dict[int, dict[str, Measurement]] = {}
    for size in sizes:
        _warm_page_cache(zips[size])
        results[size] = {}
        for mode in MODES:
            print(f"{size} MiB: {mode} ...", flush=True)
            results[size][mode] = measure(mode, zips[size], args.repeat)
    report(results, zips)
    return 0


if __name__ == "__main__":
    sys.exit(main())
