"""Fleet triage: the machines of one or more uploads, each diagnosed alone, grouped by cause.

Each machine's diagnosis is `diagnosis.verdict.diagnose_opened` on that machine's files as an upload
of their own (`machines.machine_upload`): the same work, and so the same answer, as
`sccm diagnose` on its folder or zip alone. Machines are diagnosed one per process over
the CPUs (knowledge/fastpath/pool.py; each process reads its machine's files alone), and only
each machine's Diagnosis comes back, so memory follows the largest machine, not their
number. The caller keeps what it needs of each diagnosis as it arrives.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from knowledge.diagnosis.verdict import diagnose_opened
from knowledge.errors import InputError
from knowledge.fastpath import map_in_order, worker_count
from knowledge.intake.archive import Upload, open_upload
from knowledge.intake.machines import Machine, find_machines, machine_upload, outside_machines
from knowledge.models import (
    STAGE_IDS,
    Diagnosis,
    FleetGroup,
    FleetMachine,
    FleetProgress,
    FleetProgressCallback,
    FleetReport,
    NextStep,
    SkippedFile,
)
from knowledge.reading.collector import warm_up


@dataclass
class _Found:
    upload: Upload
    given: str  # the path as given, shown in `source`
    machine: Machine


class Fleet:
    """The machines of the uploads at `paths`; use `with`, then `diagnoses()`.

    A path that cannot be read, or a folder holding two machines' logs that cannot be
    told apart, goes to `skipped` with its reason; when no machine is left at all, the
    first path's problem is raised (InputError), as `sccm diagnose` would.
    """

    def __init__(self, paths: Sequence[str | Path]):
        if not paths:
            raise InputError("say which uploads to read: `sccm fleet logs.zip [more ...]`")
        self.found: list[_Found] = []
        self.skipped: list[SkippedFile] = []
        self._uploads: list[Upload] = []
        self.workers = 0  # processes the last `diagnoses()` used
        first_problem: InputError | None = None
        # The same upload named twice (`sccm fleet logs logs/`) is read once.
        unique: dict[Path, str | Path] = {}
        for path in paths:
            unique.setdefault(Path(path).resolve(), path)
        try:
            for path in unique.values():
                given = str(path)
                try:
                    upload = open_upload(path)
                except InputError as problem:
                    first_problem = first_problem or problem
                    self.skipped.append(SkippedFile(name=given, reason=problem.message))
                    continue
                self._uploads.append(upload)
                machines = find_machines(upload)
                for item in outside_machines(upload, machines):
                    self.skipped.append(_under(given, item))
                for machine in machines:
                    if machine.mixed_ids:
                        self.skipped.append(_mixed(given, machine))
                    else:
                        self.found.append(_Found(upload, given, machine))
            if not self.found:
                if first_problem is not None and len(paths) == 1:
                    raise first_problem
                reasons = "; ".join(f"{item.name}: {item.reason}" for item in self.skipped[:3])
                raise InputError(f"no machine's logs could be read ({reasons})")
            _name_apart(self.found)
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> Fleet:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        for upload in self._uploads:
            upload.close()

    def only(self, name: str) -> None:
        """Keep just the machine called `name` (as `sccm fleet` lists it)."""
        kept = [found for found in self.found if found.machine.name.lower() == name.lower()]
        if not kept:
            names = ", ".join(found.machine.name for found in self.found[:10])
            raise InputError(f"no machine called {name!r} in the upload; its machines: {names}")
        self.found = kept

    @property
    def names(self) -> list[str]:
        return [found.machine.name for found in self.found]

    def diagnoses(
        self,
        *,
        fast: bool = True,
        progress: FleetProgressCallback | None = None,
        workers: int | None = None,
    ) -> Iterator[tuple[FleetMachine, Diagnosis | None]]:
        """Each machine's row and full diagnosis, in the machines' order (None, and the
        reason in `skipped`, for a machine whose files turned out unreadable)."""
        found = self.found
        if workers is None:
            total = sum(source.size for item in found for source in item.machine.sources)
            workers = worker_count(total, len(found))
        self.workers = workers
        warm_up(fast)  # built once here, inherited by every forked process

        def diagnose_one(index: int) -> Diagnosis | str:
            item = found[index]
            try:
                return diagnose_opened(machine_upload(item.upload, item.machine), fast=fast)
            except InputError as problem:
                return problem.message

        results = map_in_order(
            diagnose_one,
            range(len(found)),
            workers,
            size=lambda index: sum(source.size for source in found[index].machine.sources),
        )
        failing = 0
        with contextlib.closing(results):
            for done, (item, result) in enumerate(zip(found, results, strict=True), 1):
                if isinstance(result, str):
                    self.skipped.append(SkippedFile(name=_source(item), reason=result))
                    yield None, None
                else:
                    failing += result.verdict == "failure"
                    yield _row(item, result), result
                if progress is not None:
                    progress(FleetProgress(done, len(found), item.machine.name, failing))


def diagnose_fleet(
    paths: Sequence[str | Path],
    *,
    fast: bool = True,
    progress: FleetProgressCallback | None = None,
    keep: Callable[[FleetMachine, Diagnosis], None] | None = None,
) -> FleetReport:
    """Every machine's row and the groups; `keep` sees each full diagnosis as it comes
    (and is the only place it is kept)."""
    rows: list[FleetMachine] = []
    # A group's shared next step: its first machine's first step, noted as the
    # diagnoses pass (they are not all kept).
    steps: dict[tuple, NextStep] = {}
    with Fleet(paths) as fleet:
        for row, diagnosis in fleet.diagnoses(fast=fast, progress=progress):
            if row is None:
                continue
            rows.append(row)
            key = (row.verdict, row.stage, row.cause)
            if diagnosis.next_steps and key not in steps:
                steps[key] = diagnosis.next_steps[0]
            if keep is not None:
                keep(row, diagnosis)
        return FleetReport(machines=rows, groups=group(rows, steps), skipped=fleet.skipped)


def _row(item: _Found, diagnosis: Diagnosis) -> FleetMachine:
    return FleetMachine(
        machine=item.machine.name,
        source=_source(item),
        verdict=diagnosis.verdict,
        stage=diagnosis.stage,
        cause=diagnosis.cause,
        confidence=diagnosis.confidence,
        summary=diagnosis.summary,
        error_codes=list(dict.fromkeys(code.code for code in diagnosis.error_codes)),
        stage_title=diagnosis.stage_title,
        cause_title=diagnosis.cause_title,
        client_id=item.machine.client_id,
    )


_VERDICT_ORDER = {"failure": 0, "inconclusive": 1, "healthy": 2}


def group(rows: list[FleetMachine], steps: dict[tuple, NextStep] | None = None) -> list[FleetGroup]:
    """Machines grouped by verdict, stage and cause: failures first, the largest group
    first, then the pipeline's order; inconclusive, then healthy, last."""
    groups: dict[tuple, FleetGroup] = {}
    for row in rows:
        key = (row.verdict, row.stage, row.cause)
        if key not in groups:
            groups[key] = FleetGroup(
                verdict=row.verdict,
                stage=row.stage,
                cause=row.cause,
                count=0,
                machines=[],
                stage_title=row.stage_title,
                cause_title=row.cause_title,
                next_step=(steps or {}).get(key),
            )
        groups[key].count += 1
        groups[key].machines.append(row.machine)

    def order(item: FleetGroup):
        stage = STAGE_IDS.index(item.stage) if item.stage in STAGE_IDS else len(STAGE_IDS)
        return (_VERDICT_ORDER.get(item.verdict, 3), -item.count, stage, item.cause or "")

    return sorted(groups.values(), key=order)


def _source(item: _Found) -> str:
    inside = item.machine.source
    return f"{item.given}/{inside}" if inside else item.given


def _under(given: str, item: SkippedFile) -> SkippedFile:
    return SkippedFile(name=f"{given}/{item.name}", reason=item.reason)


def _mixed(given: str, machine: Machine) -> SkippedFile:
    where = f"{given}/{machine.source}" if machine.source else given
    ids = ", ".join(machine.mixed_ids)
    return SkippedFile(
        name=where,
        reason=f"holds the logs of {len(machine.mixed_ids)} machines ({ids}: two copies of "
        "ClientIDManagerStartup.log name different clients), which cannot be told apart; "
        "put each machine's logs in a folder of its own",
    )


def _name_apart(found: list[_Found]) -> None:
    """Machines of different uploads with one name (each upload's own Logs folder): the
    upload's name goes in front."""
    seen: dict[str, int] = {}
    for item in found:
        seen[item.machine.name.lower()] = seen.get(item.machine.name.lower(), 0) + 1
    for item in found:
        if seen[item.machine.name.lower()] > 1:
            item.machine.name = _source(item)
