"""Per-file facts of a CMTrace log from its bytes, without building an entry per record.

`sccm logs` wants, per file, the record count, the error and warning counts, the time of
the first and the last record and whether the times carry a zone. For a CMTrace file
written the usual way those follow from counting byte patterns in the decompressed
data (UTF-8 and Windows-1252 are ASCII-compatible, so the markup reads the same in
bytes) and from parsing two records: the first and the last.

"The usual way" is checked, not assumed: every record starts a line and the line before
it ends its attribute block (`">` then the line end), each record has a `type=`
attribute, every time carries a bias, and no line is longer than the text reader's
line limit. A file that fails any check returns None, and the caller reads it record
by record with `cmtrace.parse`, which is the reference: the facts here equal what that
parser yields for the same file (tests/test_fast_facts.py compares the two).

A diagnosis reads such a file once with `CmtraceScan`: while the facts are counted, one
scan of each buffer (`prefilter.TextScanner`: the signatures' required texts and the
error type) finds the records worth reading. They come out as `Hit`s, raw bytes with
their line number, and are parsed only as far as the diagnosis needs: the message to
match, the time to order, a whole entry for the few that become evidence.
"""

from __future__ import annotations

import bisect
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO, TextIO

from knowledge.fastpath.scanners import LiteralCounter, NotUsual, TextScanner
from knowledge.formats import cmtrace
from knowledge.formats._shared import MAX_RECORD_CHARS, MAX_RECORD_LINES
from knowledge.formats.decoding import MAX_LINE, decode_bytes
from knowledge.models import ERROR, Entry

_CHUNK = 1 << 20
_BOM = b"\xef\xbb\xbf"
_OPEN = cmtrace.OPEN.encode()
_CLOSE = cmtrace.CLOSE.encode()
_CHAIN_CRLF = b'">\r\n' + _OPEN  # one record's attribute block ends, the next record opens
_CHAIN_LF = b'">\n' + _OPEN
# Once every record is known to hold exactly one `" type="` (checked), these count
# the records of each type wherever the writer put the attribute.
_TYPE = b'" type="'
_ERROR = b'" type="3"'
_WARNING = b'" type="2"'
# The text that marks an error record, for a scanner (errors are read too: a known
# error code that no signature explains still counts).
ERROR_TEXT = _ERROR.decode()
# Errors and warnings are a few per cent of records: counted in one pass.
_SEVERITIES = LiteralCounter([_ERROR, _WARNING])
_BLANK = b" \t\r\n"
# The last record of a file is kept (as bytes) to read its time; a multi-line record
# longer than this is damage, and such a file takes the record-by-record path.
_MAX_TAIL = 4 << 20
_BIAS = re.compile(rb'<!\[LOG\[.*?\]LOG\]!><time="[^"]*?([+-]\d+)" date="', re.DOTALL)


@dataclass
class FileFacts:
    entries: int
    errors: int
    warnings: int
    first: Entry | None  # the first timed entry
    last: Entry | None  # the last timed entry
    zoned: int  # records whose time carries a zone (on this path: all or none of them)
    local: bool = False  # the times have no zone: the reader may lend one


@dataclass(slots=True)
class Hit:
    """A record (or line) in which a scanner found a wanted text; parsed only on demand."""

    raw: bytes
    line: int  # where it starts, 1-based
    texts: set[int] | None  # the scanner's texts inside its message; None: not known
    error: bool | None  # the error type is in its attribute block; None: not known
    close: int = -1  # where in `raw` the message ends (a CMTrace record's `]LOG]!>`)
    entry: Entry | None = None  # once parsed


@dataclass(slots=True)
class Counted:
    """How many records of one buffer a whole pattern matched, and the first and last."""

    pattern: int  # its index in the counting scanner's patterns
    count: int
    first: Hit
    last: Hit


@dataclass(slots=True)
class Batch:
    """What a scan found in one buffer.

    `counted` is None when the buffer was scanned for texts only. Otherwise the
    counting scanner also counted its whole patterns there, and the hits' `texts` are
    indices of that scanner's texts.
    """

    hits: list[Hit]
    counted: list[Counted] | None = None


class NotFast(Exception):
    """The file is not written the usual way: it must be read record by record."""


