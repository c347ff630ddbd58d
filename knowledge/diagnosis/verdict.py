"""From findings to a diagnosis: the stage ledger, the verdict and its confidence.

1. Per stage, a failure counts only if no success came after it. The verdict is the
   earliest stage in pipeline order with an unresolved failure; a stage failure on one
   update is not resolved by another update succeeding.
2. Confidence grows with the strength of the best line, the number of distinct findings
   that agree, and how recent the failure is compared with the end of the logs.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from knowledge.diagnosis.advice import how_to_collect, missing_logs, next_steps, present_logs, step
from knowledge.diagnosis.fold import (
    CODE_ONLY_MAX_CONFIDENCE,
    MIN_FAILURE_STRENGTH,
    STAGE_ORDER,
    Finding,
    _UpdateTrack,
)
from knowledge.errors import SeveralMachines
from knowledge.intake.archive import Upload, open_upload
from knowledge.intake.machines import Machine, describe, find_machines, several
from knowledge.kb import KnowledgeBase, StepRef, kb
from knowledge.models import (
    STAGE_IDS,
    Alternative,
    CodeRef,
    Diagnosis,
    Evidence,
    FilesSummary,
    LedgerRow,
    ProgressCallback,
    ReadReport,
    UpdateProgress,
    UpdateStep,
    iso_time,
)
from knowledge.reading.collector import Collector, collect_opened
from knowledge.reading.reader import ZoneHints

MAX_EVIDENCE = 10
FEW_STAGES = 3  # a healthy verdict on fewer stages than this asks for the rest of the logs


@dataclass
class StageView:
    stage: str
    successes: list[Finding] = field(default_factory=list)
    unresolved: list[Finding] = field(default_factory=list)
    resolved: list[tuple[Finding, Finding]] = field(default_factory=list)  # (failure, fixer)
    weak: list[Finding] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.unresolved)


def _resolver_for(failure: Finding, successes: list[Finding]) -> Finding | None:
    """The success that came after a failure and covers the same update, if any.

    A stage that merely started again proves nothing, and a success of another update
    (or of no named update) does not mend a failure that names its updates.
    """
    later = [s for s in successes if s.outcome == "ok" and s.last_order > failure.last_order]
    if failure.updates:
        later = [s for s in later if s.updates & failure.updates]
    return max(later, key=lambda s: s.last_order) if later else None


def build_stage_views(findings: list[Finding]) -> dict[str, StageView]:
    views = {stage: StageView(stage) for stage in STAGE_IDS}
    for finding in findings:
        if finding.outcome in ("ok", "reached"):
            views[finding.stage].successes.append(finding)
    for finding in findings:
        if finding.outcome != "failed":
            continue
        view = views[finding.stage]
        fixer = _resolver_for(finding, view.successes)
        if fixer is not None:
            view.resolved.append((finding, fixer))
        elif finding.strength < MIN_FAILURE_STRENGTH:
            view.weak.append(finding)
        else:
            view.unresolved.append(finding)
    return views


def _ledger(views: dict[str, StageView], knowledge: KnowledgeBase, verdict_stage: str | None):
    rows = []
    for stage in STAGE_IDS:
        view = views[stage]
        title = knowledge.stage_title(stage)
        if view.failed:
            rows.append(LedgerRow(stage=stage, status="failed", title=title))
        elif view.successes or view.resolved:
            only_reached = all(s.outcome == "reached" for s in view.successes)
            note = "started; no result seen" if only_reached and view.successes else None
            if view.resolved:
                note = "an earlier failure was resolved later"
            rows.append(LedgerRow(stage=stage, status="ok", title=title, note=note))
        elif verdict_stage and STAGE_ORDER[stage] > STAGE_ORDER[verdict_stage]:
            rows.append(LedgerRow(stage=stage, status="not_reached", title=title))
        else:
            rows.append(LedgerRow(stage=stage, status="no_evidence", title=title))
    return rows


def _evidence(finding: Finding, *, use_first: bool = False) -> Evidence:
    entry = finding.first if use_first else finding.last
    text = " ".join(entry.message.split())
    if len(text) > 500:
        text = text[:497] + "..."
    outcome = "failed" if finding.outcome == "failed" else "ok"
    if finding.outcome == "reached":
        outcome = "reached"
    return Evidence(
        file=entry.file,
        line=entry.line,
        time=iso_time(entry.time),
        text=text,
        stage=finding.stage,
        outcome=outcome,
        signature=finding.key.split("|", 1)[0],
        count=finding.count,
        first_time=iso_time(finding.first.time),
        last_time=iso_time(finding.last.time),
    )


def _strongest(findings: list[Finding]) -> Finding:
    return max(findings, key=lambda f: (f.strength, f.cause is not None, f.last_order))


def _confidence(primary: Finding, view: StageView, latest_order: tuple) -> float:
    score = primary.strength
    agreeing = {f.key for f in view.unresolved if f is not primary}
    score += min(0.15, 0.05 * len(agreeing))
    if primary.count > 1:
        score += 0.03
    age = latest_order[0] - primary.last_order[0]
    if primary.last_order[0] != datetime.min and latest_order[0] != datetime.min:
        if age <= timedelta(days=1):
            score += 0.05
        elif age > timedelta(days=7):
            score -= 0.15
    if all(_from_code(f) for f in view.unresolved):
        score = min(score, CODE_ONLY_MAX_CONFIDENCE)  # no signature says what went wrong
    return round(max(0.05, min(0.99, score)), 2)


def _from_code(finding: Finding) -> bool:
    """Whether a finding was read from an error code alone (no signature matched)."""
    return finding.key.startswith("code:")


def _cause_of(view: StageView, primary: Finding, knowledge: KnowledgeBase) -> str | None:
    if primary.cause:
        return primary.cause
    causes = Counter(f.cause for f in view.unresolved if f.cause)
    if causes:
        return causes.most_common(1)[0][0]
    for code in primary.codes:
        known = knowledge.codes.get(code)
        if known and known.cause and knowledge.causes[known.cause].stage == view.stage:
            return known.cause
    return None


def _code_refs(findings: list[Finding], knowledge: KnowledgeBase) -> list[CodeRef]:
    counts: Counter[str] = Counter()
    for finding in findings:
        for code in finding.codes:
            counts[code] += finding.count
    refs = []
    for code, count in counts.most_common(10):
        known = knowledge.codes.get(code)
        refs.append(
            CodeRef(
                code=code,
                symbol=known.symbol if known else None,
                meaning=known.meaning if known else None,
                stage=known.stage if known else None,
                count=count,
            )
        )
    return refs


def _alternatives(views, verdict_stage, primary: Finding | None, knowledge) -> list[Alternative]:
    alternatives: list[Alternative] = []
    for stage in STAGE_IDS:
        view = views[stage]
        if stage == verdict_stage and primary is not None:
            others = [f for f in view.unresolved if f is not primary and f.cause != primary.cause]
            for finding in others[:2]:
                alternatives.append(
                    Alternative(
                        stage=stage,
                        cause=finding.cause,
                        confidence=round(finding.strength * 0.6, 2),
                        why_not=f"same stage, but {finding.title!r} is a less specific sign than "
                        f"{primary.title!r}",
                    )
                )
            continue
        if view.unresolved:
            best = _strongest(view.unresolved)
            later = verdict_stage and STAGE_ORDER[stage] > STAGE_ORDER[verdict_stage]
            why = (
                f"also failed, but later in the pipeline than "
                f"{knowledge.stage_title(verdict_stage)}: it may be a consequence"
                if later
                else "failed too"
            )
            alternatives.append(
                Alternative(
                    stage=stage,
                    cause=best.cause,
                    confidence=round(best.strength * 0.5, 2),
                    why_not=why,
                )
            )
        for failure, fixer in view.resolved[:1]:
            when = iso_time(fixer.last.time) or "later"
            alternatives.append(
                Alternative(
                    stage=stage,
                    cause=failure.cause,
                    confidence=round(failure.strength * 0.2, 2),
                    why_not=f"{failure.title!r} was followed by {fixer.title!r} at {when}: "
                    "resolved",
                )
            )
        for weak in view.weak[:1]:
            alternatives.append(
                Alternative(
                    stage=stage,
                    cause=weak.cause,
                    confidence=round(weak.strength * 0.5, 2),
                    why_not=f"only a weak sign ({weak.title!r}), not enough on its own",
                )
            )
    alternatives.sort(key=lambda a: -a.confidence)
    return alternatives[:5]


def _step_time(order: tuple, zoned: bool) -> str | None:
    """An order's time as Evidence.time writes it. Orders keep UTC wall time once the
    machine's zone is known (the zone is lent to every local time), else local time."""
    when = order[0]
    if when is None or when == datetime.min:
        return None
    return iso_time(when.replace(tzinfo=UTC) if zoned else when)


