"""Every scenario in knowledge/data/scenarios, diagnosed end to end (one test id each).

Each scenario is written out in its logs' real formats (tests/scenarios.py), zipped the way an
admin sends C:\\Windows\\CCM\\Logs and diagnosed through the public entry point,
`knowledge.api.diagnose_path`. A failure must also show its stage failed in the ledger, quote
the line that shows it and give a next step. The files' own rules (names, causes, stages)
are checked when they load (`knowledge.scenarios`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.api import diagnose_path
from knowledge.kb import KnowledgeError, kb
from knowledge.models import STAGE_IDS, Diagnosis
from knowledge.scenarios import SCENARIO_DIR, Scenario, load_scenarios
from tests.logbuilder import zip_bytes
from tests.scenarios import render

SCENARIO_FILES = load_scenarios()
SCENARIOS = [
    pytest.param(scenario, id=f"{stem}: {scenario.name}")
    for stem, parsed in SCENARIO_FILES.items()
    for scenario in parsed.scenarios
]

# Causes the logs can produce that no scenario can show, with the reason.
NO_SCENARIO: dict[str, str] = {
    "scan.wsus_overloaded": (
        "its codes (error_codes.yaml: 0x8024401C, 0x80244022, 0x80244010) are also matched by "
        "scan.wsus-unreachable and scan.wsus-server-error, whose own causes win on every scan "
        "line that carries them; only a described symptom reaches it"
    ),
}


def _upload(scenario: Scenario, tmp_path: Path) -> Path:
    upload = tmp_path / "ccm-logs.zip"
    upload.write_bytes(zip_bytes(render(scenario)))
    return upload


def _diagnose(scenario: Scenario, tmp_path: Path) -> Diagnosis:
    return diagnose_path(_upload(scenario, tmp_path))


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario(scenario: Scenario, tmp_path):
    diagnosis = _diagnose(scenario, tmp_path)
    expect = scenario.expect
    got = (diagnosis.verdict, diagnosis.stage, diagnosis.cause)
    assert got == (expect.verdict, expect.stage, expect.cause), diagnosis.summary
    ledger = {row.stage: row.status for row in diagnosis.ledger}
    assert list(ledger) == list(STAGE_IDS)
    for stage, status in expect.ledger.items():
        assert ledger[stage] == status, f"ledger row {stage}"
    quoted = [evidence.text for evidence in diagnosis.evidence]
    for text in expect.evidence:
        assert any(text in line for line in quoted), f"no evidence quotes {text!r}"
    for log in expect.missing_logs:
        assert log in diagnosis.missing_logs
    if expect.verdict == "failure":
        assert ledger[expect.stage] == "failed"
        failing = [e for e in diagnosis.evidence if e.outcome == "failed"]
        assert failing, "a failure verdict must quote the line that shows it"
        assert failing[0].stage == expect.stage
        assert diagnosis.next_steps, "a failure must come with the next documented step"


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario_gives_the_same_answer_with_the_fast_path_off(scenario: Scenario, tmp_path):
    upload = _upload(scenario, tmp_path)
    fast = diagnose_path(upload, fast=True).model_dump_json()
    assert diagnose_path(upload, fast=False).model_dump_json() == fast


def test_every_cause_the_logs_can_produce_has_a_scenario_file():
    """A cause comes from a signature, or from a known code on a line that says it failed."""
    produced = {signature.cause for signature in kb().signatures if signature.cause}
    produced |= {code.cause for code in kb().codes.values() if code.cause and not code.routine}
    with_scenarios = {stem for stem in SCENARIO_FILES if stem in kb().causes}
    missing = produced - with_scenarios - set(NO_SCENARIO)
    assert not missing, f"add knowledge/data/scenarios/<cause>.yaml for: {sorted(missing)}"
    assert not set(NO_SCENARIO) & with_scenarios, "an exception that has a scenario file"


def test_the_uploads_that_must_not_fail_have_their_files():
    assert SCENARIO_FILES["healthy"].scenarios
    assert SCENARIO_FILES["inconclusive"].scenarios


def test_the_pipeline_lines_alone_are_a_healthy_client(tmp_path):
    (whole,) = [s for s in SCENARIO_FILES["healthy"].scenarios if not s.logs]
    assert whole.healthy_until == STAGE_IDS[-1]
    diagnosis = _diagnose(whole, tmp_path)
    assert diagnosis.verdict == "healthy"
    assert {row.status for row in diagnosis.ledger} == {"ok"}


def test_the_readme_example_is_a_valid_scenario_file(tmp_path):
    readme = (SCENARIO_DIR.parent / "README.md").read_text("utf-8")
    section = readme[readme.index("## scenarios/") :]
    example = section[section.index("```yaml") + len("```yaml") : section.index("```\n")]
    _write(tmp_path, "pipeline.yaml", (SCENARIO_DIR / "pipeline.yaml").read_text("utf-8"))
    _write(tmp_path, "scan.gpo_conflict.yaml", example)
    (scenario,) = load_scenarios(tmp_path)["scan.gpo_conflict"].scenarios
    assert scenario.expect.cause == "scan.gpo_conflict"
    diagnosis = _diagnose(scenario, tmp_path)
    assert (diagnosis.verdict, diagnosis.cause) == ("failure", "scan.gpo_conflict")


# --- the loader refuses what the format does not allow ---------------------------------


def _write(directory: Path, name: str, text: str) -> None:
    (directory / name).write_text(text, encoding="utf-8")


@pytest.fixture
def scenario_dir(tmp_path) -> Path:
    _write(tmp_path, "pipeline.yaml", (SCENARIO_DIR / "pipeline.yaml").read_text("utf-8"))
    return tmp_path


FAILURE = """\
scenarios:
  - name: gpo
    logs:
      WUAHandler.log:
        - {at: 1, type: error, text: 'Scan failed with error = 0x87d00692.'}
    expect: {verdict: failure, stage: scan, cause: scan.gpo_conflict}