def fast_facts(binary: BinaryIO, path: str, encoding: str, exact_lines: bool) -> FileFacts | None:
    """The facts of one CMTrace file, or None when it must be read record by record.

    `exact_lines` also requires that line breaks are what `scan` counts (no lone CR,
    which the text reader takes for a line break): a diagnosis cites line numbers.
    """
    if not encoding.startswith("utf-8"):
        return None
    try:
        scan = _Scan(path, exact_lines)
        for buffer, end in _regions(binary):
            scan.count(buffer, end)
        return scan.facts()
    except NotUsual:
        return None


class CmtraceScan:
    """One pass over a CMTrace file: the records holding wanted texts, then the facts.

    `hits()` yields, buffer by buffer, the records in which `scanner` finds a text (or
    the error type); once it is exhausted, `facts` holds the file's facts. Either may
    find that the file is not written the usual way and raise `NotFast`: the caller
    then drops what it took from the hits and reads the file record by record.
    """

    boundary = b"\n" + _OPEN  # a record starts after the line break of this

    def __init__(
        self,
        binary: BinaryIO,
        path: str,
        scanner: TextScanner,
        counting: TextScanner | None = None,
    ):
        self.binary = binary
        self.path = path
        self.scanner = scanner
        # Where a buffer is ASCII, `counting` (its own texts, filters and whole patterns,
        # see `count_patterns`) scans it instead of `scanner`.
        self.counting = counting
        self.facts: FileFacts | None = None
        self._clock = cmtrace.RecordClock()

    def hits(self) -> Iterator[Batch]:
        # Line numbers must be exact: lone CRs are looked for by the scanner where it
        # can, else by counting.
        scan = _Scan(self.path, exact_lines=not self.scanner.checks_line_breaks)
        lines = 0
        try:
            for buffer, end in _regions(self.binary):
                scan.count(buffer, end)
                counted = None
                if self.counting is not None:
                    counted = count_patterns(buffer, end, self.counting, lines)
                if counted is not None:
                    batch, lines = counted
                else:
                    found, lines = records_with_texts(
                        buffer,
                        end,
                        self.scanner,
                        lines,
                        self.boundary,
                        _CLOSE,
                        _error_index(self.scanner),
                    )
                    batch = Batch(found)
                if batch.hits or batch.counted:
                    yield batch
            self.facts = scan.facts()
        except NotUsual:
            raise NotFast(self.path) from None
        if self.facts is None:
            raise NotFast(self.path)

    def message(self, hit: Hit) -> str:
        """The text of a hit record, as the record parser gives it (one line or many)."""
        raw = hit.raw
        message = raw[len(_OPEN) : hit.close if hit.close >= 0 else len(raw)]
        if b"\n" in message:  # multi-line: the parser's own joining and caps apply
            return self.entry(hit).message
        return decode_bytes(message)

    def time(self, hit: Hit) -> datetime | None:
        """The time of a hit record, read from its attribute block alone when it has
        the usual shape (the same reading `cmtrace.parse` makes of it)."""
        if hit.entry is None:
            fields = hit.raw.rsplit(b'"', 14)
            if len(fields) == 15 and fields[2] == b" date=" and fields[0].endswith(b"<time="):
                return self._clock(decode_bytes(fields[1]), decode_bytes(fields[3]))
        return self.entry(hit).time

    def is_error(self, hit: Hit) -> bool:
        return hit.error if hit.error is not None else self.entry(hit).severity == ERROR

    def entry(self, hit: Hit) -> Entry:
        if hit.entry is None and hit.raw.count(b"\n", 0, -1) == 0:
            # One line, as the text reader gives it: read the usual record directly.
            line = decode_bytes(hit.raw).rstrip("\r\n")
            hit.entry = cmtrace.usual_entry(line, self.path, hit.line, self._clock)
        return parse_hit(hit, cmtrace.parse, self.path)


def _regions(binary: BinaryIO) -> Iterator[tuple[bytes, int]]:
    """(buffer, end): buffer[:end] is whole records, the first opening at 0."""
    carry = binary.read(_CHUNK)
    if carry.startswith(_BOM):
        carry = carry[len(_BOM) :]
    if not carry.startswith(_OPEN):
        raise NotUsual
    for chunk in iter(lambda: binary.read(_CHUNK), b""):
        buffer = carry + chunk
        # Up to the last record that opens a line, so that neither a pattern nor a
        # record straddles two buffers.
        cut = buffer.rfind(b"\n" + _OPEN)
        if cut < 0:
            if len(buffer) > _MAX_TAIL:
                raise NotUsual
            carry = buffer
            continue
        yield buffer, cut + 1
        carry = buffer[cut + 1 :]
    yield carry, len(carry)


