"""Plain-text renderings of the core's answers, for a person at a terminal.

Verdict and stage first, then the evidence with file:line and time, then the next
documented steps with their sources, then what else was considered.
"""

from __future__ import annotations

import difflib
import textwrap
from importlib import resources

from knowledge.errors import InputError
from knowledge.kb import kb
from knowledge.models import STAGE_IDS, Diagnosis, ErrorInfo, ReadReport

STATUS_WORD = {"ok": "ok", "failed": "FAILED", "not_reached": "-", "no_evidence": "?"}
WIDTH = 100


def _wrap(text: str, indent: str = "  ", first: str | None = None) -> str:
    return textwrap.fill(
        text, WIDTH, initial_indent=first if first is not None else indent, subsequent_indent=indent
    )


def ledger_line(diagnosis: Diagnosis) -> str:
    return " > ".join(f"{row.stage} {STATUS_WORD[row.status]}" for row in diagnosis.ledger)


def render_diagnosis(diagnosis: Diagnosis) -> str:
    out: list[str] = []
    if diagnosis.verdict == "failure":
        head = f"FAILURE at {diagnosis.stage_title} ({diagnosis.stage})"
        out.append(f"{head}, confidence {diagnosis.confidence:.2f}")
        if diagnosis.cause:
            out.append(f"Cause: {diagnosis.cause_title or diagnosis.cause} [{diagnosis.cause}]")
    elif diagnosis.verdict == "healthy":
        out.append(f"HEALTHY, confidence {diagnosis.confidence:.2f}")
    else:
        out.append("INCONCLUSIVE: not enough evidence to name a stage")
    out.append(_wrap(diagnosis.summary, indent="", first=""))
    if diagnosis.ledger and diagnosis.source == "logs":
        out += ["", "Stages: " + ledger_line(diagnosis)]
        out.append("        (ok, FAILED, - not reached, ? no evidence)")
    if diagnosis.evidence:
        out += ["", "Evidence:"]
        for item in diagnosis.evidence:
            where = f"{item.file}:{item.line}" if item.line else (item.file or "?")
            repeat = (
                f"  ({item.count} matching lines, first at {item.first_time})"
                if item.count > 1
                else ""
            )
            mark = {"failed": "FAILED", "ok": "ok", "reached": "started"}.get(
                item.outcome or "", ""
            )
            out.append(f"  [{item.stage} {mark}] {where}  {item.time or 'no time'}{repeat}")
            out.append(_wrap(item.text, indent="      "))
    if diagnosis.error_codes:
        out += ["", "Error codes:"]
        for ref in diagnosis.error_codes:
            symbol = f" {ref.symbol}" if ref.symbol else ""
            count = f" ({ref.count}x)" if ref.count > 1 else ""
            out.append(_wrap(f"{ref.code}{symbol}{count}: {ref.meaning or 'unknown code'}"))
    if diagnosis.next_steps:
        out += ["", "Next steps:"]
        for number, step in enumerate(diagnosis.next_steps, 1):
            out.append(_wrap(step.text, indent="     ", first=f"  {number}. "))
            out.append(_wrap(f"source: {step.source}", indent="       ", first="     "))
    if diagnosis.alternatives:
        out += ["", "Also considered:"]
        for alt in diagnosis.alternatives:
            cause = f" ({alt.cause})" if alt.cause else ""
            out.append(
                _wrap(f"{alt.stage}{cause} ({alt.confidence:.2f}): {alt.why_not}", "    ", "  - ")
            )
    if diagnosis.missing_logs:
        out += ["", "Send next: " + ", ".join(diagnosis.missing_logs)]
        for how in diagnosis.how_to_collect:
            out.append(_wrap(how, indent="    ", first="  - "))
    failed_updates = [u for u in diagnosis.updates if u.status == "failed"]
    if failed_updates:
        out += ["", "Updates that stopped:"]
        for update in failed_updates[:10]:
            code = f" ({update.code})" if update.code else ""
            out.append(f"  {update.update}: stopped at {update.stopped_at}{code}")
    if diagnosis.source == "logs":
        skipped = diagnosis.files.skipped
        line = f"Files: {diagnosis.files.read} read, {len(skipped)} skipped"
        if skipped:
            shown = ", ".join(f"{s.name} ({s.reason})" for s in skipped[:5])
            more = f", and {len(skipped) - 5} more" if len(skipped) > 5 else ""
            line += f": {shown}{more}"
        out += ["", _wrap(line, indent="  ", first="")]
    return "\n".join(out)


