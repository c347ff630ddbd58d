"""The four questions the core answers. The CLI and the Slack handlers call only these.

Each raises `knowledge.errors.InputError` for input a person must fix; anything else
that escapes is a bug.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .models import Diagnosis, ErrorInfo, ReadReport


@dataclass(frozen=True, slots=True)
class Progress:
    """What a long diagnosis reports while it works (Slack edits its message with it)."""

    files_read: int
    files_total: int
    current_file: str | None = None
    stage_found: str | None = None  # stage id of the earliest failure seen so far


ProgressCallback = Callable[[Progress], None]


def read_logs(path: str | Path) -> ReadReport:
    """`sccm logs PATH`: each file read (format, entries, time range, errors), and the skips."""
    from .timeline import read_report

    return read_report(Path(path))


def diagnose_path(
    path: str | Path, *, description: str | None = None, progress: ProgressCallback | None = None
) -> Diagnosis:
    """`sccm diagnose PATH`: the failing stage of a .zip, folder or single log file."""
    from .engine import diagnose_upload

    return diagnose_upload(Path(path), description=description, progress=progress)


def diagnose_symptom(text: str) -> Diagnosis:
    """`sccm diagnose --symptom TEXT`: the likely stage and cause from a typed description."""
    from .symptoms import diagnose_text

    return diagnose_text(text)


def lookup_error(code: str) -> ErrorInfo:
    """`sccm error CODE`: what a code means, in any spelling."""
    from .lookup import lookup_error as _lookup

    return _lookup(code)
