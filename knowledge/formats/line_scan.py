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
from collections.abc import Iterator
from typing import BinaryIO

from ..decoding import MAX_LINE, decode_bytes
from ..models import Entry
from . import wulog_etw
from .cmtrace_scan import FileFacts, Finder, parse_hits

_CHUNK = 1 << 20
_BOM = b"\xef\xbb\xbf"
# What str.strip() removes among ASCII characters; other whitespace is checked decoded.
_ASCII_SPACE = b" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"
_FAILED = b"*FAILED*"


class _Odd(Exception):
    """The file must be read line by line."""


def fast_facts(binary: BinaryIO, path: str, encoding: str, exact_lines: bool) -> FileFacts | None:
    """The facts of one wulog-etw file, or None when it must be read line by line.

    Line breaks are always exact here (a lone CR would change the entry count), so
    `exact_lines` asks nothing more.
    """
    del exact_lines
    if not encoding.startswith("utf-8"):
        return None
    entries = warnings = 0
    first: Entry | None = None
    looked = 0  # lines tried for the first timed one
    older: list[bytes] = []  # the lines of the last two buffers, for the last timed line
    newer: list[bytes] = []
    try:
        for buffer, end in _regions(binary):
            lines = _lines(buffer, end)
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
            if _FAILED in buffer:
                warnings += sum(1 for line in lines if _FAILED in line)
            older, newer = newer, lines
    except _Odd:
        return None
    if first is None:
        if looked >= _LOOK_FOR_TIME:
            return None
        return FileFacts(entries, 0, warnings, None, None, 0, local=True)
    timed = (_timed(line, path) for line in reversed([*older, *newer]))
    last = next(filter(None, timed), None)
    if last is None:
        return None  # no timed line near the end: the last one is further back
    return FileFacts(entries, 0, warnings, first, last, 0, local=True)


# A file whose first lines have no time is odd: it is read line by line instead.
_LOOK_FOR_TIME = 1000


def candidates(binary: BinaryIO, path: str, finder: Finder) -> Iterator[Entry]:
    """The entries of the lines in which `finder` matches, for a file `fast_facts` took."""
    return parse_hits(_regions(binary), finder, b"\n", wulog_etw.parse, path)


def _regions(binary: BinaryIO) -> Iterator[tuple[bytes, int]]:
    """(buffer, end): buffer[:end] is whole lines; a lone CR or a too long line is odd."""
    carry = binary.read(_CHUNK)
    if carry.startswith(_BOM):
        carry = carry[len(_BOM) :]
    while True:
        chunk = binary.read(_CHUNK)
        buffer = carry + chunk
        end = buffer.rfind(b"\n") + 1 if chunk else len(buffer)
        if chunk and end == 0:
            if len(buffer) > MAX_LINE:
                raise _Odd
            carry = buffer
            continue
        returns = buffer.count(b"\r", 0, end)
        if returns and returns != buffer.count(b"\r\n", 0, end):
            raise _Odd
        yield buffer, end
        if not chunk:
            return
        carry = buffer[end:]


def _lines(buffer: bytes, end: int) -> list[bytes]:
    lines = buffer[:end].split(b"\n")
    if not lines[-1]:
        lines.pop()  # nothing after the last line break
    return lines


def _timed(line: bytes, path: str) -> Entry | None:
    entries = list(wulog_etw.parse(io.StringIO(decode_bytes(line), newline=""), path))
    return entries[0] if entries and entries[0].time is not None else None