def render_read_report(report: ReadReport) -> str:
    out = []
    if report.files:
        name_width = min(48, max(len(f.path) for f in report.files))
        out.append(
            f"{'file':<{name_width}}  {'format':<12} {'entries':>8} {'errors':>6}  time range"
        )
        for f in report.files:
            span = f"{f.first or '-'} .. {f.last or '-'}"
            if f.time_zone == "local":
                span += " (local time)"
            elif f.time_zone == "inferred":
                span += " (zone from other logs)"
            out.append(
                f"{f.path:<{name_width}}  {f.format:<12} {f.entries:>8} {f.errors:>6}  {span}"
            )
            if f.rotated_into:
                out.append(f"{'':<{name_width}}  rotated; joins {f.rotated_into}")
            for note in f.notes:
                out.append(f"{'':<{name_width}}  note: {note}")
    else:
        out.append("No log file was read.")
    if report.skipped:
        out += ["", "Skipped:"]
        out += [f"  {s.name}: {s.reason}" for s in report.skipped]
    if report.notes:
        out += [""] + [f"note: {note}" for note in report.notes]
    return "\n".join(out)


def render_error(info: ErrorInfo) -> str:
    out = [f"{info.code}  ({info.decimal} signed, {info.unsigned} unsigned)"]
    if info.symbol:
        out.append(f"Symbol:   {info.symbol}")
    out.append(f"Family:   {info.family}")
    if info.stage:
        out.append(f"Stage:    {info.stage} ({kb().stage_title(info.stage)})")
    if info.meaning:
        out.append(_wrap(info.meaning, indent="          ", first="Meaning:  "))
    if info.next_step:
        out.append(_wrap(info.next_step, indent="          ", first="Next:     "))
    if info.source:
        out.append(_wrap(info.source, indent="          ", first="Source:   "))
    if not info.known:
        out.append("(not in our table: decoded from its family)")
    return "\n".join(out)


def render_stages() -> str:
    knowledge = kb()
    width = max(len(s) for s in STAGE_IDS)
    lines = []
    for number, stage in enumerate(STAGE_IDS, 1):
        info = knowledge.stages[stage]
        lines.append(f"{number:>2}. {stage:<{width}}  {info.title}: {info.what}")
    return "\n".join(_wrap(line, indent=" " * (width + 6), first="") for line in lines)


def render_steps(name: str) -> str:
    procedure = kb().procedure_for(name)
    out = [f"{procedure.title} (stage: {procedure.stage})", _wrap(f"source: {procedure.source}")]
    if procedure.note:
        out.append(_wrap(procedure.note))
    out.append("")
    for number, step in enumerate(procedure.steps, 1):
        out.append(_wrap(step.text, indent="    ", first=f"{number:>2}. "))
        if step.source:
            out.append(_wrap(f"source: {step.source}", indent="      ", first="    "))
    return "\n".join(out)


def render_log(name: str) -> str:
    knowledge = kb()
    info = knowledge.log_by_name(name) or _close_log(name)
    if info is None:
        known = ", ".join(sorted(log.name for log in knowledge.logs))
        raise InputError(
            f"'{name}' is not a client log in our catalogue (site server logs such as "
            f"wsyncmgr.log are not); the catalogue has: {known}"
        )
    out = [info.name]
    if info.name.lower() != name.strip().lower():
        out[0] += f"   (you typed '{name.strip()}')"
    out.append(_wrap(info.records, first="  "))
    if info.stages:
        stages = ", ".join(f"{s} ({knowledge.stage_title(s)})" for s in info.stages)
        out.append(_wrap(f"stages: {stages}"))
    else:
        out.append("  stages: none of the software-update pipeline")
    if info.components:
        out.append(_wrap("component tags inside: " + ", ".join(info.components)))
    out.append(f"  where: {info.location}")
    if info.how_to_collect:
        out.append(_wrap(f"how to collect: {info.how_to_collect}"))
    if info.aliases:
        out.append(_wrap("also written as: " + ", ".join(info.aliases)))
    out.append(_wrap(f"source: {info.source}"))
    return "\n".join(out)


def _close_log(name: str):
    """A typo of a catalogue name (UpdatesDeployement.log), judged on base names only, so
    that unrelated logs that merely share `.log` or a few letters are not offered."""
    by_base = {}
    for log in kb().logs:
        for known in (log.name, *log.aliases):
            by_base.setdefault(_base(known), log)
    close = difflib.get_close_matches(_base(name), list(by_base), n=1, cutoff=0.85)
    return by_base[close[0]] if close else None


def _base(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1].lower()
    return base.rsplit(".", 1)[0] if "." in base else base


def helper_script(name: str, *, vbs: bool = False) -> str:
    """The text of one of our helper scripts (knowledge/data/scripts)."""
    if name == "collect":
        if vbs:
            raise InputError("`sccm script collect` exists only in PowerShell; drop --vbs")
        file_name = "collect-logs.ps1"
    else:
        file_name = "clear-cache.vbs" if vbs else "clear-cache.ps1"
    return resources.files("knowledge").joinpath("data", "scripts", file_name).read_text("utf-8")


def clear_cache_script(*, vbs: bool) -> str:
    return helper_script("clear-cache", vbs=vbs)
