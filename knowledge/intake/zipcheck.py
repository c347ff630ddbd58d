"""What an uploaded file is, from its first bytes, and the shape of a zip, from its end
records, both checked before `zipfile` parses anything (see `knowledge.intake.archive`)."""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from typing import BinaryIO

# zipfile cannot read Deflate64; inflate64 ships wheels for every platform we support
# and its decoder is fed by Deflate64Reader (see there for why in small pieces).
from knowledge.errors import InputError
from knowledge.intake.limits import LOGS_FOLDER_HINT, Limits, human_size

_SNIFF_BYTES = 8192  # enough of the start of a file to tell a zip from an HTML page


# --- what a file is, from its first bytes --------------------------------------------

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_OTHER_MAGIC = (
    (b"7z\xbc\xaf\x27\x1c", "is a 7-Zip archive"),
    (b"Rar!\x1a\x07", "is a RAR archive"),
    (b"\x1f\x8b", "is a gzip file"),
    (b"MSCF", "is a Windows cabinet (.cab) file"),
    (b"%PDF", "is a PDF document"),
    (b"MZ", "is a Windows program"),
    (b"\x89PNG", "is a PNG image"),
    (b"\xff\xd8\xff", "is a JPEG image"),
)


def is_zip(head: bytes) -> bool:
    return head.startswith(_ZIP_MAGIC)


def looks_like_html(head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return text.startswith((b"<!doctype html", b"<html")) or b"<html" in text[:1024]


def describe_content(head: bytes) -> str:
    """What a file that is neither a zip nor a log seems to be, as a predicate."""
    for magic, what in _OTHER_MAGIC:
        if head.startswith(magic):
            return what
    if looks_like_html(head):
        if b"slack" in head.lower():
            return "looks like a Slack sign-in page (an HTML page saved in place of the file)"
        return "looks like an HTML web page"
    if b"\x00" not in head:
        return "looks like plain text"
    return "is not in a format this tool knows"


# --- the zip's end records, read before zipfile parses anything ----------------------

_END_RECORD = struct.Struct("<4s4H2LH")  # end of central directory, 22 bytes
_ZIP64_LOCATOR = struct.Struct("<4sLQL")  # 20 bytes, just before the end record
_ZIP64_END_RECORD = struct.Struct("<4sQ2H2L4Q")  # 56 bytes, just before the locator
_CENTRAL_HEADER = struct.Struct("<4s4B4HL2L5H2L")  # 46 bytes plus name, extra, comment
_END_SIGNATURE = b"PK\x05\x06"
_ZIP64_LOCATOR_SIGNATURE = b"PK\x06\x07"
_ZIP64_END_SIGNATURE = b"PK\x06\x06"
_CENTRAL_SIGNATURE = b"PK\x01\x02"


@dataclass(frozen=True)
class _Directory:
    entries: int  # as the end record claims
    start: int  # where the central directory begins, computed the way zipfile does
    size: int


def _find_directory(fp: BinaryIO, file_size: int, label: str) -> _Directory | None:
    """The end-of-central-directory record (ZIP64 aware), found the way zipfile finds it."""
    tail_start = max(file_size - (1 << 16) - _END_RECORD.size, 0)
    fp.seek(tail_start)
    tail = fp.read()
    no_comment = len(tail) - _END_RECORD.size
    if no_comment >= 0 and tail[no_comment:].startswith(_END_SIGNATURE) and tail[-2:] == b"\0\0":
        position = no_comment
    else:
        position = tail.rfind(_END_SIGNATURE)
        if position < 0 or position + _END_RECORD.size > len(tail):
            return None
    _, _, _, _, entries, size, _, _ = _END_RECORD.unpack_from(tail, position)
    end_at = tail_start + position

    locator_at = end_at - _ZIP64_LOCATOR.size
    if locator_at >= 0:
        fp.seek(locator_at)
        locator = fp.read(_ZIP64_LOCATOR.size)
        signature, disk, _, disks = _ZIP64_LOCATOR.unpack(locator)
        if signature == _ZIP64_LOCATOR_SIGNATURE:
            if disk != 0 or disks > 1:
                raise InputError(
                    f"{label} is one part of a split (multi-part) zip; "
                    "make a single zip of the logs and send that"
                )
            record_at = locator_at - _ZIP64_END_RECORD.size
            if record_at >= 0:
                fp.seek(record_at)
                record = _ZIP64_END_RECORD.unpack(fp.read(_ZIP64_END_RECORD.size))
                if record[0] == _ZIP64_END_SIGNATURE:
                    entries, size, end_at = record[7], record[8], record_at
    return _Directory(entries=entries, start=end_at - size, size=size)


def _count_directory_entries(fp: BinaryIO, directory: _Directory, stop_after: int) -> int | None:
    """Headers really in the central directory (zipfile ignores the claimed count), or
    None when the directory is malformed. Stops counting past `stop_after`."""
    fp.seek(directory.start)
    data = fp.read(directory.size)
    if len(data) != directory.size:
        return None
    offset = count = 0
    while offset < len(data):
        if offset + _CENTRAL_HEADER.size > len(data):
            return None
        header = _CENTRAL_HEADER.unpack_from(data, offset)
        if header[0] != _CENTRAL_SIGNATURE:
            return None
        name_length, extra_length, comment_length = header[12], header[13], header[14]
        offset += _CENTRAL_HEADER.size + name_length + extra_length + comment_length
        count += 1
        if count > stop_after:
            break
    return count


def check_zip_shape(fp: BinaryIO, label: str, limits: Limits) -> None:
    """Refuses a zip that is not one, is cut off, empty, or too big to list, from its bytes."""
    fp.seek(0, os.SEEK_END)
    file_size = fp.tell()
    fp.seek(0)
    head = fp.read(_SNIFF_BYTES)
    if not head:
        raise InputError(f"{label} is empty (0 bytes); {LOGS_FOLDER_HINT}")
    if not is_zip(head):
        raise InputError(
            f"{label} is not a zip: it {describe_content(head)}; "
            "download the real file again and send it"
        )
    directory = _find_directory(fp, file_size, label)
    if directory is None:
        raise InputError(
            f"{label} is not a complete zip: its end is missing, so it was probably cut off "
            "while uploading or downloading; send it again"
        )
    if directory.entries > limits.max_entries:
        raise InputError(
            f"{label} holds {directory.entries:,} files, more than the "
            f"{limits.max_entries:,} this tool reads; {LOGS_FOLDER_HINT}"
        )
    if directory.size > limits.max_directory_bytes:
        raise InputError(
            f"{label} has a {human_size(directory.size)} list of files, more than the "
            f"{human_size(limits.max_directory_bytes)} this tool reads; {LOGS_FOLDER_HINT}"
        )
    if directory.start < 0:
        raise InputError(
            f"{label} is a damaged zip (its file list points outside the file); "
            "zip the logs again and send the new zip"
        )
    counted = _count_directory_entries(fp, directory, limits.max_entries)
    if counted is None:
        raise InputError(
            f"{label} is a damaged zip (its file list cannot be read); "
            "zip the logs again and send the new zip"
        )
    if counted > limits.max_entries:
        raise InputError(
            f"{label} holds more than the {limits.max_entries:,} files this tool reads; "
            f"{LOGS_FOLDER_HINT}"
        )
    if counted == 0:
        raise InputError(f"{label} is empty: the zip has no files in it; {LOGS_FOLDER_HINT}")
