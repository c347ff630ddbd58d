"""The text a person reads from `sccm diagnose`: one screen by default, everything with
--full, the terminal's width, colour only on a terminal (issue 16)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from bot import text
from knowledge import api
from tests.conftest import REPO_ROOT

EXAMPLE = REPO_ROOT / "examples" / "ccm-logs-example.zip"
ESCAPE = "\x1b"


def sccm(*args: str, columns: int = 100, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "NO_COLOR")}
    environment.update(COLUMNS=str(columns), TERM="xterm-256color", **env)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=environment,
        timeout=120,
    )


def words(value: str) -> str:
    """Text without white space: neither wrapping nor a folded long word matters."""
    return "".join(value.split())


@pytest.fixture(scope="module")
def example():
    return api.diagnose_path(str(EXAMPLE))


@pytest.mark.parametrize(("columns", "most_lines"), [(100, 30), (80, 40)])
@pytest.mark.parametrize("where", ["relative", "deep"])
def test_the_example_answer_fits_one_screen(columns, most_lines, where, tmp_path):
    # as the README runs it, and from a clone deep in a long path (the hint names the path)
    path = "examples/ccm-logs-example.zip"
    if where == "deep":
        deep = tmp_path.joinpath("a-checkout-with-a-rather-long-name", "and-one-more-folder")
        deep.mkdir(parents=True)
        path = str(deep / EXAMPLE.name)
        (deep / EXAMPLE.name).write_bytes(EXAMPLE.read_bytes())
    result = sccm("diagnose", path, columns=columns)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.rstrip("\n").splitlines()
    assert len(lines) <= most_lines, result.stdout
    assert lines[0].startswith("FAILURE at Content download (download)")
    for line in lines:
        # only a web address may run past the width: breaking it would make it useless
        assert len(line) <= columns or re.search(r"\S+\.\S+/\S+$", line), line
        assert line == line.rstrip(), f"trailing spaces: {line!r}"


def test_the_short_answer_has_cause_decisive_evidence_steps_links_and_what_to_send(example):
    out = text.render_diagnosis(example, width=100, more_hint="More: sccm diagnose x.zip --full")
    assert "Cause: The distribution point does not have the file (HTTP 404)" in out
    evidence = re.findall(r"^  (\S+\.log):(\d+)  (\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ)", out, re.M)
    assert 1 <= len(evidence) <= 3
    assert all(name != "CcmMessaging.log" for name, _, _ in evidence)
    assert "Delivered successfully" not in out  # a fine stage is no evidence of a failure
    assert re.findall(r"^  (\d)\. ", out, re.M) == ["1", "2", "3"]
    assert "learn.microsoft.com/" in out
    assert "SCCM 2007 wiki page" not in out  # the whole citation waits for --full
    assert "Send next: CMBITSManager.log, DeltaDownload.log" in out
    assert out.rstrip().endswith("--full")


def test_full_keeps_everything(example):
    full = words(text.render_diagnosis(example, full=True, width=80))
    assert words(example.summary) in full
    for item in example.evidence:
        assert words(item.text) in full
        assert f"{item.file}:{item.line}" in full
    for step in example.next_steps:
        assert words(step.text) in full and words(step.source) in full
    for ref in example.error_codes:
        assert ref.code in full and words(ref.meaning or "") in full
    for alternative in example.alternatives:
        assert words(alternative.why_not) in full
    for skipped in example.files.skipped:
        assert skipped.name in full
    for update in example.updates:
        if update.status == "failed":
            assert update.update in full
    assert "clientok>policyok" in full


def test_full_through_the_command_line_is_longer_and_complete():
    short = sccm("diagnose", str(EXAMPLE)).stdout
    full = sccm("diagnose", str(EXAMPLE), "--full").stdout
    assert len(full.splitlines()) > len(short.splitlines())
    assert "more line(s) with --full" in short and "more line(s)" not in full
    assert "Files: " in full and "Files: " not in short
    assert "--full" not in full


@pytest.mark.parametrize("extra", [(), ("--full",)])
def test_piped_output_has_no_colour_codes(extra):
    result = sccm("diagnose", str(EXAMPLE), *extra)
    assert result.returncode == 0 and result.stdout
    assert ESCAPE not in result.stdout
    symptom = sccm("diagnose", "--symptom", "updates stuck downloading at 0%", *extra)
    assert symptom.returncode == 0 and ESCAPE not in symptom.stdout


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_a_terminal_gets_the_failure_in_colour():
    import pty

    leader, follower = pty.openpty()
    environment = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "NO_COLOR")}
    environment.update(TERM="xterm-256color", COLUMNS="100")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "diagnose", str(EXAMPLE)],
        stdout=follower,
        stderr=follower,
        cwd=REPO_ROOT,
        env=environment,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert process.wait(timeout=120) == 0
    screen = b"".join(chunks).decode("utf-8", "replace")
    assert re.search(r"\x1b\[[0-9;]*31m[^\x1b]*FAILURE at Content download", screen), screen[:300]
    assert "\x1b]8;" in screen  # the source is a clickable link on a terminal


def test_width_follows_columns(example):
    for width in (60, 80, 120):
        out = text.render_diagnosis(example, width=width)
        assert max(len(x) for x in out.splitlines() if "learn.microsoft.com" not in x) <= width


def test_symptom_answer_keeps_its_summary_and_asks_for_logs():
    diagnosis = api.diagnose_symptom("updates stuck downloading at 0%")
    out = text.render_diagnosis(diagnosis, width=80)
    assert out.startswith("LIKELY FAILING:")
    assert words(diagnosis.summary) in words(out)
    assert "Send next:" in out


@pytest.mark.parametrize(
    ("source", "label", "url"),
    [
        (
            "Microsoft Learn: Title (https://learn.microsoft.com/a/b); per github.com/x/y",
            "learn.microsoft.com/a/b",
            "https://learn.microsoft.com/a/b",
        ),
        (
            "bitsmsg.h (github.com/willfaust/wine, include/bitsmsg.h); Microsoft Learn: T "
            "(learn.microsoft.com/troubleshoot/x)",
            "learn.microsoft.com/troubleshoot/x",
            "https://learn.microsoft.com/troubleshoot/x",
        ),
        ("vendor KB (https://example.org/kb/1).", "example.org/kb/1", "https://example.org/kb/1"),
        (
            "SCCM 2007 wiki page 'Software Update Point Troubleshooting' (Dominik Heinz), step 3",
            "SCCM 2007 wiki page 'Software Update Point Troubleshooting'",
            None,
        ),
    ],
)
def test_a_source_becomes_one_short_link(source, label, url):
    assert text.short_source(source) == (label, url)


def test_steps_of_one_source_share_one_link_line(example):
    page = "Microsoft Learn: a page (https://learn.microsoft.com/mem/configmgr/a-page)"
    steps = [step.model_copy(update={"source": page}) for step in example.next_steps[:3]]
    out = text.render_diagnosis(example.model_copy(update={"next_steps": steps}), width=100)
    assert out.count("learn.microsoft.com/") == 1
    assert "source of steps 1-3: " in out


def test_a_short_step_keeps_three_lines_and_full_keeps_it_whole(example):
    long_step = example.next_steps[0].model_copy(update={"text": "word " * 200 + "the end."})
    diagnosis = example.model_copy(update={"next_steps": [long_step]})
    short = text.render_diagnosis(diagnosis, width=100)
    step_lines = [line for line in short.splitlines() if line.startswith(("  1. ", "     word"))]
    assert len(step_lines) == 3 and step_lines[-1].endswith("…")
    assert "the end." in text.render_diagnosis(diagnosis, width=100, full=True)


@pytest.mark.parametrize(
    ("short", "log"),
    [
        ("CTM", "ContentTransferManager.log"),
        ("dts", "DataTransferService.log"),
        ("CAS", "CAS.log"),
        ("WUAH", "WUAHandler.log"),
        ("WUA", "WindowsUpdate.log"),
    ],
)
def test_log_accepts_short_names(short, log):
    result = sccm("log", short)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(log)


def test_steps_without_a_stage_lists_what_it_accepts():
    from knowledge.kb import kb
    from knowledge.models import STAGE_IDS

    result = sccm("steps")
    assert result.returncode == 0, result.stderr
    listed = re.findall(r"^  (\S+)  ", result.stdout, re.M)
    assert listed == [*STAGE_IDS, *kb().procedures]
    unknown = sccm("steps", "downlaod")
    assert unknown.returncode == 2
    assert "download" in unknown.stderr and "not-downloaded" in unknown.stderr
