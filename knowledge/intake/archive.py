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
import functools
import os
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO

# zipfile cannot read Deflate64; inflate64 ships wheels for every platform we support
# and its decoder is fed by Deflate64Reader (see there for why in small pieces).
from knowledge.errors import InputError
from knowledge.intake.limits import LOGS_FOLDER_HINT, Limits, human_size
from knowledge.intake.names import (
    CURRENT,
    is_junk,
    log_rotation,
    not_a_log_reason,
    printable,
    safe_member_path,
)
from knowledge.intake.streams import (
    DAMAGE_ERRORS,
    CappedReader,
    Deflate64Reader,
    buffered,
    compressed_view,
    damaged,
    open_for_reading,
)
from knowledge.intake.zipcheck import check_zip_shape, describe_content, is_zip, looks_like_html
from knowledge.models import SkippedFile

NOT_A_LOG = "not a log file"

_CHUNK = 1 << 20  # read and copy in 1 MiB blocks: big enough that counting bytes costs nothing
_SNIFF_BYTES = 8192  # enough of the start of a file to tell a zip from an HTML page
_DEFLATE64 = 9
_READABLE_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, _DEFLATE64}


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


def _over_size_reason(size: int, limit: int) -> str:
    return f"over the size limit ({human_size(size)}; the limit is {human_size(limit)})"


def _levels(count: int) -> str:
    return "one level" if count == 1 else f"{count} levels"


def _sample(names: list[str], shown: int = 3) -> str:
    listed = ", ".join(names[:shown])
    return listed if len(names) <= shown else f"{listed} and {len(names) - shown} more"


def _files(count: int) -> str:
    return "1 file" if count == 1 else f"{count:,} files"


class _UploadLister:
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
                f"{human_size(self.limits.max_total_uncompressed)} unpacked, over the "
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
        check_zip_shape(fp, label, self.limits)
        try:
            archive = zipfile.ZipFile(fp)
        except DAMAGE_ERRORS as error:
            raise InputError(
                f"{label} is a damaged zip ({printable(str(error))}); "
                "zip the logs again and send the new zip"
            ) from None
        self.upload._keep(archive)
        for info in archive.infolist():
            self.add_member(archive, info, prefix, depth)

    def add_member(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, prefix, depth) -> None:
        if info.filename.endswith(("/", "\\")):
            return  # a folder entry
        member_path, problem = safe_member_path(info.filename)
        if member_path is None:
            self.skip(prefix + printable(info.filename).replace("\\", "/"), problem)
            return
        path = prefix + member_path
        if is_junk(member_path) or not self.first_time_seen(path):
            return
        name = PurePosixPath(member_path).name
        is_zip = name.lower().endswith(".zip")
        if not is_zip and log_rotation(name) is None:
            self.skip(path, not_a_log_reason(name))
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
        fp = self.upload._keep(open_for_reading(scratch))
        self.add_nested_zip(fp, path, depth + 1)

    # -- folders

    def add_folder(self, root: Path) -> None:
        files_seen = 0

        def unreadable(error: OSError) -> None:
            where = Path(error.filename).relative_to(root).as_posix() if error.filename else "?"
            self.skip(printable(f"{where}/"), f"folder could not be read ({error.strerror})")

        for directory, subfolders, files in os.walk(root, onerror=unreadable):
            here = Path(directory)
            kept = []
            for folder in sorted(subfolders):
                relative = printable((here / folder).relative_to(root).as_posix())
                if is_junk(relative):
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
                relative = printable((here / name).relative_to(root).as_posix())
                if not is_junk(relative):
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
                fp = self.upload._keep(open_for_reading(full))
            except OSError as error:
                self.skip(path, f"could not be read ({error.strerror})")
                return
            self.add_nested_zip(fp, path, 1)
        elif log_rotation(name) is None:
            self.skip(path, not_a_log_reason(name))
        else:
            opener = functools.partial(_open_file, self.upload, full, status.st_size, path)
            self.admit_log(path, status.st_size, opener)

    # -- one file

    def add_single_file(self, path: Path) -> None:
        label = printable(path.name)
        try:
            fp = self.upload._keep(open_for_reading(path))
        except OSError as error:
            raise InputError(f"{label} could not be opened ({error.strerror})") from None
        size = os.fstat(fp.fileno()).st_size
        if size > self.limits.max_upload_bytes:
            raise InputError(
                f"{label} is {human_size(size)}, over the "
                f"{human_size(self.limits.max_upload_bytes)} limit; {LOGS_FOLDER_HINT}"
            )
        if size == 0:
            raise InputError(f"{label} is empty (0 bytes); send it again with its contents")
        head = fp.read(_SNIFF_BYTES)
        if is_zip(head):  # trust the bytes, not the extension
            if not label.lower().endswith(".zip"):
                self.upload.notes.append(f"{label} is a zip despite its name, and was read as one")
            self.add_zip(fp, label, "", 0)
            return
        if label.lower().endswith(".zip"):
            raise InputError(
                f"{label} is not a zip: it {describe_content(head)}; "
                "download the real file again and send it"
            )
        if log_rotation(label) is None:
            raise InputError(
                f"{label} is not a log file or a zip: it {describe_content(head)}; "
                "send a .zip of the C:\\Windows\\CCM\\Logs folder or a single .log file"
            )
        if looks_like_html(head):
            raise InputError(
                f"{label} is not a log: it {describe_content(head)}; "
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
            inner = Deflate64Reader(archive.open(compressed_view(info)), info.CRC, path)
        else:
            inner = archive.open(info)
    except DAMAGE_ERRORS as error:
        raise damaged(path, error) from None
    return buffered(CappedReader(inner, info.file_size, path, strict=True), buffer_size)


def _open_file(upload: Upload, full: Path, size: int, path: str, buffer_size: int = _CHUNK):
    upload._require_open()
    try:
        inner = open(full, "rb", buffering=0)  # noqa: SIM115 - the returned stream closes it
    except OSError as error:
        raise InputError(f"{path} could not be opened ({error.strerror})") from None
    return buffered(CappedReader(inner, size, path, strict=False), buffer_size)


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
        if source.rotation_rank[0] == CURRENT:
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
    shown = printable(str(path))
    upload = Upload(printable(path.name or str(path)))
    lister = _UploadLister(upload, limits)
    try:
        if path.is_dir():
            lister.add_folder(path)
        elif path.is_file():
            lister.add_single_file(path)
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
