"""Error codes as evidence (issue 12 items 1, 2 and 6), on lines we write ourselves.

* every spelling logs use for a code is read, and only in code context (`find_codes`);
* a line that says it failed near a known code decides a diagnosis when no signature
  names the cause: `<stage>.code` (or the code's own cause), the code's next step first,
  a confidence below any signature's (`error_line_codes`, `fold.FileFold`);
* routine codes, routine lines, CBS "Info" lines and whole Windows 10 WindowsUpdate.logs
  never do, and a later success of the step still clears the failure;
* a generic failure signature takes the specific cause its line's code names.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge import fastpath
from knowledge.api import diagnose_path
from knowledge.codes import error_line_codes, find_codes
from knowledge.diagnosis.fold import (
    CODE_ONLY_MAX_CONFIDENCE,
    EXCERPT_BYTES,
    EXCERPT_ENTRIES,
    _code_finding,
)
from knowledge.kb import kb
from knowledge.models import Diagnosis
from tests.logbuilder import zip_bytes
from tests.scenarios import (
    ERROR,
    UPDATE_A,
    Logs,
    healthy_until,
    scan_ok,
)

# --- spellings -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ("Scan failed with error = 0x80244007.", "0x80244007"),
        ("OnSearchComplete - Failed to end search job. Error = 0X8024401C.", "0x8024401C"),
        ("*FAILED* [80244007] SyncUpdates_WithRecovery failed", "0x80244007"),
        ("SendRequestUsingProxy failed, hr = 80072ee2", "0x80072EE2"),
        (
            "LogHistory called. idUpdate={E0F87EBF-B414-4AC7-A225-8FE802CF8618}.1, "
            "resultMapped=80070643, resultUnMapped=FFFE",
            "0x80070643",
        ),
        ("Installation failed with ErrorCode 0x80070643", "0x80070643"),
        ("The job failed with error code 0x80190194", "0x80190194"),
        ("Update could not be installed, HRESULT -2145107952", "0x80244010"),
        ('<Result ErrorCode="-2145844844" />', "0x80190194"),
        ("Install failed, error code 2149842967", "0x80240017"),
        # MSI's words for 1603, reported as the HRESULT Windows uses for it
        ("Action ended 17:56:36: InstallFinalize. Return value 3.", "0x80070643"),
        (
            "File C:\\Windows\\ccmsetup\\client.msi installation failed. "
            "Error text: ExitCode: 1603",
            "0x80070643",
        ),
        (
            "MSI (s) (A4:B0) [10:12:13:512]: Product: Configuration Manager Client -- "
            "Installation failed.",
            None,
        ),
        (
            "Windows Installer installed the product. Product Name: Configuration Manager Client. "
            "Installation success or error status: 1603.",
            "0x80070643",
        ),
        ("Script exited with exit code 1603", "0x80070643"),
        ("CcmSetup failed with error code 0x80070643", "0x80070643"),
        ("MSI: Installation failed with error 1612", "0x8007064C"),
    ],
)
def test_every_spelling_of_a_code_is_read(message, code):
    assert find_codes(message) == ([code] if code else [])


@pytest.mark.parametrize(
    "message",
    [
        "Update {5A6B7C8D-1E2F-4A3B-8C4D-5E6F7A8B9C0D} failed to install",  # a GUID
        "Security Update for Windows (KB5004298) failed",  # a KB number
        "Download failed after 1603 bytes",  # a size
        "Job failed at 12:16:03 on thread 1603",  # a time, a thread id
        "Failed for user S-1-5-21-3623811015-3361044348-30300820-1013",  # a SID
        "CTM job failed, size 2149842967 bytes",  # a size that looks like a code
        "failed, thread (0x1603)",  # a thread id in hex
        "Installation failed. Return value 1.",  # MSI's success result
        "Product installed. Installation success or error status: 0.",
        "Hash 80244007a1b2c3d4e5f6 failed verification",  # part of a hash
    ],
)
def test_numbers_that_are_not_codes_are_not_read(message):
    assert find_codes(message) == []
    assert error_line_codes(message) == []


@pytest.mark.parametrize(
    ("message", "codes"),
    [
        ("Scan failed with error = 0x80244022.", ["0x80244022"]),
        ("FATAL: [80244007] SyncUpdates failed", ["0x80244007"]),
        ("Error 0x800706d9 occurred while downloading update", ["0x800706D9"]),
        ("Action ended 17:56:36: InstallFinalize. Return value 3.", ["0x80070643"]),
        # a code with no failure word near it: a routine line
        ("Successfully completed scan. Last result 0x80244022", []),
        ("Call progress and error 0", []),
        ("No error, result 0x80244022 cleared", []),
        ("Install succeeded, exit code 0x80070643 remapped", []),
    ],
)
def test_error_lines_are_lines_that_say_they_failed(message, codes):
    assert error_line_codes(message) == codes


def test_a_failure_word_far_from_the_code_does_not_make_it_an_error_line():
    message = "Job failed to start; retrying later. " + "x" * 200 + " last result 0x80244022"
    assert error_line_codes(message) == []


# --- diagnoses read from codes ----------------------------------------------------------


def _diagnose(files: dict[str, str], tmp_path: Path) -> Diagnosis:
    upload = tmp_path / "upload.zip"
    upload.write_bytes(zip_bytes(files))
    return diagnose_path(upload)


def test_a_pasted_line_with_a_code_of_a_known_stage_is_a_failure_there(tmp_path):
    excerpt = (
        "Please help, updates never show up. This is what I see:\n"
        "OnSearchComplete - search failed, hr = 8024000E\n"
    )
    diagnosis = _diagnose({"excerpt.txt": excerpt}, tmp_path)
    assert (diagnosis.verdict, diagnosis.stage, diagnosis.cause) == (
        "failure",
        "scan",
        "scan.code",
    )
    assert [c.code for c in diagnosis.error_codes] == ["0x8024000E"]
    assert "search failed" in diagnosis.evidence[0].text
    assert diagnosis.evidence[0].signature == "code:0x8024000E"
    known = kb().codes["0x8024000E"]
    assert diagnosis.next_steps[0].text == f"For 0x8024000E: {known.next_step}"
    assert "WU_E_XML_INVALID" in diagnosis.summary
    assert 0 < diagnosis.confidence <= CODE_ONLY_MAX_CONFIDENCE


def test_a_code_that_names_its_cause_gives_that_cause(tmp_path):
    excerpt = "2024-03-12 08:00:00 WARNING: SendRequest failed with hr = 80072ee2\n"
    diagnosis = _diagnose({"notes.txt": excerpt}, tmp_path)
    assert (diagnosis.verdict, diagnosis.stage, diagnosis.cause) == (
        "failure",
        "scan",
        "scan.wsus_unreachable",
    )
    assert diagnosis.confidence <= CODE_ONLY_MAX_CONFIDENCE


def test_an_upload_that_points_nowhere_stays_inconclusive(tmp_path):
    excerpt = "Tried again this morning, result 0x80244022, still waiting.\nThanks\n"
    diagnosis = _diagnose({"notes.txt": excerpt}, tmp_path)
    assert diagnosis.verdict == "inconclusive"
    assert diagnosis.error_codes == []


def test_routine_codes_in_failure_lines_stay_ignored(tmp_path):
    excerpt = (
        "GetUpdateInfo - failed to get targeted update, error = 0x87d00215.\n"
        "Failed to refresh Resync state message. Error = 0x87d00310.\n"
    )
    diagnosis = _diagnose({"excerpt.txt": excerpt}, tmp_path)
    assert diagnosis.verdict == "inconclusive"


def test_a_code_in_an_info_record_that_says_it_failed_counts_in_cmtrace(tmp_path):
    logs = healthy_until(2)
    logs.add(
        "ScanAgent.log", 4, "CScanAgent::ScanComplete - failed to parse the catalog, hr=0x8024000E"
    )
    diagnosis = _diagnose(logs.files(), tmp_path)
    assert (diagnosis.verdict, diagnosis.stage, diagnosis.cause) == (
        "failure",
        "scan",
        "scan.code",
    )


def test_a_later_success_of_the_step_clears_a_code_failure(tmp_path):
    logs = healthy_until(2)
    logs.add(
        "ScanAgent.log", 4, "CScanAgent::ScanComplete - failed to parse the catalog, hr=0x8024000E"
    )
    scan_ok(logs, minute=120)
    diagnosis = _diagnose(logs.files(), tmp_path)
    assert diagnosis.verdict == "healthy"


def test_a_signature_beats_a_code_on_the_same_stage(tmp_path):
    logs = healthy_until(2)
    logs.add("WUAHandler.log", 4, "Sync failed with error 0x8024000E while preparing.")
    logs.add("WUAHandler.log", 4.5, "Scan failed with error = 0x80072ee2.", ERROR)
    diagnosis = _diagnose(logs.files(), tmp_path)
    assert diagnosis.cause == "scan.wsus_unreachable"
    assert not diagnosis.evidence[0].signature.startswith("code:")
    assert diagnosis.confidence > CODE_ONLY_MAX_CONFIDENCE


def test_ccmsetup_msi_1603_is_a_client_failure(tmp_path):
    files = {
        "ccmsetup.log": (
            "File C:\\Windows\\ccmsetup\\{CA4329EC-A4F5-4E5E-A9FE-EFAAE88B0D67}\\client.msi "
            "installation failed. Error text: ExitCode: 1603\n"
        ),
        "client.msi.log": "Action ended 17:56:36: InstallFinalize. Return value 3.\n",
    }
    diagnosis = _diagnose(files, tmp_path)
    assert (diagnosis.verdict, diagnosis.stage) == ("failure", "client")
    # The client.msi signature names the failing setup itself, more specific than the generic cause.
    assert diagnosis.cause == "client.msi_failed"
    assert [c.code for c in diagnosis.error_codes] == ["0x80070643"]


def test_cbs_info_failures_are_routine_and_error_lines_are_not(tmp_path):
    info = (
        "2024-03-12 08:00:00, Info                  CBS    Failed to internally open package. "
        "[HRESULT = 0x800f0805 - CBS_E_INVALID_PACKAGE]\n"
    )
    assert _diagnose({"CBS.log": info}, tmp_path).verdict != "failure"
    error = info + (
        "2024-03-12 08:00:01, Error                 CBS    Exec: Failed to commit CBS "
        "transaction. [HRESULT = 0x80071a91 - ERROR_RM_NOT_ACTIVE]\n"
    )
    diagnosis = _diagnose({"CBS.log": error}, tmp_path)
    assert (diagnosis.verdict, diagnosis.stage, diagnosis.cause) == (
        "failure",
        "install",
        "install.code",
    )


def _etw_lines(count: int) -> Logs:
    logs = Logs()
    for n in range(count):
        logs.wu_etw(n / 100, "Agent", f"Routine line number {n}")
    # A code line no signature names (the "occurred while downloading update" wording has one).
    logs.wu_etw(count / 100, "DownloadManager", "Download call returned error 0x800706d9")
    return logs


def test_a_windows10_windowsupdate_excerpt_counts_but_a_whole_log_does_not(tmp_path):
    excerpt = _diagnose(_etw_lines(20).files(), tmp_path)
    assert (excerpt.verdict, excerpt.stage) == ("failure", "download")
    whole = _diagnose(_etw_lines(EXCERPT_ENTRIES + 10).files(), tmp_path)
    assert whole.verdict != "failure"


def test_a_big_windowsupdate_log_is_whole_even_with_few_entries(tmp_path):
    # Few but long lines: over EXCERPT_BYTES the file is a whole log, and its byte scan
    # (and the entry-by-entry reading alike) reads no code on its own.
    logs = Logs()
    padding = "x" * 2000
    entries = (EXCERPT_BYTES // len(padding)) + 20
    assert entries < EXCERPT_ENTRIES
    for n in range(entries):
        logs.wu_etw(n / 100, "Agent", f"Routine line number {n} {padding}")
    logs.wu_etw(entries / 100, "DownloadManager", "Download call returned error 0x800706d9")
    assert _diagnose(logs.files(), tmp_path).verdict != "failure"


def test_a_whole_windowsupdate_log_is_scanned_without_its_failure_lines():
    from knowledge.diagnosis.signatures import SignatureSet

    info = next(log for log in kb().logs if log.name == "WindowsUpdate.log")
    signatures = SignatureSet(kb(), first_look=fastpath)
    excerpt = signatures.for_log(info).scanner
    whole = signatures.for_log(info, error_lines=False).scanner
    assert excerpt is not None and whole is not None
    assert "fail" in excerpt.texts and "fail" not in whole.texts


# --- a specific cause beats a generic one ------------------------------------------------


def test_a_download_failing_with_disk_full_is_a_full_cache(tmp_path):
    logs = healthy_until(5)
    logs.add(
        "UpdatesHandler.log",
        11,
        f"CDeploymentJob -- Failed to download update ({UPDATE_A}). Error = 0x80070070",
        ERROR,
    )
    diagnosis = _diagnose(logs.files(), tmp_path)
    assert (diagnosis.verdict, diagnosis.stage, diagnosis.cause) == (
        "failure",
        "cache",
        "cache.full",
    )
    assert diagnosis.evidence[0].signature == "download.update-download-failed"
    assert diagnosis.confidence > CODE_ONLY_MAX_CONFIDENCE


def test_a_generic_download_failure_keeps_its_cause_without_a_specific_code(tmp_path):
    logs = healthy_until(5)
    logs.add(
        "UpdatesHandler.log",
        11,
        f"CDeploymentJob -- Failed to download update ({UPDATE_A}). Error = 0x80004005",
        ERROR,
    )
    diagnosis = _diagnose(logs.files(), tmp_path)
    assert (diagnosis.stage, diagnosis.cause) == ("download", "download.failed")


def test_every_stage_has_a_code_cause():
    knowledge = kb()
    for stage in knowledge.stages:
        cause = knowledge.causes[f"{stage}.code"]
        assert cause.stage == stage and cause.next


def test_what_a_code_alone_means_is_remembered_per_knowledge_base():
    # The engine remembers a code finding's stage, cause and title per knowledge base:
    # another knowledge base (here: the same code with another meaning) gets its own.
    knowledge = kb()
    code = next(c for c, e in knowledge.codes.items() if not e.routine and e.stage)
    first = _code_finding(knowledge, code, None)
    assert first is not None
    changed = knowledge.codes[code].model_copy(update={"meaning": "Something else happened."})
    other = knowledge.model_copy(update={"codes": {**knowledge.codes, code: changed}})
    assert _code_finding(other, code, None)[2].endswith(": Something else happened")
    assert _code_finding(knowledge, code, None) == first
    routine = next(c for c, e in knowledge.codes.items() if e.routine)
    assert _code_finding(knowledge, routine, None) is None
