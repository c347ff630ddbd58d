"""The per-file facts counted from bytes equal the ones the record parser gives."""

from __future__ import annotations

import importlib.util
import io
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from knowledge import fastpath
from knowledge.fastpath import NotFast, fast_facts
from knowledge.formats.decoding import MAX_LINE
from knowledge.intake.archive import open_upload
from knowledge.reading.reader import LogReader
from tests.logbuilder import Line, cbs_log, cmtrace_log, cmtrace_record, wulog_etw, zip_bytes

EXAMPLE_ZIP = Path(__file__).resolve().parent.parent / "examples" / "ccm-logs-example.zip"
MORNING = datetime(2024, 3, 5, 8, 0, 0)


def _lines(count: int, every: int = 7) -> list[Line]:
    when = [MORNING + timedelta(seconds=n) for n in range(count)]
    return [
        Line(f"step {n} done", when[n], "ScanAgent", 3 if n % every == 0 else 1)
        for n in range(count)
    ]


def _reports(path: Path):
    """(facts from the record parser, facts from the fast path, files that took it)."""
    with open_upload(path) as upload:
        slow = LogReader(upload)
        for source in upload.sources:
            for _ in slow.file_entries(source):
                pass
        fast = LogReader(upload)
        counted = []
        for source in upload.sources:
            fast.read_facts(source)
            fmt, encoding = fast.formats[source.path]
            with source.open() as binary:
                if fast_facts(fmt, binary, source.path, encoding) is not None:
                    counted.append(source.path)
        return slow.report().files, fast.report().files, counted


def _assert_same(path: Path) -> list[str]:
    slow, fast, counted = _reports(path)
    assert [f.model_dump() for f in fast] == [f.model_dump() for f in slow]
    return counted


MULTI_LINE = (
    '<![LOG[Instance of CCM_X\r\n{\r\n  Name = "a">\r\n}\r\n]LOG]!><time="08:00:09.000+240" '
    'date="03-05-2024" component="X" context="" type="2" thread="1" file="x.cpp:1">\r\n'
)


def _csi(local: datetime, utc_shift_minutes: int) -> str:
    """A CBS line from CSI, whose own stamp is the same moment in UTC."""
    utc = local + timedelta(minutes=utc_shift_minutes)
    stamp = f"{utc.year}/{utc.month}/{utc.day}:{utc:%H:%M:%S}.356"
    return f"{local:%Y-%m-%d %H:%M:%S}, Info                  CSI    0000004e@{stamp} (F) x\r\n"


def _cbs(count: int, start: int = 0) -> str:
    return cbs_log(
        Line(f"Exec: step {n}", MORNING + timedelta(seconds=n), "CBS", (1, 2, 3)[n % 3])
        for n in range(start, start + count)
    )


CBS_LATE = MORNING + timedelta(hours=2)

