"""The engine's rules on findings, independent of any signature file."""

from __future__ import annotations

from datetime import datetime

import pytest

from knowledge.diagnosis.fold import MIN_FAILURE_STRENGTH, Finding, _shape
from knowledge.diagnosis.verdict import build_stage_views
from knowledge.models import ERROR, INFO, Entry


def _finding(key, stage, outcome, hour, *, strength=0.9, updates=(), cause=None) -> Finding:
    when = datetime(2024, 3, 5, hour)
    entry = Entry("Logs/X.log", hour, when, "X", ERROR if outcome == "failed" else INFO, "1", key)
    order = (when, hour)
    finding = Finding(key, stage, outcome, cause, strength, key, "X", entry, entry, order, order)
    finding.count = 1
    finding.updates = set(updates)
    return finding


def test_a_failure_followed_by_a_success_is_resolved():
    views = build_stage_views(
        [_finding("scan-failed", "scan", "failed", 8), _finding("scan-ok", "scan", "ok", 10)]
    )
    assert not views["scan"].failed
    ((failure, fixer),) = views["scan"].resolved
    assert (failure.key, fixer.key) == ("scan-failed", "scan-ok")


def test_a_success_before_the_failure_does_not_resolve_it():
    views = build_stage_views(
        [_finding("scan-ok", "scan", "ok", 8), _finding("scan-failed", "scan", "failed", 10)]
    )
    assert views["scan"].failed


def test_another_update_succeeding_does_not_resolve_a_failed_update():
    failed = _finding("install-failed", "install", "failed", 9, updates={"kb1"})
    other = _finding("install-ok", "install", "ok", 10, updates={"kb2"})
    assert build_stage_views([failed, other])["install"].failed
    same = _finding("install-ok", "install", "ok", 10, updates={"kb1"})
    assert not build_stage_views([failed, same])["install"].failed


def test_a_weak_failure_is_a_hint_not_a_verdict():
    weak = _finding("policy-not-yet", "policy", "failed", 8, strength=MIN_FAILURE_STRENGTH - 0.1)
    views = build_stage_views([weak])
    assert not views["policy"].failed
    assert views["policy"].weak == [weak]


@pytest.mark.parametrize(
    ("message", "shape"),
    [
        ("Job {6C9B2F1E-0A38-4C6B-9A51-2F6E3D1A7B20} failed", "Job # failed"),
        ("Job {6c9b2f1e-0a38-4c6b-9a51-2f6e3d1a7b20 failed", "Job # failed"),
        ("Update 6c9b2f1e-0a38-4c6b-9a51-2f6e3d1a7b20} failed", "Update # failed"),
        ("Result = 0X8007ABCD after 12 tries, 0xfffe", "Result = # after # tries, #"),
        ("{not a guid} 0x 0xg", "{not a guid} #x #xg"),
    ],
)
def test_a_message_shape_blanks_ids_and_numbers_in_either_case(message, shape):
    # Lines of one shape are one finding: ids and numbers in upper or lower case, with or
    # without braces, all become "#".
    assert _shape(message) == shape
