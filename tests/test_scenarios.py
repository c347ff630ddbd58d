"""End-to-end diagnosis of uploads built from lines we write (tests/scenarios.py).

Each scenario is zipped the way an admin sends C:\\Windows\\CCM\\Logs and diagnosed through
the public entry point, `knowledge.api.diagnose_path`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.api import diagnose_path
from knowledge.models import STAGE_IDS, Diagnosis
from tests.logbuilder import zip_bytes
from tests.scenarios import (
    ASSIGNMENT,
    SCENARIOS,
    SITE,
    UPDATE_A,
    Logs,
    Scenario,
    _dts_error,
    healthy_until,
    scan_ok,
)


def _diagnose(files: dict[str, str], tmp_path: Path) -> Diagnosis:
    upload = tmp_path / "ccm-logs.zip"
    upload.write_bytes(zip_bytes(files))
    return diagnose_path(upload)


def _ledger(diagnosis: Diagnosis) -> dict[str, str]:
    return {row.stage: row.status for row in diagnosis.ledger}


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_scenario_verdict_stage_and_cause(scenario: Scenario, tmp_path):
    diagnosis = _diagnose(scenario.files(), tmp_path)
    got = (diagnosis.verdict, diagnosis.stage, diagnosis.cause)
    assert got == (scenario.verdict, scenario.stage, scenario.cause), diagnosis.summary


@pytest.mark.parametrize(
    "scenario", [s for s in SCENARIOS if s.verdict == "failure"], ids=lambda s: s.name
)
def test_failure_ledger_and_evidence(scenario: Scenario, tmp_path):
    diagnosis = _diagnose(scenario.files(), tmp_path)
    ledger = _ledger(diagnosis)
    assert list(ledger) == list(STAGE_IDS)
    assert ledger[scenario.stage] == "failed"
    failing = [e for e in diagnosis.evidence if e.outcome == "failed"]
    assert failing, "a failure verdict must quote the line that shows it"
    assert failing[0].stage == scenario.stage
    assert diagnosis.next_steps, "a failure must come with the next documented step"


def test_failure_evidence_points_at_file_line_and_utc_time(tmp_path):
    logs = healthy_until(2)
    logs.add("WUAHandler.log", 5, "Scan failed with error = 0x80072ee2.", 3)
    diagnosis = _diagnose(logs.files(), tmp_path)
    (evidence,) = [e for e in diagnosis.evidence if e.outcome == "failed"]
    assert evidence.file.endswith("WUAHandler.log")
    assert evidence.line == 1
    # 08:05 local written with CMTrace bias +240 (UTC-4) is 12:05 UTC.
    assert evidence.time == "2024-03-12T12:05:00.000Z"
    assert "0x80072ee2" in evidence.text


def test_the_same_error_forty_times_is_one_finding(tmp_path):
    logs = healthy_until(2)
    for attempt in range(40):
        logs.add("WUAHandler.log", 5 + attempt * 30, "Scan failed with error = 0x80244022.", 3)
    diagnosis = _diagnose(logs.files(), tmp_path)
    assert (diagnosis.verdict, diagnosis.stage, diagnosis.cause) == (
        "failure",
        "scan",
        "scan.wsus_server_error",
    )
    repeated = [e for e in diagnosis.evidence if e.signature == "scan.wsus-server-error"]
    assert len(repeated) == 1
    (finding,) = repeated
    assert finding.count == 40
    assert finding.first_time == "2024-03-12T12:05:00.000Z"
    # The 40th attempt: 39 * 30 minutes after 08:05 local = 03-13 03:35 local = 07:35 UTC.
    assert finding.last_time == "2024-03-13T07:35:00.000Z"


def test_a_later_success_is_what_resolves_a_failure(tmp_path):
    """The trap's twin: success at 08:00 and failure at 10:00 is still a scan failure."""
    logs = healthy_until(2)
    scan_ok(logs, minute=5)
    logs.add("WUAHandler.log", 120, "Scan failed with error = 0x80072ee2.", 3)
    diagnosis = _diagnose(logs.files(), tmp_path)
    assert (diagnosis.verdict, diagnosis.stage) == ("failure", "scan")


def test_scan_failure_resolved_by_later_scan_shows_scan_ok(tmp_path):
    (scenario,) = [s for s in SCENARIOS if s.name.startswith("scan fails at 08:00")]
    diagnosis = _diagnose(scenario.files(), tmp_path)
    assert _ledger(diagnosis)["scan"] == "ok"


def test_unrelated_logs_ask_for_the_update_logs(tmp_path):
    (scenario,) = [s for s in SCENARIOS if s.verdict == "inconclusive"]
    diagnosis = _diagnose(scenario.files(), tmp_path)
    assert diagnosis.verdict == "inconclusive"
    assert "WUAHandler.log" in diagnosis.missing_logs
    assert "UpdatesDeployment.log" in diagnosis.missing_logs


