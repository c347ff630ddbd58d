"""Diagnosis scenarios built from log lines we write ourselves.

Each scenario is a client's logs as an admin would zip them: the stages before the one that
breaks show their normal success lines, then the failing stage shows the lines Microsoft and
vendor write-ups document for one cause. Hosts and ids are fictional (contoso.local).

`Logs` collects lines per file and renders them in the file's real format (CMTrace for CCM
logs, classic WindowsUpdate.log, CBS.log); the stage helpers (`client_ok`, `scan_ok`, ...)
add one stage's healthy lines at a given minute so scenarios read like a timeline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tests.logbuilder import Line, cbs_log, cmtrace_log, wulog_classic, wulog_etw

START = datetime(2024, 3, 12, 8, 0, 0)
MP = "mp01.contoso.local"
DP = "dp01.contoso.local"
SUP = "cm01.contoso.local"
SITE = "Site_3C4D5E6F-7A8B-4C9D-8E0F-1A2B3C4D5E6F"
SOURCE_ID = "{3C4D5E6F-7A8B-4C9D-8E0F-1A2B3C4D5E6F}"
ASSIGNMENT = "{8A9B0C1D-2E3F-4A5B-9C6D-7E8F9A0B1C2D}"
UPDATE_A = "5a6b7c8d-1e2f-4a3b-8c4d-5e6f7a8b9c0d"
UPDATE_B = "6b7c8d9e-2f3a-4b4c-9d5e-6f7a8b9c0d1e"
CTM_JOB = "{2B3C4D5E-6F7A-4B8C-9D0E-1F2A3B4C5D6E}"
DTS_JOB = "{4C5D6E7F-8A9B-4C0D-9E1F-2A3B4C5D6E7F}"
BITS_JOB = "{7F8A9B0C-1D2E-4F3A-8B4C-5D6E7F8A9B0C}"
CONTENT = f"Content_{UPDATE_A}.1"
ERROR, WARNING = 3, 2

# The component tag each CCM log writes (facts section C: tags differ from file names).
COMPONENTS = {
    "ccmsetup.log": "ccmsetup",
    "LocationServices.log": "LocationServices",
    "ClientIDManagerStartup.log": "ClientIDManagerStartup",
    "CcmMessaging.log": "CcmMessaging",
    "PolicyAgent.log": "PolicyAgent_PolicyDownload",
    "ScanAgent.log": "ScanAgent",
    "WUAHandler.log": "WUAHandler",
    "UpdatesDeployment.log": "UpdatesDeploymentAgent",
    "UpdatesHandler.log": "UpdatesHandler",
    "UpdatesStore.log": "UpdatesStore",
    "ContentTransferManager.log": "ContentTransferManager",
    "DataTransferService.log": "DataTransferService",
    "CAS.log": "ContentAccess",
    "StateMessage.log": "StateMessage",
    "RebootCoordinator.log": "RebootCoordinator",
    "AppEnforce.log": "AppEnforce",
    "AppDiscovery.log": "AppDiscovery",
}


class Logs:
    """The files of one upload, filled line by line at minutes after START."""

    def __init__(self, start: datetime = START):
        self.start = start
        self.ccm: dict[str, list[Line]] = {}
        self.windows_update: list[Line] = []
        self.windows_update_etw: list[Line] = []
        self.cbs: list[Line] = []

    def _at(self, minute: float) -> datetime:
        return self.start + timedelta(minutes=minute)

    def add(self, file: str, minute: float, message: str, severity: int = 1) -> Logs:
        line = Line(message, self._at(minute), COMPONENTS[file], severity)
        self.ccm.setdefault(file, []).append(line)
        return self

    def wu(self, minute: float, component: str, message: str, severity: int = 1) -> Logs:
        """A classic (Windows 7 / 2008 R2) WindowsUpdate.log line."""
        self.windows_update.append(Line(message, self._at(minute), component, severity))
        return self

    def wu_etw(self, minute: float, component: str, message: str) -> Logs:
        """A Windows 10 Get-WindowsUpdateLog line."""
        self.windows_update_etw.append(Line(message, self._at(minute), component))
        return self

    def cbs_line(self, minute: float, message: str, severity: int = 1) -> Logs:
        self.cbs.append(Line(message, self._at(minute), "CBS", severity))
        return self

    def files(self) -> dict[str, str]:
        out = {
            f"Logs/{name}": cmtrace_log(sorted(lines, key=_when))
            for name, lines in self.ccm.items()
        }
        if self.windows_update:
            out["WindowsUpdate.log"] = wulog_classic(sorted(self.windows_update, key=_when))
        if self.windows_update_etw:
            out["WindowsUpdate.log"] = wulog_etw(sorted(self.windows_update_etw, key=_when))
        if self.cbs:
            out["CBS.log"] = cbs_log(sorted(self.cbs, key=_when))
        return out


def _when(line: Line) -> datetime:
    return line.when


# --- one stage's healthy lines ------------------------------------------------------


def client_ok(logs: Logs, minute: float = 0) -> Logs:
    logs.add(
        "ClientIDManagerStartup.log",
        minute,
        "[RegTask] - Client is registered. Server assigned ClientID is "
        "GUID:0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0. Approval status 1",
    )
    return logs.add("CcmMessaging.log", minute + 1, _delivered())


def policy_ok(logs: Logs, minute: float = 2) -> Logs:
    logs.add(
        "PolicyAgent.log",
        minute,
        'Download of policy CCM_Policy_Policy5.PolicyID="{0A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D}",'
        'PolicySource="SMS:PS1",PolicyVersion="1.00" completed '
        "(DTS Job ID: {5E6F7A8B-1111-4222-8333-944455556666})",
    )
    return logs.add("UpdatesDeployment.log", minute + 1, "Enabling software Updates feature")


def scan_ok(logs: Logs, minute: float = 5) -> Logs:
    for offset, message in (
        (0, f"Its a WSUS Update Source type ({SOURCE_ID}), adding it."),
        (0.1, f"Added Update Source ({SOURCE_ID}) of content type: 2"),
        (0.2, "Async searching of updates using WUAgent started."),
        (1, "Async searching completed."),
        (1.1, "Successfully completed scan."),
    ):
        logs.add("WUAHandler.log", minute + offset, message)
    return logs.add(
        "UpdatesHandler.log", minute + 1.2, "Updates scan completion received, result = 0x0."
    )


def evaluate_ok(logs: Logs, minute: float = 8) -> Logs:
    logs.add(
        "UpdatesDeployment.log",
        minute,
        f"Update ({SITE}/SUM_{UPDATE_A}) added to the targeted list of deployment ({ASSIGNMENT})",
    )
    return logs.add(
        "UpdatesDeployment.log",
        minute + 0.1,
        _assignment_state("Evaluate", 2, "ASSIGNMENT_EVALUATE_SUCCESS"),
    )


def locate_ok(logs: Logs, minute: float = 10) -> Logs:
    return logs.add(
        "ContentTransferManager.log",
        minute,
        f"Persisted location 'http://{DP}/SMS_DP_SMSPKG$/{UPDATE_A}', Order 0, for CTM job "
        f"{CTM_JOB}",
    )


def download_ok(logs: Logs, minute: float = 11) -> Logs:
    logs.add("DataTransferService.log", minute, f"DTSJob {DTS_JOB} in state 'DownloadingData'.")
    return logs.add(
        "DataTransferService.log", minute + 1, f"DTSJob {DTS_JOB} successfully completed download."
    )


def cache_ok(logs: Logs, minute: float = 13) -> Logs:
    logs.add("CAS.log", minute, f"Download completed for content {CONTENT} under context System")
    return logs.add(
        "CAS.log",
        minute + 0.1,
        f"Hash verification succeeded for content {CONTENT} downloaded under context System",
    )


def install_ok(logs: Logs, minute: float = 20) -> Logs:
    logs.add("WUAHandler.log", minute, "Async installation of updates started.")
    logs.add(
        "WUAHandler.log",
        minute + 5,
        f"Update 1 ({UPDATE_A}) finished installing (0x00000000), Reboot Required? Yes",
    )
    logs.add("WUAHandler.log", minute + 5.1, "Async install completed.")
    logs.add("WUAHandler.log", minute + 5.2, "Installation of updates completed.")
    return logs.add(
        "UpdatesDeployment.log",
        minute + 6,
        f"Raised update ({SITE}/SUM_{UPDATE_A}) enforcement state message successfully. "
        "StateId = 10, StateName = CI_ENFORCEMENT_SUCCESSFULL",
    )


def reboot_ok(logs: Logs, minute: float = 30) -> Logs:
    logs.add(
        "UpdatesDeployment.log",
        minute,
        _assignment_state("Enforce", 5, "ASSIGNMENT_ENFORCE_PENDING_REBOOT"),
    )
    logs.add("RebootCoordinator.log", minute + 1, "System reboot request succeeded.")
    logs.add(
        "UpdatesDeployment.log", minute + 10, "Detect after reboot job completed with result = 0x0"
    )
    return logs.add(
        "UpdatesDeployment.log",
        minute + 10.1,
        _assignment_state("Enforce", 4, "ASSIGNMENT_ENFORCE_SUCCESS"),
    )


def report_ok(logs: Logs, minute: float = 45) -> Logs:
    logs.add(
        "UpdatesStore.log",
        minute,
        f"Successfully raised state message for update ({UPDATE_A}) with state (Installed).",
    )
    return logs.add(
        "StateMessage.log", minute + 1, "Successfully forwarded State Messages to the MP"
    )


HEALTHY_STAGES = (
    client_ok,
    policy_ok,
    scan_ok,
    evaluate_ok,
    locate_ok,
    download_ok,
    cache_ok,
    install_ok,
    reboot_ok,
    report_ok,
)


def healthy_until(stage_count: int, logs: Logs | None = None) -> Logs:
    """Logs in which the first `stage_count` stages succeed (at their default minutes)."""
    logs = logs or Logs()
    for stage_ok in HEALTHY_STAGES[:stage_count]:
        stage_ok(logs)
    return logs


def _delivered() -> str:
    return (
        "OutgoingMessage(Queue='mp_mp_relayendpoint', ID={1A2B3C4D-0000-4000-8000-00000000C0DE}): "
        f"Delivered successfully to host '{MP}'."
    )


def _assignment_state(topic: str, state_id: int, name: str) -> str:
    return (
        f"Raised assignment (TopicID) ({ASSIGNMENT}) state message successfully. "
        f"TopicType = {topic}, StateId = {state_id}, StateName = {name}, StateCriticality = 0"
    )


def _dts_error(code: str, count: int) -> str:
    return (
        f"CDTSJob::HandleErrors: DTS Job '{DTS_JOB}' BITS Job '{BITS_JOB}' under user 'S-1-5-18' "
        f"OldErrorCount {count - 1} NewErrorCount {count} ErrorCode {code}"
    )


# --- scenarios ------------------------------------------------------------------------


@dataclass
class Scenario:
    name: str
    logs: Logs
    verdict: str
    stage: str | None = None
    cause: str | None = None
    notes: list[str] = field(default_factory=list)

    def files(self) -> dict[str, str]:
        return self.logs.files()


def healthy() -> Scenario:
    return Scenario("healthy client", healthy_until(10), "healthy")


def ccmsetup_bits_404() -> Scenario:
    logs = Logs()
    logs.add("ccmsetup.log", 0, "==========[ ccmsetup started in process 4242 ]==========")
    logs.add("ccmsetup.log", 1, "Starting BITS download for client deployment files.")
    logs.add(
        "ccmsetup.log",
        2,
        "Failed to download files through BITS. Error: 0x80190194, Description HTTP status 404: "
        "The requested URL does not exist on the server.",
        ERROR,
    )
    logs.add(
        "ccmsetup.log", 2.1, "Failed to download client files by BITS. Error 0x80190194", ERROR
    )
    logs.add("ccmsetup.log", 2.5, "CcmSetup failed with error code 0x80190194")
    return Scenario(
        "ccmsetup cannot download client files", logs, "failure", "client", "client.install_failed"
    )


def mp_unreachable() -> Scenario:
    logs = Logs()
    logs.add(
        "ClientIDManagerStartup.log",
        0,
        "[RegTask] - Client is registered. Server assigned ClientID is "
        "GUID:0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0. Approval status 1",
    )
    for minute in range(5, 125, 15):
        logs.add(
            "CcmMessaging.log",
            minute,
            f"Post to http://{MP}/ccm_system/request failed with 0x80072ee2.",
            ERROR,
        )
        logs.add(
            "CcmMessaging.log",
            minute + 0.1,
            f"[CCMHTTP] ERROR: URL=http://{MP}/ccm_system/request, Port=80, Options=224, "
            "Code=0x80072ee2, "
            "Text=ERROR_WINHTTP_TIMEOUT",
            ERROR,
        )
    return Scenario(
        "management point unreachable", logs, "failure", "client", "client.mp_unreachable"
    )


def registration_rejected() -> Scenario:
    logs = Logs()
    for minute in (0, 30, 60):
        logs.add(
            "ClientIDManagerStartup.log",
            minute,
            "RegTask: Failed to send registration request message. Error: 0x87d00231",
            ERROR,
        )
    return Scenario("client cannot register", logs, "failure", "client", "client.not_registered")


def policy_not_received() -> Scenario:
    logs = client_ok(Logs())
    for minute in (2, 62, 122, 182):
        logs.add(
            "UpdatesDeployment.log",
            minute,
            "Software Updates client configuration policy has not been received.",
        )
        logs.add(
            "UpdatesDeployment.log",
            minute,
            "Software updates functionality will not be enabled until the configuration policy "
            "has been "
            "received. If this issue persists please check client/server policy communication.",
        )
        logs.add("UpdatesDeployment.log", minute + 0.1, "Software Updates feature is disabled")
    return Scenario(
        "software-updates policy never arrives", logs, "failure", "policy", "policy.not_received"
    )


def gpo_conflict() -> Scenario:
    logs = healthy_until(2)
    logs.add("WUAHandler.log", 5, f"Its a WSUS Update Source type ({SOURCE_ID}), adding it.")
    logs.add(
        "WUAHandler.log",
        5.1,
        "Group policy settings were overwritten by a higher authority (Domain Controller) to: "
        "Server http://wsus-old.contoso.local:8530 and Policy ENABLED",
        WARNING,
    )
    logs.add(
        "WUAHandler.log",
        5.2,
        f"Failed to Add Update Source for WUAgent of type (2) and id ({SOURCE_ID}). Error = "
        "0x87d00692.",
        ERROR,
    )
    logs.add(
        "ScanAgent.log",
        5.3,
        "CScanJob::Execute- Failed at AddUpdateSource, Error = 0x87d00692",
        ERROR,
    )
    logs.add(
        "UpdatesDeployment.log",
        6,
        f"Job error (0x87d00692) received for assignment ({ASSIGNMENT}) action",
        ERROR,
    )
    logs.add("UpdatesDeployment.log", 6.1, "Updates will not be made available", ERROR)
    return Scenario(
        "domain GPO sets another WSUS server", logs, "failure", "scan", "scan.gpo_conflict"
    )


def _scan_failure(code: str, wu_lines: list[tuple[str, str]], name: str, cause: str) -> Scenario:
    logs = healthy_until(2)
    logs.add("WUAHandler.log", 5, f"Its a WSUS Update Source type ({SOURCE_ID}), adding it.")
    logs.add("WUAHandler.log", 5.1, f"Added Update Source ({SOURCE_ID}) of content type: 2")
    logs.add("WUAHandler.log", 5.2, "Async searching of updates using WUAgent started.")
    logs.add(
        "WUAHandler.log", 9, f"OnSearchComplete - Failed to end search job. Error = {code}.", ERROR
    )
    logs.add("WUAHandler.log", 9.1, f"Scan failed with error = {code}.", ERROR)
    logs.wu(5.2, "Agent", "** START **  Agent: Finding updates [CallerId = CcmExec]")
    for component, message in wu_lines:
        logs.wu(8.9, component, message, WARNING)
    return Scenario(name, logs, "failure", "scan", cause)


def wsus_timeout() -> Scenario:
    return _scan_failure(
        "0x80072ee2",
        [
            ("Misc", "WARNING: Send failed with hr = 80072ee2."),
            (
                "Misc",
                "WARNING: WinHttp: SendRequestUsingProxy failed for "
                f"<http://{SUP}:8530/ClientWebService/client.asmx>. error 0x80072ee2",
            ),
            (
                "PT",
                "WARNING: SyncUpdates failure, error = 0x80072EE2, soap client error = 5, soap "
                "error code = 0, HTTP status code = 200",
            ),
        ],
        "WSUS does not answer (timeout)",
        "scan.wsus_unreachable",
    )


def scan_proxy_auth() -> Scenario:
    return _scan_failure(
        "0x8024401b",
        [
            (
                "PT",
                "WARNING: SyncUpdates failure, error = 0x8024401B, soap client error = 10, soap "
                "error code = 0, HTTP status code = 407",
            )
        ],
        "proxy wants authentication",
        "scan.proxy",
    )


def scan_tls() -> Scenario:
    return _scan_failure(
        "0x80072f8f",
        [
            (
                "Misc",
                "WARNING: WinHttp: SendRequestUsingProxy failed for "
                f"<https://{SUP}:8531/ClientWebService/client.asmx>. error 0x80072f8f",
            )
        ],
        "TLS to WSUS fails",
        "scan.tls_certificate",
    )


def scan_applicability() -> Scenario:
    logs = healthy_until(2)
    logs.wu(5, "Agent", "** START **  Agent: Finding updates [CallerId = CcmExec]")
    logs.wu(
        5.1,
        "PT",
        f"  + ServiceId = {{3DA21691-E39D-4DA6-8A4B-B43877BCB1B7}}, Server URL = "
        f"http://{SUP}:8530/ClientWebService/client.asmx",
    )
    for second in range(6):
        logs.wu(
            6 + second / 10,
            "Handler",
            "FATAL: UH: 0x80070057: EvaluateApplicability failed in CCbs::EvaluateApplicability",
            ERROR,
        )
        logs.wu(
            6.05 + second / 10,
            "Agent",
            "WARNING: Failed to evaluate Installed rule, updateId = "
            "{0B1C2D3E-4F5A-4B6C-9D7E-8F9A0B1C2D3E}.202, hr = 80070057",
            WARNING,
        )
    logs.cbs_line(
        6,
        "Failed to call external evaluate applicability on package: "
        "Package_for_KB4000001~31bf3856ad364e35~amd64~~6.1.1.1, "
        "Update: 4000001-100_neutral_PACKAGE [HRESULT = 0x80070057 - E_INVALIDARG]",
        ERROR,
    )
    return Scenario(
        "component store fails the applicability check",
        logs,
        "failure",
        "scan",
        "scan.applicability_failed",
    )


def no_maintenance_window() -> Scenario:
    logs = healthy_until(4)
    for minute in (15, 75, 135):
        logs.add(
            "UpdatesDeployment.log",
            minute,
            "No current service window available to run updates assignment with time required = "
            "600",
        )
        logs.add(
            "UpdatesDeployment.log",
            minute + 0.1,
            f"This assignment ({ASSIGNMENT}) will be retried once the service window is available.",
        )
    return Scenario(
        "no maintenance window", logs, "failure", "evaluate", "evaluate.no_maintenance_window"
    )


def empty_location() -> Scenario:
    logs = healthy_until(4)
    logs.add(
        "ContentTransferManager.log",
        10,
        f"CTM job {CTM_JOB} received empty location update.",
        WARNING,
    )
    logs.add(
        "UpdatesHandler.log",
        10.2,
        f"CDeploymentJob -- Failed to download update ({UPDATE_A}). Error = 0x87d00669",
        ERROR,
    )
    return Scenario(
        "no distribution point has the content", logs, "failure", "locate", "locate.no_dp"
    )


def _download_failure(code: str, name: str, cause: str) -> Scenario:
    logs = healthy_until(5)
    for attempt in range(1, 6):
        logs.add("DataTransferService.log", 11 + attempt * 30, _dts_error(code, attempt), WARNING)
    logs.add(
        "UpdatesHandler.log",
        200,
        f"CDeploymentJob -- Failed to download update ({UPDATE_A}). Error = {code.lower()}",
        ERROR,
    )
    return Scenario(name, logs, "failure", "download", cause)


def dp_http_404() -> Scenario:
    return _download_failure(
        "0x80190194", "distribution point answers HTTP 404", "download.http_404"
    )


def bits_dns() -> Scenario:
    return _download_failure(
        "0x80072EE7", "distribution point name does not resolve", "download.dns"
    )


def cache_full() -> Scenario:
    logs = healthy_until(6)
    logs.add("CAS.log", 13, "Not enough non-active cache to delete", WARNING)
    logs.add("CAS.log", 13.1, "Not enough space in Cache", ERROR)
    logs.add("CAS.log", 13.2, "CreateContentRequest failed, 0x87d01201", ERROR)
    return Scenario("client cache is full", logs, "failure", "cache", "cache.full")


def _install_failure_prefix() -> Logs:
    logs = healthy_until(7)
    logs.add("WUAHandler.log", 20, "Async installation of updates started.")
    return logs


def msi_1603() -> Scenario:
    logs = _install_failure_prefix()
    logs.add(
        "WUAHandler.log",
        25,
        f"Update 1 ({UPDATE_A}) finished installing (0x80070643), Reboot Required? No",
        ERROR,
    )
    logs.add("WUAHandler.log", 25.1, "Async install completed.")
    logs.add(
        "WUAHandler.log",
        25.2,
        "Installation job encountered some failures. Job Result = 0x80240022.",
        ERROR,
    )
    return Scenario("installer fails with MSI 1603", logs, "failure", "install", "install.msi_1603")


def max_runtime() -> Scenario:
    logs = _install_failure_prefix()
    logs.add(
        "UpdatesHandler.log",
        30,
        "Execution cancelled by job. Update will not be monitored",
        WARNING,
    )
    logs.add(
        "UpdatesDeployment.log",
        30.1,
        f"Update ({SITE}/SUM_{UPDATE_A}) Progress: Status = ciStateError, PercentComplete = 0, "
        "DownloadSize = 0, "
        "Result = 0x87d00664",
        ERROR,
    )
    return Scenario(
        "install runs past its maximum run time", logs, "failure", "install", "install.max_runtime"
    )


def untrusted_cert() -> Scenario:
    logs = _install_failure_prefix()
    logs.add(
        "WUAHandler.log",
        20.5,
        "Failed to download updates to the WUAgent datastore. Error = 0x800b0109",
        ERROR,
    )
    return Scenario(
        "third-party update signed by an untrusted certificate",
        logs,
        "failure",
        "install",
        "install.untrusted_cert",
    )


def component_store() -> Scenario:
    logs = healthy_until(7)
    logs.wu(20, "Handler", f"Starting install of CBS update {UPDATE_B.upper()}")
    logs.wu(21, "Handler", "FATAL: CBS called Error with 0x800736b3,", ERROR)
    logs.wu(
        21.1,
        "Handler",
        "FATAL: Completed install of CBS update with type=0, requiresReboot=0, installerError=1, "
        "hr=0x800736b3",
        ERROR,
    )
    logs.cbs_line(
        20.9,
        "Exec: Failed to commit CSI transaction to execute changes. [HRESULT = 0x800736b3 - "
        "ERROR_SXS_ASSEMBLY_NOT_FOUND]",
        ERROR,
    )
    return Scenario(
        "component store corruption rolls the update back",
        logs,
        "failure",
        "install",
        "install.component_store",
    )


def pending_restart() -> Scenario:
    logs = healthy_until(8)
    logs.add(
        "UpdatesDeployment.log",
        30,
        _assignment_state("Enforce", 5, "ASSIGNMENT_ENFORCE_PENDING_REBOOT"),
    )
    logs.add(
        "UpdatesDeployment.log",
        300,
        f"Job error (0x87d00704) received for assignment ({ASSIGNMENT}) action",
        ERROR,
    )
    return Scenario(
        "a pending restart blocks installs", logs, "failure", "reboot", "reboot.pending"
    )


def state_messages_not_sent() -> Scenario:
    logs = healthy_until(9)
    for minute in (45, 60, 75, 90):
        logs.add(
            "StateMessage.log",
            minute,
            "Failed to forward State Messages to the MP. Error 0x80072ee2",
            ERROR,
        )
    return Scenario(
        "state messages never reach the site",
        logs,
        "failure",
        "report",
        "report.state_messages_not_sent",
    )


def scan_failure_then_success() -> Scenario:
    """08:00 the scan times out; 10:00 it succeeds: the earlier failure is resolved."""
    logs = healthy_until(2)
    logs.add("WUAHandler.log", 0.5, "Scan failed with error = 0x80072ee2.", ERROR)
    scan_ok(logs, minute=120)
    return Scenario("scan fails at 08:00 and succeeds at 10:00", logs, "healthy")


def routine_errors_on_healthy_client() -> Scenario:
    logs = healthy_until(10)
    logs.add(
        "UpdatesDeployment.log",
        8.05,
        "GetUpdateInfo - failed to get targeted update, error = 0x87d00215.",
        ERROR,
    )
    logs.add("UpdatesDeployment.log", 8.06, "No CCM Identification blob", WARNING)
    logs.add(
        "UpdatesStore.log", 44, "Failed to refresh Resync state message. Error = 0x87d00310.", ERROR
    )
    logs.add("UpdatesStore.log", 44.01, "Successfully raised Resync state message.")
    return Scenario("routine error-type lines on a healthy client", logs, "healthy")


def windows10_noise_on_healthy_client() -> Scenario:
    logs = healthy_until(10)
    for minute, component, message in (
        (5.3, "Agent", "*FAILED* [80041010] Method failed [COperatorTreeNode::Evaluate:390]"),
        (5.4, "Agent", "*FAILED* [8024000C] LoadHistoryEventFromRegistry completed"),
        (5.5, "Misc", "*FAILED* [80246007] ISusInternal:: IsCommitRequired"),
        (
            5.9,
            "Agent",
            "Found 3 updates and 71 categories in search; evaluated appl. rules of 1227 out of "
            "2163 deployed entities",
        ),
    ):
        logs.wu_etw(minute, component, message)
    return Scenario("Windows 10 *FAILED* noise on a healthy client", logs, "healthy")


def unrelated_logs_only() -> Scenario:
    logs = Logs()
    logs.add(
        "AppEnforce.log",
        0,
        '+++ Starting Install enforcement for App DT "Contoso Viewer" ApplicationDeliveryType - '
        "ScopeId_0/DeploymentType_1",
    )
    logs.add(
        "AppEnforce.log",
        0.1,
        '    Executing Command line: "msiexec.exe" /i "ContosoViewer.msi" /qn with user context',
    )
    logs.add("AppEnforce.log", 2, "    Process 4242 terminated with exitcode: 0")
    logs.add(
        "AppDiscovery.log",
        2.5,
        "+++ Discovered application [AppDT Id: ScopeId_0/DeploymentType_1, Revision: 3]",
    )
    return Scenario("only application-deployment logs", logs, "inconclusive")


# --- issue 12: the same line in every log, and today's Windows and ConfigMgr failure forms ---
# Lines as Microsoft Learn support articles and public issue threads show them (see the
# signatures' `source`), hosts replaced by contoso ones.


def cmg_certificate_rejected() -> Scenario:
    logs = Logs()
    for minute in (0, 60):
        for offset, message in (
            (0, "[CCMHTTP] AsyncCallback(): WINHTTP_CALLBACK_STATUS_SECURE_FAILURE Encountered"),
            (0.01, "[CCMHTTP] : WINHTTP_CALLBACK_STATUS_FLAG_CERT_REV_FAILED is set"),
            (0.02, "[CCMHTTP] : WINHTTP_CALLBACK_STATUS_FLAG_INVALID_CA is set"),
            (
                0.03,
                "[CCMHTTP] ERROR: URL=https://CMG.CONTOSO.COM/CCM_Proxy_ServerAuth/"
                "72057594037928017/CCM_STS, Port=443, Options=63, Code=12175, "
                "Text=ERROR_WINHTTP_SECURE_FAILURE",
            ),
        ):
            logs.add("LocationServices.log", minute + offset, message, ERROR)
    return Scenario(
        "client refuses the CMG certificate",
        logs,
        "failure",
        "client",
        "client.server_certificate",
    )


def cmg_token_expired() -> Scenario:
    logs = Logs()
    logs.add("ccmsetup.log", 0, "==========[ ccmsetup started in process 4242 ]==========")
    logs.add(
        "ccmsetup.log",
        1,
        "[CCMHTTP] ERROR: URL=https://cmg01.contoso.com/CCM_Proxy_ServerAuth/ServiceMetadata, "
        "Port=443, Options=224, Code=0, Text=CCM_E_BAD_HTTP_STATUS_CODE",
        ERROR,
    )
    logs.add(
        "ccmsetup.log",
        1.01,
        "[CCMHTTP] ERROR INFO: StatusCode=401 StatusText=CMGService_Invalid_Token",
        ERROR,
    )
    return Scenario(
        "the CMG rejects an expired token", logs, "failure", "client", "client.cmg_token"
    )


def client_msi_1603() -> Scenario:
    logs = Logs()
    logs.add("ccmsetup.log", 0, "==========[ ccmsetup started in process 4242 ]==========")
    logs.add("ccmsetup.log", 3, "MSI: Action 17:56:36: Rollback. Rolling back action:")
    logs.add(
        "ccmsetup.log",
        3.1,
        r"File C:\Windows\ccmsetup\{CA4329EC-A4F5-4E5E-A9FE-EFAAE88B0D67}\client.msi "
        "installation failed. Error text: ExitCode: 1603",
        ERROR,
    )
    logs.add("ccmsetup.log", 3.2, "CcmSetup failed with error code 0x80070643", ERROR)
    return Scenario("client.msi fails with 1603", logs, "failure", "client", "client.msi_failed")


def dp_http_404_through_ccmhttp() -> Scenario:
    logs = healthy_until(5)
    locate_ok(logs)
    for minute in (11, 41):
        logs.add(
            "DataTransferService.log",
            minute,
            f"[CCMHTTP] ERROR: URL=http://{DP}/SMS_DP_SMSPKG$/{UPDATE_A}, Port=80, Options=224, "
            "Code=0, Text=CCM_E_BAD_HTTP_STATUS_CODE",
            ERROR,
        )
        logs.add(
            "DataTransferService.log",
            minute + 0.01,
            "[CCMHTTP] ERROR INFO: StatusCode=404 StatusText=Not Found",
            ERROR,
        )
    return Scenario(
        "the DP answers 404 to the HTTP layer", logs, "failure", "download", "download.http_404"
    )


def windows10_history_1603() -> Scenario:
    logs = Logs()
    for minute, component, message in (
        (0, "Agent", "Install updates CallerId =   UpdateOrchestrator |  "),
        (
            1,
            "Agent",
            "LogHistory called.   idUpdate={E0F87EBF-B414-4AC7-A225-8FE802CF8618}.1, "
            "resultMapped=80070643,   resultUnMapped=FFFE |  ",
        ),
        (
            1.01,
            "ComApi",
            "Install call complete   (succeeded = 0, succeeded with errors = 0, failed = 1, "
            "cancelled = 0,   unaccounted = 0 |  ",
        ),
        (1.02, "ComApi", "Exit code = 0x00000000;   Call error code = 0x80240022 |  "),
    ):
        logs.wu_etw(minute, component, message)
    return Scenario(
        "Windows 10 history records MSI 1603", logs, "failure", "install", "install.msi_1603"
    )


def cbs_installers_rollback() -> Scenario:
    logs = Logs()
    for minute, message, severity in (
        (0, "00000055 The queue has completed running, and AI failures have occured.", 1),
        (
            0.01,
            "00000057 (F) Installer: Network Drivers\tBinary Name: NetSetupAI.dll\t"
            "ErrorCode: 800106d9\tPhase: 31\tMode: Delta\tComponent: NONE[gle=0x80004005]",
            ERROR,
        ),
        (
            0.02,
            "Startup: Failed to process advanced operation queue, startupPhase: 0.  A rollback "
            "transaction will be created. [HRESULT = 0x800f0922 - CBS_E_INSTALLERS_FAILED]",
            ERROR,
        ),
    ):
        logs.cbs_line(minute, message, severity)
    return Scenario(
        "a servicing installer fails and the update rolls back",
        logs,
        "failure",
        "install",
        "install.cbs_installers_failed",
    )


def windows10_soap_fault_scan() -> Scenario:
    logs = Logs()
    for minute, component, message in (
        (0, "ProtocolTalker", "*FAILED* [80244007] SyncUpdates_WithRecovery failed"),
        (0.01, "ProtocolTalker", "PTError: 0x80244007"),
    ):
        logs.wu_etw(minute, component, message)
    return Scenario(
        "WSUS answers the Windows 10 scan with a SOAP fault",
        logs,
        "failure",
        "scan",
        "scan.wsus_server_error",
    )


def windows10_update_service_tls() -> Scenario:
    logs = Logs()
    for minute, component, message in (
        (0, "Misc", "*FAILED* [80072F8F] Send request"),
        (0.01, "Misc", "*FAILED* [80072F8F] WinHttp: SendRequestToServerForFileInformation"),
        (0.02, "Misc", "*FAILED* [80072F8F] Library download error. Will retry. Retry Counter:0"),
    ):
        logs.wu_etw(minute, component, message)
    return Scenario(
        "Windows 10 update service requests fail TLS",
        logs,
        "failure",
        "scan",
        "scan.tls_certificate",
    )


def cbs_driver_operations_rollback() -> Scenario:
    logs = Logs()
    logs.cbs_line(
        0,
        "Shtd: Failed while processing non-critical driver operationsqueue. "
        "[HRESULT = 0x80070490 - ERROR_NOT_FOUND]",
        ERROR,
    )
    logs.cbs_line(0.01, "Shtd: Rolling back KTM, because drivers failed.")
    return Scenario(
        "driver operations fail and the update rolls back",
        logs,
        "failure",
        "install",
        "install.failed",
    )


def windows10_search_cannot_start() -> Scenario:
    logs = Logs()
    for minute, component, message in (
        (0, "Agent", "* START * Finding updates CallerId = Update;taskhostw  Id = 25"),
        (
            0.01,
            "ProtocolTalker",
            "*FAILED* [80070426] Initialization failed for Protocol Talker Context",
        ),
        (0.02, "Agent", "Exit code = 0x80070426"),
    ):
        logs.wu_etw(minute, component, message)
    return Scenario(
        "Windows 10 search cannot reach the update service",
        logs,
        "failure",
        "scan",
        "scan.failed",
    )


SCENARIOS = [
    healthy(),
    ccmsetup_bits_404(),
    mp_unreachable(),
    registration_rejected(),
    policy_not_received(),
    gpo_conflict(),
    wsus_timeout(),
    scan_proxy_auth(),
    scan_tls(),
    scan_applicability(),
    no_maintenance_window(),
    empty_location(),
    dp_http_404(),
    bits_dns(),
    cache_full(),
    msi_1603(),
    max_runtime(),
    untrusted_cert(),
    component_store(),
    pending_restart(),
    state_messages_not_sent(),
    scan_failure_then_success(),
    routine_errors_on_healthy_client(),
    windows10_noise_on_healthy_client(),
    unrelated_logs_only(),
    cmg_certificate_rejected(),
    cmg_token_expired(),
    client_msi_1603(),
    dp_http_404_through_ccmhttp(),
    windows10_history_1603(),
    cbs_installers_rollback(),
    windows10_soap_fault_scan(),
    windows10_update_service_tls(),
    cbs_driver_operations_rollback(),
    windows10_search_cannot_start(),
]
