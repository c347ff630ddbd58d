"""The one rule for a log's name: which files are logs, how rotated files join their log,
and the key the catalogue knows a log by.

ConfigMgr renames a full X.log to X.lo_; clients that keep more history write
X-YYYYMMDD-HHMMSS.log; CBS keeps CbsPersist_<stamp>.log; people save pasted logs as .txt.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

NOT_A_LOG = "not a log file"

_STAMPED = re.compile(r"^(?P<current>.+)-(?P<date>\d{8})-(?P<time>\d{6})\.log$")
_CBS_PERSIST = re.compile(r"^cbspersist_(?P<stamp>\d{14})\.log$")
# Rank inside a rotation group, oldest first. ConfigMgr renames a full X.log to X.lo_,
# the file just before the current one; clients that keep more history name it
# X-YYYYMMDD-HHMMSS.log instead, and those stamped files sort by their stamp. So: stamped
# history, then X.lo_, then the current X.log.
HISTORY, PREVIOUS, CURRENT = 0, 1, 2

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


def printable(text: str) -> str:
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
        return f"{match['current']}.log", (HISTORY, match["date"] + match["time"])
    if match := _CBS_PERSIST.match(lower):
        return "cbs.log", (HISTORY, match["stamp"])
    if lower.endswith(".lo_"):
        return lower[: -len(".lo_")] + ".log", (PREVIOUS, "")
    if lower.endswith((".log", ".txt")):
        return lower, (CURRENT, "")
    return None


def is_junk(path: str) -> bool:
    """Files that operating systems add on their own; skipped without a word."""
    parts = path.lower().split("/")
    return "__macosx" in parts or parts[-1] in _JUNK_NAMES or parts[-1].startswith("._")


def not_a_log_reason(name: str) -> str:
    kind = _NOT_LOG_KINDS.get(PurePosixPath(name.lower()).suffix)
    return f"{NOT_A_LOG} ({kind})" if kind else NOT_A_LOG


def safe_member_path(raw: str) -> tuple[str | None, str]:
    """The member's path with forward slashes, or None and why it cannot be trusted."""
    text = printable(raw).replace("\\", "/")  # some Windows zippers write Logs\WUAHandler.log
    if text.startswith("/") or _DRIVE.match(text):
        return None, "unsafe name (an absolute path), not read"
    parts = [part for part in text.split("/") if part not in ("", ".")]
    if ".." in parts:
        return None, "unsafe name (it climbs out of the zip with ../), not read"
    if not parts:
        return None, "entry without a name, not read"
    return "/".join(parts), ""


def log_key(name: str) -> str:
    """The key a log is known by in the catalogue: its base name without extension,
    rotation stamp or per-user suffix (`WUAHandler.lo_` and `wuahandler.log` are one)."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1].lower()
    base = re.sub(r"\.(log|lo_|txt)$", "", base)
    base = re.sub(r"-\d{8}-\d{6}$", "", base)  # X-20240101-120000.log rotation
    base = re.sub(r"_\d+$", "", base)  # SCNotify_user_1.log style suffixes
    base = re.sub(r"_[^_@]*@.*$", "", base)  # SCNotify_<domain>@<user> per-user logs
    return base
