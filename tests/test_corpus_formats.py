"""Every real log of ../shared/corpus: detected right, read whole, times as EXPECTED.md says.

The corpus is read in place (never copied: unknown licences, real host names). The
folder of ConfigMgr client logs is found by what it holds, not by its name.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from knowledge.formats import detect_format, parse_entries
from knowledge.formats.decoding import open_text

SAMPLE_CHARS = 16_384

# Expected format per corpus file, by folder and file name; "*" is any other file there.
EXPECTED_FORMATS = {
    ("alborz25-logs", "*"): "cbs",
    ("loghub-windows", "*"): "cbs",
    ("trentent-theorypc-blog", "CBS-excerpt-applicability.log"): "cbs",
    ("trentent-theorypc-blog", "CBS-excerpt-install-rollback.log"): "cbs",
    ("trentent-theorypc-blog", "WindowsUpdate-excerpt-install.log"): "wulog",
    ("trentent-theorypc-blog", "WindowsUpdate-excerpt-scan.log"): "wulog",
    ("cloudbase-issue53", "*"): "wulog",
    ("rkudache31-log", "*"): "wulog",
    ("msdocs-supportarticles", "WindowsUpdate-excerpt-ccmexec-install.log"): "wulog",
    ("msdocs-supportarticles", "DataTransferService-excerpt.log"): "cmtrace-copy",
    ("msdocs-supportarticles", "WUAHandler-excerpt-install.log"): "cmtrace-copy",
    ("lee7723-git", "*"): "wulog-etw",
    ("zayrexdev-stuff", "*"): "wulog-etw",
    ("jimbocalvo-reddit", "*"): "cmtrace",
    ("plaso-testdata", "*"): "cmtrace",
    ("<ccm logs>", "WindowsUpdate.log"): "wulog-etw",
    ("<ccm logs>", "*"): "cmtrace",
    ("", "*"): "text",  # the corpus's own EXPECTED.md and PROVENANCE.md
}


def _ccm_folder(corpus: Path) -> Path:
    return next(corpus.rglob("UpdatesStore.log")).parent


def _expected_format(corpus: Path, path: Path) -> str:
    folder = path.parent
    label = "<ccm logs>" if folder == _ccm_folder(corpus) else folder.relative_to(corpus).as_posix()
    label = "" if label == "." else label
    for key in ((label, path.name), (label, "*")):
        if key in EXPECTED_FORMATS:
            return EXPECTED_FORMATS[key]
    raise AssertionError(f"no expected format for corpus file {path.relative_to(corpus)}")


def _read(path: Path):
    with path.open("rb") as binary:
        text, _ = open_text(binary)
        fmt = detect_format(text.read(SAMPLE_CHARS), path.name)
    with path.open("rb") as binary:
        text, _ = open_text(binary)
        return fmt, list(parse_entries(fmt, text, path.name))


def test_every_corpus_file_is_detected_and_read(corpus_dir):
    files = sorted(p for p in corpus_dir.rglob("*") if p.is_file())
    assert len(files) > 20
    for path in files:
        fmt, entries = _read(path)
        assert fmt == _expected_format(corpus_dir, path), path.relative_to(corpus_dir)
        assert entries, f"{path.relative_to(corpus_dir)} gave no entries"
        assert all(e.line >= 1 for e in entries)


def _first(entries, component=None):
    return next(e for e in entries if component is None or e.component == component)


def test_cmtrace_bias_240_is_utc_minus_4(corpus_dir):
    _, entries = _read(_ccm_folder(corpus_dir) / "WUAHandler.log")
    assert entries[0].time == datetime(2021, 7, 14, 12, 52, 44, 338000, tzinfo=UTC)
    assert all(e.time is not None and e.time.tzinfo is not None for e in entries)


def test_cmtrace_two_digit_bias_zero(corpus_dir):
    _, entries = _read(corpus_dir / "jimbocalvo-reddit" / "ccmsetup.log")
    assert entries[0].time == datetime(2020, 2, 4, 15, 10, 29, 68000, tzinfo=UTC)
    assert any("0x80190194" in e.message for e in entries)


def test_cmtrace_various_biases_and_a_record_without_one(corpus_dir):
    _, entries = _read(corpus_dir / "plaso-testdata" / "sccm_various.log")
    assert _first(entries, "AppEnforce").time == datetime(
        2014, 11, 28, 14, 3, 19, 766000, tzinfo=UTC
    )  # -330
    assert _first(entries, "setuppolicyevaluator").time == datetime(
        2014, 11, 26, 3, 20, 47, 594000, tzinfo=UTC
    )  # -60
    assert _first(entries, "PeerDPAgent").time == datetime(
        2014, 11, 24, 9, 52, 13, 827000, tzinfo=UTC
    )  # +480
    scclient = _first(entries, "SCClient")
    assert scclient.time == datetime(2015, 1, 2, 10, 22, 50, 842296)  # naive: no bias
    assert scclient.message.startswith("Event object details:\ninstance of CCM_InstanceEvent")
    assert scclient.line == 3


def test_classic_windowsupdate_log_banner_zone(corpus_dir):
    _, entries = _read(corpus_dir / "rkudache31-log" / "WindowsUpdate.log")
    banner = next(e for e in entries if "Logging initialized" in e.message)
    assert banner.line == 5
    assert banner.time == datetime(2021, 8, 28, 5, 35, 7, 920000, tzinfo=UTC)
    assert entries[0].time.tzinfo is not None  # lines before the banner too


def test_cbs_zone_learned_from_csi_stamps(corpus_dir):
    path = corpus_dir / "trentent-theorypc-blog" / "CBS-excerpt-install-rollback.log"
    _, entries = _read(path)
    assert entries[0].time == datetime(2016, 10, 19, 20, 24, 1, tzinfo=UTC)  # local 14:24:01
    assert all(e.time.tzinfo is not None for e in entries if e.time is not None)
    assert any("0x800736b3" in e.message for e in entries)


def test_stripped_cmtrace_copy_holds_lines_for_the_next_component(corpus_dir):
    path = corpus_dir / "msdocs-supportarticles" / "DataTransferService-excerpt.log"
    _, entries = _read(path)
    assert {e.component for e in entries} == {"DataTransferService"}
    last = entries[-1]
    assert last.message.startswith("DTS job {") and last.message.endswith(
        "Elapsed time : 7 seconds"
    )
    assert all(e.time is None for e in entries)


@pytest.mark.parametrize(
    "relative", ["lee7723-git/WindowsUpdate.log", "zayrexdev-stuff/WindowsUpdate.log"]
)
def test_windows10_update_logs_are_local_with_100ns_fractions(corpus_dir, relative):
    _, entries = _read(corpus_dir / relative)
    timed = [e for e in entries if e.time is not None]
    assert len(timed) == len(entries)
    assert all(e.time.tzinfo is None for e in timed)
    assert any(e.time.microsecond % 1000 for e in timed)
