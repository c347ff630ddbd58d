"""Writes log lines the way Windows does, for fixtures, scenarios, the example and benchmarks.

Every line our tests read is built here from text we write ourselves, so no real
machine's logs end up in the repository.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Line:
    """One record to write: message, when (local wall-clock time), and who wrote it."""

    message: str
    when: datetime
    component: str
    severity: int = 1  # CMTrace type: 1 info, 2 warning, 3 error
    thread: int = 4242


def cmtrace_record(line: Line, bias: int | None = 240, source: str = "agent.cpp:100") -> str:
    """A CMTrace record; bias in minutes with UTC = local + bias (240 = UTC-4); None omits it."""
    clock = line.when.strftime("%H:%M:%S.") + f"{line.when.microsecond // 1000:03d}"
    if bias is not None:
        clock += f"{bias:+d}"
    date = f"{line.when.month:02d}-{line.when.day:02d}-{line.when.year}"
    return (
        f'<![LOG[{line.message}]LOG]!><time="{clock}" date="{date}" component="{line.component}" '
        f'context="" type="{line.severity}" thread="{line.thread}" file="{source}">'
    )


def cmtrace_log(lines: Iterable[Line], bias: int | None = 240) -> str:
    return "".join(cmtrace_record(line, bias) + "\r\n" for line in lines)


def wulog_classic(lines: Iterable[Line], tz: str | None = "-0400", pid: int = 1080) -> str:
    """Classic (Windows 7 / 2008 R2) WindowsUpdate.log with its `Logging initialized` banner."""
    out = []
    lines = list(lines)
    if tz is not None and lines:
        first = lines[0].when
        out.append(
            _wulog_row(
                first,
                pid,
                0xA70,
                "Misc",
                f"===========  Logging initialized (build: 7.6.7601.24085, tz: {tz})  ===========",
            )
        )
    for line in lines:
        prefix = {3: "FATAL: ", 2: "WARNING: "}.get(line.severity, "")
        out.append(_wulog_row(line.when, pid, line.thread, line.component, prefix + line.message))
    return "".join(row + "\r\n" for row in out)


def _wulog_row(when: datetime, pid: int, thread: int, component: str, text: str) -> str:
    clock = when.strftime("%H:%M:%S:") + f"{when.microsecond // 1000:03d}"
    return f"{when:%Y-%m-%d}\t{clock}\t{pid:4d}\t{thread:x}\t{component}\t{text}"


def wulog_etw(lines: Iterable[Line], pid: int = 3696) -> str:
    """Windows 10+ Get-WindowsUpdateLog output (local time, no zone)."""
    rows = []
    for line in lines:
        stamp = line.when.strftime("%Y/%m/%d %H:%M:%S.") + f"{line.when.microsecond:06d}0"
        rows.append(f"{stamp} {pid:<5} {line.thread:<5} {line.component:<15} {line.message}")
    return "".join(row + "\r\n" for row in rows)


def cbs_log(lines: Iterable[Line]) -> str:
    """CBS.log rows: `YYYY-MM-DD HH:MM:SS, Level<spaces>Component<spaces>text`."""
    level = {3: "Error", 2: "Warning"}
    rows = []
    for line in lines:
        word = level.get(line.severity, "Info")
        rows.append(f"{line.when:%Y-%m-%d %H:%M:%S}, {word:<19} {line.component:<6} {line.message}")
    return "".join(row + "\r\n" for row in rows)


def timeline(start: datetime, *steps: tuple[float, str, str] | tuple[float, str, str, int]):
    """Lines from (seconds after start, component, message[, severity]) tuples."""
    out = []
    for step in steps:
        seconds, component, message, *rest = step
        out.append(Line(message, start + timedelta(seconds=seconds), component, *(rest or [1])))
    return out


def zip_bytes(files: dict[str, str | bytes], *, bom: bool = True) -> bytes:
    """A zip as a Windows admin sends it: text files UTF-8 with BOM, deflated."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            data = content if isinstance(content, bytes) else content.encode("utf-8")
            if bom and isinstance(content, str):
                data = b"\xef\xbb\xbf" + data
            archive.writestr(name, data)
    return buffer.getvalue()
