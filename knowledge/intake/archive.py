"""Opens an untrusted upload (a .zip, a folder or one file) and lists the log files in it.

Uploads come from strangers through Slack, so every byte is treated as hostile:

- the size of the file, its entry count and the size of its file list are read from the
  zip's own end records (with `struct`) before `zipfile` parses the directory;
- members are streamed, never read whole, through a reader that counts what comes out and
  stops a member that unpacks to more than its entry declares (a zip bomb met while reading,
  not only one announced in the headers);
- nothing is ever written under a name taken from the upload: a nested zip is copied, size
  limits enforced while copying, to a file we name inside our own temporary folder;
- anything a person can fix becomes one `InputError` sentence, or a skip reason when the
  rest of the upload is still usable.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import io
import os
import re
import shutil
import stat
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO

# zipfile cannot read Deflate64; inflate64 ships wheels for every platform we support
# and its decoder is fed by _Deflate64Reader (see there for why in small pieces).
from inflate64 import Inflater

from knowledge.errors import InputError
from knowledge.models import SkippedFile

LOGS_FOLDER_HINT = "zip the C:\\Windows\\CCM\\Logs folder and send that"
NOT_A_LOG = "not a log file"

_CHUNK = 1 << 20  # read and copy in 1 MiB blocks: big enough that counting bytes costs nothing
_SNIFF_BYTES = 8192  # enough of the start of a file to tell a zip from an HTML page
_DEFLATE64 = 9
_READABLE_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, _DEFLATE64}


@dataclass(frozen=True)
class Limits:
    """How much of an upload we are willing to read.

    A full C:\\Windows\\CCM\\Logs folder is usually 20-300 MB in a few hundred files, and
    CBS.log alone can pass 1 GB on a neglected machine. The defaults leave room for all of
    that and stop only what no log bundle looks like: bombs, millions of entries, nesting.
    """

    # size of the .zip (or single file) on disk; Slack's own upload path caps far lower
    max_upload_bytes: int = 1 << 30
    # sum of the unpacked sizes of the members we read (logs and nested zips)
    max_total_uncompressed: int = 4 << 30
    # one member unpacked: room for an overgrown CBS.log
    max_member_uncompressed: int = 2 << 30
    # members in one zip, checked from the end records before zipfile reads the directory;
    # CCM\Logs holds a few hundred files, Support Center bundles a few thousand
    max_entries: int = 20_000
    # bytes of the zip's file list, which zipfile loads at once: 20,000 entries with long
    # Windows paths come to a few MB
    max_directory_bytes: int = 32 << 20
    # per member, unpacked/packed: text logs pack 5-30 times; deflate tops out near 1,000
    max_ratio: int = 200
    # below this unpacked size a high ratio is harmless (a small log of repeated lines)
    ratio_floor: int = 1 << 20
    # one zip inside the upload is read; a zip inside that one is listed as skipped
    max_nesting: int = 1


@dataclass(frozen=True)
class LogSource:
    """One log file of the upload, to be opened (as many times as needed) by the readers."""

    path: str  # path inside the upload, forward slashes; for a single file its name
    name: str  # base name
    size: int  # unpacked size in bytes
    group: str  # lower-case name of the current file of its rotation group, e.g. "cas.log"
    rotation_rank: tuple  # order inside the group: history files by stamp, X.lo_, X.log last
    opener: Callable[[], BinaryIO] = field(repr=False, compare=False)

    def open(self, buffer_size: int | None = None) -> BinaryIO:
        """A new binary stream of the file; raises InputError if the data proves damaged.

        `buffer_size` (default 1 MiB) is how much is unpacked at a time: a reader that
        wants only the head of a file asks for less, so as not to unpack what it skips.
        """
        return self.opener() if buffer_size is None else self.opener(buffer_size)


# --- names -------------------------------------------------------------------------

_STAMPED = re.compile(r"^(?P<current>.+)-(?P<date>\d{8})-(?P<time>\d{6})\.log$")
_CBS_PERSIST = re.compile(r"^cbspersist_(?P<stamp>\d{14})\.log$")
# Rank inside a rotation group, oldest first. ConfigMgr renames a full X.log to X.lo_,
# the file just before the current one; clients that keep more history name it
# X-YYYYMMDD-HHMMSS.log instead, and those stamped files sort by their stamp. So: stamped
# history, then X.lo_, then the current X.log.
_HISTORY, _PREVIOUS, _CURRENT = 0, 1, 2

_JUNK_NAMES = {".ds_store", "desktop.ini", "thumbs.db"}
_NOT_LOG_KINDS = {
    ".etl": "a binary event trace; run Get-WindowsUpdateLog on the machine to write "
    "WindowsUpdate.log from it",
    ".evtx": "a Windows event log",
    ".cab": "a cabinet archive",
    ".7z": "a 7-Zip archive; send a .zip instead",
    ".rar": "a RAR archive; send a .zip instead",
}
_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _printable(text: str) -> str:
    """A name fit for one line of output: control characters (a newline in a zip entry's
    name, say) become "?"."""
    return _CONTROL.sub("?", text)


def log_rotation(name: str) -> tuple[str, tuple] | None:
    """(group, rotation_rank) of a file name, or None when the name is not a log's.

    Logs are known by name, case-insensitively: *.log, *.lo_ (the rotated previous file),
    X-YYYYMMDD-HHMMSS.log (history that joins X.log), CbsPersist_<stamp>.log (CBS.log's
    history) and *.txt (people paste logs into text files).
    """
    lower = name.lower()
    if match := _STAMPED.match(lower):
        return f"{match['current']}.log", (_HISTORY, match["date"] + match["time"])
    if match := _CBS_PERSIST.match(lower):
        return "cbs.log", (_HISTORY, match["stamp"])
    if lower.endswith(".lo_"):
        return lower[: -len(".lo_")] + ".log", (_PREVIOUS, "")
    if lower.endswith((".log", ".txt")):
        return lower, (_CURRENT, "")
    return None


def _is_junk(path: str) -> bool:
    """Files that operating systems add on their own; skipped without a word."""
    parts = path.lower().split("/")
    return "__macosx" in parts or parts[-1] in _JUNK_NAMES or parts[-1].startswith("._")


def _not_a_log_reason(name: str) -> str:
    kind = _NOT_LOG_KINDS.get(PurePosixPath(name.lower()).suffix)
    return f"{NOT_A_LOG} ({kind})" if kind else NOT_A_LOG


def _safe_member_path(raw: str) -> tuple[str | None, str]:
    """The member's path with forward slashes, or None and why it cannot be trusted."""
    text = _printable(raw).replace("\\", "/")  # some Windows zippers write Logs\WUAHandler.log
    if text.startswith("/") or _DRIVE.match(text):
        return None, "unsafe name (an absolute path), not read"
    parts = [part for part in text.split("/") if part not in ("", ".")]
    if ".." in parts:
        return None, "unsafe name (it climbs out of the zip with ../), not read"
    if not parts:
        return None, "entry without a name, not read"
    return "/".join(parts), ""


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