def _update_steps(track: _UpdateTrack, zoned: bool) -> list[UpdateStep]:
    """The stages one update was seen at: a failure, then the success that followed it
    (a retry that worked) when there was one; in pipeline order, then time order."""
    steps = []
    for stage in STAGE_IDS:
        here = []
        if stage in track.failed:
            order, code = track.failed[stage]
            here.append((order, UpdateStep(stage=stage, outcome="failed", code=code)))
        if stage in track.succeeded_after:
            order = track.succeeded_after[stage]
            here.append((order, UpdateStep(stage=stage, outcome="ok")))
        for order, update_step in sorted(here, key=lambda pair: pair[0]):
            update_step.time = _step_time(order, zoned)
            steps.append(update_step)
    return steps


def _updates(
    collector: Collector, views: dict[str, StageView], zoned: bool = False
) -> list[UpdateProgress]:
    progress = []
    for update, track in list(collector.updates.items())[:50]:
        stopped = None
        code = None
        for stage in sorted(track.failed, key=STAGE_ORDER.__getitem__):
            order, failed_code = track.failed[stage]
            if track.succeeded_after.get(stage, (datetime.min, -1, 0)) <= order:
                stopped, code = stage, failed_code
                break
        furthest = STAGE_IDS[track.furthest] if track.furthest >= 0 else None
        status = (
            "failed"
            if stopped
            else ("ok" if furthest in ("install", "reboot", "report") else "in_progress")
        )
        progress.append(
            UpdateProgress(
                update=update,
                furthest_stage=furthest,
                status=status,
                stopped_at=stopped,
                code=code,
                steps=_update_steps(track, zoned),
            )
        )
    progress.sort(key=lambda p: (p.status != "failed", p.update))
    return progress


