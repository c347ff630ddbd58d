"""CBS.log and DISM.log (Component-Based Servicing, the engine under every Windows update):

    2019-04-23 11:34:01, Error                 CSI    0000004e@2019/04/23:17:34:01.356 (F) ...
    2019-04-23 11:34:01, Info                  CBS    Exec: Failed to commit CSI transaction ...
      Install (5): flags: 0 tlc: [...]

Local date and time, the level word, the component, the text. A line without the
timestamp prefix continues the entry above it (joined with a newline).

The level word is kept as the severity, but it is a poor judge: CBS writes "Info" on
lines that report failures and "Error" on lines it later recovers from. The engine reads
the text.

The prefix is local time, but CSI lines also carry their own UTC stamp
(`0000004e@2019/04/23:17:34:01.356`). Their difference, rounded to 15 minutes, is the
machine's zone, so the whole file can be given in UTC: entries before the first CSI line
wait in a bounded buffer, and each later CSI line keeps the zone current (a
daylight-saving change in a long log). Without any CSI stamp, times stay local.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import TextIO

from knowledge.formats._shared import (
    MAX_RECORD_LINES,
    Clock,
    ZoneBuffer,
    join_capped,
    valid_shift,
    ymd,
)
from knowledge.formats.decoding import iter_lines
from knowledge.models import ERROR, INFO, VERBOSE, WARNING, Entry

LINE = re.compile(r"(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}):(\d{2}), (\w+) +(\S*) *(.*)$")
_CSI_STAMP = re.compile(r"[0-9A-Fa-f]{8}@(\d{4})/(\d{1,2})/(\d{1,2}):(\d{1,2}):(\d{2}):(\d{2})")
LEVELS = {"info": INFO, "warning": WARNING, "error": ERROR, "perf": VERBOSE, "debug": VERBOSE}
_STAMP_SLACK_SECONDS = 120  # prefix and CSI stamp are written moments apart


def zone_from_csi(local: datetime, message: str) -> int | None:
    """Minutes to add to the local prefix time to get UTC, from a CSI line's UTC stamp."""
    stamp = _CSI_STAMP.match(message)
    if stamp is None:
        return None
    try:
        utc = datetime(*(int(part) for part in stamp.groups()))
    except ValueError:
        return None
    seconds = (utc - local).total_seconds()
    minutes = round(seconds / 900) * 15
    if abs(seconds - minutes * 60) > _STAMP_SLACK_SECONDS:
        return None
    return valid_shift(minutes)


def parse(text: TextIO, path: str) -> Iterator[Entry]:
    clock = Clock(ymd)
    zone = ZoneBuffer()
    match_line = LINE.match
    current: Entry | None = None  # the entry continuation lines still add to
    extra: list[str] = []  # its continuation lines
    for number, line, _cut in iter_lines(text):
        match = match_line(line)
        if match is None:
            if not line.strip():
                continue
            if current is None:
                current = Entry(path, number, None, "", INFO, None, line)
            elif len(extra) < MAX_RECORD_LINES:
                extra.append(line)
            continue
        if current is not None:
            if extra:
                current.message = join_capped([current.message, *extra])
                extra = []
            if zone.released:
                yield current
            else:
                yield from zone.push(current)
        day, hhmm, second, level, component, message = match.groups()
        if component == "CSI" and message[8:9] == "@":
            local = clock.time(day, hhmm, second, 0, None)
            learned = zone_from_csi(local, message) if local is not None else None
            if learned is not None:
                zone.learn(learned)
        when = clock.time(day, hhmm, second, 0, zone.offset)
        severity = LEVELS.get(level.lower(), INFO)
        current = Entry(path, number, when, component, severity, None, message)
    if current is not None:
        if extra:
            current.message = join_capped([current.message, *extra])
        yield from zone.push(current)
    yield from zone.flush()
