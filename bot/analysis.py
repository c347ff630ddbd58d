"""One analysis in a child process, so a deadline or a stop request can end it for sure.

A thread cannot be stopped from outside, and a diagnosis is CPU-bound Python: an upload
with odd records could hold a worker for minutes and keep `docker stop` waiting. The
child is forked from a small server process (multiprocessing's "forkserver", started
without the bot's threads), so it starts in milliseconds with the core already imported;
it reports progress and its answer through a pipe. It leads its own process group, so
killing the group also ends the reader processes it may fork for a large upload, and
it arms an alarm of its own so it never outlives its deadline by much even if the bot
was killed first.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Literal

from knowledge.api import Progress
from knowledge.errors import InputError, SeveralMachines
from knowledge.models import Diagnosis, FleetReport

Reader = Callable[[Path, "str | None", Callable], "Diagnosis | FleetAnswer"]

POLL = 0.2  # seconds between checks of the deadline and the stop request
ORPHAN_GRACE = 10  # seconds an orphaned child may outlive its deadline


class AnalysisStopped(Exception):
    """The analysis was ended before it finished: its deadline passed, or the app stops."""

    def __init__(self, reason: Literal["deadline", "stopped"], last: Progress | None):
        super().__init__(reason)
        self.reason = reason
        self.last = last  # how far it got


class AnalysisCrashed(Exception):
    """The child process died or hit a bug; the message says how, for the log and user."""


def _context() -> multiprocessing.context.BaseContext:
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["bot.analysis", "bot.analysis_warmup"])
        return context
    return multiprocessing.get_context("spawn")


_CONTEXT_LOCK = threading.Lock()
_CONTEXT: multiprocessing.context.BaseContext | None = None


def context() -> multiprocessing.context.BaseContext:
    global _CONTEXT
    with _CONTEXT_LOCK:
        if _CONTEXT is None:
            _CONTEXT = _context()
        return _CONTEXT


def analyse_in_child(
    path: Path,
    *,
    description: str | None,
    scratch: Path,
    deadline: float,
    cancelled: threading.Event,
    progress: Callable[[Progress], None] | None = None,
    reader: Reader | None = None,
) -> Diagnosis | FleetAnswer:
    """Diagnose `path` in a child process whose temporary files go under `scratch`.

    `reader` is what the child runs (the core's diagnosis by default); it must be a
    module-level function, since the child imports it by name.

    `deadline` is a time.monotonic() value. Raises AnalysisStopped when it passes or when
    `cancelled` is set, InputError for input a person must fix, AnalysisCrashed when the
    child dies (killed, out of memory) or fails.
    """
    limit = max(1, int(deadline - time.monotonic()) + ORPHAN_GRACE)
    receiving, sending = context().Pipe(duplex=False)
    child = context().Process(
        target=_child,
        args=(sending, reader or diagnose, str(path), description, str(scratch), limit),
        name="sccm-analysis",
    )
    child.start()
    sending.close()
    last: Progress | None = None
    try:
        while True:
            if cancelled.is_set():
                raise AnalysisStopped("stopped", last)
            left = deadline - time.monotonic()
            if left <= 0:
                raise AnalysisStopped("deadline", last)
            if not receiving.poll(min(left, POLL)):
                continue
            try:
                kind, value = receiving.recv()
            except (EOFError, OSError):
                child.join(2)
                raise AnalysisCrashed(_how_it_died(child.exitcode)) from None
            if kind == "progress":
                last = value
                if progress is not None:
                    progress(value)
            elif kind == "done":
                return value
            elif kind == "input_error":
                raise InputError(value)
            else:
                raise AnalysisCrashed(f"the reader failed: {value}")
    finally:
        _end(child)
        receiving.close()


def _how_it_died(code: int | None) -> str:
    if code is not None and code < 0:
        name = signal.Signals(-code).name if -code in signal.valid_signals() else str(-code)
        if -code == signal.SIGKILL:
            return f"the reading process was killed ({name}), most often for lack of memory"
        return f"the reading process was ended by {name}"
    return f"the reading process stopped unexpectedly (exit status {code})"


def _end(child: multiprocessing.process.BaseProcess) -> None:
    """Kill the child and the readers it forked; reap it."""
    if child.pid is not None and child.exitcode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, signal.SIGKILL)  # its own group (see _child)
        with contextlib.suppress(Exception):
            child.kill()
    child.join(5)
    with contextlib.suppress(Exception):
        child.close()


def diagnose(path: Path, description: str | None, report: Callable[[Progress], None]):
    from knowledge import api

    return api.diagnose_path(path, description=description, progress=report)


@dataclass
class FleetAnswer:
    """An upload of several machines: the fleet report, and each machine's diagnosis by
    the name the report gives it."""

    report: FleetReport
    diagnoses: dict[str, Diagnosis]


def triage(path: Path, description: str | None, report: Callable) -> Diagnosis | FleetAnswer:
    """The bot's reader: one machine's upload gets its diagnosis; an upload of several
    (or several files in one message, downloaded into one folder) gets each machine's,
    as `sccm fleet` makes them. `report` receives Progress, then FleetProgress."""
    from knowledge import api

    try:
        return api.diagnose_path(path, description=description, progress=report)
    except SeveralMachines:
        pass  # listing the upload again costs little next to diagnosing its machines
    diagnoses: dict[str, Diagnosis] = {}
    fleet = api.diagnose_fleet(
        [path],
        progress=report,
        keep=lambda row, diagnosis: diagnoses.update({row.machine: diagnosis}),
    )
    # Paths as people know them: the downloaded file's name, or the files' own names in
    # a message of several, never the server's work folder.
    where = str(path)
    shown = path.name if path.is_file() else ""

    def as_known(value: str) -> str:
        if not value.startswith(where):
            return value
        return (shown + value[len(where) :]).lstrip("/") or shown

    for item in fleet.skipped:
        item.name = as_known(item.name)
    for row in fleet.machines:
        row.source = as_known(row.source)
    return FleetAnswer(fleet, diagnoses)


def _child(
    sending: Connection,
    reader: Reader,
    path: str,
    description: str | None,
    scratch: str,
    limit: int,
):
    """The child's whole life: its own process group and alarm, then one diagnosis."""
    with contextlib.suppress(OSError):
        os.setpgrp()
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    signal.alarm(limit)
    tempfile.tempdir = scratch  # zips are unpacked where the bot cleans up

    def report(step: Progress) -> None:
        sending.send(("progress", step))

    try:
        diagnosis = reader(Path(path), description, report)
    except InputError as problem:
        sending.send(("input_error", problem.message))
    except Exception as problem:  # a bug in the core: the bot logs it and tells the user
        text = "".join(traceback.format_exception_only(problem)).strip()
        sending.send(("bug", text + "\n" + traceback.format_exc(limit=-5)))
    else:
        sending.send(("done", diagnosis))
    finally:
        sending.close()
