"""The older SMS / ConfigMgr trace line, still written by some site-server components:

    message  $$<SMS_COMPONENT><MM-DD-YYYY HH:MM:SS.fff+BIAS><thread=1234 (0x4D2)>

The bias works as in CMTrace (UTC = local + bias minutes; missing means local time) and
the date may be unpadded. A message that spans lines carries the `$$<...>` tail on its
last line only, so lines without a tail are held and joined to the next line that has one.
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
from knowledge.models import Entry

MARK = "$$<"
_TAIL = re.compile(
    r"\$\$<([^>]*)><(\d{1,2}-\d{1,2}-\d{4}) (\d{1,2}:\d{1,2}):(\d{1,2})(?:\.(\d+))?"
    r"([+-]\d+)?><thread=(\d+)"
)


def parse(text: TextIO, path: str) -> Iterator[Entry]:
    clock = Clock(mdy)
    held: list[str] = []  # lines of a message whose tail has not come yet
    held_size = 0
    start = 0
    for number, line, _cut in iter_lines(text):
        mark = line.rfind(MARK)
        match = _TAIL.match(line, mark) if mark >= 0 else None
        if match is None:
            if line.strip() or held:
                if not held:
                    start = number
                if held_size <= MAX_RECORD_CHARS and len(held) < MAX_RECORD_LINES:
                    held.append(line)
                    held_size += len(line)
            continue
        component, day, hhmm, second, fraction, bias, thread = match.groups()
        shift = valid_shift(int(bias)) if bias else None
        when = clock.time(day, hhmm, second, microseconds(fraction), shift)
        message = line[:mark].rstrip()
        if held:
            held.append(message)
            message, held, held_size = join_capped(held), [], 0
        else:
            start = number
        yield Entry(path, start, when, component, severity_from_words(message), thread, message)
    if held:
        message = join_capped(held).strip()
        if message:
            yield Entry(path, start, None, "", severity_from_words(message), None, message)
