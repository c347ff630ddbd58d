"""The four questions the core answers, and the knowledge behind them. The CLI and the
Slack handlers reach the core only through this module (and the models they render).

Each raises `knowledge.errors.InputError` for input a person must fix; anything else
that escapes is a bug.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from knowledge.errors import InputError
from knowledge.models import Diagnosis, ErrorInfo, Progress, ProgressCallback, ReadReport

if TYPE_CHECKING:
    from knowledge.kb import KnowledgeBase

if TYPE_CHECKING:  # imported when used: `sccm error` need not load the engine
    from knowledge.models import FleetMachine, FleetProgressCallback, FleetReport
    from knowledge.reading.fleet import Fleet

__all__ = [
    "FAST_ENV",
    "Progress",
    "ProgressCallback",
    "diagnose_fleet",
    "diagnose_path",
    "diagnose_symptom",
    "open_fleet",
    "fast_path",
    "knowledge_base",
    "lookup_error",
    "masker",
    "read_logs",
    "redact_diagnosis",
    "redact_fleet_report",
    "redact_read_report",
    "warm_up",
]

# `fast=False`, or this variable set to 0, reads every file the reference way: each
# record through its format's parser, no byte scan and no scanner built. The answer is
# the same either way (the differential tests hold it to that); only the time differs.
FAST_ENV = "SCCM_TRIAGE_FAST"
_ON = {"", "1", "true", "yes", "on"}
_OFF = {"0", "false", "no", "off"}


def fast_path(fast: bool | None = None) -> bool:
    """Whether to take the fast path: `fast` when given, else `SCCM_TRIAGE_FAST` (on
    unless it says 0, false, no or off)."""
    if fast is not None:
        return fast
    setting = os.environ.get(FAST_ENV, "").strip().lower()
    if setting in _ON:
        return True
    if setting in _OFF:
        return False
    raise InputError(f"{FAST_ENV} must be 1 (the default) or 0 (read every record the slow way)")


def read_logs(path: str | Path, *, fast: bool | None = None) -> ReadReport:
    """`sccm logs PATH`: each file read (format, entries, time range, errors), and the skips.

    `fast=False` counts every file's facts record by record (see `fast_path`)."""
    from knowledge.reading.reader import read_report

    return read_report(Path(path), fast=fast_path(fast))


def diagnose_path(
    path: str | Path,
    *,
    description: str | None = None,
    progress: ProgressCallback | None = None,
    fast: bool | None = None,
) -> Diagnosis:
    """`sccm diagnose PATH`: the failing stage of a .zip, folder or single log file.

    `fast=False` matches every record after its parser read it (see `fast_path`)."""
    from knowledge.diagnosis.verdict import diagnose_upload

    return diagnose_upload(
        Path(path), description=description, progress=progress, fast=fast_path(fast)
    )


def open_fleet(paths: Sequence[str | Path]) -> Fleet:
    """`sccm fleet PATH...`: the machines in the uploads, to be diagnosed one by one
    (`Fleet.diagnoses`). Close it (use `with`)."""
    from knowledge.reading.fleet import Fleet

    return Fleet(paths)


def diagnose_fleet(
    paths: Sequence[str | Path],
    *,
    progress: FleetProgressCallback | None = None,
    keep: Callable[[FleetMachine, Diagnosis], None] | None = None,
    fast: bool | None = None,
) -> FleetReport:
    """`sccm fleet PATH... --json`: each machine diagnosed alone, and the groups by cause.
    `keep(row, diagnosis)` sees each machine's full diagnosis as it is made."""
    from knowledge.reading.fleet import diagnose_fleet as _diagnose_fleet

    return _diagnose_fleet(paths, fast=fast_path(fast), progress=progress, keep=keep)


def diagnose_symptom(text: str) -> Diagnosis:
    """`sccm diagnose --symptom TEXT`: the likely stage and cause from a typed description."""
    from knowledge.symptoms import diagnose_text

    return diagnose_text(text)


def lookup_error(code: str) -> ErrorInfo:
    """`sccm error CODE`: what a code means, in any spelling."""
    from knowledge.lookup import lookup_error as _lookup

    return _lookup(code)


def warm_up() -> None:
    """Loads the knowledge base and compiles the signatures now, so that the first
    diagnosis does not pay for it (the bot's analysis fork server calls this once)."""
    from knowledge.reading.collector import warm_up as _warm_up

    _warm_up()


def knowledge_base() -> KnowledgeBase:
    """The bundled knowledge base (stages, procedures, logs, causes), loaded once: what
    `sccm stages`, `sccm steps` and `sccm catalogue` show."""
    from knowledge.kb import kb

    return kb()


def masker():
    """A fresh set of masking tokens (`knowledge.redact.Masker`): pass it to several
    redact_* calls so that one name gets one token across them."""
    from knowledge.redact import Masker

    return Masker()


def redact_diagnosis(diagnosis: Diagnosis, masker=None) -> Diagnosis:
    """The answer with host, user and network names masked by stable tokens (`--redact`);
    one `knowledge.redact.Masker` shared by several calls gives them the same tokens."""
    from knowledge.redact import redact_diagnosis as _redact

    return _redact(diagnosis, masker)


def redact_read_report(report: ReadReport, masker=None) -> ReadReport:
    """`sccm logs --redact`: the read report with names masked as in `redact_diagnosis`."""
    from knowledge.redact import redact_read_report as _redact

    return _redact(report, masker)


def redact_fleet_report(report: FleetReport, masker=None) -> FleetReport:
    """`sccm fleet --redact`: machine names and what the rows quote, masked."""
    from knowledge.redact import redact_fleet_report as _redact

    return _redact(report, masker)
