"""Scenario files: the knowledge base's own test cases, under knowledge/data/scenarios.

A scenario is a client's logs written line by line (file, minute, severity, text) and the
diagnosis they must give. Each cause keeps its scenarios in `<cause id>.yaml` beside the
signatures that produce it, so a new cause is a signature plus a scenario file and no Python
(knowledge/data/README.md). `healthy.yaml` and `inconclusive.yaml` hold the uploads that
must not end in a failure. `pipeline.yaml` holds every stage's normal success lines, which a
scenario takes in with `healthy_until: <stage>` instead of writing them again.

This module only validates the files (the models below) and cross-checks them against the
knowledge base; tests/scenarios.py writes them out in each log's real format and
tests/test_scenario_files.py diagnoses them.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import Field, RootModel, ValidationError, model_validator

from knowledge.kb import DATA_DIR, KnowledgeBase, KnowledgeError, _read_yaml, _Strict, kb
from knowledge.models import STAGE_IDS, StageId

SCENARIO_DIR = DATA_DIR / "scenarios"
PIPELINE_FILE = "pipeline.yaml"
# Files named after a verdict rather than a cause: uploads that must not end in a failure.
VERDICT_FILES = {"healthy": "healthy", "inconclusive": "inconclusive"}

LogFormat = Literal["cmtrace", "wulog", "wulog-etw", "cbs"]
# The format a file is written in unless its entry says otherwise (CONTRACT.md format ids).
_FORMAT_BY_NAME = {"windowsupdate.log": "wulog", "cbs.log": "cbs", "dism.log": "cbs"}


class LogLine(_Strict):
    """One line: `at` minutes after the upload's start, local wall-clock time."""

    at: float = Field(ge=0)
    text: str = Field(min_length=1)
    type: Literal["info", "warning", "error"] = "info"
    # Who wrote it: the CMTrace component tag or WindowsUpdate.log component. Needed for
    # WindowsUpdate.log lines; a CCM log's own tag is used when left out.
    component: str | None = None


class LogFile(_Strict):
    """A log written in another format than its name suggests (a Windows 10 WindowsUpdate.log)."""

    format: LogFormat
    lines: list[LogLine] = Field(min_length=1)


class Expectation(_Strict):
    verdict: Literal["failure", "healthy", "inconclusive"]
    stage: StageId | None = None
    cause: str | None = None
    # Texts that must each appear in some quoted evidence line.
    evidence: list[str] = Field(default_factory=list)
    # Ledger rows that must have this status, e.g. {scan: ok} after a resolved failure.
    ledger: dict[StageId, Literal["ok", "failed", "not_reached", "no_evidence"]] = Field(
        default_factory=dict
    )
    missing_logs: list[str] = Field(default_factory=list)  # logs the answer must ask for

    @model_validator(mode="after")
    def _consistent(self) -> Expectation:
        if self.verdict == "failure" and self.stage is None:
            raise ValueError("a failure names the stage that failed")
        if self.verdict != "failure" and (self.stage or self.cause):
            raise ValueError(f"a {self.verdict} verdict has no stage and no cause")
        if self.cause and self.stage and not self.cause.startswith(self.stage + "."):
            raise ValueError(f"cause {self.cause} is not of stage {self.stage}")
        return self


class Scenario(_Strict):
    name: str = Field(min_length=1)
    description: str | None = None
    # The stages up to and including this one first write their success lines (pipeline.yaml).
    healthy_until: StageId | None = None
    logs: dict[str, list[LogLine] | LogFile] = Field(default_factory=dict)
    expect: Expectation

    @model_validator(mode="after")
    def _has_logs(self) -> Scenario:
        if not self.logs and self.healthy_until is None:
            raise ValueError("a scenario needs logs or healthy_until")
        _check_components(self.logs)
        return self

    def stages_ok(self) -> tuple[str, ...]:
        """The stages whose pipeline.yaml lines come first, in pipeline order."""
        if self.healthy_until is None:
            return ()
        return STAGE_IDS[: STAGE_IDS.index(self.healthy_until) + 1]