def _is_zip(head: bytes) -> bool:
    return head.startswith(_ZIP_MAGIC)


def _looks_like_html(head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return text.startswith((b"<!doctype html", b"<html")) or b"<html" in text[:1024]


def _describe_content(head: bytes) -> str:
    """What a file that is neither a zip nor a log seems to be, as a predicate."""
    for magic, what in _OTHER_MAGIC:
        if head.startswith(magic):
            return what
    if _looks_like_html(head):
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


def _check_zip_shape(fp: BinaryIO, label: str, limits: Limits) -> None:
    """Refuses a zip that is not one, is cut off, empty, or too big to list, from its bytes."""
    fp.seek(0, os.SEEK_END)
    file_size = fp.tell()
    fp.seek(0)
    head = fp.read(_SNIFF_BYTES)
    if not head:
        raise InputError(f"{label} is empty (0 bytes); {LOGS_FOLDER_HINT}")
    if not _is_zip(head):
        raise InputError(
            f"{label} is not a zip: it {_describe_content(head)}; "
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
            f"{label} has a {_human_size(directory.size)} list of files, more than the "
            f"{_human_size(limits.max_directory_bytes)} this tool reads; {LOGS_FOLDER_HINT}"
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


# --- streams ----------------------------------------------------------------------

# What zipfile and the decompressors raise on bytes that are not what they claim to be.
_DAMAGE = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    struct.error,
    EOFError,
    NotImplementedError,
    OSError,
    ValueError,
)


def _damaged(label: str, error: BaseException) -> InputError:
    detail = _printable(str(error) or type(error).__name__)
    return InputError(
        f"{label} is damaged and could not be unpacked ({detail}); "
        "zip the logs again and send the new zip"
    )


class _CappedReader(io.RawIOBase):
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
        except _DAMAGE as error:
            raise _damaged(self._label, error) from None
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

    The diagnosis may read files in forked processes (knowledge/parallel.py). A child
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


def _open_for_reading(path: Path | str) -> BinaryIO:
    """A file for zipfile to read, safe to share with forked processes where the system
    has pread (Windows has not, and never forks: it gets a plain file)."""
    if hasattr(os, "pread"):
        return _PositionalFile(path)
    return open(path, "rb")  # noqa: SIM115 - the caller closes it


class _Deflate64Reader(io.RawIOBase):
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


def _compressed_view(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    """The same entry described as stored, so zipfile hands over its packed bytes as they
    are (after checking the local header); the real checksum is checked after inflating."""
    view = copy.copy(info)
    view.compress_type = zipfile.ZIP_STORED
    view.file_size = info.compress_size
    del view.CRC  # zipfile skips its own check when an entry has no CRC
    return view


def _buffered(raw: io.RawIOBase, buffer_size: int = _CHUNK) -> BinaryIO:
    return io.BufferedReader(raw, buffer_size=buffer_size)


# --- the upload ---------------------------------------------------------------------


class Upload:
    """The log files of one upload. close() (or leaving `with`) removes every temporary
    file it made; streams opened from its sources must be used before then."""

    def __init__(self, label: str):
        self.label = label
        self.sources: list[LogSource] = []
        self.skipped: list[SkippedFile] = []
        self.notes: list[str] = []
        self._resources = contextlib.ExitStack()
        self._scratch_dir: Path | None = None
        self._scratch_count = 0
        self._closed = False

    def __enter__(self) -> Upload:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        self._closed = True
        self._resources.close()

    def _require_open(self) -> None:
        if self._closed:
            raise ValueError("the upload is closed; open its sources inside its `with` block")

    def _keep(self, resource):
        """Closes `resource` with the upload."""
        return self._resources.enter_context(resource)

    def _scratch_file(self) -> Path:
        """A new file name of ours in the upload's temporary folder."""
        if self._scratch_dir is None:
            temporary = tempfile.TemporaryDirectory(prefix="sccm-upload-")
            self._scratch_dir = Path(self._keep(temporary))
        self._scratch_count += 1
        return self._scratch_dir / f"nested-{self._scratch_count}.zip"


class _BudgetExceeded(InputError):
    """The whole upload is too big: never turned into a skip reason."""


def _human_size(count: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if count >= scale:
            return f"{count / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{count} bytes"


def _over_size_reason(size: int, limit: int) -> str:
    return f"over the size limit ({_human_size(size)}; the limit is {_human_size(limit)})"


def _levels(count: int) -> str:
    return "one level" if count == 1 else f"{count} levels"


def _sample(names: list[str], shown: int = 3) -> str:
    listed = ", ".join(names[:shown])
    return listed if len(names) <= shown else f"{listed} and {len(names) - shown} more"


def _files(count: int) -> str:
    return "1 file" if count == 1 else f"{count:,} files"


class _Collector:
    """Walks one upload and fills an Upload with sources, skip reasons and notes."""

    def __init__(self, upload: Upload, limits: Limits):
        self.upload = upload
        self.limits = limits
        self.unpacked_total = 0
        self.seen_paths: set[str] = set()

    # -- shared by every kind of container

    def skip(self, path: str, reason: str) -> None:
        self.upload.skipped.append(SkippedFile(name=path, reason=reason))

    def reserve(self, size: int) -> None:
        self.unpacked_total += size
        if self.unpacked_total > self.limits.max_total_uncompressed:
            raise _BudgetExceeded(
                f"the log files in {self.upload.label} add up to more than "
                f"{_human_size(self.limits.max_total_uncompressed)} unpacked, over the "
                f"limit; {LOGS_FOLDER_HINT}"
            )

    def first_time_seen(self, path: str) -> bool:
        key = path.lower()  # Windows names ignore case, so CAS.log and cas.log are one file
        if key in self.seen_paths:
            self.skip(path, "duplicate name in the upload (only the first copy is read)")
            return False
        self.seen_paths.add(key)
        return True

    def admit_size(self, path: str, size: int) -> bool:
        """Skip an empty or oversized member; otherwise count it against the total."""
        if size == 0:
            self.skip(path, "empty file")
            return False
        if size > self.limits.max_member_uncompressed:
            self.skip(path, _over_size_reason(size, self.limits.max_member_uncompressed))
            return False
        self.reserve(size)
        return True

    def admit_log(self, path: str, size: int, opener: Callable[[], BinaryIO]) -> None:
        name = PurePosixPath(path).name
        if not self.admit_size(path, size):
            return
        group, rank = log_rotation(name)
        self.upload.sources.append(
            LogSource(
                path=path, name=name, size=size, group=group, rotation_rank=rank, opener=opener
            )
        )

    def nesting_allowed(self, path: str, depth: int) -> bool:
        if depth + 1 > self.limits.max_nesting:
            self.skip(
                path,
                f"zip nested deeper than {_levels(self.limits.max_nesting)}, not read "
                "(unzip it and send its logs)",
            )
            return False
        return True

    def add_nested_zip(self, fp: BinaryIO, path: str, depth: int) -> None:
        try:
            before = len(self.upload.sources)
            self.add_zip(fp, path, f"{path}/", depth)
        except _BudgetExceeded:
            raise
        except InputError as error:
            self.skip(path, f"nested zip not read: {error.message}")
            return
        found = len(self.upload.sources) - before
        logs = "1 log file" if found == 1 else f"{found:,} log files"
        self.upload.notes.append(f"read the nested zip {path} ({logs})")

    # -- zips

    def add_zip(self, fp: BinaryIO, label: str, prefix: str, depth: int) -> None:
        _check_zip_shape(fp, label, self.limits)
        try:
            archive = zipfile.ZipFile(fp)
        except _DAMAGE as error:
            raise InputError(
                f"{label} is a damaged zip ({_printable(str(error))}); "
                "zip the logs again and send the new zip"
            ) from None
        self.upload._keep(archive)
        for info in archive.infolist():
            self.add_member(archive, info, prefix, depth)

    def add_member(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, prefix, depth) -> None:
        if info.filename.endswith(("/", "\\")):
            return  # a folder entry
        member_path, problem = _safe_member_path(info.filename)
        if member_path is None:
            self.skip(prefix + _printable(info.filename).replace("\\", "/"), problem)
            return
        path = prefix + member_path
        if _is_junk(member_path) or not self.first_time_seen(path):
            return
        name = PurePosixPath(member_path).name
        is_zip = name.lower().endswith(".zip")
        if not is_zip and log_rotation(name) is None:
            self.skip(path, _not_a_log_reason(name))
            return
        if is_zip and not self.nesting_allowed(path, depth):
            return
        if info.flag_bits & 0x1:
            self.skip(path, "encrypted (password-protected), not read")
            return
        if info.compress_type not in _READABLE_METHODS:
            method = zipfile.compressor_names.get(
                info.compress_type, f"method {info.compress_type}"
            )
            self.skip(
                path,
                f"compressed with {method}, which this tool does not unpack "
                "(zip it with Windows: Send to > Compressed (zipped) folder)",
            )
            return
        if info.file_size > self.limits.ratio_floor:
            ratio = info.file_size // max(info.compress_size, 1)
            if ratio > self.limits.max_ratio:
                self.skip(
                    path,
                    f"unpacks {ratio:,} times its packed size, a zip-bomb pattern, not read",
                )
                return
        opener = functools.partial(_open_member, self.upload, archive, info, path)
        if is_zip:
            self.extract_nested_zip(opener, info.file_size, path, depth)
        else:
            self.admit_log(path, info.file_size, opener)

    def extract_nested_zip(self, opener, size: int, path: str, depth: int) -> None:
        if not self.admit_size(path, size):
            return
        # zipfile needs to seek, and seeking inside a packed member means unpacking it
        # again from the start, so the nested zip is copied (capped) to a file of ours.
        scratch = self.upload._scratch_file()
        try:
            with opener() as member, open(scratch, "wb") as copy_out:
                shutil.copyfileobj(member, copy_out, _CHUNK)
        except InputError as error:
            scratch.unlink(missing_ok=True)
            self.skip(path, f"nested zip not read: {error.message}")
            return
        fp = self.upload._keep(_open_for_reading(scratch))
        self.add_nested_zip(fp, path, depth + 1)

    # -- folders

    def add_folder(self, root: Path) -> None:
        files_seen = 0

        def unreadable(error: OSError) -> None:
            where = Path(error.filename).relative_to(root).as_posix() if error.filename else "?"
            self.skip(_printable(f"{where}/"), f"folder could not be read ({error.strerror})")

        for directory, subfolders, files in os.walk(root, onerror=unreadable):
            here = Path(directory)
            kept = []
            for folder in sorted(subfolders):
                relative = _printable((here / folder).relative_to(root).as_posix())
                if _is_junk(relative):
                    continue
                if (here / folder).is_symlink():  # os.walk does not enter it; say so
                    self.skip(f"{relative}/", "a link to another folder, not followed")
                    continue
                kept.append(folder)
            subfolders[:] = kept
            for name in sorted(files):
                files_seen += 1
                if files_seen > self.limits.max_entries:
                    raise InputError(
                        f"{self.upload.label} holds more than the {self.limits.max_entries:,} "
                        "files this tool reads; point it at the C:\\Windows\\CCM\\Logs folder"
                    )
                relative = _printable((here / name).relative_to(root).as_posix())
                if not _is_junk(relative):
                    self.add_folder_file(here / name, relative)

    def add_folder_file(self, full: Path, path: str) -> None:
        try:
            status = full.lstat()
        except OSError as error:
            self.skip(path, f"could not be read ({error.strerror})")
            return
        if stat.S_ISLNK(status.st_mode):
            self.skip(path, "a link to another file, not followed")
            return
        if not stat.S_ISREG(status.st_mode):
            self.skip(path, "not a regular file")
            return
        name = full.name
        if name.lower().endswith(".zip"):
            if not self.nesting_allowed(path, 0):
                return
            if status.st_size > self.limits.max_upload_bytes:
                self.skip(path, _over_size_reason(status.st_size, self.limits.max_upload_bytes))
                return
            try:
                fp = self.upload._keep(_open_for_reading(full))
            except OSError as error:
                self.skip(path, f"could not be read ({error.strerror})")
                return
            self.add_nested_zip(fp, path, 1)
        elif log_rotation(name) is None:
            self.skip(path, _not_a_log_reason(name))
        else:
            opener = functools.partial(_open_file, self.upload, full, status.st_size, path)
            self.admit_log(path, status.st_size, opener)

    # -- one file

    def add_single_file(self, path: Path) -> None:
        label = _printable(path.name)
        try:
            fp = self.upload._keep(_open_for_reading(path))
        except OSError as error:
            raise InputError(f"{label} could not be opened ({error.strerror})") from None
        size = os.fstat(fp.fileno()).st_size
        if size > self.limits.max_upload_bytes:
            raise InputError(
                f"{label} is {_human_size(size)}, over the "
                f"{_human_size(self.limits.max_upload_bytes)} limit; {LOGS_FOLDER_HINT}"
            )
        if size == 0:
            raise InputError(f"{label} is empty (0 bytes); send it again with its contents")
        head = fp.read(_SNIFF_BYTES)
        if _is_zip(head):  # trust the bytes, not the extension
            if not label.lower().endswith(".zip"):
                self.upload.notes.append(f"{label} is a zip despite its name, and was read as one")
            self.add_zip(fp, label, "", 0)
            return
        if label.lower().endswith(".zip"):
            raise InputError(
                f"{label} is not a zip: it {_describe_content(head)}; "
                "download the real file again and send it"
            )
        if log_rotation(label) is None:
            raise InputError(
                f"{label} is not a log file or a zip: it {_describe_content(head)}; "
                "send a .zip of the C:\\Windows\\CCM\\Logs folder or a single .log file"
            )
        if _looks_like_html(head):
            raise InputError(
                f"{label} is not a log: it {_describe_content(head)}; "
                "download the real file again and send it"
            )
        self.admit_log(label, size, functools.partial(_open_file, self.upload, path, size, label))


def _open_member(
    upload: Upload,
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    path: str,
    buffer_size: int = _CHUNK,
):
    upload._require_open()
    try:
        if info.compress_type == _DEFLATE64:
            inner = _Deflate64Reader(archive.open(_compressed_view(info)), info.CRC, path)
        else:
            inner = archive.open(info)
    except _DAMAGE as error:
        raise _damaged(path, error) from None
    return _buffered(_CappedReader(inner, info.file_size, path, strict=True), buffer_size)


def _open_file(upload: Upload, full: Path, size: int, path: str, buffer_size: int = _CHUNK):
    upload._require_open()
    try:
        inner = open(full, "rb", buffering=0)  # noqa: SIM115 - the returned stream closes it
    except OSError as error:
        raise InputError(f"{path} could not be opened ({error.strerror})") from None
    return _buffered(_CappedReader(inner, size, path, strict=False), buffer_size)


def _no_logs_message(label: str, skipped: list[SkippedFile]) -> str:
    """Why an upload gave nothing to read, and what to send instead."""
    if not skipped:
        return f"{label} is empty: there are no files in it, only folders; {LOGS_FOLDER_HINT}"
    others = [item for item in skipped if not item.reason.startswith(NOT_A_LOG)]
    if others and all("encrypted" in item.reason for item in others):
        return (
            f"{label} is password-protected: its log files are encrypted, so none could be "
            "read; zip the logs again without a password"
        )
    if others:
        described = [f"{item.name} ({item.reason})" for item in others]
        return f"no log file in {label} could be read: {_sample(described, 2)}"
    names = [PurePosixPath(item.name).name for item in skipped]
    return (
        f"found {_files(len(skipped))} in {label} ({_sample(names)}) but no log files; "
        f"{LOGS_FOLDER_HINT}"
    )


def _note_shared_names(upload: Upload) -> None:
    """One machine has one CAS.log: the same current log in two folders is worth saying."""
    folders: dict[str, tuple[str, list[str]]] = {}
    for source in upload.sources:
        if source.rotation_rank[0] == _CURRENT:
            folder = str(PurePosixPath(source.path).parent)
            name, places = folders.setdefault(source.group, (source.name, []))
            places.append("the top" if folder == "." else folder)
    for name, places in folders.values():
        if len(places) > 1:
            upload.notes.append(
                f"{name} is in {len(places)} folders ({_sample(places)}); "
                "they are read as one log, as if from one machine"
            )


DEFAULT_LIMITS = Limits()


def open_upload(path: str | Path, limits: Limits = DEFAULT_LIMITS) -> Upload:
    """Lists the log files of a .zip, a folder or one file.

    Raises InputError with one sentence for anything unusable. The caller closes the
    Upload (use `with`), which removes every temporary file it made.
    """
    path = Path(path)
    shown = _printable(str(path))
    upload = Upload(_printable(path.name or str(path)))
    collector = _Collector(upload, limits)
    try:
        if path.is_dir():
            collector.add_folder(path)
        elif path.is_file():
            collector.add_single_file(path)
        elif path.exists():
            raise InputError(f"{shown} is not a file or a folder; send a .zip, a folder or a .log")
        else:
            raise InputError(f"{shown} does not exist; check the path")
        if not upload.sources:
            raise InputError(_no_logs_message(upload.label, upload.skipped))
        upload.sources.sort(key=lambda s: (s.group, s.rotation_rank, s.path.lower()))
        _note_shared_names(upload)
    except BaseException:
        upload.close()
        raise
    return upload