CASES = {
    "plain": cmtrace_log(_lines(50)),
    "lf-endings": cmtrace_log(_lines(50)).replace("\r\n", "\n"),
    "multi-line record": cmtrace_log(_lines(5)) + MULTI_LINE + cmtrace_log(_lines(5)),
    "no bias": cmtrace_log(_lines(20), bias=None),
    "two biases": cmtrace_log(_lines(10), bias=300) + cmtrace_log(_lines(10), bias=240),
    "stray line": cmtrace_log(_lines(5)) + "someone typed this\r\n" + cmtrace_log(_lines(5)),
    "blank line between": cmtrace_log(_lines(5)) + "\r\n" + cmtrace_log(_lines(5)),
    "trailing blank lines": cmtrace_log(_lines(5)) + "\r\n\r\n",
    "no final line break": cmtrace_log(_lines(5)).rstrip("\r\n"),
    "type in a message": cmtrace_log(
        [Line('<Prop type="3" thread="9"/>', MORNING, "X"), *_lines(5)]
    ),
    "type last": cmtrace_log(_lines(5)).replace(
        'type="3" thread="4242" file="agent.cpp:100"', 'thread="4242" file="agent.cpp:100" type="3"'
    ),
    "two records on a line": cmtrace_log(_lines(3)).replace("\r\n", "", 1),
    "cut record": cmtrace_log(_lines(3)) + "<![LOG[half a record\r\n" + cmtrace_log(_lines(3)),
    "bad time first": cmtrace_record(Line("x", MORNING, "X")).replace('date="03', 'date="13')
    + "\r\n"
    + cmtrace_log(_lines(4)),
    "long line": cmtrace_log([Line("x" * (MAX_LINE + 10), MORNING, "X", 3), *_lines(3)]),
    "out of order": cmtrace_log(list(reversed(_lines(9)))),
    "empty": "",
    "wulog-etw": wulog_etw(_lines(40)),
    "wulog-etw odd lines": "Header line\r\n\r\n   \r\n"
    + wulog_etw(_lines(5))
    + "2024/03/05 08:00:09.1234567 3696  4242  Agent           *FAILED* x *FAILED*\r\n"
    + "2024/13/05 08:00:09.1234567 3696  4242  Agent           bad date\r\n"
    + "trailing note\r\n",
    "wulog-etw no final break": wulog_etw(_lines(5)).rstrip("\r\n"),
    "wulog-etw lone CR": wulog_etw(_lines(5)).replace("\r\n", "\r", 2),
    "wulog-etw non-ascii": "\u00a0\r\nPfad: Bénédicte\r\n" + wulog_etw(_lines(4)) + "\u3000 \r\n",
    "cbs zone from csi": _cbs(5) + _csi(MORNING, 300) + _cbs(5, 10),
    "cbs no csi": _cbs(20),
    "cbs lf": (_cbs(3) + _csi(MORNING, 300) + _cbs(3, 5)).replace("\r\n", "\n"),
    "cbs continuations": _cbs(2)
    + "  Install (5): flags: 0 tlc: [x]\r\n\r\n   \r\n"
    + _csi(MORNING, 300)
    + "2024-03-05 08:00:30, Perf                  CBS    timing\r\n"
    + "2024-03-05 08:00:31, Info                  CBS    Failed to commit, hr=0x800f0922\r\n"
    + "   continued\r\n",
    "cbs daylight saving": _csi(MORNING, 300) + _cbs(3) + _csi(CBS_LATE, 240) + _cbs(3, 9000),
    "cbs opens with text": "Checking System Update Readiness.\r\n" + _csi(MORNING, 300) + _cbs(3),
    "cbs zone learned too late": _cbs(4100) + _csi(CBS_LATE, 300) + _cbs(3, 9000),
    "cbs bad stamp first": "2024-13-05 08:00:00, Info                  CBS    x\r\n"
    + _csi(MORNING, 300)
    + _cbs(3),
    "cbs csi stamp disagrees": _cbs(2) + _csi(MORNING, 7) + _cbs(2, 5),
    "cbs lone CR": _cbs(5).replace("\r\n", "\r", 2),
    "cbs non-ascii continuation": _csi(MORNING, 300) + _cbs(2) + "  Pfad: C:\\Bénédicte\r\n",
    "cbs long line": _cbs(2) + "  " + "x" * (MAX_LINE + 5) + "\r\n" + _cbs(2, 5),
    "cbs no final line break": (_csi(MORNING, 300) + _cbs(3)).rstrip("\r\n"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_fast_facts_match_the_record_parser(tmp_path, case):
    path = tmp_path / "logs.zip"
    path.write_bytes(zip_bytes({"WUAHandler.log": CASES[case]}))
    _assert_same(path)


def test_regular_files_take_the_fast_path(tmp_path):
    path = tmp_path / "logs.zip"
    regular = ("plain", "lf-endings", "multi-line record", "cbs zone from csi", "cbs no csi")
    files = {name: CASES[name] for name in (*regular, "cbs continuations", "cbs daylight saving")}
    path.write_bytes(zip_bytes({f"{n}.log": text for n, text in files.items()}))
    assert len(_assert_same(path)) == 7


def test_unusual_cbs_logs_are_parsed_entry_by_entry(tmp_path):
    """What the byte count cannot be sure of goes to the parser: a lone CR, a line over
    the limit, non-ASCII text, an untimed first entry, a zone learned only after the
    parser's buffer gave up waiting for it."""
    unusual = (
        "cbs lone CR",
        "cbs long line",
        "cbs non-ascii continuation",
        "cbs opens with text",
        "cbs zone learned too late",
    )
    path = tmp_path / "logs.zip"
    path.write_bytes(zip_bytes({f"{name}.log": CASES[name] for name in unusual}))
    assert _assert_same(path) == []


def test_windows_update_log_borrows_the_cmtrace_zone_on_both_paths(tmp_path):
    path = tmp_path / "logs.zip"
    files = {
        "WUAHandler.log": CASES["plain"],
        "WindowsUpdate.log": CASES["wulog-etw odd lines"],
        "CBS.log": CASES["cbs no csi"],
    }
    path.write_bytes(zip_bytes(files))
    assert len(_assert_same(path)) == 3


def test_the_example_zip_reads_the_same_both_ways():
    assert _assert_same(EXAMPLE_ZIP)


def test_the_corpus_reads_the_same_both_ways(corpus_dir):
    for upload in sorted(p for p in corpus_dir.iterdir() if p.is_dir() or p.suffix == ".zip"):
        _assert_same(upload)


def test_every_signature_names_text_its_matches_must_contain():
    """The chunk scan finds candidate records by these texts; a signature without any
    would need every record parsed."""
    from knowledge.fastpath.patterns import required_literals
    from knowledge.kb import kb

    assert [s.id for s in kb().signatures if required_literals(s.pattern) is None] == []


def test_literals_are_found_inside_lookbehinds_and_every_branch():
    from knowledge.fastpath.patterns import required_literals

    assert required_literals(r"8[0-9a-f]{7}(?:(?<=with error = 0x)|(?<=hr is ))") == {
        "with error = 0x",
        "hr is ",
    }
    assert required_literals(r"Cancelled by job|(?:x\d)?Status = Error") == {
        "cancelled by job",
        "status = error",
    }
    assert required_literals(r"Done|(?:x\d)?") is None


def _diagnosis_both_ways(path: Path, monkeypatch):
    from knowledge.api import diagnose_path
    from knowledge.diagnosis import signatures

    # Each way matches every message itself: nothing remembered from the other.
    monkeypatch.setattr(signatures, "_remembered", {})
    fast = diagnose_path(path, fast=True).model_dump()
    monkeypatch.setattr(signatures, "_remembered", {})
    slow = diagnose_path(path, fast=False).model_dump()
    return fast, slow


def test_the_example_zip_is_diagnosed_the_same_both_ways(monkeypatch):
    fast, slow = _diagnosis_both_ways(EXAMPLE_ZIP, monkeypatch)
    assert fast == slow


def test_the_corpus_is_diagnosed_the_same_both_ways(corpus_dir, monkeypatch):
    for upload in sorted(p for p in corpus_dir.iterdir() if p.is_dir() or p.suffix == ".zip"):
        fast, slow = _diagnosis_both_ways(upload, monkeypatch)
        assert fast == slow, upload.name
        monkeypatch.undo()


def _load_benchmark_generator():
    script = Path(__file__).resolve().parents[1] / "benchmarks" / "make_big_zip.py"
    spec = importlib.util.spec_from_file_location("make_big_zip", script)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("seed", [1, 3])
def test_a_busy_generated_client_is_diagnosed_the_same_both_ways(tmp_path, monkeypatch, seed):
    """Thousands of hits, rotated files, errors and both WindowsUpdate.log and CBS.log:
    the one-pass scan and the entry-by-entry reading must agree on every field."""
    path = tmp_path / "busy.zip"
    _load_benchmark_generator().build_big_zip(path, megabytes=3, seed=seed)
    fast, slow = _diagnosis_both_ways(path, monkeypatch)
    assert fast["evidence"] and fast["updates"]
    assert fast == slow


def test_without_hyperscan_re2_finds_the_same_records(tmp_path, monkeypatch):
    """Where Hyperscan has no wheel (Windows on Arm, say), re2 finds the records instead."""
    from knowledge.api import diagnose_path
    from knowledge.fastpath import scanners
    from knowledge.kb import kb
    from knowledge.reading import collector

    path = tmp_path / "busy.zip"
    _load_benchmark_generator().build_big_zip(path, megabytes=2, seed=5)
    with_hyperscan = diagnose_path(path).model_dump()
    monkeypatch.setattr(scanners, "_hyperscan_database", lambda *_args, **_kwargs: None)
    monkeypatch.setattr(collector, "_SIGNATURE_SETS", {})
    wua_handler = kb().log_by_name("WUAHandler.log")
    assert not collector.signature_set(kb()).for_log(wua_handler).scanner.exact
    without = diagnose_path(path).model_dump()
    assert with_hyperscan == without


CBS_FAILING = (
    "2024-03-05 07:59:58, Info                  CBS    Exec: Failed to commit CSI transaction\r\n"
    + _csi(MORNING, 300)
    + "2024-03-05 08:00:01, Info                  CBS    Exec: Resolving package\r\n"
    + "  then: Exec: Failed to commit CSI transaction, hr=0x800f0922\r\n"
    + "\r\n"
    + "2024-13-05 08:00:02, Info                  CBS    Exec: Failed to commit CSI transaction\r\n"
    + _cbs(3, 10)
    + _csi(CBS_LATE, 240)
    + "2024-03-05 10:00:05, Error                 CBS    Failed to call external evaluate "
    + "applicability on package\r\n"
    + "   for: Package_for_KB5034441~31bf3856ad364e35~amd64~~10.0.1.0\r\n"
    + "2024-03-05 10:00:06, Perf                  CBS    Exec: Failed to commit CSI transaction\r\n"
    + "2024-03-05 10:00:07, Info                  CBS\x1cExec: Failed to commit CSI transaction\r\n"
)


def test_a_cbs_log_is_scanned_in_one_pass_and_diagnosed_the_same(tmp_path, monkeypatch):
    """Hits before the zone is known, on a continuation line, on an impossible stamp,
    after a daylight-saving change, at a Perf level and after a control character that
    Unicode calls a space: the one-pass scan of CBS.log agrees with cbs.parse."""
    from knowledge.diagnosis.signatures import SignatureSet
    from knowledge.fastpath import file_scan
    from knowledge.formats import cbs
    from knowledge.kb import kb

    path = tmp_path / "logs.zip"
    files = {"WUAHandler.log": CASES["plain"], "CBS.log": CBS_FAILING}
    path.write_bytes(zip_bytes(files, bom=False))
    sigs = SignatureSet(kb(), first_look=fastpath).for_log(kb().log_by_name("CBS.log"))
    scan = file_scan("cbs", "utf-8", io.BytesIO(CBS_FAILING.encode()), "CBS.log", sigs.scanner)
    hits = [hit for batch in scan.hits() for hit in batch.hits]
    # Lines 2 and 10 are CSI "(F)" lines, which the install.csi-failure signature looks at.
    assert [hit.line for hit in hits] == [1, 2, 3, 6, 10, 11, 13, 14]
    assert scan.facts.entries == 11
    parsed = {e.line: e for e in cbs.parse(io.StringIO(CBS_FAILING, newline=""), "CBS.log")}
    assert [scan.entry(hit) for hit in hits] == [parsed[hit.line] for hit in hits]
    fast, slow = _diagnosis_both_ways(path, monkeypatch)
    assert fast == slow
    assert any(e["file"] == "CBS.log" for e in fast["evidence"]), fast["evidence"]


def test_a_lone_cr_sends_a_file_to_the_record_parser_so_line_numbers_stay_exact(
    tmp_path, monkeypatch
):
    """A text reader breaks the line at a lone CR, so counting LFs would cite the wrong
    line: the scanner sees the CR in the same pass and the file is read record by record."""
    from knowledge.diagnosis.signatures import SignatureSet
    from knowledge.fastpath import file_scan
    from knowledge.fastpath.scanners import LoneCarriageReturn, TextScanner
    from knowledge.kb import kb

    failing = "OnSearchComplete - Failed to end search job. Error = 0x80244022."
    text = cmtrace_log(
        [
            Line("first part\rsecond part", MORNING, "WUAHandler"),
            Line(failing, MORNING + timedelta(seconds=5), "WUAHandler", 3),
        ]
    )
    scanner = (
        SignatureSet(kb(), first_look=fastpath).for_log(kb().log_by_name("WUAHandler.log")).scanner
    )
    if scanner.checks_line_breaks:
        with pytest.raises(LoneCarriageReturn):
            TextScanner(["search job"]).scan(b"a\rb search job\r\n", 17)
    scan = file_scan("cmtrace", "utf-8", io.BytesIO(text.encode()), "WUAHandler.log", scanner)
    with pytest.raises(NotFast):
        for _found in scan.hits():
            pass
    path = tmp_path / "logs.zip"
    path.write_bytes(zip_bytes({"WUAHandler.log": text}))
    fast, slow = _diagnosis_both_ways(path, monkeypatch)
    assert fast == slow
    cited = [e for e in fast["evidence"] if failing in e["text"]]
    assert cited and cited[0]["line"] == 3, fast["evidence"]


@pytest.mark.parametrize("with_hyperscan", [True, False])
def test_error_and_warning_types_are_counted_exactly_and_case_sensitively(with_hyperscan):
    from knowledge.fastpath.scanners import LiteralCounter

    counter = LiteralCounter([b'" type="3"', b'" type="2"'])
    if not with_hyperscan:
        counter._database = None
    text = cmtrace_log(_lines(40, every=3)).encode() + b'<![LOG[x" TYPE="3"]LOG]!>'
    end = len(text) - 5
    expected = [text.count(b'" type="3"', 0, end), text.count(b'" type="2"', 0, end)]
    assert expected[0] == 14
    assert counter.count(text, end) == expected


def test_a_usual_record_read_on_its_own_equals_the_parsers_entry():
    """Evidence records are read one by one (`cmtrace.usual_entry`); the result must be
    what the parser gives for the same line in its file."""
    from knowledge.formats import cmtrace

    checked = 0
    for name, text in CASES.items():
        if name.startswith(("wulog", "cbs")):
            continue
        parsed = {e.line: e for e in cmtrace.parse(io.StringIO(text, newline=""), "x.log")}
        clock = cmtrace.RecordClock()
        for number, line in enumerate(io.StringIO(text, newline="").read().split("\n"), 1):
            entry = cmtrace.usual_entry(line.rstrip("\r"), "x.log", number, clock)
            if entry is not None and len(line) < MAX_LINE:  # longer lines: never scanned
                assert entry == parsed[number], (name, number)
                checked += 1
    assert checked > 200


def test_a_clock_that_goes_back_ends_the_logs_at_the_same_place_both_ways(tmp_path, monkeypatch):
    """The end of the logs (which weighs the recency of evidence) is each file's last
    timed record, on both paths: a clock set back mid-file must not change the answer."""
    back = (
        "2024-03-15 08:00:00, Info                  CBS    Exec: step\r\n"
        "2024-03-05 08:00:00, Info                  CBS    Exec: Failed to commit CSI "
        "transaction, hr=0x800f0922\r\n"
        "2024-03-05 08:00:01, Info                  CBS    Exec: step\r\n"
    )
    path = tmp_path / "logs.zip"
    path.write_bytes(zip_bytes({"CBS.log": back, "WUAHandler.log": CASES["out of order"]}))
    fast, slow = _diagnosis_both_ways(path, monkeypatch)
    assert fast["verdict"] == "failure"
    assert fast == slow


@pytest.mark.parametrize(
    ("pattern", "countable"),
    [
        (r"Successfully completed scan\b", True),
        (r"Found \d+ updates and \d+ categories", True),
        (r"EvaluateState\([^)\r\n]{0,120}State=Success\)", True),
        (r"a[^\r\n]b|(?:x|)foo", True),
        (r"a.b", False),  # . takes the CR that a reader drops at a line's end
        (r"x[^a]y", False),  # [^a] takes a line break: a match could span two records
        (r"\s+done", False),
        (r"a\Wb", False),
        (r"Log\w+ ready", False),  # could start inside <![LOG[
        (r"G?foo", False),
        (r"^Done", False),  # anchors mean the message's ends, not the line's
        (r"(?<=with error = )0x80244011", False),
        (r"(?i:foo)", False),
        (r"a*", False),
        ("Überprüfung", False),
        # Spelled alike, read otherwise by Hyperscan (PCRE): a class of vertical spaces,
        # a literal {,3}, a POSIX class; \S differs on the separators 0x1C-0x1F.
        (r"scan\v+done", False),
        (r"xa{,3}y", False),
        (r"[[:digit:]]x", False),
        (r"Client is \S+", False),
        (r"(?s)a.b", False),  # . takes a line feed
    ],
)
def test_only_patterns_a_line_scan_finds_as_re_does_are_counted_whole(pattern, countable):
    from knowledge.fastpath.patterns import single_line_pattern
    from knowledge.formats.cmtrace import OPEN

    assert single_line_pattern(pattern, OPEN) is countable


def _state_messages(count: int, start: datetime) -> list[Line]:
    """StateMessage.log lines: mostly routine successes (counted whole), some failures."""
    lines = []
    for n in range(count):
        when = start + timedelta(seconds=n)
        if n % 50 == 7:
            text = f"Failed to forward {n % 3} state messages to the MP, error 0x80072ee2"
            lines.append(Line(text, when, "StateMessage", 3))
        elif n % 3 == 0:
            lines.append(Line("Successfully raised Resync state message.", when, "StateMessage"))
        else:
            lines.append(
                Line("Successfully forwarded State Messages to the MP", when, "StateMessage")
            )
    return lines


def test_routine_successes_are_counted_whole_and_diagnosed_the_same(tmp_path, monkeypatch):
    """In 1 MiB buffers of ASCII records, routine successes are counted in compiled
    code; a non-ASCII buffer is read as before. Either way, and across the switch, the
    diagnosis equals the record parser's: a text in the attribute block, twice in one
    message, or on the second line of a record counts as `re` sees it."""
    from knowledge.fastpath import cmtrace_scan
    from knowledge.formats._shared import MAX_RECORD_LINES

    body = [cmtrace_record(line) for line in _state_messages(30_000, MORNING)]
    # A match in the file attribute, after the message: not in the message.
    body[5] = cmtrace_record(
        Line("Sending 2 messages", MORNING, "StateMessage"),
        source="Successfully forwarded State Messages to the MP.cpp:12",
    )
    body[6] = cmtrace_record(
        Line(
            "Successfully raised Resync state message. Successfully raised X state message",
            MORNING,
            "StateMessage",
        )
    )
    # A record of three lines, matching on two; one of more lines than a reader keeps,
    # matching only after them; a non-ASCII one (\w takes é).
    middle, long, late = 15_000, 20_001, 29_961  # each a "raised" line: n % 3 == 0
    body[middle] = body[middle].replace(
        "Successfully raised Resync",
        "Resent:\r\nSuccessfully raised A state message\r\nSuccessfully raised B",
    )
    many_lines = (
        "Resent:" + "\r\nx" * MAX_RECORD_LINES + "\r\nSuccessfully raised Z state message\r\nand"
    )
    body[long] = body[long].replace("Successfully raised Resync", many_lines)
    body[late] = body[late].replace("Resync", "Résync", 1)
    text = "".join(record + "\r\n" for record in body)
    assert len(text) > 3 * (1 << 20)
    path = tmp_path / "logs.zip"
    path.write_bytes(zip_bytes({"StateMessage.log": text}, bom=False))

    counted_buffers = []
    count_patterns = cmtrace_scan.count_patterns

    def counting(*args, **kwargs):
        counted = count_patterns(*args, **kwargs)
        counted_buffers.append(counted is not None)
        return counted

    monkeypatch.setattr(cmtrace_scan, "count_patterns", counting)
    fast, slow = _diagnosis_both_ways(path, monkeypatch)
    assert fast == slow
    assert any(counted_buffers) and not all(counted_buffers)  # the non-ASCII one is not
    # Every record but the failures, the one matching only in its attribute block and
    # the one matching only where a reader no longer keeps its lines.
    counts = {e["count"] for e in _evidence_of(fast, "report.state-messages-forwarded")}
    assert counts == {30_000 - 600 - 2}


def _evidence_of(found, signature: str) -> list[dict]:
    """Every evidence item of a dumped diagnosis that names `signature`."""
    if isinstance(found, dict):
        own = [found] if found.get("signature") == signature else []
        return own + [e for value in found.values() for e in _evidence_of(value, signature)]
    if isinstance(found, list):
        return [e for value in found for e in _evidence_of(value, signature)]
    return []


def test_findings_keep_the_order_of_reading_when_successes_are_counted_whole(tmp_path, monkeypatch):
    """A record that shows two successes of one stage ties them on time: the one the
    log showed first is the stage's evidence, also when one of them is counted a buffer
    at a time (its finding would otherwise come after the buffer's other hits)."""
    targeted = (
        "Update (Site_3C4D5E6F-7A8B-4C9D-8E0F-1A2B3C4D5E6F/SUM_5a6b7c8d-1e2f-4a3b-8c4d-"
        "5e6f7a8b9c0d) added to the targeted list of deployment ({8A9B0C1D-2E3F})"
    )
    lines = [
        Line("ASSIGNMENT_EVALUATE_SUCCESS", MORNING, "UpdatesDeploymentAgent"),
        Line(targeted + "; ASSIGNMENT_EVALUATE_SUCCESS", MORNING, "UpdatesDeploymentAgent"),
    ]
    path = tmp_path / "logs.zip"
    path.write_bytes(zip_bytes({"UpdatesDeployment.log": cmtrace_log(lines)}, bom=False))
    fast, slow = _diagnosis_both_ways(path, monkeypatch)
    assert fast == slow
    shown = [e["signature"] for e in fast["evidence"] if e["stage"] == "evaluate"]
    assert shown == ["evaluate.assignment-evaluated"]


def test_compiled_scanners_are_kept_between_runs_and_a_bad_cache_costs_only_a_compile(
    tmp_path, monkeypatch
):
    hyperscan = pytest.importorskip("hyperscan")
    from knowledge.fastpath import cache, scanners

    compiled = []

    class Counting(hyperscan.Database):
        def compile(self, **kwargs):
            compiled.append(kwargs["expressions"])
            return super().compile(**kwargs)

    monkeypatch.setattr(hyperscan, "Database", Counting)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    texts, patterns = ["search job"], [r"Found \d+ updates"]
    record = b"Found 3 updates in the search job\r\n"

    def found():
        scanner = scanners.TextScanner(texts, patterns)
        seen = []
        hits = scanner.scan(record, len(record), lambda index, stop: seen.append((index, stop)))
        return hits, seen

    first = found()
    assert first == ([(33, 0)], [(0, 15)]) and len(compiled) == 1
    assert found() == first and len(compiled) == 1  # loaded, not compiled again
    (kept,) = (tmp_path / "sccm-triage").iterdir()
    kept.write_bytes(b"not a database")
    assert found() == first and len(compiled) == 2
    assert kept.read_bytes() != b"not a database"  # replaced by a good one
    monkeypatch.setattr(cache, "CACHED_DATABASES", 1)
    texts = ["scan job"]  # another database: the cache keeps only the newest
    found()
    (newest,) = (tmp_path / "sccm-triage").iterdir()
    assert newest != kept and len(compiled) == 3
    texts = ["search job"]
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "a-file"))
    (tmp_path / "a-file").write_text("")  # the cache cannot be made: still scans
    assert found() == first and len(compiled) == 4


