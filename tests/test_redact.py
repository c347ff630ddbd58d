"""Masking (issue 17 item 3): names gone, the diagnosis unchanged, tokens stable."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from knowledge import api
from knowledge.redact import Masker, redact_diagnosis, redact_read_report, redact_text
from tests.conftest import REPO_ROOT
from tests.named_uploads import (
    DP_HOST,
    DP_IP,
    KB,
    NAMES,
    SID,
    UPDATE_ID,
    USER,
    named_logs,
    named_zip,
)

# One sample of each kind, with what must replace it.
MASKED = [
    ("proxy http://wsus01.corp.example.local:8530/x", "proxy http://host-1.domain-1:8530/x"),
    ("from https://10.1.2.3/SMS_DP_SMSPKG$/a", "from https://ip-1/SMS_DP_SMSPKG$/a"),
    ("from http://[fd00::7]:80/x", "from http://[ip-1]:80/x"),
    (r"share \\DP02\SMS_DP$\content", r"share \\host-1\SMS_DP$\content"),
    (r"file C:\Users\jnovak\AppData\x.log", r"file C:\Users\user-1\AppData\x.log"),
    ("for user " + SID + " done", "for user sid-1 done"),
    (r"logged on user CORP\jnovak", r"logged on user domain-1\user-1"),
    ("user: jnovak", "user: user-1"),
    ("mail jnovak@example.org", "mail email-1"),
    ("client 192.168.40.7 and fe80::1ff:fe23:4567:890a%12", "client ip-1 and ip-2%12"),
    ("computer name: FRONTDESK", "computer name: host-1"),
    ("posted by WKS-0042$", "posted by host-1$"),
    ("joined corp.fabrikam.cz", "joined host-1.domain-1"),
]

# What must stay exactly as it is, so the diagnosis still reads.
KEPT = [
    "CTM job {5D2E1F40-1B2C-4D3E-8F90-A1B2C3D4E5F6} failed, error 0x80190194 (-2145844844)",
    f"Failed to download update ({UPDATE_ID}) {KB} at 2025-02-11 12:26:31.338",
    "WUAHandler.log, ContentTransferManager.log and System.IO.FileNotFoundException",
    "https://learn.microsoft.com/troubleshoot/mem/configmgr and download.windowsupdate.com",
    "run as NT AUTHORITY\\SYSTEM in C:\\Users\\Public\\Downloads",
    "client version 5.00.9106.1000, Version = 1.0.0.0, proxy 127.0.0.1:8080",
    "Package_for_KB5034441~31bf3856ad364e35~amd64~~10.0.1.3",
    "user 3 of 5, account is locked, Client is set to use HTTPS, Server WSUS",
    "the user's cache, User Experience, Client: Control Panel, run as SYSTEM.",
    r"C:\Windows\CCM\Logs and \\?\C:\Windows\ccmcache and ADMIN$",
]


@pytest.mark.parametrize(("text", "expected"), MASKED)
def test_each_kind_of_name_becomes_a_token(text, expected):
    assert redact_text(text) == expected


@pytest.mark.parametrize("text", KEPT)
def test_ids_codes_times_log_names_and_public_hosts_stay(text):
    assert redact_text(text) == text


def test_the_same_name_gets_the_same_token_and_bare_mentions_follow():
    masker = Masker()
    lines = [
        "seen SCCM01 first",  # a bare mention, before the name is known as a host
        "http://sccm01.corp.example.local/ccm_system",
        "\\\\SCCM01\\share and http://dp02.corp.example.local",
    ]
    for line in lines:
        masker.learn(line)
    assert [masker.mask(line) for line in lines] == [
        "seen host-1 first",
        "http://host-1.domain-1/ccm_system",
        "\\\\host-1\\share and http://host-2.domain-1",
    ]


def test_every_name_in_the_upload_is_masked_line_by_line():
    """The whole text of the test upload, not only what a diagnosis quotes."""
    masker = Masker()
    logs = named_logs()
    for text in logs.values():
        masker.learn(text)
    masked = "\n".join(masker.mask(text) for text in logs.values()).lower()
    assert [name for name in NAMES if name.lower() in masked] == []
    assert UPDATE_ID in masked and KB.lower() in masked and "0x80190194" in masked


@pytest.fixture(scope="module")
def upload(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("named") / "named.zip"
    path.write_bytes(named_zip())
    return path


def _names_in(output: str) -> list[str]:
    lowered = output.lower()
    return [name for name in NAMES if name.lower() in lowered]


def test_redacted_diagnosis_keeps_verdict_stage_cause_and_evidence_shape(upload):
    plain = api.diagnose_path(upload)
    masked = redact_diagnosis(plain)
    assert plain.verdict == "failure" and plain.stage == "download"  # the story told
    assert (masked.verdict, masked.stage, masked.cause) == (plain.verdict, plain.stage, plain.cause)
    assert masked.confidence == plain.confidence
    assert [r.model_dump() for r in masked.ledger] == [r.model_dump() for r in plain.ledger]
    assert masked.error_codes == plain.error_codes
    assert masked.next_steps == plain.next_steps  # the knowledge base's words and links
    assert [(e.line, e.time, e.stage) for e in masked.evidence] == [
        (e.line, e.time, e.stage) for e in plain.evidence
    ]
    assert masked.evidence[0].file.endswith("/Logs/ContentTransferManager.log")
    assert plain.model_dump() == api.diagnose_path(upload).model_dump()  # the input untouched


def sccm(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=120,
        env={"COLUMNS": "100", "PATH": "/usr/bin:/bin"},
    )


@pytest.mark.parametrize(
    "args",
    [
        ("diagnose", "--json"),
        ("diagnose", "--full"),
        ("diagnose",),
        ("logs", "--json"),
        ("logs",),
    ],
    ids=" ".join,
)
def test_cli_redact_leaves_no_name_in_text_or_json(upload, args):
    command, *options = args
    plain = sccm(command, str(upload), *options)
    masked = sccm(command, str(upload), *options, "--redact")
    assert plain.returncode == masked.returncode == 0, masked.stderr
    # the unmasked answer does show names (so this test can fail) ...
    assert _names_in(plain.stdout)
    # ... the masked one shows none of them, anywhere, and tokens in their place
    assert _names_in(masked.stdout + masked.stderr) == []
    assert re.search(r"\bhost-\d+\b", masked.stdout)


def test_cli_redact_json_answers_the_same_question(upload):
    plain = json.loads(sccm("diagnose", str(upload), "--json").stdout)
    masked = json.loads(sccm("diagnose", str(upload), "--json", "--redact").stdout)
    for field in ("verdict", "stage", "stage_title", "cause", "confidence", "ledger"):
        assert masked[field] == plain[field]
    shown = json.dumps(plain)
    assert all(name in shown for name in (DP_HOST, USER, SID))  # what masking had to remove
    assert DP_IP not in shown  # (the address is only in a line the diagnosis does not quote)
    assert _names_in(json.dumps(masked, ensure_ascii=False)) == []


def test_redacted_read_report_masks_folders_named_after_the_machine(upload):
    report = redact_read_report(api.read_logs(upload))
    paths = [f.path for f in report.files]
    assert paths and all(p.startswith("host-1/Logs/") for p in paths)
    assert {f.name for f in report.files} >= {"CAS.log", "ContentTransferManager.log"}


def test_redact_is_in_the_help():
    for command in ("diagnose", "logs"):
        result = sccm(command, "--help")
        assert "--redact" in result.stdout and "host-1" in result.stdout
