"""Bytes of a log file to lines of text, the way Windows tools would read them.

ConfigMgr writes UTF-8 with a BOM, older tools write UTF-16 with a BOM, and logs that
people edited or pasted are often UTF-8 with a stray Windows-1252 byte (0x92, a curly
apostrophe). Decoding never fails: a byte that is not valid UTF-8 is read as
Windows-1252 on its own, and the rest of the line stays UTF-8.

Everything streams: a log is never read whole, and a line is never held longer than
`max_line` characters, so a 50 MB line with no newline costs no more than a short one.
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterator
from typing import BinaryIO, TextIO

MAX_LINE = 65_536
_READ_BUFFER = 1 << 20  # decode in big blocks: the per-block cost then vanishes
_FALLBACK_ERRORS = "sccm-cp1252-fallback"
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


# The five bytes Windows-1252 leaves undefined read as the C1 control of the same number.
_CP1252_HOLES = frozenset((0x81, 0x8D, 0x8F, 0x90, 0x9D))


def _cp1252_per_byte(error: UnicodeError) -> tuple[str, int]:
    """Read the first undecodable byte as Windows-1252 and resume UTF-8 right after it."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    byte = error.object[error.start]
    char = chr(byte) if byte in _CP1252_HOLES else bytes((byte,)).decode("cp1252")
    return char, error.start + 1


codecs.register_error(_FALLBACK_ERRORS, _cp1252_per_byte)


class _Prefixed(io.RawIOBase):
    """A stream that gives back the bytes already read for sniffing, then the rest."""

    def __init__(self, head: bytes, rest: BinaryIO):
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._head:
            count = min(len(buffer), len(self._head))
            buffer[:count] = self._head[:count]
            self._head = self._head[count:]
            return count
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _sniff(binary: BinaryIO) -> tuple[bytes, BinaryIO]:
    """The first bytes of the stream, and a stream that still starts at byte 0."""
    peek = getattr(binary, "peek", None)
    if peek is not None:
        head = peek(4)[:4]
        if len(head) >= 4:
            return head, binary
        # A short peek either means a tiny file or a buffer boundary: read to be sure.
    head = binary.read(4) or b""
    while len(head) < 4:
        more = binary.read(4 - len(head))
        if not more:
            break
        head += more
    return head, io.BufferedReader(_Prefixed(head, binary), buffer_size=_READ_BUFFER)


def _encoding_of(head: bytes) -> str:
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    # UTF-16 without a BOM still shows itself: ASCII text with every other byte zero.
    if len(head) == 4 and head[1] == 0 and head[3] == 0 and head[0] and head[2]:
        return "utf-16-le"
    if len(head) == 4 and head[0] == 0 and head[2] == 0 and head[1] and head[3]:
        return "utf-16-be"
    return "utf-8"


def open_text(binary: BinaryIO) -> tuple[TextIO, str]:
    """Wrap a binary stream (seekable or not) as text; returns (text, encoding name).

    The text keeps line endings as written (newline=''), so CRLF and LF logs read the same
    way through `iter_lines`.
    """
    head, stream = _sniff(binary)
    encoding = _encoding_of(head)
    if encoding.startswith("utf-16"):
        # The "utf-16" codec reads and drops the BOM itself; without one, say the order.
        has_bom = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
        codec = "utf-16" if has_bom else encoding
        text = io.TextIOWrapper(stream, encoding=codec, errors="replace", newline="")
    else:
        text = io.TextIOWrapper(stream, encoding=encoding, errors=_FALLBACK_ERRORS, newline="")
    return text, encoding


def decode_bytes(data: bytes) -> str:
    """Bytes of a UTF-8 log (BOM already dropped), decoded the way `open_text` decodes them."""
    return data.decode("utf-8", errors=_FALLBACK_ERRORS)


def iter_lines(text: TextIO, max_line: int = MAX_LINE) -> Iterator[tuple[int, str, bool]]:
    """(1-based line number, line without its ending, whether it was cut at max_line).

    The part of an over-long line beyond `max_line` characters is read and dropped in
    `max_line`-sized pieces, so memory stays bounded whatever the input.
    """
    readline = text.readline
    number = 0
    piece = readline(max_line)
    if piece[:1] == "\ufeff":  # a BOM the decoder did not take (text from elsewhere)
        piece = piece[1:]
    while piece:
        number += 1
        if len(piece) < max_line or piece[-1] == "\n":
            yield number, piece.rstrip("\r\n"), False
            piece = readline(max_line)
            continue
        # A full-size piece with no LF: the line goes on, or ends at the cut.
        line = piece.rstrip("\r\n")
        last = piece
        piece = readline(max_line)
        truncated = last[-1] != "\r" and piece not in ("", "\n", "\r\n", "\r")
        if truncated:
            while len(piece) == max_line and piece[-1] not in "\r\n":
                piece = readline(max_line)
            last = piece
            piece = readline(max_line)
        elif last[-1] != "\r" and piece:
            last = piece  # the line ending that followed the cut
            piece = readline(max_line)
        # A limit can split CRLF: the CR ends one piece and the LF comes alone.
        if piece == "\n" and last[-1:] == "\r" and len(last) == max_line:
            piece = readline(max_line)
        yield number, line, truncated