@pytest.mark.parametrize(
    "line",
    [
        "2022/03/10 09:41:17.2210938 2216  4410  Agent           Found 3 updates and 1 categories",
        "2022-03-10 09:41:17.2210938 2216  4410  ComApi          * END *   Search ClientId = X",
        "2022/03/10 09:41:17.2210938 2216  4410  Agent",
        "   Windows Update log, made by Get-WindowsUpdateLog   ",
        "2021/07/13 10:22:5 broken stamp: kept whole",
    ],
)
def test_a_windows_update_line_s_message_equals_its_entry_s(line):
    from knowledge.formats import wulog_etw
    from knowledge.formats._shared import Clock, ymd

    entry = wulog_etw.line_entry(line, "WindowsUpdate.log", 1, Clock(ymd))
    assert wulog_etw.line_message(line) == entry.message


@pytest.mark.parametrize(
    ("pattern", "filterable"),
    [
        (r"(?:80244011|8024001a)\b(?:(?<=with error = 0x[0-9a-f]{8})|(?<=Error = 0x\w{8}))", True),
        (r"Job error \((?!0x87d00692\))0x[0-9a-f]{8}\) received", True),
        (r"Failed to (?:send|post)\b[^\r\n]{0,60}?state messages?\b", True),
        (r"(?<=error\s)0x80244011", False),  # \s takes a line break
        (r"Failed[^.]*?0x8024", False),
        (r"^Scan failed", False),
        (r"Scan failed$", False),
        (r"(?i:scan) failed", False),
        (r"(\d)\1 failed", False),
        (r"Client is \S+ now", True),  # Hyperscan's \S takes more: only more to rule out
        (r"xa{,3}y", False),
        (r"scan\v+done", False),
        (r"(?x) Scan failed", False),
    ],
)
def test_only_patterns_whose_prefilter_finds_every_match_are_found_that_way(pattern, filterable):
    from knowledge.fastpath.patterns import filter_pattern

    assert filter_pattern(pattern) is filterable


