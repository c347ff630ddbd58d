"""Builds examples/ccm-logs-example.zip, the logs the README's first command diagnoses.

One fictional server, app07.contoso.local (site C01, management point and software update
point cm01.contoso.local, distribution point dp01.contoso.local, clock at UTC-4), on the
morning of Wednesday 18 October 2023, after the admin synced the October updates and
deployed two of them the evening before. Everything up to the download works: machine policy
arrives, the WSUS scan completes, the deployment is evaluated and two October updates are
targeted, and the management point names dp01 as the place to fetch them. Every BITS
transfer from dp01 then ends in HTTP 404 (0x80190194): the distribution point no longer
holds the package the site believes it does. The older rotated files show the same DP
serving another package without trouble a week earlier.

Usage: python examples/make_example.py [OUTPUT]   (default: examples/ccm-logs-example.zip)

The zip is reproducible byte for byte: members in a fixed order with fixed timestamps,
so the committed copy can be checked against this script.
"""

# Log records are data and keep their real length, so long lines are allowed here.
# ruff: noqa: E501
from __future__ import annotations

import hashlib
import struct
import sys
import uuid
import zipfile
import zlib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tests.logbuilder import Line, cmtrace_record  # noqa: E402

DEFAULT_OUTPUT = REPO_ROOT / "examples" / "ccm-logs-example.zip"
FOLDER = "Logs/"  # the helpdesk zipped C:\Windows\CCM\Logs itself, so names sit under Logs/
BIAS = 240  # CMTrace bias: UTC = local + 240 minutes (Eastern daylight time)

TODAY = date(2023, 10, 18)
YESTERDAY = date(2023, 10, 17)
LAST_WEEK = date(2023, 10, 11)

HOST = "APP07.contoso.local"
SITE = "C01"
MP = "cm01.contoso.local"
SUP_URL = "http://cm01.contoso.local:8530"
DP = "dp01.contoso.local"
CLIENT_IP = "10.20.30.57"


