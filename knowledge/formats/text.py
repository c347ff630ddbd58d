"""Anything that is no known log format: every non-empty line is an entry.

A leading ISO 8601 timestamp is used when there is one (UTC when it says Z or an
offset, local otherwise). Severity comes from words such as "error" and "warning".
Lines that hold control characters are binary junk, not text, and are left out; once
such lines outnumber the text lines the file is taken as binary and reading stops, so a
binary file named .log gives few or no entries instead of a screenful of noise.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import TextIO

from knowledge.formats._shared import microseconds, severity_from_words
from knowledge.formats.decoding import iter_lines
from knowledge.models import Entry

_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?"
    r"(Z|[+-]\d{2}:?\d{2})?\b"
)
_BINARY = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f\ufffd]")
_JUNK_TOLERANCE = 8  # binary lines allowed before a file that is mostly binary is dropped


def leading_time(line: str) -> datetime | None:
    match = _ISO.match(line)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        when = datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            microseconds(fraction),
        )
    except ValueError:
        return None
    if zone is None:
        return when
    if zone == "Z":
        return when.replace(tzinfo=UTC)
    digits = zone[1:].replace(":", "")
    offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    if offset > timedelta(hours=14):
        return None
    try:
        return when.replace(tzinfo=timezone(offset if zone[0] == "+" else -offset)).astimezone(UTC)
    except OverflowError:  # year 1 or 9999 moved past the calendar's edge
        return None


def parse(text: TextIO, path: str) -> Iterator[Entry]:
    junk = kept = 0
    for number, line, _cut in iter_lines(text):
        stripped = line.strip()
        if not stripped:
            continue
        if _BINARY.search(stripped):
            junk += 1
            if junk > _JUNK_TOLERANCE and junk > kept:
                return  # a binary file: its odd printable fragments are not log lines
            continue
        kept += 1
        yield Entry(
            path, number, leading_time(stripped), "", severity_from_words(stripped), None, stripped
        )
