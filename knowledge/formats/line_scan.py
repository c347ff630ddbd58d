"""Per-file facts of a one-entry-per-line log (Windows 10 WindowsUpdate.log) from its bytes.

In wulog-etw every non-blank line is one entry, timed when it has the ETW row shape,
a warning when it says `*FAILED*`, never an error, and never with a zone. So the facts
are a count of non-blank lines, a count of the lines that say `*FAILED*`, and the first
and last timed lines, parsed with `wulog_etw.parse`, the reference this must agree with.
A line longer than the text reader's limit or a lone CR (a line break for the text
reader) sends the file back to that parser (None).
"""

from __future__ import annotations

import io
from typing import BinaryIO

from ..decoding import MAX_LINE, decode_bytes
from ..models import Entry
from . import wulog_etw
from .cmtrace_scan import FileFacts, Finder

_CHUNK = 1 << 20
_BOM = b"\xef\xbb\xbf"
# What str.strip() removes among ASCII characters; other whitespace is checked decoded.
_ASCII_SPACE = b" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"
_FAILED = b"*FAILED*"
MAX_CANDIDATES = 20_000


def fast_facts(
    binary: BinaryIO, path: str, encoding: str, finder: Finder | None = None
) -> FileFacts | None:
    """The facts of one wulog-etw file, or None when it must be read line by line."""
    if not encoding.startswith("utf-8"):
        return None
    entries = warnings = 0
    number = 0  # lines before the current buffer
    first: Entry | None = None
    looked = 0  # lines tried for the first timed one
    older: list[bytes] = []  # the lines of the last two buffers, for the last timed line
    newer: list[bytes] = []
    candidates: list[Entry] = []
    carry = binary.read(_CHUNK)
    if carry.startswith(_BOM):
        carry = carry[len(_BOM) :]
    while True:
        chunk = binary.read(_CHUNK)
        buffer = carry + chunk
        end = len(buffer) if not chunk else buffer.rfind(b"\n") + 1
        if chunk and end == 0:
            if len(buffer) > MAX_LINE:
                return None
            carry = buffer
            continue
        returns = buffer.count(b"\r", 0, end)
        if returns and returns != buffer.count(b"\r\n", 0, end):
            return None
        lines = buffer[:end].split(b"\n")
        if not lines[-1]:
            lines.pop()  # nothing after the last line break
        for line in lines:
            if len(line) >= MAX_LINE:
                return None
            stripped = line.strip(_ASCII_SPACE)
            if not stripped or (not stripped.isascii() and not decode_bytes(stripped).strip()):
                continue
            entries += 1
            if first is None and looked < _LOOK_FOR_TIME:
                looked += 1
                first = _timed(line, path)
        warnings += sum(1 for line in lines if _FAILED in line) if _FAILED in buffer else 0
        if finder is not None:
            found = _find(finder, buffer, end, number, path)
            if found is None or len(candidates) + len(found) > MAX_CANDIDATES:
                return None
            candidates += found
        number += len(lines)
        older, newer = newer, lines
        if not chunk:
            break
        carry = buffer[end:]
    if first is None:
        return None if looked >= _LOOK_FOR_TIME else _untimed(entries, warnings, candidates)
    timed = (_timed(line, path) for line in reversed([*older, *newer]))
    last = next(filter(None, timed), None)
    if last is None:
        return None
    return FileFacts(entries, 0, warnings, first, last, 0, candidates, local=True)


# A file whose first lines have no time is odd: it is read line by line instead.
_LOOK_FOR_TIME = 1000


def _untimed(entries: int, warnings: int, candidates: list[Entry]) -> FileFacts:
    return FileFacts(entries, 0, warnings, None, None, 0, candidates, local=True)


def _find(finder: Finder, buffer: bytes, end: int, number: int, path: str) -> list[Entry] | None:
    """The entries of the lines of buffer[:end] in which the finder matches."""
    found: list[bytes] = []
    lines: list[int] = []
    counted = 0
    pos = 0
    while pos < end:
        hit = finder.search(buffer, pos, end)
        if hit is None:
            break
        start = buffer.rfind(b"\n", 0, hit.start()) + 1
        stop = buffer.find(b"\n", hit.start(), end) + 1 or end
        number += buffer.count(b"\n", counted, start)
        counted = start
        found.append(buffer[start:stop].rstrip(b"\r\n"))
        lines.append(number + 1)
        pos = stop
    if not found:
        return []
    text = io.StringIO(decode_bytes(b"\n".join(found)), newline="")
    entries = list(wulog_etw.parse(text, path))
    if len(entries) != len(found):
        return None
    for entry, line in zip(entries, lines, strict=True):
        entry.line = line
    return entries


def _timed(line: bytes, path: str) -> Entry | None:
    entries = list(wulog_etw.parse(io.StringIO(decode_bytes(line), newline=""), path))
    return entries[0] if entries and entries[0].time is not None else None