def test_failures_found_by_their_prefiltered_patterns_are_diagnosed_the_same(tmp_path, monkeypatch):
    """In a buffer the counting scan reads, a failure is found by its own pattern,
    which Hyperscan loosens (lookarounds dropped): the lines it finds too many of are
    ruled out by `re`, and the diagnosis equals the record parser's."""
    from knowledge.kb import kb
    from knowledge.reading import collector

    wua_handler = kb().log_by_name("WUAHandler.log")
    rest = collector.signature_set(kb()).for_log(wua_handler).rest
    assert rest is not None and rest.scanner.filters
    lines = []
    for n in range(3000):
        when = MORNING + timedelta(seconds=n)
        if n % 100 == 5:  # only the loosened pattern of scan.failed-other-code finds these
            lines.append(
                Line(f"Update (Missing): KB50{n:05d} ({n:08x}8abc0000)", when, "WUAHandler")
            )
        elif n % 500 == 7:
            lines.append(Line("Scan failed with error = 0x80244011.", when, "WUAHandler", 3))
        elif n % 500 == 9:
            lines.append(Line("Scan failed with error = 0x80244010.", when, "WUAHandler", 3))
        else:
            lines.append(Line("Successfully completed scan.", when, "WUAHandler"))
    lines.append(Line("Scan failed with error = 0x8024001a.", lines[-1].when, "WUAHandler", 3))
    path = tmp_path / "logs.zip"
    path.write_bytes(zip_bytes({"WUAHandler.log": cmtrace_log(lines)}, bom=False))
    fast, slow = _diagnosis_both_ways(path, monkeypatch)
    assert fast == slow
    assert (fast["stage"], fast["cause"]) == ("scan", "scan.no_wsus_location")
    assert {e["count"] for e in _evidence_of(fast, "scan.no-wsus-location")} == {7}


