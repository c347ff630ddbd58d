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

A diagnosis then reads such a file a second time with `candidates`: one search over
each buffer (re2: the signatures' required texts and the error type, ignoring case)
finds the records worth parsing; those are parsed together, and their line numbers
come from counting line breaks between them.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, Protocol, TextIO

from ..decoding import MAX_LINE, decode_bytes
from ..errors import InputError
from ..models import Entry
from . import cmtrace

_CHUNK = 1 << 20
_BOM = b"\xef\xbb\xbf"
_OPEN = cmtrace.OPEN.encode()
_CHAIN_CRLF = b'">\r\n' + _OPEN  # one record's attribute block ends, the next record opens
_CHAIN_LF = b'">\n' + _OPEN
# Once every record is known to hold exactly one `" type="` (checked), these count
# the records of each type wherever the writer put the attribute.
_TYPE = b'" type="'
_ERROR = b'" type="3"'
_WARNING = b'" type="2"'
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


class Finder(Protocol):
    """A compiled multi-text search over bytes (re2, or re for tests)."""

    def search(self, data: bytes, pos: int, endpos: int): ...


class _Odd(Exception):
    """The file is not written the usual way: it must be read record by record."""


def fast_facts(binary: BinaryIO, path: str, encoding: str, exact_lines: bool) -> FileFacts | None:
    """The facts of one CMTrace file, or None when it must be read record by record.

    `exact_lines` also requires that line breaks are what `candidates` counts (no lone
    CR, which the text reader takes for a line break): a diagnosis cites line numbers.
    """
    if not encoding.startswith("utf-8"):
        return None
    try:
        return _Scan(path, exact_lines).run(binary)
    except _Odd:
        return None


def candidates(binary: BinaryIO, path: str, finder: Finder) -> Iterator[Entry]:
    """The records of a file in which `finder` matches, parsed, with their line numbers.

    Only for a file that `fast_facts` accepted with exact_lines: its checks are what
    make these the same entries the record parser yields for those records.
    """
    # Whole records one after another are CMTrace text too: one parse for them all.
    return parse_hits(_regions(binary), finder, b"\n" + _OPEN, cmtrace.parse, path)


def parse_hits(
    regions: Iterator[tuple[bytes, int]],
    finder: Finder,
    boundary: bytes,
    parse: Callable[[TextIO, str], Iterator[Entry]],
    path: str,
) -> Iterator[Entry]:
    """Parse only the units (records or lines) of each region in which `finder` matches.

    A unit starts after `boundary`'s first byte (a line break) and runs to the next one;
    the found units, one after another, are still text of the same format, so one call
    of the format's parser reads them all and their line numbers come from counting
    line breaks between them.
    """
    lines = 0  # line breaks before the current region
    for buffer, end in regions:
        units: list[bytes] = []
        starts: list[int] = []  # the line each found unit starts on
        counted = 0  # line breaks are counted up to here
        pos = 0
        while pos < end:
            found = finder.search(buffer, pos, end)
            if found is None:
                break
            hit = found.start()
            start = buffer.rfind(boundary, 0, hit + 1) + 1
            stop = buffer.find(boundary, hit, end) + 1 or end
            lines += buffer.count(b"\n", counted, start)
            counted = start
            units.append(buffer[start:stop])
            starts.append(lines + 1)
            pos = stop
        lines += buffer.count(b"\n", counted, end)
        if not units:
            continue
        entries = list(parse(io.StringIO(decode_bytes(b"".join(units)), newline=""), path))
        if len(entries) != len(units):
            raise InputError(f"{path} changed while it was being read; send it again")
        for entry, line in zip(entries, starts, strict=True):
            entry.line = line
        yield from entries


def _regions(binary: BinaryIO) -> Iterator[tuple[bytes, int]]:
    """(buffer, end): buffer[:end] is whole records, the first opening at 0."""
    carry = binary.read(_CHUNK)
    if carry.startswith(_BOM):
        carry = carry[len(_BOM) :]
    if not carry.startswith(_OPEN):
        raise _Odd
    for chunk in iter(lambda: binary.read(_CHUNK), b""):
        buffer = carry + chunk
        # Up to the last record that opens a line, so that neither a pattern nor a
        # record straddles two buffers.
        cut = buffer.rfind(b"\n" + _OPEN)
        if cut < 0:
            if len(buffer) > _MAX_TAIL:
                raise _Odd
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

    def run(self, binary: BinaryIO) -> FileFacts | None:
        for buffer, end in _regions(binary):
            if not self._count(buffer, end):
                return None
        return self._facts()

    def _count(self, buffer: bytes, end: int) -> bool:
        """Counts the patterns in buffer[:end] (whole records); False if the file is odd."""
        start = 0
        while end - start > MAX_LINE:  # bytes >= characters, so this never misses a long line
            found = buffer.rfind(b"\n", start, start + MAX_LINE)
            if found < 0:
                return False
            start = found + 1
        if self.exact_lines:
            returns = buffer.count(b"\r", 0, end)
            if returns and returns != buffer.count(b"\r\n", 0, end):
                return False
        if self.head is None:
            self.head = _first_record(buffer, end)
            match = _BIAS.match(self.head)
            if match is None:
                return False
            self.bias = match.group(1) + b'" date="'
            first_break = buffer.find(b"\n", 0, end)
            crlf = first_break <= 0 or buffer[first_break - 1 : first_break] == b"\r"
            self.chain = _CHAIN_CRLF if crlf else _CHAIN_LF
        self.opens += buffer.count(_OPEN, 0, end)
        self.chains += buffer.count(self.chain, 0, end + len(_OPEN))
        self.types += buffer.count(_TYPE, 0, end)
        self.errors += buffer.count(_ERROR, 0, end)
        self.warnings += buffer.count(_WARNING, 0, end)
        self.biased += buffer.count(self.bias, 0, end)
        last = buffer.rfind(b"\n" + _OPEN, 0, end) + 1  # 0: the buffer's own first record
        self.tail = buffer[last:end]
        return True

    def _facts(self) -> FileFacts | None:
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
