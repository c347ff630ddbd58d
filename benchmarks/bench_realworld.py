"""How the diagnosis fares on real log excerpts nobody here wrote (realworld/).

Each case in realworld/logs.yaml is a log excerpt from public material with the verdict and
stage its source states. This runs `knowledge.api.diagnose_path`, what `sccm diagnose` runs,
on each case and prints one line per case, the accuracy (overall and for the sources the
project never used) and every miss with its top evidence lines.

    .venv/bin/python benchmarks/bench_realworld.py
    .venv/bin/python benchmarks/bench_realworld.py --extra /work/realworld-extra
    .venv/bin/python benchmarks/bench_realworld.py --json

Cases whose licence does not let the repository keep their text (`in_repo: false`) are read
from `--extra DIR` (DIR/<case-id>/<file>); without it they are listed as skipped.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import signal
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

REPO_ROOT = Path(__file__).resolve().parents[1]
REALWORLD_DIR = REPO_ROOT / "realworld"
MANIFEST = REALWORLD_DIR / "logs.yaml"
IN_REPO_LOGS = REALWORLD_DIR / "logs"

STAGES = (
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


class Truth(BaseModel):
    """What the source states: a failure at one of `stages`, or no failure at all."""

    model_config = ConfigDict(extra="forbid")

    verdict: Literal["failure", "healthy", "not-failure"]
    stages: list[str] = Field(default_factory=list)
    cause: str | None = None

    @field_validator("stages")
    @classmethod
    def _known_stages(cls, stages: list[str]) -> list[str]:
        unknown = [s for s in stages if s not in STAGES]
        if unknown:
            raise ValueError(f"unknown stage ids {unknown}; use the CONTRACT's ids")
        return stages

    def accepts(self, verdict: str, stage: str | None) -> bool:
        if self.verdict == "failure":
            return verdict == "failure" and stage in self.stages
        if self.verdict == "healthy":
            return verdict == "healthy"
        return verdict in ("healthy", "inconclusive")

    def describe(self) -> str:
        if self.verdict == "failure":
            return "failure/" + "|".join(self.stages)
        return self.verdict


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    files: list[str] = Field(min_length=1)
    source: str
    licence: str
    in_repo: bool
    sha256: dict[str, str]
    new_source: bool
    truth: Truth
    says: str
    format: str | None = None  # how the excerpt reached us: cmtrace, cmtrace-copy, message-only...
    family: str | None = None  # the failure family of issue 12 it covers
    note: str | None = None  # what, if anything, was normalised when it was kept

    @field_validator("sha256")
    @classmethod
    def _hex_digests(cls, digests: dict[str, str]) -> dict[str, str]:
        for name, digest in digests.items():
            if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
                raise ValueError(f"sha256 of {name} is not 64 lower-case hex digits")
        return digests

    def model_post_init(self, _context: object) -> None:
        if set(self.sha256) != set(self.files):
            raise ValueError(f"{self.id}: sha256 must name exactly the files {self.files}")
        if self.truth.verdict == "failure" and not self.truth.stages:
            raise ValueError(f"{self.id}: a failure truth needs its stages")


def load_manifest(path: Path = MANIFEST) -> list[Case]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    cases = [Case.model_validate(entry) for entry in raw]
    ids = [c.id for c in cases]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"duplicate case ids in {path}: {duplicates}")
    return cases


def case_dir(case: Case, extra: Path | None) -> Path | None:
    """Where the case's files are, or None when they are kept outside and no --extra was given."""
    if case.in_repo:
        return IN_REPO_LOGS / case.id
    if extra is None:
        return None
    return extra / case.id


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_files(case: Case, folder: Path) -> list[str]:
    """Problems with the kept files: missing, or not byte-exact to the recorded digest."""
    problems = []
    for name in case.files:
        path = folder / name
        if not path.is_file():
            problems.append(f"{case.id}: {path} is missing")
        elif digest(path) != case.sha256[name]:
            problems.append(f"{case.id}: {name} does not match its sha256")
    return problems


class Outcome(BaseModel):
    id: str
    expected: str
    verdict: str
    stage: str | None
    cause: str | None
    right: bool
    new_source: bool
    evidence: list[str] = Field(default_factory=list)
    summary: str = ""
    codes: list[str] = Field(default_factory=list)  # error codes the diagnosis found, with stage
    formats: list[str] = Field(default_factory=list)  # how each file was read: name=format
    why: str = ""  # for a miss: the kind of miss, to group the to-do list

    def classify(self) -> str:
        """Name the kind of miss, so the misses can be worked through by kind."""
        if self.right:
            return ""
        if self.verdict == "error":
            return "input error"
        if self.expected in ("not-failure", "healthy"):
            return "false alarm" if self.verdict == "failure" else "healthy read as inconclusive"
        if self.verdict == "failure":
            return "wrong stage"
        if self.formats and all(f.endswith("=text") for f in self.formats):
            if self.codes:
                return "read as text: codes found, no failure named from them"
            return "read as text: no error code taken from the lines"
        if self.codes:
            return "format read: codes found, no failure named from them"
        return "format read: no signature and no code matched"