class _Scan:
    def __init__(self, path: str, exact_lines: bool):
        self.path = path
        self.exact_lines = exact_lines
        self.opens = self.chains = self.types = self.errors = self.warnings = 0
        self.chain = b""
        self.head: bytes | None = None  # the first record, once the first buffer is read
        self.bias = b""  # `+300" date="`: the first record's bias, which every record must have
        self.biased = 0
        self.tail = b""  # the last record so far

    def count(self, buffer: bytes, end: int) -> None:
        """Counts the patterns in buffer[:end] (whole records); NotUsual if the file is odd."""
        start = 0
        while end - start > MAX_LINE:  # bytes >= characters, so this never misses a long line
            found = buffer.rfind(b"\n", start, start + MAX_LINE)
            if found < 0:
                raise NotUsual
            start = found + 1
        if self.exact_lines:
            returns = buffer.count(b"\r", 0, end)
            if returns and returns != buffer.count(b"\r\n", 0, end):
                raise NotUsual
        if self.head is None:
            self.head = _first_record(buffer, end)
            match = _BIAS.match(self.head)
            if match is None:
                raise NotUsual
            self.bias = match.group(1) + b'" date="'
            first_break = buffer.find(b"\n", 0, end)
            crlf = first_break <= 0 or buffer[first_break - 1 : first_break] == b"\r"
            self.chain = _CHAIN_CRLF if crlf else _CHAIN_LF
        self.opens += buffer.count(_OPEN, 0, end)
        self.chains += buffer.count(self.chain, 0, end + len(_OPEN))
        self.types += buffer.count(_TYPE, 0, end)
        errors, warnings = _SEVERITIES.count(buffer, end)
        self.errors += errors
        self.warnings += warnings
        self.biased += buffer.count(self.bias, 0, end)
        last = buffer.rfind(b"\n" + _OPEN, 0, end) + 1  # 0: the buffer's own first record
        self.tail = buffer[last:end]

    def facts(self) -> FileFacts | None:
        if (
            self.chains != self.opens - 1
            or self.types != self.opens
            or self.biased != self.opens  # some records have another bias, or none
            or not self.tail.rstrip(_BLANK).endswith(b'">')
        ):
            return None
        first, last = _only_entry(self.head, self.path), _only_entry(self.tail, self.path)
        if first is None or last is None or not first.is_utc or not last.is_utc:
            return None
        return FileFacts(self.opens, self.errors, self.warnings, first, last, self.opens)


def _first_record(buffer: bytes, end: int) -> bytes:
    following = buffer.find(b"\n" + _OPEN, 0, end)
    return buffer[: following + 1] if following >= 0 else buffer[:end]


def _only_entry(record: bytes, path: str) -> Entry | None:
    text = decode_bytes(record)
    entries = list(cmtrace.parse(io.StringIO(text, newline=""), path))
    return entries[0] if len(entries) == 1 else None


def records_with_texts(
    buffer: bytes,
    end: int,
    scanner: TextScanner,
    lines: int,
    boundary: bytes,
    close: bytes | None,
    error_index: int | None,
    on_pattern=None,
    anchors: list[tuple[int, int]] | None = None,
) -> tuple[list[Hit], int]:
    """The units of buffer[:end] in which `scanner` finds a text, and the line count.

    A unit (a record, or a line) starts after the line break that `boundary` begins
    with and runs to the next one; `lines` is the number of line breaks before the
    buffer, and the count after it is returned with the hits. Texts found after
    `close` (a CMTrace attribute block) are not in the message: only the error type
    counts there. `on_pattern` goes to the scanner, for its whole patterns; `anchors`,
    if given, gets (start offset, line) of every unit found.
    """
    hits: list[Hit] = []
    counted = 0  # line breaks are counted up to here
    unit_end = -1
    message_end = 0
    current: Hit | None = None
    exact = scanner.exact
    found = scanner.scan(buffer, end, on_pattern)
    found.sort()  # Hyperscan does not promise to report matches in order
    for stop, index in found:
        if stop > unit_end:
            start = buffer.rfind(boundary, 0, stop) + 1
            unit_end = buffer.find(boundary, stop, end) + 1 or end
            lines += buffer.count(b"\n", counted, start)
            counted = start
            found = buffer.find(close, start, unit_end) if close else -1
            message_end = found if found >= 0 else unit_end
            current = Hit(
                buffer[start:unit_end],
                lines + 1,
                set() if exact else None,
                False if exact else None,
                found - start if found >= 0 else -1,
            )
            hits.append(current)
            if anchors is not None:
                anchors.append((start, lines + 1))
        if index < 0:
            continue
        if index == error_index:
            if stop > message_end:
                current.error = True
        elif stop <= message_end:
            current.texts.add(index)
    lines += buffer.count(b"\n", counted, end)
    if exact:
        hits = [hit for hit in hits if hit.texts or hit.error]
    return hits, lines


