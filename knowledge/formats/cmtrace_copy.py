"""Rows copied out of the CMTrace viewer, as people paste them into tickets and articles.

Three shapes:

- a straight copy (Ctrl+C on selected rows): `message<TAB>component<TAB>date time<TAB>thread`
  with the date as the viewer shows it (`7/14/2021 8:52:44 AM`, `07-14-2021 08:52:44.338`)
  and the thread as `10472 (0x28E8)`; the time is the log's local time;
- the same row with its tabs flattened to spaces by a web page or an editor, as
  Microsoft's support articles quote them (KB 2612955):
  `No Service Windows Left. ... ServiceWindowManager 8/23/2011 12:12:46 AM  10356 (0x2874)`;
  the component is then the last word before the date, and the thread column is
  required (`10356 (0x2874)`), so an ordinary sentence that ends in a date is no row.
  Those pages sometimes repeat the half of the day (`11:10:30 PM PM`): one is enough;
- a stripped copy, where the tabs became spaces and the time and thread were left out:
  `message   Component`.

A record whose message spans lines is copied with the component (and time) on its LAST
line only. So the rule is: a line that does not end in a component is held, and the
held lines start the message of the next line that does end in one. Lines still held
at the end of the file become one entry with no component and no time.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TextIO

from ..decoding import iter_lines
from ..models import Entry
from ._shared import (
    MAX_RECORD_CHARS,
    MAX_RECORD_LINES,
    Clock,
    join_capped,
    mdy,
    microseconds,
    severity_from_words,
)

STAMP = re.compile(
    r"(\d{1,2}[/-]\d{1,2}[/-]\d{4}) (\d{1,2}):(\d{2}):(\d{2})(?:\.(\d+))?(?: ?([AaPp])\.?[Mm]\.?)?$"
)
COMPONENT = re.compile(r"[A-Za-z_][\w.\-]*$")
# A row whose tabs were flattened: message, component, date, time, thread (0x...).
_FLAT_ROW = re.compile(
    r"(?P<message>.*?\S)\s+(?P<component>[A-Za-z_][\w.\-]*)\s+"
    r"(?P<day>\d{1,2}[/-]\d{1,2}[/-]\d{4})\s+(?P<clock>\d{1,2}:\d{2}:\d{2}(?:\.\d+)?)"
    r"(?P<half>(?:\s*[AaPp]\.?[Mm]\.?)*)\s+(?P<thread>\d+)\s*\(0x[0-9A-Fa-f]+\)\s*$"
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
    match = _FLAT_ROW.match(line)
    if match is None:
        return None
    half = match["half"].strip()[:1]
    stamp = f"{match['day']} {match['clock']}" + (f" {half}M" if half else "")
    return match["message"], match["component"], stamp, match["thread"]


def parse(text: TextIO, path: str) -> Iterator[Entry]:
    clock = Clock(_day_parts)
    held: list[str] = []
    held_size = 0
    start = 0
    for number, line, _cut in iter_lines(text):
        row = split_row(line)
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
    if held:
        message = join_capped(held).strip()
        if message:
            yield Entry(path, start, None, "", severity_from_words(message), None, message)


def _time(clock: Clock, stamp: str):
    match = STAMP.match(stamp)
    day, hour, minute, second, fraction, half = match.groups()
    hour = int(hour)
    if half is not None:
        if hour > 12:
            return None
        hour = hour % 12 + (12 if half in "Pp" else 0)
    return clock.time(day, f"{hour}:{minute}", second, microseconds(fraction), None)