def run_case(case: Case, folder: Path) -> Outcome:
    from knowledge.api import diagnose_path, read_logs
    from knowledge.errors import InputError

    target = folder if len(case.files) > 1 else folder / case.files[0]
    try:
        diagnosis = diagnose_path(target)
    except InputError as exc:
        return Outcome(
            id=case.id,
            expected=case.truth.describe(),
            verdict="error",
            stage=None,
            cause=None,
            right=False,
            new_source=case.new_source,
            summary=f"input error: {exc}",
        )
    report = read_logs(target)
    formats = [f"{f.name}={f.format}" for f in report.files]
    codes = [f"{c.code}({c.stage or '-'})" for c in diagnosis.error_codes]
    evidence = [
        f"{e.file}:{e.line} [{e.stage or '-'}/{e.outcome or '-'}] {e.text[:160]}"
        for e in diagnosis.evidence[:3]
    ]
    outcome = Outcome(
        id=case.id,
        expected=case.truth.describe(),
        verdict=diagnosis.verdict,
        stage=diagnosis.stage,
        cause=diagnosis.cause,
        right=case.truth.accepts(diagnosis.verdict, diagnosis.stage),
        new_source=case.new_source,
        evidence=evidence,
        summary=diagnosis.summary,
        codes=codes,
        formats=formats,
    )
    outcome.why = outcome.classify()
    return outcome


def run(cases: Iterable[Case], extra: Path | None) -> tuple[list[Outcome], list[str]]:
    """Diagnose every case whose files are here; the second list names the skipped ones."""
    outcomes, skipped = [], []
    for case in cases:
        folder = case_dir(case, extra)
        if folder is None:
            skipped.append(f"{case.id}: kept outside the repository (give --extra DIR)")
            continue
        problems = check_files(case, folder)
        if problems:
            skipped.extend(problems)
            continue
        outcomes.append(run_case(case, folder))
    return outcomes, skipped


def accuracy(outcomes: list[Outcome]) -> tuple[int, int]:
    return sum(o.right for o in outcomes), len(outcomes)


def _pct(right: int, total: int) -> str:
    return f"{right}/{total} ({100 * right / total:.0f}%)" if total else "0/0"


def print_report(outcomes: list[Outcome], skipped: list[str]) -> None:
    width = max((len(o.id) for o in outcomes), default=10)
    for o in outcomes:
        got = f"{o.verdict}/{o.stage or '-'} {o.cause or ''}".rstrip()
        mark = "right" if o.right else "WRONG"
        print(f"{o.id:<{width}}  expected {o.expected:<28} got {got:<44} {mark}")
    print()
    print("accuracy:            ", _pct(*accuracy(outcomes)))
    print("accuracy new sources:", _pct(*accuracy([o for o in outcomes if o.new_source])))
    for line in skipped:
        print("skipped:", line)
    misses = [o for o in outcomes if not o.right]
    if misses:
        print(f"\n{len(misses)} misses, by kind:")
    for why in sorted({o.why for o in misses}):
        group = [o for o in misses if o.why == why]
        print(f"\n## {why} ({len(group)})")
        for o in group:
            print(f"\n- {o.id}: expected {o.expected}, got {o.verdict}/{o.stage} ({o.cause})")
            print(f"  read as: {', '.join(o.formats) or '-'}; codes: {', '.join(o.codes) or '-'}")
            print(f"  {o.summary[:200]}")
            for line in o.evidence:
                print(f"    {line}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--extra", type=Path, help="folder of the cases kept outside the repo")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.add_argument("--only", nargs="*", help="run only these case ids")
    args = parser.parse_args(argv)
    if hasattr(signal, "SIGPIPE"):  # `| head` closes the pipe early: stop quietly
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    if args.extra is not None and not args.extra.is_dir():
        print(f"error: --extra {args.extra} is not a folder", file=sys.stderr)
        return 2
    sys.path.insert(0, str(REPO_ROOT))
    cases = load_manifest()
    if args.only:
        cases = [c for c in cases if c.id in set(args.only)]
    outcomes, skipped = run(cases, args.extra)
    if args.json:
        right, total = accuracy(outcomes)
        new_right, new_total = accuracy([o for o in outcomes if o.new_source])
        print(
            json.dumps(
                {
                    "accuracy": {"right": right, "total": total},
                    "new_source_accuracy": {"right": new_right, "total": new_total},
                    "cases": [o.model_dump() for o in outcomes],
                    "skipped": skipped,
                },
                indent=2,
            )
        )
    else:
        print_report(outcomes, skipped)
    return 0


if __name__ == "__main__":
    sys.exit(main())
