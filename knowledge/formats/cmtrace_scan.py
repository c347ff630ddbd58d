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
from dataclasses import dataclass
from typing import BinaryIO

from ..decoding import MAX_LINE, decode_bytes
from ..models import Entry
from . import cmtrace

_CHUNK = 1 << 20
_BOM = b"\xef\xbb\xbf"
_OPEN = cmtrace.OPEN.encode()
_CHAIN_CRLF = b'">\r\n' + _OPEN  # one record's attribute block ends, the next record opens
_CHAIN_LF = b'">\n' + _OPEN
_TYPE = b'" type="'
_ERROR = b'" type="3" thread="'
_WARNING = b'" type="2" thread="'
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
    first: Entry
    last: Entry
    zoned: int  # records whose time carries a bias (all of them on this path)


def fast_facts(binary: BinaryIO, path: str, encoding: str) -> FileFacts | None:
    """The facts of one CMTrace file, or None when it must be read record by record."""
    if not encoding.startswith("utf-8"):
        return None
    scan = _Scan(path)
    return scan.run(binary)


class _Scan:
    def __init__(self, path: str):
        self.path = path
        self.opens = self.chains = self.types = self.errors = self.warnings = 0
        self.chain = _CHAIN_CRLF
        self.head: bytes | None = None  # the first record, once the first buffer is read
        self.bias = b""  # `+300" date="`: the first record's bias, which every record must have
        self.biased = 0
        self.tail = b""  # the last record so far

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
            # Count up to the last line break that has a whole `<![LOG[` after it, so a
            # pattern never straddles two buffers.
            cut = buffer.rfind(b"\n", 0, len(buffer) - len(_OPEN))
            if cut < 0:
                if len(buffer) > MAX_LINE:
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
        """Counts the patterns in buffer[:end] (whole lines); False if a line is too long."""
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
        # A buffer starts at a line start, so a record may open at 0 as well as after "\n".
        last = buffer.rfind(b"\n" + _OPEN, 0, end) + 1
        if last > 0 or buffer.startswith(_OPEN):
            self.tail = buffer[last:end]
        else:
            self.tail += buffer[:end]
            if len(self.tail) > _MAX_TAIL:
                return False
        return True

    def _facts(self) -> FileFacts | None:
        if (
            self.chains != self.opens - 1
            or self.types != self.opens
            or not self.tail.rstrip(_BLANK).endswith(b'">')
        ):
            return None
        if not self.head:
            if self.opens != 1:  # the first record did not end inside the first buffer
                return None
            self.head = self.tail
        if self.biased != self.opens:  # some records have another bias, or none
            return None
        first, last = _only_entry(self.head, self.path), _only_entry(self.tail, self.path)
        if first is None or last is None or not first.is_utc or not last.is_utc:
            return None
        return FileFacts(self.opens, self.errors, self.warnings, first, last, self.opens)


def _first_record(buffer: bytes, end: int) -> bytes:
    following = buffer.find(b"\n" + _OPEN, 0, end)
    return buffer[: following + 1] if following >= 0 else b""


def _only_entry(record: bytes, path: str) -> Entry | None:
    text = decode_bytes(record)
    entries = list(cmtrace.parse(io.StringIO(text, newline=""), path))
    return entries[0] if len(entries) == 1 else None