def test_a_record_holding_a_second_close_is_read_record_by_record_not_refused(
    tmp_path, monkeypatch
):
    """A message that holds the text which closes a message makes the parser see two
    entries where the scan cut out one record: the file is read entry by entry."""
    lines = _state_messages(200, MORNING)
    # The last failure of its kind: its record is parsed, as the finding's last evidence.
    lines[190] = Line(
        "Failed to forward 2 state messages ]LOG]!> to the MP", lines[190].when, "StateMessage", 3
    )
    path = tmp_path / "logs.zip"
    path.write_bytes(zip_bytes({"StateMessage.log": cmtrace_log(lines)}, bom=False))
    fast, slow = _diagnosis_both_ways(path, monkeypatch)
    assert fast == slow


def test_signatures_that_compile_alone_but_not_together_are_found_by_their_texts(
    tmp_path, monkeypatch
):
    from knowledge.diagnosis import signatures
    from knowledge.kb import kb
    from knowledge.reading import collector

    real = fastpath.TextScanner

    def no_database_of_patterns(texts, patterns=(), filters=()):
        if patterns or filters:
            raise RuntimeError("Pattern is too large")  # as hyperscan.error would
        return real(texts)

    monkeypatch.setattr(fastpath, "TextScanner", no_database_of_patterns)
    matcher = signatures.SignatureSet(kb(), first_look=fastpath).for_log(
        kb().log_by_name("StateMessage.log")
    )
    assert matcher.rest is None and not matcher.counted
    monkeypatch.setattr(collector, "_SIGNATURE_SETS", {})
    path = tmp_path / "logs.zip"
    lines = _state_messages(300, MORNING)
    path.write_bytes(zip_bytes({"StateMessage.log": cmtrace_log(lines)}, bom=False))
    fast, slow = _diagnosis_both_ways(path, monkeypatch)
    assert fast == slow


