"""The `sccm` command line as CONTRACT.md section 2 promises it, run as a real process."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime

import pytest

from knowledge.codes import normalize_code
from knowledge.models import STAGE_IDS
from tests.conftest import REPO_ROOT
from tests.logbuilder import cmtrace_log, timeline, zip_bytes

EXAMPLE = REPO_ROOT / "examples" / "ccm-logs-example.zip"
CONTRACT_FIELDS = {
    "verdict",
    "stage",
    "stage_title",
    "cause",
    "confidence",
    "summary",
    "next_steps",
    "evidence",
    "error_codes",
    "ledger",
    "alternatives",
    "missing_logs",
    "files",
}


def sccm(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd or REPO_ROOT,
        timeout=120,
    )


def assert_one_error_line(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr


def test_help_documents_every_command():
    result = sccm("--help")
    assert result.returncode == 0
    for word in (
        "diagnose",
        "--symptom",
        "error",
        "logs",
        "serve",
        "stages",
        "steps",
        "exit status",
    ):
        assert word in result.stdout


def test_diagnose_json_has_every_contract_field(tmp_path):
    lines = timeline(
        datetime(2024, 3, 5, 8),
        (0, "WUAHandler", "Successfully completed scan."),
    )
    path = tmp_path / "logs.zip"
    path.write_bytes(zip_bytes({"Logs/WUAHandler.log": cmtrace_log(lines)}))
    result = sccm("diagnose", str(path), "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload.keys() >= CONTRACT_FIELDS
    assert tuple(row["stage"] for row in payload["ledger"]) == STAGE_IDS
    assert payload["files"]["read"] == 1


@pytest.mark.parametrize(
    "args",
    [
        ("diagnose", "does-not-exist.zip"),
        ("diagnose",),
        ("logs", "does-not-exist.zip"),
        ("error", "not-a-code"),
        ("frobnicate",),
        ("steps", "nonsense"),
        ("diagnose", "--symptom", ""),
    ],
)
def test_bad_input_is_one_error_line_and_exit_2(args):
    assert_one_error_line(sccm(*args))


def test_not_a_zip_is_reported_not_raised(tmp_path):
    page = tmp_path / "logs.zip"
    page.write_text("<!DOCTYPE html><html><body>Sign in to Slack</body></html>")
    assert_one_error_line(sccm("diagnose", str(page)))


def test_logs_json_lists_files_and_skipped(tmp_path):
    lines = timeline(datetime(2024, 3, 5, 8), (0, "CAS", "Download completed for content X.1"))
    path = tmp_path / "logs.zip"
    path.write_bytes(zip_bytes({"Logs/CAS.log": cmtrace_log(lines), "Logs/shot.png": b"\x89PNG"}))
    result = sccm("logs", str(path), "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    (cas,) = payload["files"]
    assert cas["format"] == "cmtrace" and cas["entries"] == 1 and cas["path"] == "Logs/CAS.log"
    assert cas["first"] == "2024-03-05T12:00:00.000Z"
    assert any("shot.png" in s["name"] for s in payload["skipped"])


def test_error_lookup_json():
    result = sccm("error", "-2145107952", "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["code"] == "0x80244010"
    assert payload["known"] is True
    assert payload["decimal"] == -2145107952


def test_knowledge_commands_answer():
    assert "scan" in sccm("stages").stdout
    steps = sccm("steps", "download")
    assert steps.returncode == 0 and "1." in steps.stdout
    log = sccm("log", "ContentTransferService.log")
    assert log.returncode == 0 and "ContentTransferManager.log" in log.stdout
    script = sccm("script", "clear-cache")
    assert script.returncode == 0 and "param" in script.stdout.lower()


def test_readme_example_diagnoses_a_download_failure():
    result = sccm("diagnose", str(EXAMPLE))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("FAILURE at Content download (download)")


def test_help_spellings_of_one_code_are_that_code():
    line = next(x for x in sccm("--help").stdout.splitlines() if "sccm error 0x" in x)
    typed, others = line.split("sccm error ", 1)[1].split("also", 1)
    spellings = [typed.strip(), *(s.strip() for s in others.split(","))]
    assert {normalize_code(s) for s in spellings} == {normalize_code(typed.strip())}
    assert len(spellings) == 4


def test_bare_sccm_is_a_usage_error():
    assert_one_error_line(sccm())


def test_log_lookup_does_not_guess_unrelated_logs():
    assert_one_error_line(sccm("log", "wsyncmgr.log"))
    typo = sccm("log", "UpdatesDeployement.log")
    assert typo.returncode == 0 and typo.stdout.startswith("UpdatesDeployment.log")