def _machine_zone(zones: ZoneHints | None) -> tuple[str | None, int | None]:
    """The machine's zone as its CMTrace logs name it, and its offset when it is one."""
    if zones is None or not zones.observations or not zones.consistent:
        return None, None
    biases = set(zones.observations.values())
    return zones.describe(), (-biases.pop() if len(biases) == 1 else None)


def assemble(
    collector: Collector,
    report: ReadReport,
    knowledge: KnowledgeBase,
    description: str | None,
    zones: ZoneHints | None = None,
) -> Diagnosis:
    zone, offset = _machine_zone(zones)
    zoned = zone is not None
    where = {"time_zone": zone, "utc_offset_minutes": offset}
    findings = list(collector.findings.values())
    views = build_stage_views(findings)
    files = FilesSummary(read=len(report.files), skipped=report.skipped, logs=report.files)
    present = present_logs(report)
    failed_stages = [s for s in STAGE_IDS if views[s].failed]
    verdict_stage = failed_stages[0] if failed_stages else None

    if verdict_stage:
        view = views[verdict_stage]
        primary = _strongest(view.unresolved)
        cause = _cause_of(view, primary, knowledge)
        codes = list(dict.fromkeys(c for f in view.unresolved for c in f.codes))
        ordered = sorted(view.unresolved, key=lambda f: (f is not primary, -f.strength))
        evidence = [_evidence(f) for f in ordered]
        evidence += _supporting_successes(views, verdict_stage)
        missing = missing_logs(knowledge, verdict_stage, cause, codes, present)
        how = how_to_collect(knowledge, missing)
        stage_title = knowledge.stage_title(verdict_stage)
        cause_info = knowledge.causes.get(cause) if cause else None
        summary = f"Updates stop at {stage_title.lower()}"
        summary += f": {cause_info.title[0].lower()}{cause_info.title[1:]}." if cause_info else "."
        summary += f" {cause_info.summary}" if cause_info else ""
        summary += f" Strongest sign: {primary.title} ({primary.count}x in {primary.log})."
        return Diagnosis(
            verdict="failure",
            stage=verdict_stage,
            stage_title=stage_title,
            cause=cause,
            cause_title=cause_info.title if cause_info else None,
            confidence=_confidence(primary, view, collector.latest_order),
            summary=summary,
            next_steps=next_steps(knowledge, verdict_stage, cause, codes),
            evidence=evidence[:MAX_EVIDENCE],
            error_codes=_code_refs(view.unresolved, knowledge),
            ledger=_ledger(views, knowledge, verdict_stage),
            alternatives=_alternatives(views, verdict_stage, primary, knowledge),
            missing_logs=missing,
            how_to_collect=how,
            files=files,
            updates=_updates(collector, views, zoned),
            **where,
        )

    ok_stages = [s for s in STAGE_IDS if views[s].successes or views[s].resolved]
    alternatives = _alternatives(views, None, None, knowledge)
    if ok_stages:
        evidence = _supporting_successes(views, None)
        resolved = [v for v in views.values() if v.resolved]
        summary = (
            f"No unresolved failure: the logs show {len(ok_stages)} of 10 stages working "
            f"({', '.join(knowledge.stage_title(s).lower() for s in ok_stages)})."
        )
        if resolved:
            summary += " Earlier failures were followed by successes."
        missing: list[str] = []
        how: list[str] = []
        if len(ok_stages) < FEW_STAGES:
            # A log or two that look fine say little about the rest of the pipeline.
            missing = missing_logs(knowledge, None, None, [], present)
            how = how_to_collect(knowledge, missing)
            summary += (
                " That is only part of the pipeline: send the whole C:\\Windows\\CCM\\Logs "
                "folder to check the rest."
            )
        return Diagnosis(
            verdict="healthy",
            confidence=round(min(0.9, 0.45 + 0.07 * len(ok_stages)), 2),
            summary=summary,
            evidence=evidence[:MAX_EVIDENCE],
            ledger=_ledger(views, knowledge, None),
            alternatives=alternatives,
            missing_logs=missing,
            how_to_collect=how,
            files=files,
            updates=_updates(collector, views, zoned),
            **where,
        )

    missing = missing_logs(knowledge, None, None, [], present)
    how = how_to_collect(knowledge, missing)
    if not report.files:
        summary = "No log file could be read, so there is nothing to judge."
    else:
        count = f"{len(report.files)} file" + ("s" if len(report.files) != 1 else "")
        summary = (
            f"The {count} read show no step of the software-update pipeline, so there is "
            "nothing to judge. Send the logs listed as missing."
        )
    if description:
        summary += " The description alone is not evidence: try `sccm diagnose --symptom`."
    collect = StepRef(procedure="not-downloaded", step=1)
    first_steps = [step(knowledge, collect)] if "not-downloaded" in knowledge.procedures else []
    return Diagnosis(
        verdict="inconclusive",
        confidence=0.0,
        summary=summary,
        next_steps=first_steps,
        ledger=_ledger(views, knowledge, None),
        alternatives=alternatives,
        missing_logs=missing,
        how_to_collect=how,
        files=files,
        **where,
    )


