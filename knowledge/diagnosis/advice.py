"""What to do next: the documented steps, the logs that would settle it, how to get them.

Shared by the diagnosis of logs (`knowledge.diagnosis.verdict`) and of descriptions
(`knowledge.symptoms`), so both answers give the same advice for the same stage and cause.
"""

from __future__ import annotations

from knowledge.codes import CODE_CAUSE_SUFFIX
from knowledge.kb import KnowledgeBase, StepRef
from knowledge.models import (
    NextStep,
    ReadReport,
)

_WUA_PREFIXES = ("0X8024", "0X0024")  # Windows Update Agent codes
_CBS_PREFIXES = ("0X800F", "0X80073")  # servicing (CBS) codes


def step(knowledge: KnowledgeBase, ref: StepRef) -> NextStep:
    text, source = knowledge.step_text(ref)
    return NextStep(text=text, source=source, procedure=ref.procedure, step=ref.step)


def next_steps(knowledge: KnowledgeBase, stage: str, cause: str | None, codes: list[str]):
    code_steps = []
    for code in codes[:2]:
        known = knowledge.codes.get(code)
        if known and not known.routine:
            code_steps.append(NextStep(text=f"For {code}: {known.next_step}", source=known.source))
    if cause and cause.endswith(CODE_CAUSE_SUFFIX):
        # Read from the code: what the code table says to do about it comes first.
        return code_steps + [step(knowledge, ref) for ref in knowledge.causes[cause].next]
    if cause:
        steps = [step(knowledge, ref) for ref in knowledge.causes[cause].next]
    else:
        procedure = knowledge.stages[stage].procedure
        count = min(2, len(knowledge.procedures[procedure].steps))
        steps = [step(knowledge, StepRef(procedure=procedure, step=n)) for n in range(1, count + 1)]
    return steps + code_steps


def present_logs(report: ReadReport) -> set[str]:
    return {f.log for f in report.files if f.log and f.entries}


def windows_logs_wanted(stage: str | None, cause: str | None, codes: list[str]) -> list[str]:
    """The Windows logs (outside CCM\\Logs) that would show more of this stage or code."""
    upper = [code.upper() for code in codes]
    wanted = []
    if stage in ("scan", "install") or any(c.startswith(_WUA_PREFIXES) for c in upper):
        wanted.append("WindowsUpdate.log")
    # CBS says why an update does not apply or does not install.
    if (
        stage == "install"
        or cause == "scan.applicability_failed"
        or any(c.startswith(_CBS_PREFIXES) for c in upper)
    ):
        wanted.append("CBS.log")
    return wanted


def how_to_collect(knowledge: KnowledgeBase, missing: list[str]) -> list[str]:
    """How to send the logs, then how to get each missing one that is not in CCM\\Logs."""
    if not missing:
        return []
    how = collect_advice()
    for name in missing:
        info = knowledge.log_by_name(name)
        if info is not None and not info.in_ccm_logs and info.how_to_collect:
            how.append(f"{info.name}: {info.how_to_collect}")
    return how


def missing_logs(
    knowledge: KnowledgeBase,
    stage: str | None,
    cause: str | None,
    codes: list[str],
    present: set[str],
) -> list[str]:
    """Logs the upload lacks that would confirm or rule out the verdict."""
    wanted: list[str] = []
    if stage is None:
        for candidate in ("client", "scan", "evaluate", "download", "install"):
            wanted += knowledge.stages[candidate].logs
    else:
        wanted += knowledge.stages[stage].logs
    windows = windows_logs_wanted(stage, cause, codes)
    missing: list[str] = []
    for name in wanted + windows:
        info = knowledge.log_by_name(name)
        name = info.name if info else name
        if name in present or name in missing:
            continue
        if info is not None and not info.in_ccm_logs and name not in windows:
            continue
        if info is None and name not in windows:
            continue
        missing.append(name)
    return missing


# --- how to send the logs ------------------------------------------------------------
# What to tell a person who should send the client's logs.
#
# One text for every "send the logs" answer (a diagnosis's how_to_collect, the CLI and Slack),
# so they all point at the same collector: our script, which copies the live logs with shared
# read and zips the copy (a plain `Compress-Archive` of C:\\Windows\\CCM\\Logs stops on the files
# the client holds open), and ConfigMgr's own ways to fetch them without a session on the client.

COLLECT_SCRIPT = "collect-logs.ps1"

COLLECT_CCM_LOGS = (
    "Run our collector elevated on the client and upload the zip it prints: "
    "`sccm script collect > collect-logs.ps1`. The script is "
    "knowledge/data/scripts/collect-logs.ps1 in sccm-triage; it copies C:\\Windows\\CCM\\Logs "
    "with the rotated .lo_ and -date-time.log files even while the client writes them, adds "
    "WindowsUpdate.log (Get-WindowsUpdateLog), CBS.log and dism.log, and zips the copy."
)

COLLECT_REMOTELY = (
    "Without a session on the client: in the Configuration Manager console (version 2002 or "
    "later) right-click the device > Client Diagnostics > Collect client logs, then open them "
    "from Resource Explorer (CCM logs only, up to 100 MB); or gather them with Support Center's "
    "log collection on the client."
)

COLLECT_SOURCE = (
    "Microsoft Learn: Client notification, Client diagnostics "
    "(https://learn.microsoft.com/mem/configmgr/core/clients/manage/client-notification); "
    "Microsoft Learn: Support Center "
    "(https://learn.microsoft.com/mem/configmgr/core/support/support-center)"
)


def collect_advice() -> list[str]:
    """The lines that say how to send the logs, the script first."""
    return [COLLECT_CCM_LOGS, COLLECT_REMOTELY]
