"""The real-world evaluation (realworld/): its manifest is sound, its kept files are byte-exact,
and the in-repo cases do not get worse than the accuracy measured when the floor was last set.

The floor is today's measured accuracy, not a target: raise it when the core improves, so a
regression cannot pass silently.
"""

import importlib.util
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]

# Right answers among the in-repo cases, as measured on main when this floor was last set.
IN_REPO_RIGHT_FLOOR = 72


def _bench():
    spec = importlib.util.spec_from_file_location(
        "bench_realworld", REPO_ROOT / "benchmarks" / "bench_realworld.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_realworld", module)
    spec.loader.exec_module(module)
    return module


bench = _bench()
CASES = bench.load_manifest()
IN_REPO = [c for c in CASES if c.in_repo]


def test_manifest_has_in_repo_and_outside_cases():
    assert IN_REPO, "no case is kept in the repository"
    for case in CASES:
        assert case.source.strip() and case.licence.strip() and case.says.strip(), case.id


@pytest.mark.parametrize("case", IN_REPO, ids=lambda c: c.id)
def test_in_repo_file_is_byte_exact(case):
    assert bench.check_files(case, bench.IN_REPO_LOGS / case.id) == []


def test_no_stray_folders_in_logs():
    kept = {p.name for p in bench.IN_REPO_LOGS.iterdir() if p.is_dir()}
    assert kept == {c.id for c in IN_REPO}


def test_truth_rules():
    truth = bench.Truth(verdict="failure", stages=["scan", "client"])
    assert truth.accepts("failure", "client")
    assert not truth.accepts("failure", "install")
    assert not truth.accepts("inconclusive", None)
    quiet = bench.Truth(verdict="not-failure")
    assert quiet.accepts("healthy", None) and quiet.accepts("inconclusive", None)
    assert not quiet.accepts("failure", "scan")
    with pytest.raises(ValueError):
        bench.Truth(verdict="failure", stages=["download-ish"])


def test_in_repo_accuracy_does_not_drop():
    outcomes, skipped = bench.run(IN_REPO, extra=None)
    assert skipped == []
    right, total = bench.accuracy(outcomes)
    misses = [f"{o.id}: {o.verdict}/{o.stage}" for o in outcomes if not o.right]
    assert right >= IN_REPO_RIGHT_FLOOR, f"{right}/{total} right; misses: {misses}"
