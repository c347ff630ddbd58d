"""Shapes shared by every layer: log entries, read reports, diagnoses, error lookups.

The JSON field names of the pydantic models are the public contract
(../shared/CONTRACT.md, section 2). Add fields freely; never rename one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field

# The ten stages of the client-side software-update pipeline, in pipeline order.
STAGE_IDS: tuple[str, ...] = (
    "client",
    "policy",
    "scan",
    "evaluate",
    "locate",
    "download",
    "cache",
    "install",
    "reboot",
    "report",
)
StageId = Literal[
    "client",
    "policy",
    "scan",
    "evaluate",
    "locate",
    "download",
    "cache",
    "install",
    "reboot",
    "report",
]

# Log formats, as `sccm logs` names them.
FORMATS: tuple[str, ...] = (
    "cmtrace",
    "simple",
    "wulog",
    "wulog-etw",
    "cbs",
    "cmtrace-copy",
    "text",
)
LogFormat = Literal["cmtrace", "simple", "wulog", "wulog-etw", "cbs", "cmtrace-copy", "text"]

# Severity of an entry. CMTrace writes type="1" info, "2" warning, "3" error and
# occasionally "0"; other formats are mapped onto the same scale by their parsers.
VERBOSE, INFO, WARNING, ERROR = 0, 1, 2, 3


@dataclass(slots=True)
class Entry:
    """One log record, whatever format it came from.

    `time` is an aware UTC datetime when the writer's zone is known, a naive local
    datetime when only wall-clock time is known, and None when the line has no time.
    `offset_minutes` is the zone of a naive time when the reader learned it later
    (UTC = local + offset); parsers leave it None.
    """

    file: str  # path of the file inside the upload, as listed by `sccm logs`
    line: int  # 1-based line number where the record starts
    time: datetime | None
    component: str
    severity: int  # VERBOSE / INFO / WARNING / ERROR
    thread: str | None
    message: str

    @property
    def is_utc(self) -> bool:
        return self.time is not None and self.time.tzinfo is not None


def iso_time(value: datetime | None) -> str | None:
    """ISO 8601 as the contract wants it: `...Z` for UTC, no offset for local time."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(timespec="milliseconds") + "Z"
    return value.isoformat(timespec="milliseconds")


# --- `sccm logs` ------------------------------------------------------------------


class FileReport(BaseModel):
    """One log file that was read."""

    name: str
    path: str
    format: LogFormat
    entries: int
    first: str | None = None
    last: str | None = None
    errors: int = 0
    warnings: int = 0
    encoding: str | None = None
    log: str | None = Field(default=None, description="catalogue name, e.g. WUAHandler.log")
    rotated_into: str | None = Field(default=None, description="current file a rotated file joins")
    time_zone: Literal["utc", "inferred", "local", "none"] = "none"
    notes: list[str] = Field(default_factory=list)


class SkippedFile(BaseModel):
    name: str
    reason: str


class ReadReport(BaseModel):
    files: list[FileReport] = Field(default_factory=list)
    skipped: list[SkippedFile] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


# --- `sccm diagnose` ----------------------------------------------------------------


class NextStep(BaseModel):
    text: str
    source: str
    procedure: str | None = None  # procedure id, e.g. "not-downloaded"
    step: int | None = None  # step number within that procedure


class Evidence(BaseModel):
    file: str | None
    line: int | None
    time: str | None
    text: str
    stage: StageId | None = None
    outcome: Literal["ok", "failed", "reached", "info"] | None = None
    signature: str | None = None
    count: int = 1  # how many times the same finding repeated
    first_time: str | None = None
    last_time: str | None = None


class CodeRef(BaseModel):
    code: str
    symbol: str | None = None
    meaning: str | None = None
    stage: StageId | None = None
    count: int = 1


class LedgerRow(BaseModel):
    stage: StageId
    status: Literal["ok", "failed", "not_reached", "no_evidence"]
    title: str | None = None
    note: str | None = None


class Alternative(BaseModel):
    stage: StageId
    cause: str | None = None
    confidence: float
    why_not: str


class FilesSummary(BaseModel):
    read: int = 0
    skipped: list[SkippedFile] = Field(default_factory=list)
    logs: list[FileReport] = Field(default_factory=list)  # the files read, as `sccm logs`


