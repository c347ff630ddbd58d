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
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from knowledge.fastpath.cmtrace_scan import Batch, FileFacts, NotFast
from knowledge.fastpath.line_scan import ASCII_SPACE, facts_of_lines, line_regions
from knowledge.fastpath.scanners import NotUsual, TextScanner
from knowledge.formats._shared import MAX_RECORD_LINES, ZONE_WAIT_ENTRIES, Clock, join_capped, ymd
from knowledge.formats.cbs import LEVELS, zone_from_csi
from knowledge.formats.decoding import MAX_LINE, decode_bytes
from knowledge.models import ERROR, INFO, WARNING, Entry

# cbs.LINE for ASCII text, up to the spaces after the level word (the rest of the
# pattern matches anything), with the component and the start of the message.
# (The text pattern's \S excludes \x1c-\x1f, which are whitespace in Unicode text.)
_LINE = re.compile(rb"(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}):(\d{2}), (\w+) +([^\s\x1c-\x1f]*) *")
# The parser's level words, as written ("Info") and lower-cased.
_SEVERITY = {
    spelling.encode(): severity
    for word, severity in LEVELS.items()
    for spelling in (word, word.capitalize())
}
_CLOCK_TIMES = frozenset(
    f"{hour:02d}:{minute:02d}".encode() for hour in range(24) for minute in range(60)
)
_CLOCK_SECONDS = frozenset(f"{second:02d}".encode() for second in range(60))


def fast_facts(binary: BinaryIO, path: str, encoding: str, exact_lines: bool) -> FileFacts | None:
    """The facts of one CBS.log, or None when `cbs.parse` must read it.

    Lone CRs always send the file back (they would change the line count), so
    `exact_lines` asks nothing more.
    """
    del exact_lines
    return facts_of_lines(_Count(path), binary, encoding)


class CbsScan:
    """One pass over a CBS.log: the entries holding wanted texts, then the facts.

    The contract of `cmtrace_scan.CmtraceScan`: `hits()` yields per buffer and may raise
    `NotFast`; afterwards `facts` is set. An entry is its timestamped line and the
    lines that continue it, as `cbs.parse` joins them; a text counts when it is in the
    entry's message (after the level word and the component).
    """

    def __init__(self, binary: BinaryIO, path: str, scanner: TextScanner):
        self.binary = binary
        self.path = path
        self.scanner = scanner
        self.facts: FileFacts | None = None
        self._count = _Count(path, scanner)

    def hits(self) -> Iterator[Batch]:
        count = self._count
        try:
            for buffer, end in line_regions(self.binary):
                found = count.add(buffer, end, self.scanner.scan(buffer, end))
                if found:
                    yield Batch(found)
            last = count.close_unit()
            if last is not None:
                yield Batch([last])
        except NotUsual:
            raise NotFast(self.path) from None
        self.facts = count.facts()

    def message(self, hit: CbsHit) -> str:
        return hit.message

    def time(self, hit: CbsHit) -> datetime | None:
        return self._count.time(hit.stamp)

    def is_error(self, hit: CbsHit) -> bool:
        return hit.stamp[5] == ERROR

    def entry(self, hit: CbsHit) -> Entry:
        if hit.entry is None:
            line, _day, _hhmm, _second, component, severity, _zone = hit.stamp
            when, message = self.time(hit), hit.message
            hit.entry = Entry(self.path, line, when, component.decode(), severity, None, message)
        return hit.entry


@dataclass(slots=True)
class CbsHit:
    """An entry of a CBS.log in which a scanner found a wanted text (see cmtrace_scan.Hit)."""

    line: int
    texts: set[int] | None
    message: str
    stamp: tuple  # (line, day, time, second, component, severity, zone)
    entry: Entry | None = None


