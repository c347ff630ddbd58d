"""Rows copied out of a log viewer (CMTrace, and whatever tool the support articles used),
as people paste them into tickets and articles. The layouts seen in real pastes:

- a straight copy (Ctrl+C on selected CMTrace rows):
  `message<TAB>component<TAB>date time<TAB>thread`, the date as the viewer shows it
  (`3/11/2022 9:14:07 AM`, `03-11-2022 09:14:07.512`), the thread as `6140 (0x17FC)`;
- the same row with its tabs flattened to spaces by a web page or an editor, as
  Microsoft's support articles quote them (KB 2612955):
  `No Service Windows Left. ... ServiceWindowManager 8/23/2011 12:12:46 AM  10356 (0x2874)`;
  the component is then the last word before the date. Such pages sometimes repeat
  the half of the day (`11:10:30 PM PM`): one is enough;
- message, then date and time, then component and thread, flattened (the support
  article on CMG cloud DP downloads quotes ccmsetup.log so):
  `Found remote location '...' 19/02/2019 13:49:35 ccmsetup 8548 (0x2164)`;
- date first: `date time  component  thread (0x...)  message` (the same article quotes
  DataTransferService.log so, its columns apart by non-breaking spaces); the message
  may start on the next line, and lines up to the next row continue it;
- a stripped copy, where the tabs became spaces and the time and thread were left out:
  `message   Component`.

Every flattened layout needs the thread column (`8548 (0x2164)`), so an ordinary
sentence that holds a date is no row. A day first date (`19/02/2019`) is read as such
when its first number cannot be a month; otherwise the month comes first, as the US
viewer writes it. The time is the log's local time.

A message-first record whose message spans lines is copied with the component (and
time) on its LAST line only. So the rule is: a line that does not end in a component is
held, and the held lines start the message of the next line that does end in one.
Lines still held at the end of the file become one entry with no component and no time.
A date-first row is the other way round: the lines after it continue it.
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
)
from knowledge.formats.decoding import iter_lines
from knowledge.models import INFO, Entry

STAMP = re.compile(
    r"(\d{1,2}[/-]\d{1,2}[/-]\d{4}) (\d{1,2}):(\d{2}):(\d{2})(?:\.(\d+))?(?: ?([AaPp])\.?[Mm]\.?)?$"
)
COMPONENT = re.compile(r"[A-Za-z_][\w.\-]*$")
_STAMP_PARTS = (
    r"(?P<day>\d{1,2}[/-]\d{1,2}[/-]\d{4})\s+(?P<clock>\d{1,2}:\d{2}:\d{2}(?:\.\d+)?)"
    r"(?P<half>(?:\s*[AaPp]\.?[Mm]\.?)*)"
)
_COMPONENT_PART = r"(?P<component>[A-Za-z_][\w.\-]*)"
_THREAD_PART = r"(?P<thread>\d+)\s*\(0x[0-9A-Fa-f]+\)"
# Rows whose tabs were flattened, each layout with its columns in order.
_FLAT_ROWS = (
    re.compile(rf"(?P<message>.*?\S)\s+{_COMPONENT_PART}\s+{_STAMP_PARTS}\s+{_THREAD_PART}\s*$"),
    re.compile(rf"(?P<message>.*?\S)\s+{_STAMP_PARTS}\s+{_COMPONENT_PART}\s+{_THREAD_PART}\s*$"),
)
_DATE_FIRST_ROW = re.compile(
    rf"\s*{_STAMP_PARTS}\s+{_COMPONENT_PART}\s+{_THREAD_PART}(?:\s+(?P<message>.*?))?\s*$"
)


def _day_parts(day: str) -> tuple[int, int, int]:
    """Month first, as the US viewer writes it; a first number over 12 means day first."""
    year, month, mday = mdy(day)
    if month > 12 and mday <= 12:
        month, mday = mday, month
    return year, month, mday


def split_row(line: str) -> tuple[str, str, str | None, str | None] | None:
    """(message, component, stamp, thread) of a line that ends a record, else None."""
    if "\t" in line:
        fields = line.rstrip().split("\t")
        if len(fields) >= 4 and STAMP.match(fields[-2].strip()):
            thread = fields[-1].strip().split(" ")[0] or None
            return "\t".join(fields[:-3]), fields[-3].strip(), fields[-2].strip(), thread
        if len(fields) >= 3 and STAMP.match(fields[-1].strip()):
            return "\t".join(fields[:-2]), fields[-2].strip(), fields[-1].strip(), None
        if len(fields) >= 2 and COMPONENT.match(fields[-1].strip()):
            return "\t".join(fields[:-1]), fields[-1].strip(), None, None
        return None
    trimmed = line.rstrip()
    if trimmed.endswith(")") and "(0x" in trimmed:
        flat = flat_row(trimmed)
        if flat is not None:
            return flat
    gap = trimmed.rfind("  ")
    if gap <= 0:
        return None
    component = trimmed[gap + 2 :].strip()
    message = trimmed[:gap].rstrip()
    if not message or not COMPONENT.match(component):
        return None
    return message, component, None, None


def flat_row(line: str) -> tuple[str, str, str, str] | None:
    """(message, component, stamp, thread) of a row whose tabs became spaces, else None."""
    for layout in _FLAT_ROWS:
        match = layout.match(line)
        if match is not None:
            return _row(match)
    return None


def date_first_row(line: str) -> tuple[str, str, str, str] | None:
    """(message, component, stamp, thread) of a row that starts with its date, else None."""
    match = _DATE_FIRST_ROW.match(line) if line.lstrip()[:1].isdigit() else None
    return _row(match) if match is not None else None


def _row(match: re.Match) -> tuple[str, str, str, str]:
    half = match["half"].strip()[:1]
    stamp = f"{match['day']} {match['clock']}" + (f" {half.upper()}M" if half else "")
    return match["message"] or "", match["component"], stamp, match["thread"]


def row_has_time(line: str) -> bool:
    """Whether a line is a copied row with its time (in any layout)."""
    if line.lstrip()[:1].isdigit() and date_first_row(line) is not None:
        return True
    if "\t" not in line and not line.rstrip().endswith(")"):
        return False
    row = split_row(line)
    return row is not None and row[2] is not None


def parse(text: TextIO, path: str) -> Iterator[Entry]:
    clock = Clock(_day_parts)
    held: list[str] = []
    held_size = 0
    start = 0
    opened: Entry | None = None  # a date-first row, which the lines after it continue
    extra: list[str] = []  # those lines
    for number, line, _cut in iter_lines(text):
        first = date_first_row(line)
        if first is not None:
            if opened is not None:
                yield _closed(opened, extra)
            elif held:
                yield _untimed(path, start, held)
            held, held_size, extra = [], 0, []
            message, component, stamp, thread = first
            when = _time(clock, stamp)
            opened = Entry(path, number, when, component, INFO, thread, message)
            continue
        row = split_row(line)
        if row is None and opened is not None:
            if line.strip() and len(extra) < MAX_RECORD_LINES:
                extra.append(line.strip())
            continue
        if opened is not None:
            yield _closed(opened, extra)
            opened, extra = None, []
        if row is None:
            if line.strip() or held:
                if not held:
                    start = number
                if held_size <= MAX_RECORD_CHARS and len(held) < MAX_RECORD_LINES:
                    held.append(line.rstrip())
                    held_size += len(line)
            continue
        message, component, stamp, thread = row
        if held:
            held.append(message)
            message, held, held_size = join_capped(held), [], 0
        else:
            start = number
        when = _time(clock, stamp) if stamp else None
        yield Entry(path, start, when, component, severity_from_words(message), thread, message)
    if opened is not None:
        yield _closed(opened, extra)
    elif held:
        entry = _untimed(path, start, held)
        if entry.message:
            yield entry


def _closed(entry: Entry, extra: list[str]) -> Entry:
    """A date-first row with the lines that continue it."""
    entry.message = join_capped([entry.message, *extra]).strip() if extra else entry.message
    entry.severity = severity_from_words(entry.message)
    return entry


def _untimed(path: str, start: int, held: list[str]) -> Entry:
    message = join_capped(held).strip()
    return Entry(path, start, None, "", severity_from_words(message), None, message)


def _time(clock: Clock, stamp: str):
    match = STAMP.match(stamp)
    day, hour, minute, second, fraction, half = match.groups()
    hour = int(hour)
    if half is not None:
        if hour > 12:
            return None
        hour = hour % 12 + (12 if half in "Pp" else 0)
    return clock.time(day, f"{hour}:{minute}", second, microseconds(fraction), None)
