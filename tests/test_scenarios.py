"""Diagnoses whose checks go beyond what a scenario file can say.

The verdict, stage and cause of each upload, the ledger rows, quoted texts and missing logs
are scenario data: knowledge/data/scenarios/*.yaml, run by tests/test_scenario_files.py. The
tests here stay in Python because they check what those files do not express: an evidence
line's file, line number and UTC time, how often a finding repeated, per-update progress, and
logs an answer must not ask for together with how to collect the ones it does.
"""

from __future__ import annotations

from pathlib import Path

from knowledge.api import diagnose_path
from knowledge.models import Diagnosis
from tests.logbuilder import zip_bytes
from tests.scenarios import UPDATE_A, healthy_until


def _diagnose(files: dict[str, str], tmp_path: Path) -> Diagnosis:
    upload = tmp_path / "ccm-logs.zip"
    upload.write_bytes(zip_bytes(files))
    return diagnose_path(upload)


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
