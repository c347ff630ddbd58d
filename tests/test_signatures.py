"""Every signature proves itself on its own examples.

The files are read with the knowledge-base models directly, so these tests run even while
other data files are missing; once the whole knowledge base loads, the same signatures are
also checked through `load_kb()` (causes and logs must exist there).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from knowledge.kb import DATA_DIR, KnowledgeError, Signature, _parse_list, _read_yaml, load_kb
from knowledge.models import STAGE_IDS

SIGNATURE_DIR = DATA_DIR / "signatures"
# The ten files this suite owns, one per stage.
STAGE_FILES = {stage: SIGNATURE_DIR / f"{stage}.yaml" for stage in STAGE_IDS}
# The other files load_kb() needs; without them only the per-file checks can run.
OTHER_DATA_FILES = (
    "stages.yaml",
    "procedures.yaml",
    "logs.yaml",
    "error_codes.yaml",
    "causes.yaml",
    "symptoms.yaml",
    "cache.yaml",
)


def _load(path: Path) -> list[Signature]:
    return _parse_list(Signature, _read_yaml(path), f"signatures/{path.name}")


def _all_signatures() -> list[Signature]:
    return [sig for path in sorted(SIGNATURE_DIR.glob("*.yaml")) for sig in _load(path)]


SIGNATURES = _all_signatures()
MATCH_CASES = [
    pytest.param(sig, text, id=f"{sig.id}-{n}")
    for sig in SIGNATURES
    for n, text in enumerate(sig.examples.match, 1)
]
NO_MATCH_CASES = [
    pytest.param(sig, text, id=f"{sig.id}-{n}")
    for sig in SIGNATURES
    for n, text in enumerate(sig.examples.no_match, 1)
]


def _search(sig: Signature, text: str) -> re.Match[str] | None:
    return re.compile(sig.pattern, re.IGNORECASE).search(text)


@pytest.mark.parametrize("stage", STAGE_IDS)
def test_each_stage_file_exists_and_holds_only_its_stage(stage):
    path = STAGE_FILES[stage]
    assert path.is_file(), f"missing {path.name}"
    signatures = _load(path)
    assert signatures, f"{path.name} is empty"
    assert {sig.stage for sig in signatures} == {stage}


@pytest.mark.parametrize("sig, text", MATCH_CASES)
def test_signature_matches_its_examples(sig, text):
    assert _search(sig, text), f"{sig.id} should match: {text!r}"


@pytest.mark.parametrize("sig, text", NO_MATCH_CASES)
def test_signature_ignores_its_near_misses(sig, text):
    assert _search(sig, text) is None, f"{sig.id} should not match: {text!r}"


def test_signature_ids_are_unique():
    ids = [sig.id for sig in SIGNATURES]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


@pytest.mark.parametrize("sig", SIGNATURES, ids=lambda sig: sig.id)
def test_failures_name_a_cause_of_their_own_stage(sig):
    if sig.outcome == "failed":
        assert sig.cause, f"{sig.id} is a failure without a cause"
    if sig.cause:
        assert sig.cause.startswith(sig.stage + "."), f"{sig.id}: {sig.cause} is another stage's"


@pytest.mark.parametrize("sig", SIGNATURES, ids=lambda sig: sig.id)
def test_signature_is_documented(sig):
    assert sig.title and sig.source.strip()
    assert sig.logs, f"{sig.id} applies to no log"


@pytest.mark.parametrize("sig", SIGNATURES, ids=lambda sig: sig.id)
def test_update_group_only_captures_ids(sig):
    regex = re.compile(sig.pattern, re.IGNORECASE)
    if "update" not in regex.groupindex:
        return
    captured = [m.group("update") for m in map(regex.search, sig.examples.match) if m]
    for value in captured:
        if value is not None:
            assert re.fullmatch(r"[0-9a-f-]{36}|KB\d+", value, re.IGNORECASE), (sig.id, value)
    assert any(captured), f"{sig.id} has an update group but no example fills it"


@pytest.mark.parametrize("stage", STAGE_IDS)
def test_every_stage_shows_success_and_failure(stage):
    outcomes = {sig.outcome for sig in SIGNATURES if sig.stage == stage}
    assert {"ok", "failed"} <= outcomes, f"{stage} has only {sorted(outcomes)}"


@pytest.mark.parametrize(
    "text",
    [
        # Routine error-type lines of healthy clients.
        "GetUpdateInfo - failed to get targeted update, error = 0x87d00215.",
        "Failed to refresh Resync state message. Error = 0x87d00310.",
        "No CCM Identification blob",
        # Windows 10 WindowsUpdate.log noise.
        "*FAILED* [80041010] Method failed [COperatorTreeNode::Evaluate:390]",
        "*FAILED* [8024000C] LoadHistoryEventFromRegistry completed",
        "*FAILED* [80246007] ISusInternal:: IsCommitRequired",
        "* END * Service exit Exit code = 0x240001",
        # CBS Info lines that say Failed.
        "Failed to get next element [HRESULT = 0x800f080d - CBS_E_MANIFEST_INVALID_ITEM]",
        "Failed to internally open package. [HRESULT = 0x800f0805 - CBS_E_INVALID_PACKAGE]",
        "SQM: Failed to start standard sample upload. [HRESULT = 0x80004005 - E_FAIL]",
        "SQM: Warning: Failed to upload all unsent reports. [HRESULT = 0x80004005 - E_FAIL]",
        # WUA self-update on a WSUS client is skipped on purpose.
        "Wuident for the managed service is valid but not quorum-signed. Skipping selfupdate.",
        "WARNING: Cab does not contain correct inner CAB file.",
    ],
)
def test_known_noise_is_no_failure(text):
    hits = [sig.id for sig in SIGNATURES if sig.outcome == "failed" and _search(sig, text)]
    assert hits == [], f"noise line taken as a failure by {hits}"


def test_whole_knowledge_base_accepts_the_signatures():
    missing = [name for name in OTHER_DATA_FILES if not (DATA_DIR / name).is_file()]
    if missing:
        pytest.skip(f"knowledge base not complete yet: {', '.join(missing)} missing")
    try:
        knowledge = load_kb()
    except KnowledgeError as exc:
        pytest.fail(f"load_kb() rejects the data: {exc}")
    loaded = {sig.id for sig in knowledge.signatures}
    assert {sig.id for sig in SIGNATURES} <= loaded
    for sig in SIGNATURES:
        if sig.cause:
            assert knowledge.causes[sig.cause].stage == sig.stage
        for log in sig.logs:
            assert log == "*" or knowledge.log_by_name(log) is not None, (sig.id, log)


def test_no_byte_scan_prefilter_takes_a_routine_line_of_ids():
    # A byte scan finds each failure signature by its pattern in Hyperscan's prefilter
    # mode, which drops lookbehinds: a pattern that only looks behind for its words
    # (`8[0-9a-f]{7}\b(?<=error = 0x...)`) then takes every GUID starting with 8, and
    # hands thousands of routine records to Python (benchmarks/README.md).
    from knowledge.fastpath import TextScanner, filter_pattern

    filters = [sig.pattern for sig in SIGNATURES if filter_pattern(sig.pattern)]
    scanner = TextScanner([], (), filters)
    if not scanner.exact:
        pytest.skip("no Hyperscan here: the byte scan looks for texts only")
    line = (
        b"Update (Site_8E1D3C2A-1B2C-4D5E-8F90-A1B2C3D4E5F6/SUM_8f2e9c1d-3b4a-4c5d-9e8f-"
        b"0a1b2c3d4e5f, 200) added to the targeted list of deployment "
        b"({8C0F1E2D-3A4B-4C5D-8E9F-0A1B2C3D4E5F})\n"
    )
    assert [filters[index] for _end, index in scanner.scan(line, len(line))] == []