def _code_evidence_upload(path: Path) -> None:
    """A client whose only signs of trouble are codes on lines that say they failed (issue
    12): in CMTrace Info records among routine ones, in a multi-line record, in CBS.log
    Info and Error lines, in a Windows 10 WindowsUpdate.log excerpt and in a pasted text."""
    from tests.logbuilder import zip_bytes
    from tests.scenarios import ERROR, Logs, healthy_until

    logs: Logs = healthy_until(3)
    for n in range(400):
        minute = 3 + n / 100
        logs.add("ScanAgent.log", minute, f"Routine message {n}, no error here (result 0x0)")
        if n % 50 == 0:
            logs.add("ScanAgent.log", minute, f"Sync failed {n}, hr=0x8024000E")
        if n % 70 == 0:
            logs.add("UpdatesStore.log", minute, "Failed to refresh state. Error = 0x87d00310.")
        if n % 90 == 0:
            logs.add("CAS.log", minute, "Download failed\nwith error 0x80190190 on retry", ERROR)
    logs.add("UpdatesDeployment.log", 9, "Action ended 17:56:36: InstallFinalize. Return value 3.")
    for n in range(30):
        logs.cbs.append(_cbs_line(logs, n))
    for n in range(40):
        logs.wu_etw(1 + n / 100, "Agent", f"Routine line {n}")
    logs.wu_etw(2, "DownloadManager", "Error 0x800706d9 occurred while downloading update")
    files = logs.files()
    files["excerpt.txt"] = "what I see:\nOnSearchComplete - search failed, hr = 8024000E\n"
    path.write_bytes(zip_bytes(files))


