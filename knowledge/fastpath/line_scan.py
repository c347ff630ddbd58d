"""Per-file facts of a one-entry-per-line log (Windows 10 WindowsUpdate.log) from its bytes.

In wulog-etw every non-blank line is one entry, timed when it has the ETW row shape,
a warning when it says `*FAILED*`, never an error, and never with a zone. So the facts
are a count of non-blank lines, a count of the lines that say `*FAILED*`, and the first
and last timed lines, parsed with `wulog_etw.parse`, the reference this must agree with.
A line longer than the text reader's limit or a lone CR (a line break for the text
reader) sends the file back to that parser (None).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime
from typing import BinaryIO

from knowledge.fastpath.cmtrace_scan import (
    Batch,
    FileFacts,
    Hit,
    NotFast,
    parse_hit,
    records_with_texts,
)
from knowledge.fastpath.scanners import NotUsual, TextScanner
from knowledge.formats import wulog_etw
from knowledge.formats._shared import Clock, ymd
from knowledge.formats.decoding import MAX_LINE, decode_bytes
from knowledge.models import Entry

_CHUNK = 1 << 20
_BOM = b"\xef\xbb\xbf"
# What str.strip() removes among ASCII characters; other whitespace is checked decoded.
ASCII_SPACE = b" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"
_FAILED = b"*FAILED*"


def fast_facts(binary: BinaryIO, path: str, encoding: str, exact_lines: bool) -> FileFacts | None:
    """The facts of one wulog-etw file, or None when it must be read line by line.

    Line breaks are always exact here (a lone CR would change the entry count), so
    `exact_lines` asks nothing more.
    """
    del exact_lines
    return facts_of_lines(_Count(path), binary, encoding)


def facts_of_lines(count, binary: BinaryIO, encoding: str) -> FileFacts | None:
    """Feeds a file, in buffers of whole lines, to a counter (`add(buffer, end)`, then
    `facts()`); None when the file is not UTF-8 or not written the usual way."""
    if not encoding.startswith("utf-8"):
        return None
    try:
        for buffer, end in line_regions(binary):
            count.add(buffer, end)
        return count.facts()
    except NotUsual:
        return None


class LineScan:
    """One pass over a wulog-etw file: the lines holding wanted texts, then the facts.

    The same contract as `cmtrace_scan.CmtraceScan`: `hits()` yields per buffer and may
    raise `NotFast`; afterwards `facts` is set.
    """

    def __init__(self, binary: BinaryIO, path: str, scanner: TextScanner):
        self.binary = binary
        self.path = path
        self.scanner = scanner
        self.facts: FileFacts | None = None
        self._clock = Clock(ymd)

    def hits(self) -> Iterator[Batch]:
        count = _Count(self.path)
        lines = 0
        try:
            for buffer, end in line_regions(self.binary):
                count.add(buffer, end)
                found, lines = records_with_texts(
                    buffer, end, self.scanner, lines, b"\n", None, None
                )
                if found:
                    yield Batch(found)
        except NotUsual:
            raise NotFast(self.path) from None
        self.facts = count.facts()
        if self.facts is None:
            raise NotFast(self.path)

    def message(self, hit: Hit) -> str:
        if hit.entry is None:  # a hit is one line, never blank (it holds a text)
            return wulog_etw.line_message(decode_bytes(hit.raw).rstrip("\r\n"))
        return hit.entry.message

    def time(self, hit: Hit) -> datetime | None:
        return self.entry(hit).time

    def is_error(self, hit: Hit) -> bool:
        del hit
        return False  # wulog-etw has no error lines, only *FAILED* warnings

    def entry(self, hit: Hit) -> Entry:
        if hit.entry is None:
            # A hit is one line (the scan found no lone CR and no over-long line).
            line = decode_bytes(hit.raw).rstrip("\r\n")
            hit.entry = wulog_etw.line_entry(line, self.path, hit.line, self._clock)
        return parse_hit(hit, wulog_etw.parse, self.path)


class _Count:
    """The facts of a wulog-etw file, counted buffer by buffer."""

    def __init__(self, path: str):
        self.path = path
        self.entries = self.warnings = 0
        self.first: Entry | None = None
        self.looked = 0  # lines tried for the first timed one
        self.older: list[bytes] = []  # the lines of the last two buffers, for the last timed line
        self.newer: list[bytes] = []

    def add(self, buffer: bytes, end: int) -> None:
        lines = _lines(buffer, end)
        if lines and max(map(len, lines)) >= MAX_LINE:
            raise NotUsual
        filled = None  # the non-blank lines, where they are needed
        if buffer[:end].isascii():
            # The usual case, counted without a Python loop over the lines: only ASCII
            # whitespace can make a line blank.
            self.entries += len(lines) - [line.strip(ASCII_SPACE) for line in lines].count(b"")
        else:
            filled = [line for line in lines if not _blank(line)]
            self.entries += len(filled)
        if self.first is None and self.looked < _LOOK_FOR_TIME:
            if filled is None:
                filled = [line for line in lines if not _blank(line)]
            self._look_for_time(filled)
        if _FAILED in buffer:
            self.warnings += sum(1 for line in lines if _FAILED in line)
        self.older, self.newer = self.newer, lines

    def _look_for_time(self, lines: list[bytes]) -> None:
        """The first timed line among the first (non-blank) lines."""
        for line in lines:
            self.looked += 1
            self.first = _timed(line, self.path)
            if self.first is not None or self.looked >= _LOOK_FOR_TIME:
                return

    def facts(self) -> FileFacts | None:
        if self.first is None:
            if self.looked >= _LOOK_FOR_TIME:
                return None
            return FileFacts(self.entries, 0, self.warnings, None, None, 0, local=True)
        timed = (_timed(line, self.path) for line in reversed([*self.older, *self.newer]))
        last = next(filter(None, timed), None)
        if last is None:
            return None  # no timed line near the end: the last one is further back
        return FileFacts(self.entries, 0, self.warnings, self.first, last, 0, local=True)


def _blank(line: bytes) -> bool:
    """What the text reader's str.strip() would leave empty."""
    stripped = line.strip(ASCII_SPACE)
    return not stripped or (not stripped.isascii() and not decode_bytes(stripped).strip())


# A file whose first lines have no time is odd: it is read line by line instead.
_LOOK_FOR_TIME = 1000


def line_regions(binary: BinaryIO) -> Iterator[tuple[bytes, int]]:
    """(buffer, end): buffer[:end] is whole lines; a lone CR or a too long line is odd."""
    carry = binary.read(_CHUNK)
    if carry.startswith(_BOM):
        carry = carry[len(_BOM) :]
    while True:
        chunk = binary.read(_CHUNK)
        buffer = carry + chunk
        end = buffer.rfind(b"\n") + 1 if chunk else len(buffer)
        if chunk and end == 0:
            if len(buffer) > MAX_LINE:
                raise NotUsual
            carry = buffer
            continue
        returns = buffer.count(b"\r", 0, end)
        if returns and returns != buffer.count(b"\r\n", 0, end):
            raise NotUsual
        yield buffer, end
        if not chunk:
            return
        carry = buffer[end:]


def _lines(buffer: bytes, end: int) -> list[bytes]:
    lines = buffer[:end].split(b"\n")
    if not lines[-1]:
        lines.pop()  # nothing after the last line break
    return lines


def _timed(line: bytes, path: str) -> Entry | None:
    entries = list(wulog_etw.parse(io.StringIO(decode_bytes(line), newline=""), path))
    return entries[0] if entries and entries[0].time is not None else None