"""


def test_a_well_formed_file_loads(scenario_dir):
    _write(scenario_dir, "scan.gpo_conflict.yaml", FAILURE)
    (scenario,) = load_scenarios(scenario_dir)["scan.gpo_conflict"].scenarios
    assert scenario.logs["WUAHandler.log"][0].type == "error"


@pytest.mark.parametrize(
    ("name", "text", "says"),
    [
        ("scan.no_such_cause.yaml", FAILURE, "name the file after a cause"),
        ("scan.proxy.yaml", FAILURE, "must expect failure with cause scan.proxy"),
        ("healthy.yaml", FAILURE, "must expect healthy"),
        ("scan.gpo_conflict.yaml", FAILURE.replace("stage: scan", "stage: cache"), "cache"),
        ("scan.gpo_conflict.yaml", FAILURE.replace("stage: scan, ", ""), "names the stage"),
        ("scan.gpo_conflict.yaml", FAILURE.replace("WUAHandler", "Nonesuch"), "logs.yaml"),
        ("scan.gpo_conflict.yaml", FAILURE.replace("type: error", "type: fatal"), "type"),
        ("scan.gpo_conflict.yaml", FAILURE.replace("at: 1", "minute: 1"), "minute"),
        ("scan.gpo_conflict.yaml", FAILURE + FAILURE[len("scenarios:\n") :], "twice"),
        (
            "scan.gpo_conflict.yaml",
            FAILURE.replace("WUAHandler.log", "WindowsUpdate.log"),
            "component",
        ),
    ],
)
def test_a_malformed_file_is_refused_by_name(scenario_dir, name, text, says):
    _write(scenario_dir, name, text)
    with pytest.raises(KnowledgeError) as refused:
        load_scenarios(scenario_dir)
    assert name in str(refused.value)
    assert says in str(refused.value)
