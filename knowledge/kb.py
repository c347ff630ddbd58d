"""The knowledge base: YAML files under knowledge/data, validated when loaded.

An SCCM admin extends the bot by editing those files, not this module. Each model
below is the schema of one file; `load_kb()` reads them all once, checks that every
reference points somewhere (cause -> stage, signature -> procedure step, ...) and
raises `KnowledgeError` naming the file and the entry when something is off.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from knowledge.errors import InputError
from knowledge.intake.names import log_key
from knowledge.models import STAGE_IDS, StageId

DATA_DIR = Path(__file__).with_name("data")
# libyaml's safe loader (C) where it is installed, else the pure-Python one: both accept
# exactly the same YAML, and the C one loads the data files sooner at every start.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Files whose name says nothing are still recognisable by their format.
_LOG_BY_FORMAT = {"wulog": "WindowsUpdate.log", "wulog-etw": "WindowsUpdate.log", "cbs": "CBS.log"}


class KnowledgeError(Exception):
    """A data file is malformed or refers to something that does not exist."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Stage(_Strict):
    """stages.yaml: one of the ten pipeline stages (ids fixed by CONTRACT.md)."""

    id: StageId
    title: str
    what: str  # what happens there, in a sentence or two
    logs: list[str]  # catalogue names of the logs that show it
    procedure: str  # procedure id to follow when this stage fails
    source: str


class Step(_Strict):
    text: str
    source: str | None = None  # defaults to the procedure's source


class Procedure(_Strict):
    """procedures.yaml: numbered troubleshooting steps for one stage."""

    id: str
    title: str
    stage: StageId
    origin: Literal["seed", "facts"]  # the seed wiki page's three procedures, or ours
    source: str
    steps: list[Step]
    note: str | None = None


class LogInfo(_Strict):
    """logs.yaml: one client log the bot knows."""

    name: str  # real file name, e.g. UpdatesDeployment.log
    records: str  # what it records
    stages: list[StageId]
    components: list[str] = Field(default_factory=list)  # component tags written inside it
    aliases: list[str] = Field(default_factory=list)  # misspellings people use
    location: str = r"C:\Windows\CCM\Logs"
    in_ccm_logs: bool = True  # False for WindowsUpdate.log, CBS.log, ...
    how_to_collect: str | None = None
    source: str


class ErrorCode(_Strict):
    """error_codes.yaml: one HRESULT / ConfigMgr code."""

    code: str  # 0xXXXXXXXX, upper-case hex digits
    symbol: str | None = None
    stage: StageId | None = None  # None when the code belongs to no single stage
    meaning: str
    next_step: str
    source: str
    routine: bool = False  # seen on healthy clients; never a failure by itself
    cause: str | None = None  # cause id this code points to, when it is specific

    @field_validator("code")
    @classmethod
    def _hex(cls, value: str) -> str:
        if not re.fullmatch(r"0x[0-9A-F]{8}", value):
            raise ValueError(f"code {value!r} must be written 0xXXXXXXXX with upper-case digits")
        return value


class StepRef(_Strict):
    procedure: str
    step: int


class Cause(_Strict):
    """causes.yaml: a reason a stage fails, with the step to take next."""

    id: str  # "<stage>.<name>", e.g. scan.gpo_conflict
    stage: StageId
    title: str
    summary: str  # one or two sentences for a person
    next: list[StepRef]  # the documented steps to take, most useful first
    codes: list[str] = Field(default_factory=list)
    source: str


class SignatureExamples(_Strict):
    match: list[str] = Field(min_length=1)
    no_match: list[str] = Field(min_length=1)


class Signature(_Strict):
    """signatures/*.yaml: a pattern in a log that shows a stage reached, done or failed."""

    id: str
    stage: StageId
    outcome: Literal["ok", "failed", "reached"]
    cause: str | None = None  # required when outcome is failed and the cause is known
    logs: list[str]  # catalogue names (or "*" for any log)
    pattern: str  # Python regex, matched case-insensitively against the message
    strength: float = Field(ge=0.0, le=1.0, default=0.6)
    title: str | None = None
    examples: SignatureExamples
    source: str

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:  # with the flag it is matched with, so that re's cache serves the matcher
            re.compile(value, re.IGNORECASE)
        except re.error as exc:
            raise ValueError(f"pattern does not compile: {exc}") from exc
        return value