def lower_guid(label: str) -> str:
    """A fixed, fictional GUID for `label`, random-looking like Windows' own (version 4)."""
    digest = hashlib.sha256(("ccm-logs-example " + label).encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def braced(label: str) -> str:
    """The same kind of GUID in the `{UPPER}` form job and assignment ids use."""
    return "{" + lower_guid(label).upper() + "}"


SITE_ID = lower_guid("site").upper()
DEPLOYMENT = braced("deployment 2023-10 server updates")
UPDATE_SOURCE = braced("update source")
CONTENT_VERSION = 57  # the update point's sync of 17 October, which brought the October updates


@dataclass(frozen=True)
class Update:
    article: str
    title: str
    size_kb: int

    @property
    def update_id(self) -> str:
        return lower_guid("update " + self.article)

    @property
    def content_id(self) -> str:
        return lower_guid("content " + self.article)

    @property
    def scope_id(self) -> str:
        return f"Site_{SITE_ID}/SUM_{self.update_id}"


CUMULATIVE = Update(
    "5031361",
    "2023-10 Cumulative Update for Windows Server 2019 (1809) for x64-based Systems (KB5031361)",
    601_288,
)
DOTNET = Update(
    "5031005",
    "2023-10 Cumulative Update for .NET Framework 3.5, 4.7.2 and 4.8 for Windows Server 2019 "
    "for x64 (KB5031005)",
    74_519,
)
TARGETED = (CUMULATIVE, DOTNET)
MSRT = Update("890830", "Windows Malicious Software Removal Tool x64 - v5.118 (KB890830)", 63_870)
ALREADY_INSTALLED = (
    MSRT,
    Update(
        "5030214",
        "2023-09 Cumulative Update for Windows Server 2019 (1809) for x64-based Systems "
        "(KB5030214)",
        0,
    ),
    Update("5030505", "2023-08 Security Update for Windows Server 2019 (KB5030505)", 0),
)


# --- writing records ------------------------------------------------------------------

Record = tuple[Line, str]  # a line and the source file CMTrace names for it


def records(day: date, component: str, thread: int, *rows: tuple) -> list[Record]:
    """Records from (clock "HH:MM:SS.mmm", source, message[, severity]) rows on one day."""
    out = []
    for clock, source, message, *severity in rows:
        when = datetime.combine(day, datetime.strptime(clock, "%H:%M:%S.%f").time())
        out.append((Line(message, when, component, *(severity or [1]), thread=thread), source))
    return out


def cmtrace_file(*blocks: list[Record]) -> tuple[str, datetime]:
    """The file's text (records in time order) and the time of its last record."""
    ordered = sorted((record for block in blocks for record in block), key=lambda r: r[0].when)
    text = "".join(cmtrace_record(line, BIAS, source) + "\r\n" for line, source in ordered)
    return text, ordered[-1][0].when


# --- the logs, roughly in pipeline order ----------------------------------------------------


def ccmexec() -> list[Record]:
    return records(
        TODAY,
        "CcmExec",
        2196,
        ("08:01:57.204", "ccmexec.cpp:1410", "==========[ SMS Agent Host STARTING ]=========="),
        ("08:01:58.020", "systemtasks.cpp:31", "Service startup system task"),
        ("08:01:59.447", "ccmexec.cpp:2018", "Phase 0 initialization completed (17 tasks)."),
        ("08:02:03.862", "ccmexec.cpp:2043", "Phase 1 initialization completed (31 tasks)."),
        (
            "08:02:04.015",
            "ccmexec.cpp:2070",
            f"Service startup complete. Client {HOST} is registered with site {SITE}, management point {MP}.",
        ),
    )


def _policy_id(label: str, version: str) -> str:
    return (
        f'CCM_Policy_Policy5.PolicyID="{label}",PolicySource="SMS:{SITE}",PolicyVersion="{version}"'
    )


DEPLOYMENT_POLICY = _policy_id(DEPLOYMENT, "2.00")
SOURCE_POLICY = _policy_id(UPDATE_SOURCE, f"{CONTENT_VERSION}.00")
# The policy bodies PolicyAgent fetches this morning: policy, its body on the MP, its DTS job.
POLICY_DTS_JOBS = (
    (DEPLOYMENT_POLICY, f"{DEPLOYMENT}.2_00", braced("dts deployment policy")),
    (SOURCE_POLICY, f"{UPDATE_SOURCE}.{CONTENT_VERSION}_00", braced("dts source policy")),
)


def policy_agent() -> list[Record]:
    request = records(
        TODAY,
        "PolicyAgent_RequestAssignments",
        2412,
        ("08:02:38.117", "policyagentendpoint.cpp:198", "Requesting Machine policy assignments"),
        (
            "08:02:38.145",
            "policyagentendpoint.cpp:322",
            f"Requesting Machine policy from authority 'SMS:{SITE}'",
        ),
        (
            "08:02:38.503",
            "policyagentendpoint.cpp:344",
            "Raising event: instance of CCM_PolicyAgent_AssignmentsRequested",
        ),
    )
    reply = records(
        TODAY,
        "PolicyAgent_ReplyAssignments",
        2412,
        (
            "08:02:39.861",
            "replyassignments.cpp:1184",
            f"Received delta policy update with 2 assignments for Machine from authority 'SMS:{SITE}'",
        ),
    )
    download = []
    for offset, (policy, _, job) in enumerate(POLICY_DTS_JOBS):
        download += records(
            TODAY,
            "PolicyAgent_PolicyDownload",
            3088,
            (
                f"08:02:4{offset}.218",
                "policydownloadendpoint.cpp:292",
                f"Successfully initiated download of policy '{policy}'",
            ),
            (
                f"08:02:4{offset + 2}.640",
                "policydownloadendpoint.cpp:417",
                f"Download of policy {policy} completed (DTS Job ID: {job})",
            ),
            (
                f"08:02:4{offset + 3}.105",
                "policyagent.cpp:1560",
                f"Policy '{policy}' successfully compiled",
            ),
        )
    return request + reply + download


def policy_evaluator() -> list[Record]:
    rows = []
    for offset, (policy, _, _) in enumerate(POLICY_DTS_JOBS):
        second = 46 + 2 * offset
        rows += [
            (f"08:02:{second}.311", "policyutil.cpp:7", f"Updating policy {policy}"),
            (f"08:02:{second}.502", "policyutil.cpp:7", f"Applied policy {policy}"),
            (
                f"08:02:{second + 1}.019",
                "policyevaluator.cpp:1217",
                f"Policy state for [{policy}] is currently [Active]",
            ),
        ]
    return records(TODAY, "PolicyAgent_PolicyEvaluator", 3088, *rows)


def scheduler() -> list[Record]:
    schedule = f"Machine/DEADLINE:{DEPLOYMENT}"
    return records(
        TODAY,
        "Scheduler",
        3088,
        (
            "08:02:49.740",
            "schedulerdeadline.cpp:211",
            f"Deadline for '{schedule}' set to 10/18/2023 08:30:00 (local time).",
        ),
        (
            "08:02:49.741",
            "smstrigger.cpp:325",
            f"SMSTrigger '{{{lower_guid('deadline trigger')}}}' for scheduler '{schedule}' will fire at 10/18/2023 08:30:00",
        ),
        (
            "08:30:00.012",
            "scheduler.cpp:968",
            f"Sending message for schedule '{schedule}' (Target: 'direct:UpdatesDeploymentAgent', Name: '')",
        ),
    )


LOCATION_REQUEST = braced("wsus location request")


def scan_agent() -> list[Record]:
    return records(
        TODAY,
        "ScanAgent",
        3240,
        (
            "08:03:30.118",
            "cscanagent.cpp:1398",
            "CScanAgent::OnPolicyChange- Policy InstanceModificationEvent notification received",
        ),
        (
            "08:03:30.204",
            "cscanagent.cpp:2431",
            f"CScanAgent::ScanByUpdates- Policy available for UpdateSourceID={UPDATE_SOURCE} ContentVersion={CONTENT_VERSION}",
        ),
        (
            "08:03:30.215",
            "scanjob.cpp:1005",
            f"Requesting WSUS Server Locations from LS for {UPDATE_SOURCE} version {CONTENT_VERSION}",
        ),
        (
            "08:03:31.902",
            "cscanagent.cpp:1102",
            f"*****WSUSLocationUpdate received for location request guid={LOCATION_REQUEST}",
        ),
        (
            "08:03:31.915",
            "scanjob.cpp:1189",
            f"CScanJob::OnLocationUpdate- Received Location={SUP_URL}, Version={CONTENT_VERSION}",
        ),
        (
            "08:03:32.006",
            "cscanagent.cpp:1844",
            f"Raised UpdateSource ({UPDATE_SOURCE}) state message successfully. StateId = 2",
        ),
        (
            "08:03:32.144",
            "scanjob.cpp:594",
            "CScanJob::Execute - successfully requested Scan, ScanType=1",
        ),
        (
            "08:04:53.630",
            "scanjob.cpp:1344",
            "CScanJob::OnScanComplete -Scan completed successfully, ScanType=1",
        ),
        (
            "08:04:53.702",
            "cscanagent.cpp:1844",
            f"Raised UpdateSource ({UPDATE_SOURCE}) state message successfully. StateId = 3",
        ),
    )


def _client_location_info() -> str:
    return (
        '<ClientLocationInfo LocationType="SMSUpdate" DistributeOnDemand="0" UseAzure="1" '
        'AllowWANFallback="0" UseProtected="0" AllowSuperPeer="1" UseInternetDP="0">'
        '<ADSite Name="HQ-Site"/><Forest Name="contoso.local"/><Domain Name="contoso.local"/>'
        f'<IPAddresses><IPAddress SubnetAddress="10.20.30.0" Address="{CLIENT_IP}"/></IPAddresses>'
        "</ClientLocationInfo>"
    )


def _content_location(update: Update) -> tuple[str, str]:
    """The package and signature URLs the management point hands out for an update."""
    return (
        f"http://{DP}/SMS_DP_SMSPKG$/{update.content_id}",
        f"http://{DP}/SMS_DP_SMSSIG$/{update.content_id}",
    )


def location_services() -> list[Record]:
    wsus = records(
        TODAY,
        "LocationServices",
        3240,
        (
            "08:03:30.233",
            "lswsus.cpp:182",
            f"Attempting to retrieve WSUS locations for update source {UPDATE_SOURCE}, version {CONTENT_VERSION}",
        ),
        (
            "08:03:30.251",
            "lswsus.cpp:211",
            f'WSUSLocationRequest : <WSUSLocationRequest SchemaVersion="1.00"><Content><ContentID>{UPDATE_SOURCE}</ContentID><ContentVersion>{CONTENT_VERSION}</ContentVersion></Content><AssignedSite SiteCode="{SITE}"/>{_client_location_info()}</WSUSLocationRequest>',
        ),
        (
            "08:03:31.880",
            "lswsus.cpp:388",
            f'WSUSLocationReply : <WSUSLocationReply SchemaVersion="1.00"><Sites><Site><MPSite SiteCode="{SITE}"/><LocationRecords><LocationRecord WSUSURL="{SUP_URL}" ServerName="{MP.upper()}" Version="{CONTENT_VERSION}"/></LocationRecords></Site></Sites></WSUSLocationReply>',
        ),
        ("08:03:31.884", "lswsus.cpp:472", "Calling back with the following WSUS locations"),
        (
            "08:03:31.884",
            "lswsus.cpp:479",
            f"WSUS Path='{SUP_URL}', Server='{MP.upper()}', Version='{CONTENT_VERSION}'",
        ),
    )
    content = []
    for index, update in enumerate(TARGETED):
        package_url, signature_url = _content_location(update)
        request_id = braced("content location request " + update.article)
        second = 22 + index
        content += records(
            TODAY,
            "LocationServices",
            3528,
            (
                f"08:05:{second}.610",
                "ccmlocation.cpp:1291",
                f'ContentLocationRequest : <ContentLocationRequest SchemaVersion="1.00" ExcludeFileList=""><Package ID="UID:{update.content_id}" Version="1"/><AssignedSite SiteCode="{SITE}"/>{_client_location_info()}</ContentLocationRequest>',
            ),
            (
                f"08:05:{second}.977",
                "ccmlocation.cpp:1350",
                f'ContentLocationReply : <ContentLocationReply SchemaVersion="1.00"><ContentInfo PackageFlags="1073741824"><ContentHashValues/></ContentInfo><Sites><Site><MPSite SiteCode="{SITE}" MasterSiteCode="{SITE}" SiteLocality="LOCAL" IISPreferedPort="80" IISSSLPreferedPort="443"/><LocationRecords><LocationRecord><URL Name="{package_url}" Signature="{signature_url}"/><ADSite Name="HQ-Site"/><IPSubnets><IPSubnet Address="10.20.30.0"/></IPSubnets><Version>9106</Version><Capabilities SchemaVersion="1.0"><Property Name="SSLState" Value="0"/></Capabilities><ServerRemoteName>{DP}</ServerRemoteName><DPType>SERVER</DPType><Windows Trust="1"/><Locality>LOCAL</Locality></LocationRecord></LocationRecords></Site></Sites><RelatedContentIDs/></ContentLocationReply>',
            ),
            (
                f"08:05:{second}.981",
                "ccmlocation.cpp:1466",
                f"Distribution Point='{package_url}', Locality='LOCAL', DPType='SERVER', Version='9106', Capabilities='<Capabilities SchemaVersion=\"1.0\"><Property Name=\"SSLState\" Value=\"0\"/></Capabilities>', Signature='{signature_url}', ForestTrust='TRUE',",
            ),
            (
                f"08:05:{second}.983",
                "ccmlocation.cpp:1531",
                f"Calling back with locations for location request {request_id}",
            ),
        )
    return wsus + content


def _scan_rows(start_minute: str) -> list[tuple]:
    """One successful WSUS scan, as WUAHandler writes it (minutes given as 'HH:MM')."""
    rows = [
        (
            f"{start_minute}:34.001",
            "sourcemanager.cpp:1461",
            f"Its a WSUS Update Source type ({UPDATE_SOURCE}), adding it.",
        ),
        (
            f"{start_minute}:34.106",
            "sourcemanager.cpp:1108",
            f"Existing WUA Managed server was already set ({SUP_URL}), skipping Group Policy registration.",
        ),
        (
            f"{start_minute}:34.188",
            "sourcemanager.cpp:1494",
            f"Added Update Source ({UPDATE_SOURCE}) of content type: 2",
        ),
        (
            f"{start_minute}:34.540",
            "cwuahandler.cpp:3674",
            "Scan results will include all superseded updates.",
        ),
        (
            f"{start_minute}:34.541",
            "cwuahandler.cpp:3677",
            "Search Criteria is (DeploymentAction=* AND Type='Software') OR (DeploymentAction=* AND Type='Driver')",
        ),
        (f"{start_minute}:34.542", "cwuahandler.cpp:3690", "Running single-call scan of updates."),
        (
            f"{start_minute}:34.577",
            "cwuahandler.cpp:1004",
            "Async searching of updates using WUAgent started.",
        ),
    ]
    return rows


def _scan_result_rows(end_minute: str, missing: tuple[Update, ...]) -> list[tuple]:
    rows = [(f"{end_minute}:51.208", "cwuahandler.cpp:2810", "Async searching completed.")]
    for state, updates in (("Missing", missing), ("Installed", ALREADY_INSTALLED)):
        rows += [
            (
                f"{end_minute}:52.114",
                "cwuahandler.cpp:4050",
                f"Update ({state}): {update.title} ({update.update_id}, 200)",
            )
            for update in updates
        ]
    rows += [
        (
            f"{end_minute}:52.402",
            "cwuahandler.cpp:2954",
            "Finished searching for everything in single call.",
        ),
        (f"{end_minute}:53.520", "cwuahandler.cpp:4317", "Successfully completed scan."),
    ]
    return rows


def wuahandler_history() -> list[Record]:
    """Last week's scan, before the October updates reached the update point (nothing missing),
    in the history file the client wrote when the log rolled over."""
    return records(
        LAST_WEEK, "WUAHandler", 5012, *_scan_rows("10:02"), *_scan_result_rows("10:03", ())
    )


def wuahandler() -> list[Record]:
    return records(
        TODAY, "WUAHandler", 3240, *_scan_rows("08:03"), *_scan_result_rows("08:04", TARGETED)
    )


def updates_store() -> list[Record]:
    rows = [
        (
            "08:04:53.541",
            "cupdatesstore.cpp:93",
            "Initialization of UpdatesStore completed, 3 update status(es) were loaded.",
        ),
        (
            "08:04:53.549",
            "cupdatesstore.cpp:1475",
            "Failed to refresh Resync state message. Error = 0x87d00310.",
            3,
        ),
        ("08:04:53.557", "cupdatesstore.cpp:1479", "Successfully raised Resync state message."),
    ]
    product = lower_guid("product windows server 2019")
    for update in TARGETED:
        rows += [
            (
                "08:04:53.560",
                "cupdatesstore.cpp:331",
                f"Processing update status from update ({update.update_id}) with ProductID = {product}",
            ),
            (
                "08:04:53.561",
                "cupdatesstore.cpp:368",
                f"Update status from update ({update.update_id}) hasn't been reported before, creating new instance.",
            ),
            (
                "08:04:53.572",
                "cupdatesstore.cpp:1253",
                f"Successfully raised state message for update ({update.update_id}) with state (Missing).",
            ),
            (
                "08:04:53.579",
                "cupdatesstore.cpp:402",
                f"Successfully added WMI instance of update status ({update.update_id}).",
            ),
        ]
    return records(TODAY, "UpdatesStore", 3240, *rows)


def state_message() -> list[Record]:
    rows = []
    for update in TARGETED:
        rows += [
            (
                "08:04:53.566",
                "statemsg.cpp:813",
                f"Adding message with TopicType 500 and TopicId {update.update_id} to WMI",
            ),
            (
                "08:04:53.571",
                "statemsg.cpp:1081",
                f"State message(State ID : 2) with TopicType 500 and TopicId {update.update_id} has been recorded for SYSTEM",
            ),
        ]
    rows += [
        (
            "08:05:10.322",
            "statemsgforwarder.cpp:512",
            "Successfully forwarded State Messages to the MP",
        ),
        (
            "08:31:14.087",
            "statemsgforwarder.cpp:512",
            "Successfully forwarded State Messages to the MP",
        ),
    ]
    return records(TODAY, "StateMessage", 3240, *rows)


def ccm_messaging() -> list[Record]:
    rows = []
    for label, queue, sent, delivered in (
        ("wsus location", "mp_locationmanager", "08:03:30.262", "08:03:31.104"),
        ("state 1", "mp_relayendpoint", "08:05:10.330", "08:05:11.052"),
        ("state 2", "mp_relayendpoint", "08:31:14.095", "08:31:14.870"),
    ):
        message_id = braced("message " + label)
        rows += [
            (
                sent,
                "ccmmessaging.cpp:1942",
                f"Sending async message '{message_id}' to outgoing queue 'mp:{queue}'",
            ),
            (
                delivered,
                "httpprotocol.cpp:2233",
                f"OutgoingMessage(Queue='mp_{queue}', ID={message_id}): Delivered successfully to host '{MP}'.",
            ),
        ]
    return records(TODAY, "CcmMessaging", 2840, *rows)


DEADLINE_JOB = braced("enforcement job")
DETECTION_JOB = braced("detection job")


def updates_deployment() -> list[Record]:
    targeted = [
        (
            "08:05:20.433",
            "updatesmanager.cpp:2145",
            f"Update ({update.scope_id}) Name ({update.title}) ArticleID ({update.article}) added to the targeted list of deployment ({DEPLOYMENT})",
        )
        for update in TARGETED
    ]
    waiting = [
        (
            "08:30:01.214",
            "cupdatesjob.cpp:1893",
            f"Update ({update.scope_id}) Progress: Status = ciStateWaitingRetry, PercentComplete = 0, DownloadSize = {update.size_kb}, Result = 0x80190194",
        )
        for update in TARGETED
    ]
    return records(
        TODAY,
        "UpdatesDeploymentAgent",
        3372,
        ("08:05:18.020", "assignment.cpp:1150", f"Assignment {DEPLOYMENT} has total CI = 2"),
        (
            "08:05:18.051",
            "assignment.cpp:1247",
            f"Detection job ({DETECTION_JOB}) started for assignment ({DEPLOYMENT})",
        ),
        (
            "08:05:20.402",
            "assignment.cpp:1288",
            f"DetectJob completion received for assignment ({DEPLOYMENT})",
        ),
        *targeted,
        (
            "08:05:20.440",
            "assignment.cpp:1330",
            f"Making updates available for assignment ({DEPLOYMENT})",
        ),
        (
            "08:05:20.471",
            "assignment.cpp:1422",
            f"Raised assignment ({DEPLOYMENT}) state message successfully. TopicType = Evaluate, StateId = 2, StateName = ASSIGNMENT_EVALUATE_SUCCESS",
        ),
        (
            "08:05:20.480",
            "assignment.cpp:1440",
            f"Raised assignment ({DEPLOYMENT}) state message successfully. TopicType = Compliance, Signature = {lower_guid('compliance signature')}, IsCompliant = False",
        ),
        (
            "08:05:20.512",
            "cupdatesjob.cpp:611",
            f"Starting download on action (INSTALL) for {len(TARGETED)} updates of assignment ({DEPLOYMENT})",
        ),
        (
            "08:30:00.131",
            "cdeploymentagent.cpp:842",
            f"Message received: '<?xml version='1.0' ?><CIAssignmentMessage MessageType='EnforcementDeadline'><AssignmentID>{DEPLOYMENT}</AssignmentID></CIAssignmentMessage>'",
        ),
        ("08:30:00.140", "assignment.cpp:1560", f"Deadline received for assignment ({DEPLOYMENT})"),
        (
            "08:30:00.188",
            "cupdatesjob.cpp:402",
            f"EnumerateUpdates for action (UpdateActionInstall) - Total actionable updates = {len(TARGETED)}",
        ),
        (
            "08:30:00.205",
            "cupdatesjob.cpp:1533",
            f"Job ({DEADLINE_JOB}) for assignment ({DEPLOYMENT}): content for {len(TARGETED)} updates is not downloaded yet, installation will start once the download completes",
        ),
        *waiting,
    )


def updates_handler() -> list[Record]:
    rows = [
        (
            "08:05:21.016",
            "cdeploymentjob.cpp:447",
            f"Initiating download for the job ({DEADLINE_JOB}).",
        ),
        (
            "08:05:21.020",
            "cdeploymentjob.cpp:472",
            "Timeout Options: Priority = 2, DPLocality = 80, Location = 604800, Download = 864000, PerDPInactivity = 0, TotalInactivity = 0, UseBranchCache = true, UseCloudDP = false",
        ),
    ]
    for update in TARGETED:
        rows.append(
            (
                "08:05:21.044",
                "cupdatehandler.cpp:1288",
                f"Update Id = {update.update_id}, State = StateDownloading, Result = 0x0",
            )
        )
    for minute, update in zip(("25", "26"), TARGETED, strict=True):
        rows += [
            (
                f"08:{minute}:32.511",
                "cdeploymentjob.cpp:1102",
                f"CDeploymentJob -- Failed to download update ({update.update_id}). Error = 0x80190194",
                3,
            ),
            (
                f"08:{minute}:32.514",
                "cupdatehandler.cpp:1288",
                f"Update Id = {update.update_id}, State = StateDownloading, Result = 0x80190194",
            ),
        ]
    return records(TODAY, "UpdatesHandler", 3372, *rows)


def _jobs(update: Update) -> tuple[str, str, str, str]:
    """CAS request, CTM job, DTS job and BITS job ids for one update's content."""
    return tuple(braced(f"{kind} {update.article}") for kind in ("cas", "ctm", "dts", "bits"))


def cas() -> list[Record]:
    rows = []
    for index, update in enumerate(TARGETED, start=1):
        request, ctm_job, _, _ = _jobs(update)
        content = f"{update.content_id}.1"
        second = 21 + index
        rows += [
            (
                f"08:05:{second}.102",
                "contentaccessservice.cpp:1720",
                f"Requesting content {content}, size(KB) {update.size_kb}, under context System with priority Medium",
            ),
            (
                f"08:05:{second}.219",
                "contentaccessservice.cpp:1893",
                f"Target location for content {content} is C:\\Windows\\ccmcache\\{index}",
            ),
            (
                f"08:05:{second}.301",
                "contentrequest.cpp:805",
                f"Submitted CTM job {ctm_job} to download Content {content} under context System",
            ),
            (
                f"08:05:{second}.309",
                "contentaccessservice.cpp:2011",
                f"Successfully created download request {request} for content {content}",
            ),
        ]
    for minute, update in zip(("25", "26"), TARGETED, strict=True):
        rows.append(
            (
                f"08:{minute}:31.980",
                "contentrequest.cpp:1120",
                f"Download failed for content {update.content_id}.1 under context System, error 0x80190194",
                3,
            )
        )
    return records(TODAY, "ContentAccess", 3528, *rows)


def content_transfer_manager() -> list[Record]:
    rows = []
    for index, update in enumerate(TARGETED):
        _, ctm_job, dts_job, _ = _jobs(update)
        location_request = braced("content location request " + update.article)
        package_url, _ = _content_location(update)
        second = 22 + index
        rows += [
            (f"08:05:{second}.330", "ctmjob.cpp:512", f"Starting CTM job {ctm_job}."),
            (
                f"08:05:{second}.604",
                "ctmjob.cpp:1807",
                f"Queued location request '{location_request}' for CTM job '{ctm_job}'.",
            ),
            (
                f"08:05:{second}.606",
                "ctmjob.cpp:2401",
                f"CCTMJob::EvaluateState(JobID={ctm_job}, State=RequestedLocations)",
            ),
            (
                f"08:05:{second}.990",
                "ctmjob.cpp:1930",
                f"Persisted location '{package_url}', Order 0, for CTM job {ctm_job}",
            ),
            (
                f"08:05:{second}.992",
                "ctmjob.cpp:2401",
                f"CCTMJob::EvaluateState(JobID={ctm_job}, State=PendingDownload)",
            ),
            (
                f"08:05:{second + 1}.480",
                "ctmjob.cpp:3307",
                f"CTM job {ctm_job} (corresponding DTS job {dts_job}) started download from '{package_url}' for full content download.",
            ),
            (
                f"08:05:{second + 1}.481",
                "ctmjob.cpp:2401",
                f"CCTMJob::EvaluateState(JobID={ctm_job}, State=DownloadingData)",
            ),
        ]
    for minute, update in zip(("25", "26"), TARGETED, strict=True):
        _, ctm_job, dts_job, _ = _jobs(update)
        package_url, _ = _content_location(update)
        rows += [
            (
                f"08:{minute}:31.902",
                "ctmjob.cpp:3571",
                f"CTM job {ctm_job} (corresponding DTS job {dts_job}) failed to download from '{package_url}'. Error 0x80190194.",
                2,
            ),
            (
                f"08:{minute}:31.911",
                "ctmjob.cpp:3620",
                f"CTM job {ctm_job} has no more locations to try, error 0x80190194.",
                3,
            ),
            (
                f"08:{minute}:31.915",
                "ctmjob.cpp:2401",
                f"CCTMJob::EvaluateState(JobID={ctm_job}, State=Failed)",
            ),
        ]
    return records(TODAY, "ContentTransferManager", 3528, *rows)


def _policy_transfer(day: date, clock: str, body: str, job: str, thread: int) -> list[Record]:
    """A policy body fetched from the management point through DTS (this always works)."""
    url = f"http://{MP}:80/SMS_MP/.sms_pol?{body}"
    return records(
        day,
        "DataTransferService",
        thread,
        (
            f"{clock}.118",
            "dtsjob.cpp:521",
            f"DTSJob {job} created to download from '{url}' to 'C:\\Windows\\CCM\\Temp'.",
        ),
        (f"{clock}.120", "dtsjob.cpp:3044", f"DTSJob {job} in state 'DownloadingData'."),
        (f"{clock}.466", "dtsjob.cpp:3044", f"DTSJob {job} in state 'RetrievedData'."),
        (f"{clock}.467", "dtsjob.cpp:3255", f"DTSJob {job} successfully completed download."),
        (f"{clock}.470", "dtsjob.cpp:3044", f"DTSJob {job} in state 'NotifiedComplete'."),
    )


def _machine_policy_transfer(day: date, clock: str) -> list[Record]:
    """The hourly machine-policy refresh of an earlier day."""
    body = f"{braced(f'machine policy {day} {clock}')}.1_00"
    return _policy_transfer(day, clock, body, braced(f"dts policy {day} {clock}"), 1820)


def _job_summary(job: str, status: str, day: date, start: str, end: str, seconds: int) -> str:
    """DTS's multi-line completion record."""
    when = day.strftime("%m/%d/%Y")
    return (
        f"DTS job {job} has completed:\r\nStatus : {status},\r\nStart time : {when} {start},\r\n"
        f"Completion time : {when} {end},\r\nElapsed time : {seconds} seconds"
    )


def _dts_download_start(update: Update, cache_folder: int, second: int) -> list[tuple]:
    _, _, dts_job, bits_job = _jobs(update)
    package_url, _ = _content_location(update)
    dts_url = package_url.replace(f"http://{DP}/", f"http://{DP}:80/")
    return [
        (
            f"08:05:{second}.490",
            "dtsjob.cpp:521",
            f"DTSJob {dts_job} created to download from '{dts_url}' to 'C:\\Windows\\ccmcache\\{cache_folder}'.",
        ),
        (
            f"08:05:{second}.492",
            "dtsjob.cpp:3044",
            f"DTSJob {dts_job} in state 'DownloadingManifest'.",
        ),
        (
            f"08:05:{second}.705",
            "dtsjob.cpp:1420",
            f"CDTSJob::ProcessManifestCallback - processing manifest for job '{dts_job}'.",
        ),
        (
            f"08:05:{second}.711",
            "dtsjob.cpp:3044",
            f"DTSJob {dts_job} in state 'RetrievedManifest'.",
        ),
        (f"08:05:{second}.713", "dtsjob.cpp:3044", f"DTSJob {dts_job} in state 'PendingDownload'."),
        (
            f"08:05:{second}.730",
            "dtsbitsjob.cpp:388",
            f"Starting BITS job '{bits_job}' for DTS job '{dts_job}' under user 'S-1-5-18'.",
        ),
        (f"08:05:{second}.732", "dtsjob.cpp:3044", f"DTSJob {dts_job} in state 'DownloadingData'."),
    ]


def _dts_retries(update: Update, started: str, minutes: tuple[str, ...]) -> list[tuple]:
    """BITS attempts ten minutes apart, each answered with HTTP 404, then DTS gives up."""
    _, _, dts_job, bits_job = _jobs(update)
    package_url, _ = _content_location(update)
    rows = []
    for attempt, minute in enumerate(minutes):
        rows += [
            (
                f"08:{minute}:31.204",
                "dtsbitsjob.cpp:912",
                f"BITS job '{bits_job}' for DTS job '{dts_job}' failed. Error 0x80190194: HTTP status 404: The requested URL does not exist on the server. URL: '{package_url}'",
                2,
            ),
            (
                f"08:{minute}:31.210",
                "dtsjob.cpp:2611",
                f"CDTSJob::HandleErrors: DTS Job '{dts_job}' BITS Job '{bits_job}' under user 'S-1-5-18' OldErrorCount {attempt} NewErrorCount {attempt + 1} ErrorCode 0x80190194",
                2,
            ),
        ]
        if attempt < len(minutes) - 1:
            rows.append(
                (
                    f"08:{minute}:31.222",
                    "dtsbitsjob.cpp:940",
                    f"BITS job '{bits_job}' for DTS job '{dts_job}' will be retried in 600 seconds.",
                )
            )
    last = minutes[-1]
    elapsed = (int(last) - int(started[3:5])) * 60 + 31 - int(started[6:8])
    rows += [
        (
            f"08:{last}:31.870",
            "dtsjob.cpp:2688",
            f"DTSJob {dts_job} failed to download from the only location after {len(minutes)} attempts. Error 0x80190194.",
            3,
        ),
        (f"08:{last}:31.880", "dtsjob.cpp:3044", f"DTSJob {dts_job} in state 'Failed'."),
        (
            f"08:{last}:31.884",
            "dtsjob.cpp:3390",
            _job_summary(dts_job, "FAILED", TODAY, started, f"08:{last}:31", elapsed),
            3,
        ),
    ]
    return rows


def data_transfer_service() -> list[Record]:
    transfers = _machine_policy_transfer(YESTERDAY, "17:41:06")
    for second, (_, body, job) in zip((41, 42), POLICY_DTS_JOBS, strict=True):
        transfers += _policy_transfer(TODAY, f"08:02:{second}", body, job, 3088)
    transfers += records(
        TODAY,
        "DataTransferService",
        3604,
        *_dts_download_start(CUMULATIVE, 1, 23),
        *_dts_download_start(DOTNET, 2, 24),
        *_dts_retries(CUMULATIVE, "08:05:23", ("05", "15", "25")),
        *_dts_retries(DOTNET, "08:05:24", ("06", "16", "26")),
    )
    return transfers


def data_transfer_service_rotated() -> list[Record]:
    """The older DataTransferService.lo_: last week dp01 served the MSRT package without fault."""
    old = []
    for day, clock in (
        (LAST_WEEK, "07:58:12"),
        (date(2023, 10, 12), "08:01:44"),
        (date(2023, 10, 13), "07:59:03"),
        (date(2023, 10, 16), "08:03:27"),
        (YESTERDAY, "08:00:55"),
    ):
        old += _machine_policy_transfer(day, clock)
    job = braced("dts msrt")
    bits_job = braced("bits msrt")
    url = f"http://{DP}:80/SMS_DP_SMSPKG$/{MSRT.content_id}"
    size = MSRT.size_kb * 1024
    old += records(
        LAST_WEEK,
        "DataTransferService",
        2968,
        (
            "08:14:40.310",
            "dtsjob.cpp:521",
            f"DTSJob {job} created to download from '{url}' to 'C:\\Windows\\ccmcache\\q'.",
        ),
        ("08:14:40.312", "dtsjob.cpp:3044", f"DTSJob {job} in state 'DownloadingManifest'."),
        ("08:14:40.505", "dtsjob.cpp:3044", f"DTSJob {job} in state 'RetrievedManifest'."),
        ("08:14:40.507", "dtsjob.cpp:3044", f"DTSJob {job} in state 'PendingDownload'."),
        (
            "08:14:40.522",
            "dtsbitsjob.cpp:388",
            f"Starting BITS job '{bits_job}' for DTS job '{job}' under user 'S-1-5-18'.",
        ),
        ("08:14:40.525", "dtsjob.cpp:3044", f"DTSJob {job} in state 'DownloadingData'."),
        (
            "08:14:52.871",
            "dtsbitsjob.cpp:701",
            f"Job: {job}, Total Files: 1, Transferred Files: 1, Total Bytes: {size}, Transferred Bytes: {size}",
        ),
        ("08:14:52.880", "dtsjob.cpp:3044", f"DTSJob {job} in state 'RetrievedData'."),
        ("08:14:52.883", "dtsjob.cpp:3255", f"DTSJob {job} successfully completed download."),
        ("08:14:52.890", "dtsjob.cpp:3044", f"DTSJob {job} in state 'NotifiedComplete'."),
        (
            "08:14:52.893",
            "dtsjob.cpp:3390",
            _job_summary(job, "SUCCESS", LAST_WEEK, "08:14:40", "08:14:52", 12),
        ),
    )
    return old


# --- the zip ------------------------------------------------------------------------------------

# Member order as Explorer's "Send to > Compressed folder" lists a folder: by name.
LOG_WRITERS = {
    "CAS.log": cas,
    "CcmExec.log": ccmexec,
    "CcmMessaging.log": ccm_messaging,
    "ContentTransferManager.log": content_transfer_manager,
    "DataTransferService.lo_": data_transfer_service_rotated,
    "DataTransferService.log": data_transfer_service,
    "LocationServices.log": location_services,
    "PolicyAgent.log": policy_agent,
    "PolicyEvaluator.log": policy_evaluator,
    "ScanAgent.log": scan_agent,
    "Scheduler.log": scheduler,
    "StateMessage.log": state_message,
    "UpdatesDeployment.log": updates_deployment,
    "UpdatesHandler.log": updates_handler,
    "UpdatesStore.log": updates_store,
    "WUAHandler-20231011-100355.log": wuahandler_history,
    "WUAHandler.log": wuahandler,
}
SCREENSHOT = "screenshot.png"
SCREENSHOT_TIME = datetime(2023, 10, 18, 8, 36, 40)  # the helpdesk's capture of Software Center


def tiny_png() -> bytes:
    """A valid 1x1 white PNG: the kind of stray file helpdesks drop into the folder."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\xff\xff", 9)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def example_members() -> list[tuple[str, bytes, datetime]]:
    """(name inside the zip, bytes, last-write time) for every member, in zip order."""
    members = []
    for name, writer in LOG_WRITERS.items():
        text, last_write = cmtrace_file(writer())
        members.append((FOLDER + name, b"\xef\xbb\xbf" + text.encode("utf-8"), last_write))
    members.append((FOLDER + SCREENSHOT, tiny_png(), SCREENSHOT_TIME))
    return members


def write_example(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data, last_write in example_members():
            info = zipfile.ZipInfo(name, date_time=last_write.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0  # made on Windows
            info.external_attr = 0x20  # FILE_ATTRIBUTE_ARCHIVE, as Explorer stores it
            archive.writestr(info, data, compresslevel=9)


def main(argv: list[str]) -> int:
    output = Path(argv[1]) if len(argv) > 1 else DEFAULT_OUTPUT
    write_example(output)
    print(f"wrote {output} ({output.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
