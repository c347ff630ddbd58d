"""The fast path's off switch: `fast=False` on the API, `SCCM_TRIAGE_FAST=0` in the
environment. Off, every file is read record by record, and every answer is the same JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot import cli
from knowledge import fastpath
from knowledge.api import FAST_ENV, diagnose_path, fast_path, read_logs
from knowledge.errors import InputError
from knowledge.reading import collector
from knowledge.reading import reader as timeline
from tests.conftest import REPO_ROOT
from tests.logbuilder import zip_bytes
from tests.test_fast_facts import CASES, _code_evidence_upload

EXAMPLE = REPO_ROOT / "examples" / "ccm-logs-example.zip"
REALWORLD = sorted(p for p in (REPO_ROOT / "realworld" / "logs").iterdir() if p.is_dir())


def _cli_json(monkeypatch, capsys, setting: str | None, *args: str) -> str:
    """What `sccm ARGS --json` prints, with SCCM_TRIAGE_FAST set to `setting` (or unset)."""
    if setting is None:
        monkeypatch.delenv(FAST_ENV, raising=False)
    else:
        monkeypatch.setenv(FAST_ENV, setting)
    assert cli.main([*args, "--json"]) == 0
    out = capsys.readouterr().out
    json.loads(out)  # one JSON object
    return out


def _assert_same_both_ways(path: Path, monkeypatch, capsys) -> None:
    for command in ("diagnose", "logs"):
        default = _cli_json(monkeypatch, capsys, None, command, str(path))
        slow = _cli_json(monkeypatch, capsys, "0", command, str(path))
        assert slow == default, (command, path.name)


def _fixture_uploads(tmp_path: Path) -> list[Path]:
    """Our own uploads: the example zip, the real-world logs kept in the repository, every
    file shape of the fast-facts tests and the code-evidence client."""
    shapes = []
    for number, name in enumerate(sorted(CASES)):
        shapes.append(tmp_path / f"shape-{number}.zip")
        shapes[-1].write_bytes(zip_bytes({"WUAHandler.log": CASES[name]}))
    codes = tmp_path / "codes.zip"
    _code_evidence_upload(codes)
    return [EXAMPLE, *REALWORLD, *shapes, codes]


def test_every_fixture_upload_gives_the_same_json_with_the_fast_path_off(
    tmp_path, monkeypatch, capsys
):
    uploads = _fixture_uploads(tmp_path)
    assert len(uploads) > 50
    for upload in uploads:
        _assert_same_both_ways(upload, monkeypatch, capsys)


def test_every_corpus_upload_gives_the_same_json_with_the_fast_path_off(
    corpus_dir, monkeypatch, capsys
):
    uploads = sorted(p for p in corpus_dir.iterdir() if p.is_dir() or p.suffix == ".zip")
    assert uploads
    for upload in uploads:
        _assert_same_both_ways(upload, monkeypatch, capsys)


@pytest.fixture
def fast_path_use(monkeypatch):
    """Counts what only the fast path does: byte counts, byte scans, scanners built."""
    used: list[str] = []
    for name in ("fast_facts", "file_scan"):
        real = getattr(timeline, name)

        def counting(*args, _real=real, _name=name, **kwargs):
            used.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(timeline, name, counting)
    real_scanner = fastpath.TextScanner

    def building(*args, **kwargs):
        used.append("scanner")
        return real_scanner(*args, **kwargs)

    monkeypatch.setattr(fastpath, "TextScanner", building)
    monkeypatch.setattr(collector, "_SIGNATURE_SETS", {})  # scanners are built afresh
    return used


def test_the_switch_really_switches(fast_path_use, monkeypatch):
    monkeypatch.setenv(FAST_ENV, "0")
    slow = diagnose_path(EXAMPLE)
    read_logs(EXAMPLE)
    assert fast_path_use == []
    monkeypatch.delenv(FAST_ENV)
    assert diagnose_path(EXAMPLE) == slow
    read_logs(EXAMPLE)
    assert {"fast_facts", "file_scan", "scanner"} <= set(fast_path_use)


def test_the_argument_wins_over_the_environment(fast_path_use, monkeypatch):
    monkeypatch.setenv(FAST_ENV, "0")
    diagnose_path(EXAMPLE, fast=True)
    assert "file_scan" in fast_path_use
    fast_path_use.clear()
    monkeypatch.setenv(FAST_ENV, "1")
    diagnose_path(EXAMPLE, fast=False)
    read_logs(EXAMPLE, fast=False)
    assert fast_path_use == []


@pytest.mark.parametrize(
    ("setting", "fast"),
    [("", True), ("1", True), ("on", True), (" TRUE ", True), ("0", False), ("off", False)],
)
def test_the_setting_reads_the_usual_spellings(monkeypatch, setting, fast):
    monkeypatch.setenv(FAST_ENV, setting)
    assert fast_path() is fast


def test_an_unknown_setting_is_refused_with_a_clear_line(monkeypatch):
    monkeypatch.setenv(FAST_ENV, "slow")
    with pytest.raises(InputError, match=FAST_ENV):
        fast_path()
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "diagnose", str(EXAMPLE), "--json"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {FAST_ENV} must be")
    assert "Traceback" not in result.stderr


def test_help_names_the_switch():
    assert FAST_ENV in cli.build_parser().format_help()
