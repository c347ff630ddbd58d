"""CMTrace records, the format of every log under C:\\Windows\\CCM\\Logs.

    <![LOG[message]LOG]!><time="09:14:07.512+240" date="03-11-2022" component="WUAHandler"
    context="" type="1" thread="6140" file="cwuahandler.cpp:3276">

What real files do to that shape, all handled here:

- a message runs over many lines (WMI instance dumps, text with embedded CRLF);
- the bias has 3 digits (+240, -330), 2 digits (+00) or is missing (then the time is
  local); UTC = local + bias minutes, so +240 is UTC-4;
- the fraction has 3 digits or 7 (100 ns ticks: 10:22:50.8422964);
- dates are not always zero-padded (3-7-2016);
- some writers leave out or reorder attributes;
- a record that never closes must not swallow the file: it ends at the next `<![LOG[`,
  and its text is capped (MAX_RECORD_CHARS / MAX_RECORD_LINES).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TextIO

from knowledge.formats._shared import (
    MAX_RECORD_CHARS,
    MAX_RECORD_LINES,
    Clock,
    join_capped,
    mdy,
    microseconds,
    severity_from_words,
    valid_shift,
)
from knowledge.formats.decoding import iter_lines
from knowledge.models import INFO, Entry

OPEN = "<![LOG["
CLOSE = "]LOG]!>"
_OPEN_LEN = len(OPEN)
_CLOSE_LEN = len(CLOSE)

# Any order or subset of attributes: the slow path.
_ANY_ATTR = re.compile(r'(\w+)="([^"]*)"')
_TIME = re.compile(r"(\d{1,2}:\d{1,2}):(\d{1,2})(?:\.(\d+))?([+-]\d+)?$")
_DATE = re.compile(r"\d{1,2}[-/]\d{1,2}[-/]\d{4}$")
_TYPES = {"0": 0, "1": 1, "2": 2, "3": 3}


# The attribute block as ConfigMgr writes it, read from the right of the line: seven
# attributes are fourteen quotes, and these are the texts between them.
_FIELD_COUNT = 15
_HEAD = CLOSE + "<time="
_HEAD_LEN = len(_HEAD)
# Three-digit texts to microseconds without int(): the per-record clock is hot.
_MILLIS = {f"{n:03d}": n * 1000 for n in range(1000)}


class _Parser:
    def __init__(self, path: str):
        self.path = path
        self.clock = Clock(mdy)
        # The text after "HH:MM:SS.fff" ("+240", "-60", "") -> shift, once seen in a
        # well-formed time: the fast path then needs no regex.
        self.shifts: dict[str, int | None] = {}

    def time(self, clock: str, day: str):
        """The time of a record from its time= and date= texts (any shape CMTrace reads)."""
        match = _TIME.match(clock)
        if match is None or not _DATE.match(day):
            return None
        hhmm, second, fraction, bias = match.groups()
        shift = valid_shift(int(bias)) if bias else None
        if len(clock) >= 12 and clock[8] == "." and clock[12:13] in ("", "+", "-"):
            self.shifts[clock[12:]] = shift
        return self.clock.time(day, hhmm, second, microseconds(fraction), shift)

    def entry(self, message: str, tail: str, pos: int, number: int) -> Entry:
        """The entry whose attribute block starts at tail[pos] (just after `]LOG]!>`)."""
        end = tail.find(">", pos)
        attrs = dict(_ANY_ATTR.findall(tail, pos, end if end >= 0 else len(tail)))
        return Entry(
            self.path,
            number,
            self.time(attrs.get("time", ""), attrs.get("date", "")),
            attrs.get("component", ""),
            _TYPES.get(attrs.get("type", ""), INFO),
            attrs.get("thread") or None,
            message,
        )

    def quick_time(self, clock: str, day: str):
        """`time`, with the common shape ("HH:MM:SS.fff" and a bias seen before) read
        without a regex: it runs once per record."""
        try:
            if clock[8] != ".":
                raise KeyError(clock)
            return self.clock.time(
                day, clock[:5], clock[6:8], _MILLIS[clock[9:12]], self.shifts[clock[12:]]
            )
        except (KeyError, IndexError):
            return self.time(clock, day)

    def stray(self, text: str, number: int) -> Entry:
        """Text outside any record (a line someone added, a damaged write): untimed."""
        return Entry(self.path, number, None, "", severity_from_words(text), None, text)


class RecordClock:
    """The time of one record from its time= and date= texts, as `parse` reads it."""

    def __init__(self):
        self._parser = _Parser("")

    def __call__(self, clock: str, day: str):
        return self._parser.quick_time(clock, day)


def parse(text: TextIO, path: str) -> Iterator[Entry]:
    parser = _Parser(path)
    quick_time = parser.quick_time
    last_clock = last_day = ""
    last_time = None
    parts: list[str] | None = None  # lines of an open multi-line record
    size = 0
    start = 0
    for number, line, _cut in iter_lines(text):
        if parts is None and line.startswith(OPEN):
            # The common case: a whole record on one line, attributes in the usual order.
            fields = usual_fields(line)
            if fields is not None:
                clock, day = fields[1], fields[3]
                if clock != last_clock or day != last_day:  # records often share a millisecond
                    last_time = quick_time(clock, day)
                    last_clock, last_day = clock, day
                yield Entry(
                    path,
                    number,
                    last_time,
                    fields[5],
                    _TYPES.get(fields[9], INFO),
                    fields[11] or None,
                    fields[0][_OPEN_LEN:-_HEAD_LEN],
                )
                continue
        pos = 0
        while pos < len(line):
            if parts is None:
                opened = line.find(OPEN, pos)
                if opened < 0:
                    if line[pos:].strip():
                        yield parser.stray(line[pos:].strip(), number)
                    break
                if line[pos:opened].strip():
                    yield parser.stray(line[pos:opened].strip(), number)
                pos = opened + _OPEN_LEN
                close = line.find(CLOSE, pos)
                if close >= 0:
                    yield parser.entry(line[pos:close], line, close + _CLOSE_LEN, number)
                    pos = _after_attributes(line, close + _CLOSE_LEN)
                    continue
                parts, size, start = [line[pos:]], len(line) - pos, number
                break
            # Inside a record that began on an earlier line.
            close = line.find(CLOSE, pos)
            reopened = line.find(OPEN, pos)
            if reopened >= 0 and (close < 0 or reopened < close):
                # A new record starts before this one closed: this one was cut short.
                parts.append(line[pos:reopened])
                yield Entry(path, start, None, "", INFO, None, join_capped(parts))
                parts = None
                pos = reopened
                continue
            if close >= 0:
                parts.append(line[pos:close])
                yield parser.entry(join_capped(parts), line, close + _CLOSE_LEN, start)
                parts = None
                pos = _after_attributes(line, close + _CLOSE_LEN)
                continue
            if size <= MAX_RECORD_CHARS and len(parts) < MAX_RECORD_LINES:
                parts.append(line[pos:])
                size += len(line) - pos
            break
        else:
            # The loop only runs dry on an empty line; inside a record it is part of it.
            if parts is not None and not line and len(parts) < MAX_RECORD_LINES:
                parts.append("")
    if parts is not None:
        yield Entry(path, start, None, "", INFO, None, join_capped(parts))


def usual_fields(line: str) -> list[str] | None:
    """The texts between the quotes of a line that is one whole record with its
    attributes in the usual order, read from the right (and only one record: the first
    ]LOG]!> is the one before the attributes); None for any other line."""
    fields = line.rsplit('"', 14)
    if (
        len(fields) == _FIELD_COUNT
        and fields[14] == ">"
        and fields[2] == " date="
        and fields[4] == " component="
        and fields[8] == " type="
        and fields[10] == " thread="
        and fields[0].endswith(_HEAD)
        and fields[0].find(CLOSE, _OPEN_LEN) == len(fields[0]) - _HEAD_LEN
    ):
        return fields
    return None


def usual_entry(line: str, path: str, number: int, clock: RecordClock) -> Entry | None:
    """The entry of a line that is one usual record (`usual_fields`), as `parse` reads
    it, or None for any other line."""
    fields = usual_fields(line)
    if fields is None:
        return None
    return Entry(
        path,
        number,
        clock(fields[1], fields[3]),
        fields[5],
        _TYPES.get(fields[9], INFO),
        fields[11] or None,
        fields[0][_OPEN_LEN:-_HEAD_LEN],
    )


def _after_attributes(line: str, pos: int) -> int:
    """Where the text after a record's attribute block `<time=... file="...">` begins."""
    end = line.find(">", pos + 1)
    return len(line) if end < 0 else end + 1