class UpdateStep(BaseModel):
    """One stage an update was seen at: its latest success there, or its failure."""

    stage: StageId
    outcome: Literal["ok", "failed"]
    time: str | None = None  # as Evidence.time: `Z` when the machine's zone is known
    code: str | None = None  # the failure's error code


class UpdateProgress(BaseModel):
    """How far one update (KB or update id) got, where the logs allow."""

    update: str  # KB number or update id
    title: str | None = None
    furthest_stage: StageId | None = None
    status: Literal["ok", "failed", "in_progress"] = "in_progress"
    stopped_at: StageId | None = None
    code: str | None = None
    steps: list[UpdateStep] = Field(default_factory=list)  # in pipeline order


class Diagnosis(BaseModel):
    verdict: Literal["failure", "healthy", "inconclusive"]
    stage: StageId | None = None
    stage_title: str | None = None
    cause: str | None = None
    cause_title: str | None = None
    confidence: float = 0.0
    summary: str
    next_steps: list[NextStep] = Field(default_factory=list)
    evidence: list[Evidence] = Field(default_factory=list)
    error_codes: list[CodeRef] = Field(default_factory=list)
    ledger: list[LedgerRow] = Field(default_factory=list)
    alternatives: list[Alternative] = Field(default_factory=list)
    missing_logs: list[str] = Field(default_factory=list)
    how_to_collect: list[str] = Field(default_factory=list)
    files: FilesSummary = Field(default_factory=FilesSummary)
    updates: list[UpdateProgress] = Field(default_factory=list)
    source: Literal["logs", "symptom"] = "logs"
    # The machine's zone as its CMTrace logs show it ("UTC-04:00"; two across a
    # daylight-saving change, "UTC-05:00, UTC-04:00"); None when the logs do not say.
    time_zone: str | None = None
    # Minutes from UTC to the machine's local time (-240 for UTC-04:00), when one zone.
    utc_offset_minutes: int | None = None


# --- `sccm error` -------------------------------------------------------------------


class ErrorInfo(BaseModel):
    code: str  # normalised 0xXXXXXXXX
    known: bool
    symbol: str | None = None
    decimal: int  # signed 32-bit value, as Software Center and reports print it
    unsigned: int
    stage: StageId | None = None
    meaning: str | None = None
    next_step: str | None = None
    family: str
    source: str | None = None
    routine: bool = False  # seen on healthy clients; not a failure by itself
    cause: str | None = None  # cause id the code points to, when it is that specific


@dataclass(frozen=True, slots=True)
class Progress:
    """What a long diagnosis reports while it works (Slack edits its message with it)."""

    files_read: int
    files_total: int
    current_file: str | None = None
    stage_found: str | None = None  # stage id of the earliest failure seen so far


ProgressCallback = Callable[[Progress], None]


# --- `sccm fleet` ------------------------------------------------------------------


class FleetMachine(BaseModel):
    """One machine's row: `sccm fleet --json`'s `machines`, and a CSV row."""

    machine: str
    source: str  # the path given, then the folder or zip inside it
    verdict: str
    stage: str | None = None
    cause: str | None = None
    confidence: float = 0.0
    summary: str
    error_codes: list[str] = Field(default_factory=list)
    stage_title: str | None = None
    cause_title: str | None = None
    client_id: str | None = None


class FleetGroup(BaseModel):
    """Machines with the same verdict, stage and cause, and what to do for all of them."""

    verdict: str
    stage: str | None = None
    cause: str | None = None
    count: int
    machines: list[str]
    stage_title: str | None = None
    cause_title: str | None = None
    next_step: NextStep | None = None


class FleetReport(BaseModel):
    machines: list[FleetMachine] = Field(default_factory=list)
    groups: list[FleetGroup] = Field(default_factory=list)
    skipped: list[SkippedFile] = Field(default_factory=list)


@dataclass(frozen=True, slots=True)
class FleetProgress:
    """How far a fleet diagnosis is: machines done of all, and the one just finished."""

    done: int
    total: int
    machine: str
    failing: int  # machines found failing so far


FleetProgressCallback = Callable[[FleetProgress], None]