class Symptom(_Strict):
    """symptoms.yaml: ways admins describe a cause in their own words."""

    cause: str
    phrasings: list[str] = Field(min_length=1)


class CacheFact(_Strict):
    topic: str
    fact: str
    source: str


class KnowledgeBase(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    stages: dict[str, Stage]
    procedures: dict[str, Procedure]
    logs: list[LogInfo]
    codes: dict[str, ErrorCode]
    causes: dict[str, Cause]
    signatures: list[Signature]
    symptoms: list[Symptom]
    synonyms: dict[str, list[str]]
    cache_facts: list[CacheFact]
    _log_index: LogCatalogue | None = PrivateAttr(default=None)

    # --- lookups used by the engine, the CLI and Slack ---------------------------

    def stage_title(self, stage: str | None) -> str | None:
        return self.stages[stage].title if stage in self.stages else None

    def procedure_for(self, name: str) -> Procedure:
        """The procedure of a stage id (`scan`) or a procedure id (`scan-fails`)."""
        key = name.strip().lower()
        procedure_id = self.stages[key].procedure if key in self.stages else key
        procedure = self.procedures.get(procedure_id)
        if procedure is None:
            raise InputError(
                f"no stage or procedure named '{name.strip()}'; stages: "
                f"{', '.join(self.stages)}; procedures: {', '.join(self.procedures)}"
            )
        return procedure

    def step_text(self, ref: StepRef) -> tuple[str, str]:
        """(text, source) of a procedure step, source naming it for a person."""
        procedure = self.procedures[ref.procedure]
        step = procedure.steps[ref.step - 1]
        source = step.source or procedure.source
        if f"'{procedure.title}', step {ref.step}" in source:
            return step.text, source  # the source already names the procedure and the step
        return step.text, f'"{procedure.title}", step {ref.step} ({source})'

    def log_for_file(self, file_name: str, fmt: str) -> LogInfo | None:
        return self._catalogue().log_for_file(file_name, fmt)

    def log_by_name(self, name: str) -> LogInfo | None:
        return self._catalogue().log_by_name(name)

    def _catalogue(self) -> LogCatalogue:
        if self._log_index is None:
            self._log_index = LogCatalogue(self.logs)
        return self._log_index


class LogCatalogue:
    """The logs we know, found by the names files and people give them (logs.yaml)."""

    def __init__(self, logs: list[LogInfo]):
        self._index: dict[str, LogInfo] = {}
        for info in logs:
            for known in (info.name, *info.aliases):
                self._index.setdefault(log_key(known), info)

    def log_for_file(self, file_name: str, fmt: str) -> LogInfo | None:
        """The catalogue log a file is: by its name, else (WindowsUpdate.log and CBS.log
        pasted under another name) by its format."""
        info = self.log_by_name(file_name)
        if info is None and fmt in _LOG_BY_FORMAT:
            info = self.log_by_name(_LOG_BY_FORMAT[fmt])
        return info

    def log_by_name(self, name: str) -> LogInfo | None:
        """Catalogue entry for a file or log name, misspellings and rotation accepted."""
        return self._index.get(log_key(name))


def _read_yaml(path: Path):
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.load(handle, Loader=_YAML_LOADER)
    except (OSError, yaml.YAMLError) as exc:
        raise KnowledgeError(f"{path.name}: cannot be read: {exc}") from exc


def _parse_list(model, items, where: str) -> list:
    if not isinstance(items, list):
        raise KnowledgeError(f"{where}: expected a list of entries")
    parsed = []
    for index, item in enumerate(items, 1):
        try:
            parsed.append(model.model_validate(item))
        except ValidationError as exc:
            label = (
                item.get("id") or item.get("code") or item.get("name")
                if isinstance(item, dict)
                else index
            )
            raise KnowledgeError(f"{where}: entry {label}: {exc}") from exc
    return parsed


def load_kb(data_dir: Path = DATA_DIR) -> KnowledgeBase:
    """Read and cross-check every data file. Raises KnowledgeError with a clear message."""
    stages = _parse_list(Stage, _read_yaml(data_dir / "stages.yaml"), "stages.yaml")
    procedures = _parse_list(Procedure, _read_yaml(data_dir / "procedures.yaml"), "procedures.yaml")
    logs = _parse_list(LogInfo, _read_yaml(data_dir / "logs.yaml"), "logs.yaml")
    codes = _parse_list(ErrorCode, _read_yaml(data_dir / "error_codes.yaml"), "error_codes.yaml")
    causes = _parse_list(Cause, _read_yaml(data_dir / "causes.yaml"), "causes.yaml")
    signatures: list[Signature] = []
    for path in sorted((data_dir / "signatures").glob("*.yaml")):
        signatures += _parse_list(Signature, _read_yaml(path), f"signatures/{path.name}")
    symptom_data = _read_yaml(data_dir / "symptoms.yaml") or {}
    symptoms = _parse_list(Symptom, symptom_data.get("causes", []), "symptoms.yaml")
    synonyms = symptom_data.get("synonyms", {}) or {}
    cache_facts = _parse_list(CacheFact, _read_yaml(data_dir / "cache.yaml"), "cache.yaml")

    kb = KnowledgeBase(
        stages={s.id: s for s in stages},
        procedures={p.id: p for p in procedures},
        logs=logs,
        codes={c.code: c for c in codes},
        causes={c.id: c for c in causes},
        signatures=signatures,
        symptoms=symptoms,
        synonyms=synonyms,
        cache_facts=cache_facts,
    )
    _cross_check(kb, codes, signatures)
    return kb


def _cross_check(kb: KnowledgeBase, codes: list[ErrorCode], signatures: list[Signature]) -> None:
    problems: list[str] = []
    if tuple(kb.stages) != STAGE_IDS:
        problems.append(f"stages.yaml must list exactly {', '.join(STAGE_IDS)} in that order")
    for stage in kb.stages.values():
        if stage.procedure not in kb.procedures:
            problems.append(f"stages.yaml: {stage.id} names unknown procedure {stage.procedure}")
    seen_codes: set[str] = set()
    for code in codes:
        if code.code in seen_codes:
            problems.append(f"error_codes.yaml: {code.code} is listed twice")
        seen_codes.add(code.code)
        if code.cause and code.cause not in kb.causes:
            problems.append(f"error_codes.yaml: {code.code} names unknown cause {code.cause}")
    for cause in kb.causes.values():
        if not cause.id.startswith(cause.stage + "."):
            problems.append(f"causes.yaml: {cause.id} must start with its stage '{cause.stage}.'")
        for ref in cause.next:
            problems += _check_ref(kb, ref, f"causes.yaml: {cause.id}")
    seen_sigs: set[str] = set()
    for sig in signatures:
        if sig.id in seen_sigs:
            problems.append(f"signatures: {sig.id} is defined twice")
        seen_sigs.add(sig.id)
        if sig.cause and sig.cause not in kb.causes:
            problems.append(f"signatures: {sig.id} names unknown cause {sig.cause}")
        if sig.cause and sig.cause in kb.causes and kb.causes[sig.cause].stage != sig.stage:
            problems.append(f"signatures: {sig.id} is stage {sig.stage} but its cause is not")
        for log in sig.logs:
            if log != "*" and kb.log_by_name(log) is None:
                problems.append(f"signatures: {sig.id} names log {log} missing from logs.yaml")
    for symptom in kb.symptoms:
        if symptom.cause not in kb.causes:
            problems.append(f"symptoms.yaml: unknown cause {symptom.cause}")
    for log in kb.logs:
        for stage in log.stages:
            if stage not in kb.stages:
                problems.append(f"logs.yaml: {log.name} names unknown stage {stage}")
    if problems:
        raise KnowledgeError("; ".join(problems))


def _check_ref(kb: KnowledgeBase, ref: StepRef, where: str) -> list[str]:
    procedure = kb.procedures.get(ref.procedure)
    if procedure is None:
        return [f"{where}: unknown procedure {ref.procedure}"]
    if not 1 <= ref.step <= len(procedure.steps):
        return [f"{where}: {ref.procedure} has no step {ref.step}"]
    return []


@cache
def log_catalogue() -> LogCatalogue:
    """The bundled log catalogue alone: naming the files of an upload (`sccm logs`)
    needs no more of the knowledge base, and logs.yaml loads in a few milliseconds."""
    return LogCatalogue(_parse_list(LogInfo, _read_yaml(DATA_DIR / "logs.yaml"), "logs.yaml"))


@cache
def kb() -> KnowledgeBase:
    """The bundled knowledge base, loaded once per process."""
    return load_kb()