def _cbs_line(logs, n: int):
    from tests.logbuilder import Line

    message = (
        "Exec: Failed to commit CBS transaction. [HRESULT = 0x80071a91 - ERROR_RM_NOT_ACTIVE]"
        if n % 10 == 9
        else "Failed to internally open package. [HRESULT = 0x800f0805 - CBS_E_INVALID_PACKAGE]"
    )
    return Line(message, logs._at(n / 10), "CBS", 3 if n % 10 == 9 else 1)


def test_code_evidence_is_the_same_both_ways(tmp_path, monkeypatch):
    path = tmp_path / "codes.zip"
    _code_evidence_upload(path)
    fast, slow = _diagnosis_both_ways(path, monkeypatch)
    signatures = {e["signature"] for e in fast["evidence"]}
    assert any(s.startswith("code:") for s in signatures), signatures
    assert fast == slow


def test_code_evidence_is_the_same_without_hyperscan(tmp_path, monkeypatch):
    from knowledge.api import diagnose_path
    from knowledge.fastpath import scanners
    from knowledge.reading import collector

    path = tmp_path / "codes.zip"
    _code_evidence_upload(path)
    with_hyperscan = diagnose_path(path).model_dump()
    monkeypatch.setattr(scanners, "_hyperscan_database", lambda *_args, **_kwargs: None)
    monkeypatch.setattr(collector, "_SIGNATURE_SETS", {})
    assert diagnose_path(path).model_dump() == with_hyperscan


def test_the_pattern_analysis_is_kept_between_runs_and_a_bad_file_is_analysed_again(
    tmp_path, monkeypatch
):
    from knowledge.fastpath import patterns as prefilter

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(prefilter, "_analysis", None)
    monkeypatch.setattr(prefilter, "_analysis_changed", False)
    pattern = r"Failed to download update \(([0-9a-f-]{36})\)"
    expected = prefilter._required_literals(pattern)
    assert expected and prefilter.required_literals(pattern) == expected
    prefilter.keep_analysis()
    (kept,) = (tmp_path / "sccm-triage").glob("analysis-*.json")

    def refuse(*_args):
        raise AssertionError("analysed again although the answer was kept")

    # a new process: the table is read back from the file, nothing is parsed
    monkeypatch.setattr(prefilter, "_analysis", None)
    monkeypatch.setattr(prefilter, "required_literals", prefilter._kept("literals", refuse))
    assert prefilter.required_literals(pattern) == expected

    kept.write_text("{not json")
    monkeypatch.setattr(prefilter, "_analysis", None)
    again = prefilter._kept("literals", prefilter._required_literals)
    assert again(pattern) == expected
    prefilter.keep_analysis()
    assert "literals" in kept.read_text()  # replaced by a good one
