"""The classic WindowsUpdate.log of Windows 7 / Server 2008 R2 (and older):

    2019-04-23<TAB>11:34:02:590<TAB>7312<TAB>1c94<TAB>Handler<TAB>FATAL: CBS called Error ...

Columns: local date, local time with `:` before the milliseconds, PID (space-padded),
thread id in hex, component, text. Pages that quote the log often flatten the tabs to
single spaces; that reads the same.

The zone is stated only by the banner the agent writes at each start:
`Logging initialized (build: 7.6.7600.256, tz: +0530)`, where tz is local time's offset
from UTC (+0530: UTC = local - 5:30). The first banner's zone also covers the lines
before it (buffered, within a bound); each later banner takes over from where it stands,
which follows a daylight-saving change between restarts. With no banner, times stay local.

Thread ids are given in decimal, like every other format, so they can be compared.
A line with no timestamp (a pasted first line) is its own entry with no time.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TextIO

from knowledge.formats._shared import Clock, ZoneBuffer, valid_shift, ymd
from knowledge.formats.decoding import iter_lines
from knowledge.models import ERROR, INFO, WARNING, Entry

LINE = re.compile(
    r"(\d{4}-\d{2}-\d{2})[\t ]+(\d{1,2}:\d{2}):(\d{2}):(\d{3})[\t ]+\d+[\t ]+"
    r"([0-9A-Fa-f]+)[\t ]+([^\t ]+)(?:[\t ](.*))?$"
)
_BANNER = re.compile(r"Logging initialized \(build: [^,]*, tz: ([+-])(\d{2})(\d{2})\)")


def severity_of(text: str) -> int:
    if "FATAL" in text:
        return ERROR
    if "WARNING" in text:
        return WARNING
    return INFO


def parse(text: TextIO, path: str) -> Iterator[Entry]:
    clock = Clock(ymd)
    zone = ZoneBuffer()
    match_line = LINE.match
    for number, line, _cut in iter_lines(text):
        match = match_line(line)
        if match is None:
            stripped = line.strip()
            if stripped:
                entry = Entry(path, number, None, "", severity_of(stripped), None, stripped)
                if zone.released:
                    yield entry
                else:
                    yield from zone.push(entry)
            continue
        day, hhmm, second, millis, thread, component, message = match.groups()
        message = message or ""
        if "Logging initialized" in message:
            banner = _BANNER.search(message)
            if banner is not None:
                sign, hours, minutes = banner.groups()
                offset = valid_shift(int(hours) * 60 + int(minutes))
                if offset is not None:
                    zone.learn(-offset if sign == "+" else offset)
        when = clock.time(day, hhmm, second, int(millis) * 1000, zone.offset)
        entry = Entry(
            path, number, when, component, severity_of(message), str(int(thread, 16)), message
        )
        if zone.released:
            yield entry
        else:
            yield from zone.push(entry)
    yield from zone.flush()
