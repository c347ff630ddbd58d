"""Scoring `sccm diagnose --symptom` on real admins' threads (realworld/threads.yaml).

Shared by tests/test_realworld_threads.py (floors) and benchmarks/bench_symptoms.py (figures and
every miss). Each thread is an admin's own description with the stage the accepted fix shows was
failing, the stages a reasonable reader could also accept, and words that show the fix was offered.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from knowledge.models import STAGE_IDS
from knowledge.symptoms import diagnose_text

ROOT = Path(__file__).resolve().parents[1]
THREADS_FILE = ROOT / "realworld" / "threads.yaml"
FIRST_STEPS = 3  # "the fix was offered" counts only the steps a person reads first
TOP_N = 3  # top-3: the stage plus the first two alternatives


class Thread(BaseModel):
    """One real thread: the admin's words and what fixed it."""

    model_config = ConfigDict(extra="forbid")

    id: str
    text: str = Field(min_length=10)
    source: str = Field(pattern=r"^https?://")
    licence: str = Field(min_length=3)
    stage: str
    also: list[str] = Field(default_factory=list)
    cause: str | None = None
    fix: str = Field(min_length=10)
    fix_terms: list[str] = Field(min_length=1)

    @field_validator("stage")
    @classmethod
    def _known_stage(cls, value: str) -> str:
        if value not in STAGE_IDS:
            raise ValueError(f"unknown stage {value!r}")
        return value

    @field_validator("also")
    @classmethod
    def _known_stages(cls, value: list[str]) -> list[str]:
        unknown = [stage for stage in value if stage not in STAGE_IDS]
        if unknown:
            raise ValueError(f"unknown stages {unknown}")
        return value

    @property
    def accepted(self) -> set[str]:
        return {self.stage, *self.also}


@dataclass(frozen=True)
class Outcome:
    thread: Thread
    got: str | None  # top-1 stage (None = inconclusive)
    ranked: list[str]  # top-1 stage, then the alternatives' stages
    first_steps: list[str]  # texts of the first three next steps

    @property
    def top1(self) -> bool:
        return self.got in self.thread.accepted

    @property
    def top1_strict(self) -> bool:
        return self.got == self.thread.stage

    @property
    def top3(self) -> bool:
        return bool(set(self.ranked[:TOP_N]) & self.thread.accepted)

    @property
    def fix_offered(self) -> bool:
        steps = " ".join(self.first_steps).lower()
        return any(term.lower() in steps for term in self.thread.fix_terms)


@dataclass(frozen=True)
class Figures:
    count: int
    top1: float
    top1_strict: float
    top3: float
    fix_offered: float


def load_threads(path: Path = THREADS_FILE) -> list[Thread]:
    items = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    threads = [Thread.model_validate(item) for item in items]
    ids = [thread.id for thread in threads]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"{path}: duplicate thread ids {duplicates}")
    return threads


def evaluate(thread: Thread) -> Outcome:
    result = diagnose_text(thread.text)
    ranked = [result.stage] if result.stage else []
    ranked += [alt.stage for alt in result.alternatives if alt.stage not in ranked]
    return Outcome(
        thread=thread,
        got=result.stage,
        ranked=ranked,
        first_steps=[step.text for step in result.next_steps[:FIRST_STEPS]],
    )


def figures(outcomes: list[Outcome]) -> Figures:
    count = len(outcomes)

    def share(hits: int) -> float:
        return hits / count if count else 0.0

    return Figures(
        count=count,
        top1=share(sum(o.top1 for o in outcomes)),
        top1_strict=share(sum(o.top1_strict for o in outcomes)),
        top3=share(sum(o.top3 for o in outcomes)),
        fix_offered=share(sum(o.fix_offered for o in outcomes)),
    )
