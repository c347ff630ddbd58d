"""Uploads built from log lines we write ourselves, in each log's real format.

The diagnosis scenarios themselves are data: knowledge/data/scenarios/<cause id>.yaml,
validated by `knowledge.scenarios` and diagnosed by tests/test_scenario_files.py. This module
writes them out: `render()` turns one scenario into the files of a zip, each log in its own
format (CMTrace for CCM logs, classic or Windows 10 WindowsUpdate.log, CBS.log), through
tests/logbuilder.py.

`Logs` is the same builder for tests that need more than a scenario file can say (exact
evidence times, repeat counts, per-update progress): lines per file at minutes after START.
`healthy_until` and `stage_ok` add the stages' normal success lines from
knowledge/data/scenarios/pipeline.yaml, so those lines are written once, there.
Hosts and ids are fictional (contoso.local).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta

from knowledge.kb import kb
from knowledge.models import STAGE_IDS
from knowledge.scenarios import LogFile, LogLine, Scenario, log_format, log_lines, pipeline
from tests.logbuilder import Line, cbs_log, cmtrace_log, wulog_classic, wulog_etw

START = datetime(2024, 3, 12, 8, 0, 0)
SITE = "Site_3C4D5E6F-7A8B-4C9D-8E0F-1A2B3C4D5E6F"
ASSIGNMENT = "{8A9B0C1D-2E3F-4A5B-9C6D-7E8F9A0B1C2D}"
UPDATE_A = "5a6b7c8d-1e2f-4a3b-8c4d-5e6f7a8b9c0d"
DTS_JOB = "{4C5D6E7F-8A9B-4C0D-9E1F-2A3B4C5D6E7F}"
BITS_JOB = "{7F8A9B0C-1D2E-4F3A-8B4C-5D6E7F8A9B0C}"
ERROR, WARNING = 3, 2
SEVERITY = {"info": 1, "warning": WARNING, "error": ERROR}

# The component tag a CCM log writes when it is not the first one logs.yaml lists for it.
COMPONENTS = {"PolicyAgent.log": "PolicyAgent_PolicyDownload"}

RENDERERS: dict[str, Callable[[Iterable[Line]], str]] = {
    "cmtrace": cmtrace_log,
    "wulog": wulog_classic,
    "wulog-etw": wulog_etw,
    "cbs": cbs_log,
}


def component_of(file: str) -> str:
    """The component tag a CCM log writes (facts section C: tags differ from file names)."""
    if file in COMPONENTS:
        return COMPONENTS[file]
    info = kb().log_by_name(file)
    return info.components[0] if info and info.components else file.rsplit(".", 1)[0]


class Logs:
    """The files of one upload, filled line by line at minutes after START."""

    def __init__(self, start: datetime = START):
        self.start = start
        self._files: dict[str, tuple[str, list[Line]]] = {}

    def _at(self, minute: float) -> datetime:
        return self.start + timedelta(minutes=minute)

    def lines(self, file: str, fmt: str) -> list[Line]:
        """The lines of one file, written in format `fmt` (one format per file)."""
        written_as, lines = self._files.setdefault(file, (fmt, []))
        if written_as != fmt:
            raise ValueError(f"{file} is already written as {written_as}, not {fmt}")
        return lines

    @property
    def cbs(self) -> list[Line]:
        return self.lines("CBS.log", "cbs")

    def add(
        self,
        file: str,
        minute: float,
        message: str,
        severity: int = 1,
        component: str | None = None,
    ) -> Logs:
        """A CMTrace line in a CCM log."""
        line = Line(message, self._at(minute), component or component_of(file), severity)
        self.lines(file, "cmtrace").append(line)
        return self

    def wu(self, minute: float, component: str, message: str, severity: int = 1) -> Logs:
        """A classic (Windows 7 / 2008 R2) WindowsUpdate.log line."""
        line = Line(message, self._at(minute), component, severity)
        self.lines("WindowsUpdate.log", "wulog").append(line)
        return self

    def wu_etw(self, minute: float, component: str, message: str) -> Logs:
        """A Windows 10 Get-WindowsUpdateLog line."""
        self.lines("WindowsUpdate.log", "wulog-etw").append(
            Line(message, self._at(minute), component)
        )
        return self

    def cbs_line(self, minute: float, message: str, severity: int = 1) -> Logs:
        self.cbs.append(Line(message, self._at(minute), "CBS", severity))
        return self

    def write(self, logs: Mapping[str, list[LogLine] | LogFile], shift: float = 0) -> Logs:
        """A scenario file's `logs`, every line `shift` minutes later than it says."""
        for file, entry in logs.items():
            fmt = log_format(file, entry)
            for line in log_lines(entry):
                component = line.component or (
                    component_of(file) if fmt == "cmtrace" else "CBS" if fmt == "cbs" else None
                )
                if component is None:
                    raise ValueError(f"{file}: a {fmt} line needs its component")
                when = self._at(line.at + shift)
                self.lines(file, fmt).append(Line(line.text, when, component, SEVERITY[line.type]))
        return self

    def files(self) -> dict[str, str]:
        """File path in the zip -> text: CCM logs in Logs/ as an admin zips C:\\Windows\\CCM\\Logs,
        WindowsUpdate.log and CBS.log beside it."""
        return {
            (f"Logs/{name}" if fmt == "cmtrace" else name): RENDERERS[fmt](sorted(lines, key=_when))
            for name, (fmt, lines) in self._files.items()
        }


def _when(line: Line) -> datetime:
    return line.when


def render(scenario: Scenario) -> dict[str, str]:
    """A scenario file's scenario as the files of its upload."""
    logs = Logs()
    for stage in scenario.stages_ok():
        stage_ok(logs, stage)
    return logs.write(scenario.logs).files()


# --- the stages' normal success lines (pipeline.yaml) ---------------------------------


def stage_ok(logs: Logs, stage: str, minute: float | None = None) -> Logs:
    """One stage's success lines, at their usual minute or moved to start at `minute`."""
    lines = pipeline().root[stage]
    if minute is None:
        return logs.write(lines)
    first = min(line.at for entry in lines.values() for line in log_lines(entry))
    return logs.write(lines, shift=minute - first)


def healthy_until(stage_count: int, logs: Logs | None = None) -> Logs:
    """Logs in which the first `stage_count` stages succeed (at their usual minutes)."""
    logs = logs or Logs()
    for stage in STAGE_IDS[:stage_count]:
        stage_ok(logs, stage)
    return logs


def scan_ok(logs: Logs, minute: float | None = None) -> Logs:
    return stage_ok(logs, "scan", minute)


def _dts_error(code: str, count: int) -> str:
    return (
        f"CDTSJob::HandleErrors: DTS Job '{DTS_JOB}' BITS Job '{BITS_JOB}' under user 'S-1-5-18' "
        f"OldErrorCount {count - 1} NewErrorCount {count} ErrorCode {code}"
    )


def scenario_upload(file: str, index: int = 0) -> dict[str, str]:
    """The files of the `index`th scenario of knowledge/data/scenarios/<file>.yaml."""
    from knowledge.scenarios import load_scenarios

    return render(load_scenarios()[file].scenarios[index])
