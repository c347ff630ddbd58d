"""Per-file facts of a CBS.log or DISM.log from its bytes, line by line without entries.

`cbs.parse` is the reference: an entry per timestamped line (its continuation lines
join it), the level word as the severity, and the times made UTC with the zone that the
CSI lines' own UTC stamps reveal. The facts (entries, errors, warnings, first and last
time, whether times have a zone) follow from the timestamped lines alone, so here each
line is split and tested as bytes, and only the CSI lines and the timed lines' clocks
are worked out; no message is decoded and no entry is built.

The file must be written the usual way, else None (the caller parses it): the first
non-blank line is timestamped; the zone is either learned from a CSI line early enough
that no entry leaves the parser's zone buffer in local time, or never learned at all;
no line is longer than the text reader's limit; no lone CR; and any line that the
byte test rejects is plain ASCII (a non-ASCII digit or letter could still satisfy the
parser's Unicode-aware pattern).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

from ..decoding import MAX_LINE, decode_bytes
from ..models import ERROR, INFO, WARNING, Entry
from ._shared import ZONE_WAIT_ENTRIES, Clock, ymd
from .cbs import zone_from_csi
from .cmtrace_scan import FileFacts

_CHUNK = 1 << 20
_BOM = b"\xef\xbb\xbf"
_ASCII_SPACE = b" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"
# cbs.LINE for ASCII text, up to the spaces after the level word (the rest of the
# pattern matches anything), with the component and the start of the message.
_LINE = re.compile(rb"(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}):(\d{2}), (\w+) +(\S*) *")
_SEVERITY = {b"error": ERROR, b"warning": WARNING}


class _Odd(Exception):
    """The file must be parsed entry by entry."""


def fast_facts(binary: BinaryIO, path: str, encoding: str, exact_lines: bool) -> FileFacts | None:
    """The facts of one CBS.log, or None when `cbs.parse` must read it.

    Lone CRs always send the file back (they would change the line count), so
    `exact_lines` asks nothing more.
    """
    del exact_lines
    if not encoding.startswith("utf-8"):
        return None
    count = _Count(path)
    try:
        for buffer, end in _regions(binary):
            count.add(buffer, end)
        return count.facts()
    except _Odd:
        return None


class _Count:
    def __init__(self, path: str):
        self.path = path
        self.clock = Clock(ymd)
        self.entries = self.errors = self.warnings = self.timed = 0
        self.line = 0
        self.offset: int | None = None  # the zone, once a CSI line reveals it
        # (line, day, time, second, component, severity, zone) of the first and the
        # last timed line; entries are made of them at the end.
        self.first: tuple | None = None
        self.last: tuple | None = None

    def add(self, buffer: bytes, end: int) -> None:
        match_line = _LINE.match
        clock_time = self.clock.time
        lines = buffer[:end].split(b"\n")
        if not lines[-1]:
            lines.pop()  # nothing after the last line break
        for raw in lines:
            self.line += 1
            if len(raw) >= MAX_LINE:
                raise _Odd
            match = match_line(raw)
            if match is None:
                if not raw.isascii():
                    raise _Odd
                if not self.entries and raw.strip(_ASCII_SPACE):
                    raise _Odd  # the file opens with text: the parser's first entry is untimed
                continue  # a blank line, or one that continues the entry above
            day, hhmm, second, level, component = match.groups()
            if not component.isascii():
                raise _Odd
            self.entries += 1
            severity = _SEVERITY.get(level.lower(), INFO)
            if severity == ERROR:
                self.errors += 1
            elif severity == WARNING:
                self.warnings += 1
            day, hhmm, second = day.decode(), hhmm.decode(), second.decode()
            if component == b"CSI" and raw[match.end() + 8 : match.end() + 9] == b"@":
                self._learn(raw[match.end() :], day, hhmm, second)
            if clock_time(day, hhmm, second, 0, self.offset) is None:
                continue  # an impossible stamp: an untimed entry
            self.timed += 1
            stamp = (self.line, day, hhmm, second, component, severity, self.offset)
            if self.first is None:
                self.first = stamp
            self.last = stamp

    def _learn(self, message: bytes, day: str, hhmm: str, second: str) -> None:
        local = self.clock.time(day, hhmm, second, 0, None)
        learned = zone_from_csi(local, decode_bytes(message)) if local is not None else None
        if learned is None:
            return
        if self.offset is None and self.first is not None:
            # The entries above still wait in the parser's zone buffer, unless there are
            # too many of them; those that wait come out in this zone.
            if self.entries > ZONE_WAIT_ENTRIES:
                raise _Odd
            self.first = (*self.first[:6], learned)
            self.last = (*self.last[:6], learned)
        self.offset = learned

    def entry(self, stamp: tuple | None) -> Entry | None:
        if stamp is None:
            return None
        line, day, hhmm, second, component, severity, zone = stamp
        when = self.clock.time(day, hhmm, second, 0, zone)
        return Entry(self.path, line, when, component.decode(), severity, None, "")

    def facts(self) -> FileFacts:
        first, last = self.entry(self.first), self.entry(self.last)
        if self.offset is None:
            return FileFacts(self.entries, self.errors, self.warnings, first, last, 0, local=True)
        return FileFacts(self.entries, self.errors, self.warnings, first, last, self.timed)


def _regions(binary: BinaryIO) -> Iterator[tuple[bytes, int]]:
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
                raise _Odd
            carry = buffer
            continue
        returns = buffer.count(b"\r", 0, end)
        if returns and returns != buffer.count(b"\r\n", 0, end):
            raise _Odd
        yield buffer, end
        if not chunk:
            return
        carry = buffer[end:]