class ScenarioFile(_Strict):
    """knowledge/data/scenarios/<cause id>.yaml (or healthy.yaml, inconclusive.yaml)."""

    scenarios: list[Scenario] = Field(min_length=1)


class Pipeline(RootModel[dict[StageId, dict[str, list[LogLine] | LogFile]]]):
    """pipeline.yaml: each stage's normal success lines, by log file."""

    @model_validator(mode="after")
    def _components(self) -> Pipeline:
        for logs in self.root.values():
            _check_components(logs)
        return self


def _check_components(logs: dict[str, list[LogLine] | LogFile]) -> None:
    """WindowsUpdate.log names the agent component on every line; CCM logs and CBS.log
    have one of their own that the writer fills in."""
    for name, entry in logs.items():
        needs_component = log_format(name, entry) in ("wulog", "wulog-etw")
        if needs_component and any(line.component is None for line in log_lines(entry)):
            raise ValueError(f"{name}: give every line its component (Agent, PT, Handler, ...)")


def log_format(name: str, entry: list[LogLine] | LogFile) -> str:
    """The format a scenario's log is written in: its own `format`, else by its name."""
    if isinstance(entry, LogFile):
        return entry.format
    return _FORMAT_BY_NAME.get(name.rsplit("/", 1)[-1].lower(), "cmtrace")


def log_lines(entry: list[LogLine] | LogFile) -> list[LogLine]:
    return entry.lines if isinstance(entry, LogFile) else entry


@cache
def pipeline(directory: Path = SCENARIO_DIR) -> Pipeline:
    return _validate(Pipeline, directory / PIPELINE_FILE)


def load_scenarios(
    directory: Path = SCENARIO_DIR, knowledge: KnowledgeBase | None = None
) -> dict[str, ScenarioFile]:
    """Every scenario file by its stem, validated and checked against the knowledge base.
    Raises KnowledgeError naming the file and what is wrong."""
    knowledge = knowledge or kb()
    stages = pipeline(directory).root
    if tuple(stages) != STAGE_IDS:
        raise KnowledgeError(f"scenarios/{PIPELINE_FILE}: list the stages {', '.join(STAGE_IDS)}")
    files: dict[str, ScenarioFile] = {}
    for path in sorted(directory.glob("*.yaml")):
        if path.name == PIPELINE_FILE:
            continue
        parsed = _validate(ScenarioFile, path)
        _check(path.stem, parsed, knowledge)
        files[path.stem] = parsed
    return files


def _validate(model, path: Path):
    try:
        return model.model_validate(_read_yaml(path))
    except ValidationError as exc:
        raise KnowledgeError(f"scenarios/{path.name}: {exc}") from exc


def _check(stem: str, parsed: ScenarioFile, knowledge: KnowledgeBase) -> None:
    where = f"scenarios/{stem}.yaml"
    problems: list[str] = []
    if stem not in knowledge.causes and stem not in VERDICT_FILES:
        problems.append(
            f"{where}: name the file after a cause in causes.yaml or one of "
            f"{', '.join(name + '.yaml' for name in VERDICT_FILES)}"
        )
    names: set[str] = set()
    for scenario in parsed.scenarios:
        expect = scenario.expect
        if scenario.name in names:
            problems.append(f"{where}: scenario '{scenario.name}' is there twice")
        names.add(scenario.name)
        if stem in VERDICT_FILES and expect.verdict != VERDICT_FILES[stem]:
            problems.append(f"{where}: '{scenario.name}' must expect {VERDICT_FILES[stem]}")
        if stem in knowledge.causes and (expect.verdict, expect.cause) != ("failure", stem):
            problems.append(f"{where}: '{scenario.name}' must expect failure with cause {stem}")
        cause = knowledge.causes.get(expect.cause or "")
        if cause and cause.stage != expect.stage:
            problems.append(f"{where}: '{scenario.name}': {expect.cause} is not {expect.stage}")
        for name in (*scenario.logs, *expect.missing_logs):
            if knowledge.log_by_name(name) is None:
                problems.append(f"{where}: '{scenario.name}': log {name} is not in logs.yaml")
    if problems:
        raise KnowledgeError("; ".join(problems))