def _error_index(scanner: TextScanner) -> int | None:
    return scanner.texts.index(ERROR_TEXT) if ERROR_TEXT in scanner.texts else None


# A record spanning fewer characters than this has fewer lines than a reader keeps of
# one, and a shorter message than it keeps: every line of its message is in the text.
_WHOLE_RECORD = min(MAX_RECORD_LINES, MAX_RECORD_CHARS)


class _Unsure(Exception):
    """A match the counting scan cannot place for sure: the buffer is read as before."""


def count_patterns(
    buffer: bytes, end: int, scanner: TextScanner, lines: int
) -> tuple[Batch, int] | None:
    """One scan of buffer[:end] for `scanner`'s texts and its whole patterns, and the
    line count after it; None when the buffer must be scanned for texts alone (it is
    not ASCII, or a match is in a record too long to be sure of).

    A pattern counts once per record whose message holds a match of it, as `re.search`
    on the record's message would find (`prefilter.single_line_pattern` makes sure of
    that for a match inside one line of the message); a match that ends after the
    message's close is in the attribute block and does not count. Only the first and
    last such record of the buffer are cut out, as hits.
    """
    if not buffer.isascii():  # (the part after `end` too: a copy would cost more)
        return None  # `re` reads \w, case and lengths of non-ASCII text its own way
    patterns = len(scanner.patterns)
    # The records each pattern was counted in (a set: matches may come out of order).
    seen: list[set[int]] = [set() for _ in range(patterns)]
    rfind, find, opens_at = buffer.rfind, buffer.find, buffer.startswith
    boundary = CmtraceScan.boundary
    reach = len(_CLOSE) - 1  # a close that starts before a match's end overlaps it

    def on_pattern(index: int, stop: int) -> None:
        start = rfind(b"\n", 0, stop) + 1
        if not opens_at(_OPEN, start):  # a later line of a record of several
            start = rfind(boundary, 0, stop) + 1
            if stop - start >= _WHOLE_RECORD:
                raise _Unsure
        if start not in seen[index] and find(_CLOSE, start, stop + reach) < 0:
            seen[index].add(start)

    anchors: list[tuple[int, int]] = []
    try:
        found, after = records_with_texts(
            buffer,
            end,
            scanner,
            lines,
            boundary,
            _CLOSE,
            _error_index(scanner),
            on_pattern,
            anchors,
        )
    except _Unsure:
        return None
    ends = [(i, min(records), max(records)) for i, records in enumerate(seen) if records]
    starts = sorted({offset for _, first, last in ends for offset in (first, last)})
    at = _record_hits(buffer, end, starts, anchors, lines)
    counted = [Counted(i, len(seen[i]), at[first], at[last]) for i, first, last in ends]
    return Batch(found, counted), after


def _record_hits(
    buffer: bytes, end: int, starts: list[int], anchors: list[tuple[int, int]], lines: int
) -> dict[int, Hit]:
    """A hit for each record starting at one of `starts` (in order); its line is
    counted from the nearest hit before it (`anchors`: (start, line) of each, in order)."""
    hits = {}
    for start in starts:
        at = bisect.bisect_right(anchors, start, key=lambda anchor: anchor[0]) - 1
        counted, line = anchors[at] if at >= 0 else (0, lines + 1)
        line += buffer.count(b"\n", counted, start)
        stop = buffer.find(CmtraceScan.boundary, start, end) + 1 or end
        close = buffer.find(_CLOSE, start, stop)
        close = close - start if close >= 0 else -1
        hits[start] = Hit(buffer[start:stop], line, None, None, close)
    return hits


def parse_hit(hit: Hit, parse: Callable[[TextIO, str], Iterator[Entry]], path: str) -> Entry:
    """The entry of a hit, parsed once by its format's parser, with its line number."""
    if hit.entry is None:
        entries = list(parse(io.StringIO(decode_bytes(hit.raw), newline=""), path))
        if len(entries) != 1:  # not one record written the usual way, after all
            raise NotFast(path)
        entries[0].line = hit.line
        hit.entry = entries[0]
    return hit.entry
