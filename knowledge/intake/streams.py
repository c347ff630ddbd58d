"""Streams over an upload's members that count what they give: a member that unpacks to
more than it declared, or a damaged one, stops with an `InputError`, never a traceback."""

from __future__ import annotations

import copy
import io
import os
import struct
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO

# zipfile cannot read Deflate64; inflate64 ships wheels for every platform we support
# and its decoder is fed by Deflate64Reader (see there for why in small pieces).
from inflate64 import Inflater

from knowledge.errors import InputError
from knowledge.intake.names import printable

_CHUNK = 1 << 20  # read and copy in 1 MiB blocks: big enough that counting bytes costs nothing


# --- streams ----------------------------------------------------------------------

# What zipfile and the decompressors raise on bytes that are not what they claim to be.
DAMAGE_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    struct.error,
    EOFError,
    NotImplementedError,
    OSError,
    ValueError,
)


def damaged(label: str, error: BaseException) -> InputError:
    detail = printable(str(error) or type(error).__name__)
    return InputError(
        f"{label} is damaged and could not be unpacked ({detail}); "
        "zip the logs again and send the new zip"
    )


class CappedReader(io.RawIOBase):
    """Passes bytes through, counting them, and never lets more than `limit` out.

    Strict (zip members): more bytes than the entry declares means a damaged or hostile
    zip, so reading stops with InputError. Not strict (files in a folder): a live log that
    grows while we read is cut at the size it had when listed.
    """

    def __init__(self, inner: BinaryIO, limit: int, label: str, *, strict: bool):
        super().__init__()
        self._inner = inner
        self._limit = limit
        self._label = label
        self._strict = strict
        self._count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if not self._strict and self._count >= self._limit:
            return 0
        try:
            count = self._inner.readinto(buffer)
        except DAMAGE_ERRORS as error:
            raise damaged(self._label, error) from None
        if not count:
            return 0
        self._count += count
        if self._count > self._limit:
            if self._strict:
                raise InputError(
                    f"{self._label} unpacks to more than the {self._limit:,} bytes its zip "
                    "entry declares, so the zip is damaged or built to exhaust memory; "
                    "it was not read"
                )
            count -= self._count - self._limit
            self._count = self._limit
        return count

    def close(self) -> None:
        if not self.closed:
            self._inner.close()
        super().close()


class _PositionalFile(io.RawIOBase):
    """A file opened for reading that keeps its own position and reads with `os.pread`.

    The diagnosis may read files in forked processes (knowledge/fastpath/pool.py). A child
    inherits the parent's open descriptors and shares their offset, which zipfile moves
    with every seek; two processes reading one zip through it would read each other's
    bytes. pread takes the offset as an argument, so each process reads at the
    position held by its own copy of this object.
    """

    def __init__(self, path: Path | str):
        super().__init__()
        self._fd = os.open(path, os.O_RDONLY)
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def read(self, size: int = -1) -> bytes:
        self._require_open()  # the descriptor's number may belong to another file by now
        if size is None or size < 0:
            size = max(0, os.fstat(self._fd).st_size - self._position)
        data = os.pread(self._fd, size, self._position)
        self._position += len(data)
        return data

    def readinto(self, buffer) -> int:
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._require_open()
        if whence == io.SEEK_CUR:
            offset += self._position
        elif whence == io.SEEK_END:
            offset += os.fstat(self._fd).st_size
        elif whence != io.SEEK_SET:
            raise ValueError(f"invalid whence ({whence})")
        if offset < 0:
            raise OSError(f"negative seek position {offset}")
        self._position = offset
        return offset

    def tell(self) -> int:
        self._require_open()
        return self._position

    def close(self) -> None:
        if not self.closed:
            os.close(self._fd)
        super().close()

    def _require_open(self) -> None:
        if self.closed:
            raise ValueError("I/O operation on closed file")


def open_for_reading(path: Path | str) -> BinaryIO:
    """A file for zipfile to read, safe to share with forked processes where the system
    has pread (Windows has not, and never forks: it gets a plain file)."""
    if hasattr(os, "pread"):
        return _PositionalFile(path)
    return open(path, "rb")  # noqa: SIM115 - the caller closes it


class Deflate64Reader(io.RawIOBase):
    """Inflates a Deflate64 member (Windows Explorer writes them for big files).

    A decoder plugged into zipfile would inflate a whole read's worth of compressed
    bytes at once, and Deflate64 can turn one byte into ~25,000: a 1 MB read could unpack
    to gigabytes before any limit looks. Feeding the decoder a few hundred bytes at a time
    keeps every burst to a few MB.
    """

    _FEED = 256  # compressed bytes per decoder call: at most ~7 MB out of a hostile feed
    _BLOCK = 64 << 10  # compressed bytes fetched from the zip at a time

    def __init__(self, compressed: BinaryIO, expected_crc: int, label: str):
        super().__init__()
        self._compressed = compressed
        self._expected_crc = expected_crc
        self._label = label
        self._decoder = Inflater()
        self._block = memoryview(b"")
        self._offset = 0
        self._pending = bytearray()
        self._crc = 0
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        wanted = len(buffer)
        while len(self._pending) < wanted and not self._done:
            if self._offset >= len(self._block):
                self._block = memoryview(self._compressed.read(self._BLOCK))
                self._offset = 0
                if not self._block:
                    self._finish()
                    break
            piece = self._block[self._offset : self._offset + self._FEED]
            self._offset += len(piece)
            out = self._decoder.inflate(piece)
            self._crc = zlib.crc32(out, self._crc)
            self._pending += out
            if self._decoder.eof:
                self._finish()
        count = min(wanted, len(self._pending))
        with memoryview(self._pending) as pending:
            buffer[:count] = pending[:count]
        del self._pending[:count]
        return count

    def _finish(self) -> None:
        self._done = True
        if not self._decoder.eof:
            raise InputError(
                f"{self._label} is damaged: its compressed data ends early; "
                "zip the logs again and send the new zip"
            )
        if self._crc != self._expected_crc:
            raise InputError(
                f"{self._label} is damaged: it fails its checksum once unpacked; "
                "zip the logs again and send the new zip"
            )

    def close(self) -> None:
        if not self.closed:
            self._compressed.close()
        super().close()


def compressed_view(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    """The same entry described as stored, so zipfile hands over its packed bytes as they
    are (after checking the local header); the real checksum is checked after inflating."""
    view = copy.copy(info)
    view.compress_type = zipfile.ZIP_STORED
    view.file_size = info.compress_size
    del view.CRC  # zipfile skips its own check when an entry has no CRC
    return view


def buffered(raw: io.RawIOBase, buffer_size: int = _CHUNK) -> BinaryIO:
    return io.BufferedReader(raw, buffer_size=buffer_size)
