"""What to tell a person who should send the client's logs.

One text for every "send the logs" answer (a diagnosis's how_to_collect, the CLI and Slack),
so they all point at the same collector: our script, which copies the live logs with shared
read and zips the copy (a plain `Compress-Archive` of C:\\Windows\\CCM\\Logs stops on the files
the client holds open), and ConfigMgr's own ways to fetch them without a session on the client.
"""

from __future__ import annotations

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
