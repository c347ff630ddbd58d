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
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from typing import BinaryIO, Protocol

from ..decoding import MAX_LINE, decode_bytes
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
    # With a finder: the records it found, parsed, with their line numbers, in file order.
    candidates: list[Entry] = field(default_factory=list)
    local: bool = False  # the times have no zone: the reader may lend one


class Finder(Protocol):
    """A compiled multi-text search over bytes (re2, or re for tests)."""

    def search(self, data: bytes, pos: int, endpos: int): ...


def fast_facts(
    binary: BinaryIO, path: str, encoding: str, finder: Finder | None = None
) -> FileFacts | None:
    """The facts of one CMTrace file, or None when it must be read record by record.

    With `finder`, also every record in which it finds a match (the candidates a
    diagnosis must look at), or None when there are more than MAX_CANDIDATES.
    """
    if not encoding.startswith("utf-8"):
        return None
    return _Scan(path, finder).run(binary)


# Candidates are held until the file is known to be regular; past this many the file
# takes the record-by-record path, so memory stays bounded.
MAX_CANDIDATES = 20_000


class _Scan:
    def __init__(self, path: str, finder: Finder | None):
        self.path = path
        self.finder = finder
        self.opens = self.chains = self.types = self.errors = self.warnings = 0
        self.chain = _CHAIN_CRLF
        self.head: bytes | None = None  # the first record, once the first buffer is read
        self.bias = b""  # `+300" date="`: the first record's bias, which every record must have
        self.biased = 0
        self.tail = b""  # the last record so far
        self.lines = 0  # line breaks before the current buffer (candidates' line numbers)
        self.candidates: list[Entry] = []

    def run(self, binary: BinaryIO) -> FileFacts | None:
        carry = binary.read(_CHUNK)
        if carry.startswith(_BOM):
            carry = carry[len(_BOM) :]
        if not carry.startswith(_OPEN):
            return None
        first_break = carry.find(b"\n")
        if first_break > 0 and carry[first_break - 1 : first_break] != b"\r":
            self.chain = _CHAIN_LF
        for chunk in iter(lambda: binary.read(_CHUNK), b""):
            buffer = carry + chunk
            # Whole records only: up to the last record that opens a line, so neither a
            # pattern nor a record straddles two buffers.
            cut = buffer.rfind(b"\n" + _OPEN)
            if cut < 0:
                if len(buffer) > _MAX_TAIL:
                    return None
                carry = buffer
                continue
            if not self._count(buffer, cut + 1):
                return None
            carry = buffer[cut + 1 :]
        if not self._count(carry, len(carry)):
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
        self.opens += buffer.count(_OPEN, 0, end)
        self.chains += buffer.count(self.chain, 0, end + len(_OPEN))
        self.types += buffer.count(_TYPE, 0, end)
        self.errors += buffer.count(_ERROR, 0, end)
        self.warnings += buffer.count(_WARNING, 0, end)
        if self.head is None:
            self.head = _first_record(buffer, end)
            match = _BIAS.match(self.head or buffer)
            if match is None:
                return False
            self.bias = match.group(1) + b'" date="'
        self.biased += buffer.count(self.bias, 0, end)
        last = buffer.rfind(b"\n" + _OPEN, 0, end) + 1  # 0: the buffer's own first record
        self.tail = buffer[last:end]
        return self.finder is None or self._find(buffer, end)

    def _find(self, buffer: bytes, end: int) -> bool:
        """Parses every record of buffer[:end] in which the finder matches."""
        # Line numbers follow the text reader, for which a lone CR also ends a line.
        returns = buffer.count(b"\r", 0, end)
        if returns and returns != buffer.count(b"\r\n", 0, end):
            return False
        search = self.finder.search
        spans: list[bytes] = []
        lines: list[int] = []  # the line each found record starts on
        counted = 0  # line breaks are counted up to here
        pos = 0
        while pos < end:
            found = search(buffer, pos, end)
            if found is None:
                break
            hit = found.start()
            start = buffer.rfind(b"\n" + _OPEN, 0, hit + 1) + 1
            stop = buffer.find(b"\n" + _OPEN, hit, end) + 1 or end
            self.lines += buffer.count(b"\n", counted, start)
            counted = start
            spans.append(buffer[start:stop])
            lines.append(self.lines + 1)
            pos = stop
        self.lines += buffer.count(b"\n", counted, end)
        if not spans:
            return True
        if len(self.candidates) + len(spans) > MAX_CANDIDATES:
            return False
        # Whole records one after another are CMTrace text too: one parse for them all.
        text = io.StringIO(decode_bytes(b"".join(spans)), newline="")
        entries = list(cmtrace.parse(text, self.path))
        if len(entries) != len(spans):
            return False
        for entry, line in zip(entries, lines, strict=True):
            entry.line = line
        self.candidates += entries
        return True

    def _facts(self) -> FileFacts | None:
        if (
            self.chains != self.opens - 1
            or self.types != self.opens
            or not self.tail.rstrip(_BLANK).endswith(b'">')
        ):
            return None
        if self.biased != self.opens:  # some records have another bias, or none
            return None
        first, last = _only_entry(self.head, self.path), _only_entry(self.tail, self.path)
        if first is None or last is None or not first.is_utc or not last.is_utc:
            return None
        return FileFacts(
            self.opens, self.errors, self.warnings, first, last, self.opens, self.candidates
        )


def _first_record(buffer: bytes, end: int) -> bytes:
    following = buffer.find(b"\n" + _OPEN, 0, end)
    return buffer[: following + 1] if following >= 0 else buffer[:end]


def _only_entry(record: bytes, path: str) -> Entry | None:
    text = decode_bytes(record)
    entries = list(cmtrace.parse(io.StringIO(text, newline=""), path))
    return entries[0] if len(entries) == 1 else None