class _Count:
    """The facts of a CBS.log, counted line by line; with a scanner, its hits too."""

    def __init__(self, path: str, scanner: TextScanner | None = None):
        self.path = path
        self.clock = Clock(ymd)
        self.entries = self.errors = self.warnings = self.timed = 0
        self.line = 0
        self.offset: int | None = None  # the zone, once a CSI line reveals it
        self.first_zone: int | None = None  # the first zone learned
        # (line, day, time, second, component, severity, zone) of the first and the
        # last timed line; a zone of None before the first one is learned.
        self.first: tuple | None = None
        self.last: tuple | None = None
        # The entry being read, for the hits: its stamp, first line of message, the
        # lines that continue it, and the scanner's texts in it (None: none yet).
        self.texts = scanner.texts if scanner is not None else ()
        self.exact = scanner is not None and scanner.exact
        self.unit: tuple | None = None
        self.unit_lines: list[bytes] = []
        self.unit_texts: set[int] | None = None
        self._day_is_valid: dict[tuple[bytes, int | None], bool] = {}

    def add(self, buffer: bytes, end: int, found: list | None = None) -> list[CbsHit]:
        """Counts the lines of buffer[:end]; with `found` (the scanner's (end offset,
        text) pairs in it), returns the entries that closed holding a text."""
        lines = buffer[:end].split(b"\n")
        if not lines[-1]:
            lines.pop()  # nothing after the last line break
        if lines and max(map(len, lines)) >= MAX_LINE:
            raise NotUsual
        checked_ascii = buffer[:end].isascii()  # else line by line, where it matters
        match_line = _LINE.match
        day_is_valid = self._day_is_valid
        hits: list[CbsHit] = []
        want = found is not None
        pending = len(found) if want else 0  # scanner results not yet given to a line
        next_found = 0
        line_end = -1
        for raw in lines:
            self.line += 1
            line_start = line_end + 1
            line_end = line_start + len(raw)
            match = match_line(raw)
            if match is None:
                if not checked_ascii and not raw.isascii():
                    raise NotUsual
                blank = not raw.strip(ASCII_SPACE)
                if not self.entries and not blank:
                    raise NotUsual  # the file opens with text: the parser's first entry is untimed
                # A blank line, or one that continues the entry above.
                if want and not blank and self.unit is not None:
                    if len(self.unit_lines) <= MAX_RECORD_LINES:
                        self.unit_lines.append(raw)
                    if next_found < pending and found[next_found][0] <= line_end:
                        next_found = self._take(found, next_found, line_end, line_start)
                continue
            day, hhmm, second, level, component = match.groups()
            if not checked_ascii and not component.isascii():
                raise NotUsual
            self.entries += 1
            severity = _SEVERITY.get(level) or _SEVERITY.get(level.lower(), INFO)
            if severity == ERROR:
                self.errors += 1
            elif severity == WARNING:
                self.warnings += 1
            if component == b"CSI" and raw[match.end() + 8 : match.end() + 9] == b"@":
                self._learn(raw[match.end() :], day, hhmm, second)
            stamp = (self.line, day, hhmm, second, component, severity, self.offset)
            if want:
                if self.unit is not None:
                    closed = self.close_unit()
                    if closed is not None:
                        hits.append(closed)
                self.unit = stamp
                self.unit_lines = [raw[match.end() :]]
                if next_found < pending and found[next_found][0] <= line_end:
                    next_found = self._take(found, next_found, line_end, line_start + match.end())
            # What the parser's clock accepts, without building the time: an hour of
            # 00-23, minutes and seconds of 00-59, a real date.
            if hhmm not in _CLOCK_TIMES or second not in _CLOCK_SECONDS:
                continue  # an impossible stamp: an untimed entry
            if not day_is_valid.get((day, self.offset)) and not self._check_day(day):
                continue
            self.timed += 1
            if self.first is None:
                self.first = stamp
            self.last = stamp
        return hits

    def _check_day(self, day: bytes) -> bool:
        key = (day, self.offset)
        valid = self.clock.time(day.decode(), "00:00", "00", 0, self.offset) is not None
        if len(self._day_is_valid) > 10_000:  # a damaged file can invent endless dates
            self._day_is_valid.clear()
        self._day_is_valid[key] = valid
        return valid

    def _take(self, found: list, index: int, line_end: int, message_start: int) -> int:
        """Gives the current entry the scanner's texts that end on this line inside its
        message; returns the index of the first result after the line."""
        texts = self.texts
        while index < len(found) and found[index][0] <= line_end:
            stop, text = found[index]
            index += 1
            if not self.exact:
                self.unit_texts = self.unit_texts or set()
            elif stop - len(texts[text]) >= message_start:
                if self.unit_texts is None:
                    self.unit_texts = set()
                self.unit_texts.add(text)
        return index

    def close_unit(self) -> CbsHit | None:
        """The entry being read, as a hit if a text was found in it."""
        unit, texts = self.unit, self.unit_texts
        self.unit, self.unit_texts = None, None
        if unit is None or texts is None:
            return None
        parts = [decode_bytes(line.rstrip(b"\r")) for line in self.unit_lines]
        return CbsHit(unit[0], texts if self.exact else None, join_capped(parts), unit)

    def _learn(self, message: bytes, day: bytes, hhmm: bytes, second: bytes) -> None:
        local = self.clock.time(day.decode(), hhmm.decode(), second.decode(), 0, None)
        learned = zone_from_csi(local, decode_bytes(message)) if local is not None else None
        if learned is None:
            return
        if self.offset is None:
            # The entries above still wait in the parser's zone buffer, unless there are
            # too many of them; those that wait come out in this zone.
            if self.first is not None and self.entries > ZONE_WAIT_ENTRIES:
                raise NotUsual
            self.first_zone = learned
        self.offset = learned

    def time(self, stamp: tuple) -> datetime | None:
        _line, day, hhmm, second, _component, _severity, zone = stamp
        zone = self.first_zone if zone is None else zone
        return self.clock.time(day.decode(), hhmm.decode(), second.decode(), 0, zone)

    def entry(self, stamp: tuple | None) -> Entry | None:
        if stamp is None:
            return None
        line, _day, _hhmm, _second, component, severity, _zone = stamp
        return Entry(self.path, line, self.time(stamp), component.decode(), severity, None, "")

    def facts(self) -> FileFacts:
        first, last = self.entry(self.first), self.entry(self.last)
        if self.offset is None:
            return FileFacts(self.entries, self.errors, self.warnings, first, last, 0, local=True)
        return FileFacts(self.entries, self.errors, self.warnings, first, last, self.timed)