def _supporting_successes(views: dict[str, StageView], before: str | None) -> list[Evidence]:
    """The latest success of each stage before the verdict: the pipeline worked up to there."""
    evidence = []
    for stage in STAGE_IDS:
        if before and STAGE_ORDER[stage] >= STAGE_ORDER[before]:
            break
        ok = [f for f in views[stage].successes if f.outcome == "ok"] or views[stage].successes
        if ok:
            evidence.append(_evidence(max(ok, key=lambda f: f.last_order)))
    return evidence


def diagnose_upload(
    path: Path,
    *,
    description: str | None = None,
    progress: ProgressCallback | None = None,
    fast: bool = True,
) -> Diagnosis:
    """The diagnosis of one machine's upload. An upload holding several machines' logs
    is refused (SeveralMachines): merged into one timeline, healthy machines would hide
    failing ones."""
    with open_upload(path) as upload:
        machines = find_machines(upload, client_ids=False)
        if several(machines):
            raise _several_machines(upload.label, machines)
        return diagnose_opened(upload, description=description, progress=progress, fast=fast)


def _several_machines(label: str, machines: list[Machine]) -> SeveralMachines:
    count = len(machines) if len(machines) > 1 else len(machines[0].mixed_ids)
    return SeveralMachines(
        f"{label} holds the logs of {count} machines ({describe(machines)}), which one "
        "diagnosis would merge; run `sccm fleet` on it to diagnose each machine",
        [machine.name for machine in machines],
    )


def diagnose_opened(
    upload: Upload,
    *,
    description: str | None = None,
    progress: ProgressCallback | None = None,
    fast: bool = True,
) -> Diagnosis:
    """The diagnosis of an opened upload's files (one machine's): `sccm diagnose`'s work,
    and `sccm fleet`'s for each machine."""
    knowledge = kb()
    collected = collect_opened(upload, knowledge, progress=progress, fast=fast)
    return assemble(collected.collector, collected.report, knowledge, description, collected.zones)
