"""WindowsUpdate.log as Windows 10 and later make it (Get-WindowsUpdateLog from ETW traces):

    2022/03/10 09:41:17.2210938 2216  4410  Agent           WU client version 10.0.19041.3636

Date with `/` or `-` (it follows the locale), a 7-digit fraction (100 ns ticks), decimal
PID and TID, the component padded to 15 columns, then the text. There is no zone: times
are local. `*FAILED*` lines are mostly routine noise on healthy machines, so they are
warnings at most; the engine judges the codes in them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TextIO

from knowledge.formats._shared import Clock, microseconds, ymd
from knowledge.formats.decoding import iter_lines
from knowledge.models import INFO, WARNING, Entry

LINE = re.compile(
    r"(\d{4}[/-]\d{2}[/-]\d{2}) (\d{1,2}:\d{2}):(\d{2})\.(\d{1,7}) +\d+ +(\d+) +(\S+) *(.*)$"
)


def parse(text: TextIO, path: str) -> Iterator[Entry]:
    clock = Clock(ymd)
    for number, line, _cut in iter_lines(text):
        entry = line_entry(line, path, number, clock)
        if entry is not None:
            yield entry


def line_entry(line: str, path: str, number: int, clock: Clock) -> Entry | None:
    """The entry of one line (without its line break), or None for a blank line."""
    match = LINE.match(line)
    if match is None:
        # Not an ETW row (a header, a pasted note): keep it, untimed.
        stripped = line.strip()
        if not stripped:
            return None
        return Entry(path, number, None, "", _severity(stripped), None, stripped)
    day, hhmm, second, fraction, thread, component, message = match.groups()
    when = clock.time(day, hhmm, second, microseconds(fraction), None)
    return Entry(path, number, when, component, _severity(message), thread, message)


def line_message(line: str) -> str:
    """What `line_entry` gives as the message of a line that is not blank, without the
    rest of the entry (a diagnosis matches many lines and keeps few)."""
    match = LINE.match(line)
    return line.strip() if match is None else match.group(7)


def _severity(text: str) -> int:
    return WARNING if "*FAILED*" in text else INFO
