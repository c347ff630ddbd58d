"""The bundled example: the committed zip is what its script makes, and it diagnoses as told."""

from __future__ import annotations

import importlib.util
import re
import sys
import zipfile
from pathlib import Path

from knowledge.api import diagnose_path, read_logs

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
EXAMPLE_ZIP = EXAMPLES / "ccm-logs-example.zip"


def _load_script():
    spec = importlib.util.spec_from_file_location("make_example", EXAMPLES / "make_example.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


make_example = _load_script()
LOG_MEMBERS = {make_example.FOLDER + name for name in make_example.LOG_WRITERS}


def _members(path: Path) -> list[tuple]:
    with zipfile.ZipFile(path) as archive:
        return [
            (info.filename, info.date_time, info.external_attr, archive.read(info))
            for info in archive.infolist()
        ]


def test_committed_zip_is_what_the_script_makes(tmp_path):
    fresh = tmp_path / "example.zip"
    make_example.write_example(fresh)
    if fresh.read_bytes() == EXAMPLE_ZIP.read_bytes():
        return
    # Another zlib build (zlib-ng, say) may compress the same bytes differently; what
    # must not differ is each member's name, timestamp, attributes and content.
    assert _members(fresh) == _members(EXAMPLE_ZIP), "run examples/make_example.py again"


def test_the_script_writes_the_same_bytes_every_time(tmp_path):
    first, second = tmp_path / "first.zip", tmp_path / "second.zip"
    make_example.write_example(first)
    make_example.write_example(second)
    assert first.read_bytes() == second.read_bytes()


def test_example_is_small_and_laid_out_as_a_helpdesk_sends_it():
    assert EXAMPLE_ZIP.stat().st_size < 100_000
    names = [name for name, *_ in _members(EXAMPLE_ZIP)]
    assert all(name.startswith("Logs/") for name in names)
    assert 10 <= len(LOG_MEMBERS) <= 20
    assert {"Logs/DataTransferService.lo_", "Logs/screenshot.png"} <= set(names)
    assert any(re.fullmatch(r"Logs/\w+-\d{8}-\d{6}\.log", name) for name in names)


def test_every_host_in_the_example_is_fictional():
    text = b"".join(data for *_, data in _members(EXAMPLE_ZIP)).decode("utf-8", "replace")
    hosts = set(re.findall(r"https?://([\w.-]+)", text))
    assert hosts
    assert all(host.endswith(".contoso.local") for host in hosts), hosts


def test_reading_lists_every_log_with_entries_and_skips_the_screenshot():
    report = read_logs(EXAMPLE_ZIP)
    entries = {f.path: f.entries for f in report.files}
    assert set(entries) == LOG_MEMBERS
    assert all(count > 0 for count in entries.values()), entries
    assert [s.name.rsplit("/", 1)[-1] for s in report.skipped] == ["screenshot.png"]


def test_diagnosis_names_the_404_from_the_distribution_point():
    diagnosis = diagnose_path(EXAMPLE_ZIP)
    assert diagnosis.verdict == "failure"
    assert diagnosis.stage == "download"
    assert diagnosis.cause == "download.http_404"
    assert any("0x80190194" in evidence.text for evidence in diagnosis.evidence)
