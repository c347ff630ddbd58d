"""Builds the zips the archive tests need, good and hostile, byte by byte where zipfile
would refuse to (Deflate64 members, encrypted flags, lying sizes, 100,000 entries)."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import inflate64

_DOS_TIME, _DOS_DATE = 0x6000, 0x5865  # 2024-03-05 12:00:00


def write_zip(path: Path, members: dict[str, bytes | str], method=zipfile.ZIP_DEFLATED) -> Path:
    """An ordinary zip; names are written as given, backslashes and all."""
    with zipfile.ZipFile(path, "w", method) as archive:
        for name, content in members.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 3, 5, 12, 0, 0))
            info.compress_type = method
            archive.writestr(info, content.encode() if isinstance(content, str) else content)
    return path


def zip_bytes(members: dict[str, bytes | str]) -> bytes:
    """An ordinary deflated zip as bytes, to put inside another zip."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content.encode() if isinstance(content, str) else content)
    return buffer.getvalue()


@dataclass(frozen=True)
class RawEntry:
    """One member exactly as it goes on disk: packed bytes and the headers' claims."""

    name: bytes
    packed: bytes
    method: int = zipfile.ZIP_STORED
    crc: int = 0
    size: int = 0  # declared unpacked size
    flags: int = 0


def stored(name: str, data: bytes) -> RawEntry:
    return RawEntry(name.encode(), data, zipfile.ZIP_STORED, zlib.crc32(data), len(data))


def deflate64(name: str, data: bytes, *, declared_size: int | None = None) -> RawEntry:
    """A Deflate64 member (method 9), the way Windows Explorer writes big files."""
    deflater = inflate64.Deflater()
    packed = deflater.deflate(data) + deflater.flush()
    size = len(data) if declared_size is None else declared_size
    return RawEntry(name.encode(), packed, 9, zlib.crc32(data), size)


def deflated(name: str, data: bytes, *, declared_size: int | None = None) -> RawEntry:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    packed = compressor.compress(data) + compressor.flush()
    size = len(data) if declared_size is None else declared_size
    return RawEntry(name.encode(), packed, zipfile.ZIP_DEFLATED, zlib.crc32(data), size)


def encrypted(name: str, data: bytes) -> RawEntry:
    """A member flagged as ZipCrypto-encrypted (its bytes are never decrypted by us)."""
    return RawEntry(
        name.encode(),
        b"\x00" * 12 + data,
        zipfile.ZIP_STORED,
        zlib.crc32(data),
        len(data),
        flags=0x1,
    )


def raw_zip(
    entries: Iterable[RawEntry], *, claimed_entries: int | None = None, zip64: bool = False
) -> bytes:
    """Local headers, central directory and end records, written with struct; the ZIP64
    end records are added when asked or when the entry count needs them."""
    local, central = bytearray(), bytearray()
    count = 0
    for entry in entries:
        offset = len(local)
        local += struct.pack(
            "<4s5H3L2H",
            b"PK\x03\x04",
            20,
            entry.flags,
            entry.method,
            _DOS_TIME,
            _DOS_DATE,
            entry.crc,
            len(entry.packed),
            entry.size,
            len(entry.name),
            0,
        )
        local += entry.name + entry.packed
        central += struct.pack(
            "<4s6H3L5H2L",
            b"PK\x01\x02",
            20,
            20,
            entry.flags,
            entry.method,
            _DOS_TIME,
            _DOS_DATE,
            entry.crc,
            len(entry.packed),
            entry.size,
            len(entry.name),
            0,
            0,
            0,
            0,
            0,
            offset,
        )
        central += entry.name
        count += 1
    claimed = count if claimed_entries is None else claimed_entries
    ends = bytearray()
    if zip64 or claimed >= 0xFFFF:
        record_at = len(local) + len(central)
        ends += struct.pack(
            "<4sQ2H2L4Q",
            b"PK\x06\x06",
            44,
            45,
            45,
            0,
            0,
            claimed,
            claimed,
            len(central),
            len(local),
        )
        ends += struct.pack("<4sLQL", b"PK\x06\x07", 0, record_at, 1)
        ends += struct.pack(
            "<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0
        )
    else:
        ends += struct.pack(
            "<4s4H2LH", b"PK\x05\x06", 0, 0, claimed, claimed, len(central), len(local), 0
        )
    return bytes(local + central + ends)


def many_entries(count: int) -> Iterable[RawEntry]:
    """`count` empty stored members with short names, fast to write."""
    return (RawEntry(str(index).encode(), b"") for index in range(count))