def test_ccm_only_upload_with_a_wua_code_asks_for_windowsupdate_log(tmp_path):
    logs = healthy_until(2)
    logs.add(
        "WUAHandler.log", 5, "OnSearchComplete - Failed to end search job. Error = 0x80244022.", 3
    )
    logs.add("WUAHandler.log", 5.1, "Scan failed with error = 0x80244022.", 3)
    diagnosis = _diagnose(logs.files(), tmp_path)
    assert diagnosis.stage == "scan"
    assert "WindowsUpdate.log" in diagnosis.missing_logs
    assert "CBS.log" not in diagnosis.missing_logs
    assert any("WindowsUpdate.log" in how for how in diagnosis.how_to_collect)


def test_ccm_only_upload_with_a_cbs_code_asks_for_cbs_log(tmp_path):
    logs = healthy_until(7)
    logs.add(
        "WUAHandler.log",
        25,
        f"Update 1 ({UPDATE_A}) finished installing (0x800f0831), Reboot Required? No",
        3,
    )
    diagnosis = _diagnose(logs.files(), tmp_path)
    assert (diagnosis.stage, diagnosis.cause) == ("install", "install.component_store")
    assert "CBS.log" in diagnosis.missing_logs
    assert "WindowsUpdate.log" in diagnosis.missing_logs


def test_install_failure_is_reported_per_update(tmp_path):
    logs = healthy_until(7)
    logs.add(
        "WUAHandler.log",
        25,
        f"Update 1 ({UPDATE_A}) finished installing (0x80070643), Reboot Required? No",
        3,
    )
    diagnosis = _diagnose(logs.files(), tmp_path)
    progress = {p.update: p for p in diagnosis.updates}
    assert progress[UPDATE_A].status == "failed"
    assert progress[UPDATE_A].stopped_at == "install"


def test_another_updates_success_does_not_hide_a_failed_install(tmp_path):
    logs = healthy_until(7)
    other = "7c8d9e0f-3a4b-4c5d-8e6f-7a8b9c0d1e2f"
    logs.add(
        "WUAHandler.log",
        25,
        f"Update 1 ({UPDATE_A}) finished installing (0x80070643), Reboot Required? No",
        3,
    )
    logs.add(
        "WUAHandler.log",
        26,
        f"Update 2 ({other}) finished installing (0x00000000), Reboot Required? Yes",
    )
    diagnosis = _diagnose(logs.files(), tmp_path)
    assert (diagnosis.stage, diagnosis.cause) == ("install", "install.msi_1603")


def test_policy_arriving_late_is_healthy(tmp_path):
    """A client that starts without policy and enables the feature a minute later is fine."""
    logs = Logs()
    logs.add(
        "UpdatesDeployment.log",
        0,
        "Software Updates client configuration policy has not been received.",
    )
    logs.add("UpdatesDeployment.log", 0.01, "Software Updates feature is disabled")
    logs.add(
        "UpdatesDeployment.log",
        0.02,
        "No current service window available to run updates assignment with time required = 1",
    )
    logs.add("UpdatesDeployment.log", 0.6, "Enabling software Updates feature")
    logs.add(
        "UpdatesDeployment.log",
        1.5,
        f"Raised assignment (TopicID) ({ASSIGNMENT}) state message successfully. TopicType = "
        "Evaluate, StateId = 2, StateName = ASSIGNMENT_EVALUATE_SUCCESS, StateCriticality = 0",
    )
    logs.add(
        "UpdatesDeployment.log",
        1.4,
        f"Update ({SITE}/SUM_{UPDATE_A}) added to the targeted list of deployment ({ASSIGNMENT})",
    )
    diagnosis = _diagnose(logs.files(), tmp_path)
    assert diagnosis.verdict == "healthy"
    assert _ledger(diagnosis)["policy"] == "ok"


def test_a_policy_download_after_a_content_404_does_not_mend_it(tmp_path):
    """DataTransferService.log also carries the hourly policy downloads: their success lines
    show transfers work, not that the update content arrived."""
    logs = healthy_until(5)
    logs.add("DataTransferService.log", 12, _dts_error("0x80190194", 1), 2)
    logs.add(
        "DataTransferService.log",
        40,
        "DTSJob {6E7F8A9B-0C1D-4E2F-8A3B-4C5D6E7F8A9B} successfully completed download.",
    )
    diagnosis = _diagnose(logs.files(), tmp_path)
    assert (diagnosis.stage, diagnosis.cause) == ("download", "download.http_404")
