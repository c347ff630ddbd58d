"""Builds a large, realistic CCM logs zip for the benchmarks.

What a busy server's `C:\\Windows\\CCM\\Logs` looks like after an admin raised the log size
and history: about twenty client logs, each with rotated parts (`X.lo_` for logs on the
default history of one, `X-YYYYMMDD-HHMMSS.log` for logs kept with more history), a month
of mostly routine lines with some warnings and errors, long records (WUAHandler's
`Update (Missing): <title> (<guid>, 200)`, LocationServices' XML replies) and the odd
multi-line record; plus a Windows 10 `WindowsUpdate.log` and a `CBS.log` beside the folder.

Lines come from templates filled by a seeded random generator, so the text compresses
about as well as real logs do (roughly 10-20x), and the zip is written member by member
through `ZipFile.open(name, "w")`: memory stays small whatever the size asked for.

Usage: python benchmarks/make_big_zip.py OUTPUT.zip [--mb 300] [--seed 1]
"""

# The template tables hold whole log lines, which are long by nature.
# ruff: noqa: E501
from __future__ import annotations

import argparse
import bisect
import itertools
import random
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tests.logbuilder import Line, cbs_log, cmtrace_record, wulog_etw  # noqa: E402

MIB = 1024 * 1024
BIAS = 300  # CMTrace bias of the machine: UTC-5, no daylight saving in January
SPAN_START = datetime(2024, 1, 2, 7, 0, 0)
SPAN_END = datetime(2024, 1, 31, 18, 0, 0)
HISTORY_FILE_BYTES = 5 * MIB  # LogMaxSize an admin might set; dated history files fill up to it
CHUNK_CHARS = 256 * 1024  # text handed to the compressor at a time
BOM = b"\xef\xbb\xbf"
SAME_UPDATE_AGAIN = 0.6  # chance a line names the same update (or content) as the one before
RECENT_ID_REUSE = 0.7  # how often a line's id is one already seen (tunes compressibility)

# Share of the total for the two Windows logs that sit beside the Logs folder.
WINDOWS_UPDATE_SHARE = 0.07
CBS_SHARE = 0.05

ERROR_CODES = (
    "0x80190194",
    "0x80072ee2",
    "0x80244022",
    "0x80244010",
    "0x87d00692",
    "0x87d00664",
    "0x80070643",
    "0x87d00669",
    "0x80240022",
    "0x800f0831",
)
DISTRIBUTION_POINTS = ("dp01.contoso.local", "dp02.contoso.local", "dp-branch07.contoso.local")
MANAGEMENT_POINT = "cm01.contoso.local"
SUP_URL = "http://cm01.contoso.local:8530"
PRODUCTS = (
    "Windows Server 2019 (1809) for x64-based Systems",
    "Windows 10 Version 22H2 for x64-based Systems",
    "Windows 11 Version 23H2 for x64-based Systems",
    "Microsoft server operating system version 21H2 for x64-based Systems",
)
KINDS = ("Cumulative Update", "Security Update", "Update", "Servicing Stack Update")


class Vocabulary:
    """Values for template placeholders, drawn from one seeded generator.

    Looked up by name (`"{uid}"` calls `uid()`), so a template names what it needs and
    each line gets fresh values; `job` and `deployment` stay the same for a while, the way
    one job's lines follow each other in a real log.
    """

    def __init__(self, rng: random.Random):
        self.rng = rng
        self._updates = [self._make_update() for _ in range(800)]
        self._update = self._updates[0]
        self._contents = [self._lower_guid() for _ in range(300)]
        self._content = self._contents[0]
        self._deployments = [self._braced_guid() for _ in range(24)]
        self._job = self._braced_guid()
        self._recent = [self._braced_guid() for _ in range(64)]
        self._deployment = self._deployments[0]
        self.source_id = self._braced_guid()

    def __getitem__(self, name: str) -> str:
        return getattr(self, name)()

    def _lower_guid(self) -> str:
        text = f"{self.rng.getrandbits(128):032x}"
        variant = "89ab"[int(text[16], 16) & 3]
        return f"{text[:8]}-{text[8:12]}-4{text[13:16]}-{variant}{text[17:20]}-{text[20:]}"

    def _braced_guid(self) -> str:
        return "{" + self._lower_guid().upper() + "}"

    def _make_update(self) -> tuple[str, str, str]:
        kb = str(self.rng.randint(5_010_000, 5_039_999))
        month = f"2023-{self.rng.randint(1, 12):02d}"
        title = f"{month} {self.rng.choice(KINDS)} for {self.rng.choice(PRODUCTS)} (KB{kb})"
        return self._lower_guid(), kb, title

    # placeholders
    def guid(self) -> str:
        """A job or message id: mostly one seen lately, as ids recur across a job's lines."""
        if self.rng.random() < RECENT_ID_REUSE:
            return self.rng.choice(self._recent)
        fresh = self._braced_guid()
        self._recent[self.rng.randrange(len(self._recent))] = fresh
        return fresh

    guid2 = guid

    def job(self) -> str:
        if self.rng.random() < 0.06:
            self._job = self._braced_guid()
        return self._job

    def deployment(self) -> str:
        if self.rng.random() < 0.03:
            self._deployment = self.rng.choice(self._deployments)
        return self._deployment

    def _current_update(self) -> tuple[str, str, str]:
        """The update a run of lines is about: a log follows one update for a few lines."""
        if self.rng.random() >= SAME_UPDATE_AGAIN:
            self._update = self.rng.choice(self._updates)
        return self._update

    def update(self) -> str:
        uid, _, title = self._current_update()
        return f"{title} ({uid}, {self.rng.choice((200, 200, 201, 202))})"

    def uid(self) -> str:
        return self._current_update()[0]

    def title(self) -> str:
        return self._current_update()[2]

    def kb(self) -> str:
        return self._current_update()[1]

    def content(self) -> str:
        if self.rng.random() >= SAME_UPDATE_AGAIN:
            self._content = self.rng.choice(self._contents)
        return self._content

    def dp(self) -> str:
        return self.rng.choice(DISTRIBUTION_POINTS)

    def mp(self) -> str:
        return MANAGEMENT_POINT

    def sup(self) -> str:
        return SUP_URL

    def source(self) -> str:
        return self.source_id

    def n(self) -> str:
        return str(self.rng.randint(1, 999_999))

    def small(self) -> str:
        return str(self.rng.randint(0, 100))

    def code(self) -> str:
        return self.rng.choice(ERROR_CODES)

    def version(self) -> str:
        return str(self.rng.randint(40, 60))

    def ip(self) -> str:
        return f"10.20.{self.rng.randint(0, 63)}.{self.rng.randint(1, 254)}"


@dataclass(frozen=True)
class Template:
    weight: float
    text: str
    severity: int = 1
    source: str = "agent.cpp:100"


@dataclass(frozen=True)
class Family:
    """One client log: its file name, CMTrace component, share of the total, templates."""

    name: str
    component: str
    share: float
    history: str  # "lo_" (one X.lo_) or "dated" (X-YYYYMMDD-HHMMSS.log files)
    templates: tuple[Template, ...]


def _t(weight, text, severity=1, source="agent.cpp:100") -> Template:
    return Template(weight, text, severity, source)


# fmt: off
_XML_LOCATION_REPLY = (
    'ContentLocationReply : <ContentLocationReply SchemaVersion="1.00"><ContentInfo '
    'PackageFlags="1073741824"><ContentHashValues/></ContentInfo><Sites><Site><MPSite '
    'SiteCode="C01" MasterSiteCode="C01" SiteLocality="LOCAL" IISPreferedPort="80" '
    'IISSSLPreferedPort="443"/><LocationRecords><LocationRecord><URL '
    'Name="http://{dp}/SMS_DP_SMSPKG$/{content}" Signature="http://{dp}/SMS_DP_SMSSIG$/{content}"/>'
    '<ADSite Name="HQ-Site"/><IPSubnets><IPSubnet Address="{ip}"/></IPSubnets><Version>9106'
    '</Version><Capabilities SchemaVersion="1.0"><Property Name="SSLState" Value="0"/>'
    "</Capabilities><ServerRemoteName>{dp}</ServerRemoteName><DPType>SERVER</DPType>"
    '<Windows Trust="1"/><Locality>LOCAL</Locality></LocationRecord></LocationRecords></Site>'
    "</Sites><RelatedContentIDs/></ContentLocationReply>"
)

FAMILIES: tuple[Family, ...] = (
    Family("CAS", "ContentAccess", 0.04, "dated", (
        _t(5, "Requesting content {content}.1, size(KB) {n}, under context System with priority Medium", source="contentaccessservice.cpp:1720"),
        _t(4, "Target location for content {content}.1 is C:\\Windows\\ccmcache\\{small}", source="contentaccessservice.cpp:1893"),
        _t(4, "Submitted CTM job {job} to download Content {content}.1 under context System", source="contentrequest.cpp:805"),
        _t(3, "Download completed for content {content}.1 under context System", source="contentrequest.cpp:1032"),
        _t(3, "CContentAccessService::NotifyDownloadComplete Start Content Hashing", source="contentaccessservice.cpp:2402"),
        _t(3, "Hash verification succeeded for content {content}.1 downloaded under context System", source="contentaccessservice.cpp:2466"),
        _t(2, "Cache location C:\\Windows\\ccmcache\\{small}, cache size {n} KB, free {n} KB", source="cachemanager.cpp:610"),
        _t(0.3, "Download failed for content {content}.1 under context System, error {code}", 3, "contentrequest.cpp:1120"),
        _t(0.2, "Not enough space in Cache", 2, "cachemanager.cpp:1712"),
    )),
    Family("CIAgent", "CIAgentJob", 0.06, "dated", (
        _t(6, "CIAgentJob({job}): CAgentJob::VerifyCIJobIsRunning - Job is in progress", source="ciagentjob.cpp:1330"),
        _t(5, "CCIInfo::SetDCMInfo: CI ScopeId_{source}/SUM_{uid} version 200 ({title})", source="ciinfo.cpp:412"),
        _t(4, "CIAgentJob({job}): Reporting job status, state {small}", source="ciagentjob.cpp:2043"),
        _t(3, "CIStateStore: Processing CI SUM_{uid}, revision 200", source="cistatestore.cpp:880"),
        _t(0.3, "CIAgentJob({job}): CAgentJob::EnforceCI failed for CI SUM_{uid}, error {code}", 3, "ciagentjob.cpp:2210"),
    )),
    Family("CcmExec", "CcmExec", 0.02, "lo_", (
        _t(5, "Invoking Client Health Evaluation task.", source="healthtasks.cpp:88"),
        _t(5, "Received and scheduled message for endpoint 'direct:{guid}'", source="ccmexec.cpp:2877"),
        _t(3, "Service startup system task", source="systemtasks.cpp:31"),
        _t(2, "Phase 1 initialization completed ({small} tasks).", source="ccmexec.cpp:2043"),
        _t(0.2, "Service did not respond in time, error {code}", 2, "ccmexec.cpp:3110"),
    )),
    Family("CcmMessaging", "CcmMessaging", 0.08, "dated", (
        _t(6, "Sending async message '{guid}' to outgoing queue 'mp:mp_relayendpoint'", source="ccmmessaging.cpp:1942"),
        _t(6, "OutgoingMessage(Queue='mp_mp_relayendpoint', ID={guid}): Delivered successfully to host '{mp}'.", source="httpprotocol.cpp:2233"),
        _t(3, "Sending message '{guid}' to outgoing queue 'mp:mp_locationmanager'", source="ccmmessaging.cpp:1942"),
        _t(2, "Message '{guid}' queued to endpoint 'mp_policymanager' (reply to '{guid2}')", source="ccmmessaging.cpp:2201"),
        _t(0.4, "Post to http://{mp}/ccm_system/request failed with 0x87d00231.", 3, "httpprotocol.cpp:1511"),
        _t(0.3, "[CCMHTTP] ERROR: URL=http://{mp}/ccm_system/request, Port=80, Options=224, Code=0, Text=CCM_E_BAD_HTTP_STATUS_CODE", 3, "httpprotocol.cpp:1468"),
    )),
    Family("ContentTransferManager", "ContentTransferManager", 0.04, "lo_", (
        _t(4, "Starting CTM job {job}.", source="ctmjob.cpp:512"),
        _t(4, "Queued location request '{guid}' for CTM job '{job}'.", source="ctmjob.cpp:1807"),
        _t(5, "CCTMJob::EvaluateState(JobID={job}, State=DownloadingData)", source="ctmjob.cpp:2401"),
        _t(4, "Persisted location 'http://{dp}/SMS_DP_SMSPKG$/{content}', Order 0, for CTM job {job}", source="ctmjob.cpp:1930"),
        _t(3, "CTM job {job} (corresponding DTS job {guid}) started download from 'http://{dp}/SMS_DP_SMSPKG$/{content}' for full content download.", source="ctmjob.cpp:3307"),
        _t(3, "CTM job {job} entered phase CCM_DOWNLOADSTATUS_DOWNLOADING_DATA", source="ctmjob.cpp:3345"),
        _t(3, "CCTMJob::EvaluateState(JobID={job}, State=Success)", source="ctmjob.cpp:2401"),
        _t(0.3, "Received empty location update for CTM Job {job}", 2, "ctmjob.cpp:1880"),
        _t(0.3, "CTM job {job} has no more locations to try, error {code}.", 3, "ctmjob.cpp:3620"),
    )),
    Family("DataTransferService", "DataTransferService", 0.12, "dated", (
        _t(5, "DTSJob {job} created to download from 'http://{dp}:80/SMS_DP_SMSPKG$/{content}' to 'C:\\Windows\\ccmcache\\{small}'.", source="dtsjob.cpp:521"),
        _t(8, "DTSJob {job} in state 'DownloadingData'.", source="dtsjob.cpp:3044"),
        _t(4, "DTSJob {job} in state 'RetrievedManifest'.", source="dtsjob.cpp:3044"),
        _t(4, "Starting BITS job '{guid}' for DTS job '{job}' under user 'S-1-5-18'.", source="dtsbitsjob.cpp:388"),
        _t(6, "Job: {job}, Total Files: 1, Transferred Files: 0, Total Bytes: {n}, Transferred Bytes: {n}", source="dtsbitsjob.cpp:701"),
        _t(3, "DTSJob {job} successfully completed download.", source="dtsjob.cpp:3255"),
        _t(1, "DTS job {job} has completed:\r\nStatus : SUCCESS,\r\nStart time : 01/15/2024 09:12:04,\r\nCompletion time : 01/15/2024 09:12:31,\r\nElapsed time : {small} seconds", source="dtsjob.cpp:3390"),
        _t(0.4, "CDTSJob::HandleErrors: DTS Job '{job}' BITS Job '{guid}' under user 'S-1-5-18' OldErrorCount 0 NewErrorCount 1 ErrorCode {code}", 2, "dtsjob.cpp:2611"),
        _t(0.2, "Failed to set proxy to bits job for url 'http://{dp}:80/SMS_DP_SMSPKG$/{content}'. Error 0x87d00215", 3, "dtsbitsjob.cpp:1203"),
    )),
    Family("InventoryAgent", "InventoryAgent", 0.04, "lo_", (
        _t(6, "Collection: Namespace = \\\\localhost\\root\\cimv2; Query = SELECT __CLASS, __PATH, __RELPATH, Caption, Description, InstallDate, Name, Status FROM Win32_Service; Timeout = 600 secs.", source="collectiontask.cpp:478"),
        _t(4, "Inventory: Action={guid}, ReportType=Delta, ReportVersion={n}", source="inventoryaction.cpp:1022"),
        _t(3, "Inventory: Successfully sent report. Destination:mp:MP_HinvEndpoint, ID: {guid}, Timeout: 80640 minutes MsgMode: Signed, Not Encrypted", source="inventoryaction.cpp:1301"),
        _t(0.2, "Collection: Class \"SMS_Processor\" does not exist out.", 2, "collectiontask.cpp:514"),
    )),
    Family("LocationServices", "LocationServices", 0.07, "dated", (
        _t(4, "Attempting to retrieve local MP from AD", source="lsad.cpp:1220"),
        _t(3, "Calling back with the following WSUS locations", source="lswsus.cpp:472"),
        _t(3, "WSUS Path='{sup}', Server='CM01.CONTOSO.LOCAL', Version='{version}'", source="lswsus.cpp:479"),
        _t(3, _XML_LOCATION_REPLY, source="ccmlocation.cpp:1350"),
        _t(3, "Distribution Point='http://{dp}/SMS_DP_SMSPKG$/{content}', Locality='LOCAL', DPType='SERVER', Version='9106', Capabilities='<Capabilities SchemaVersion=\"1.0\"><Property Name=\"SSLState\" Value=\"0\"/></Capabilities>', Signature='http://{dp}/SMS_DP_SMSSIG$/{content}', ForestTrust='TRUE',", source="ccmlocation.cpp:1466"),
        _t(3, "Calling back with locations for location request {guid}", source="ccmlocation.cpp:1531"),
        _t(0.3, "Failed to send WSUS location request, error {code}", 3, "lswsus.cpp:240"),
    )),
    Family("PolicyAgent", "PolicyAgent_PolicyDownload", 0.06, "dated", (
        _t(4, "Requesting Machine policy assignments", source="policyagentendpoint.cpp:198"),
        _t(3, "Successfully initiated download of policy 'CCM_Policy_Policy5.PolicyID=\"{deployment}\",PolicySource=\"SMS:C01\",PolicyVersion=\"{small}.00\"'", source="policydownloadendpoint.cpp:292"),
        _t(3, "Download of policy CCM_Policy_Policy5.PolicyID=\"{deployment}\",PolicySource=\"SMS:C01\",PolicyVersion=\"{small}.00\" completed (DTS Job ID: {guid})", source="policydownloadendpoint.cpp:417"),
        _t(3, "Policy 'CCM_Policy_Policy5.PolicyID=\"{deployment}\",PolicySource=\"SMS:C01\",PolicyVersion=\"{small}.00\"' successfully compiled", source="policyagent.cpp:1560"),
        _t(2, "Received delta policy update with {small} assignments", source="replyassignments.cpp:1184"),
        _t(0.2, "Policy download failed, error {code}", 3, "policydownloadendpoint.cpp:520"),
    )),
    Family("PolicyEvaluator", "PolicyAgent_PolicyEvaluator", 0.05, "lo_", (
        _t(5, "Updating policy CCM_Policy_Policy5.PolicyID=\"{deployment}\",PolicySource=\"SMS:C01\",PolicyVersion=\"{small}.00\"", source="policyutil.cpp:7"),
        _t(5, "Applied policy CCM_Policy_Policy5.PolicyID=\"{deployment}\",PolicySource=\"SMS:C01\",PolicyVersion=\"{small}.00\"", source="policyutil.cpp:7"),
        _t(3, "Policy state for [CCM_Policy_Policy5.PolicyID=\"{deployment}\",PolicySource=\"SMS:C01\",PolicyVersion=\"{small}.00\"] is currently [Active]", source="policyevaluator.cpp:1217"),
    )),
    Family("ScanAgent", "ScanAgent", 0.03, "lo_", (
        _t(3, "CScanAgent::ScanByUpdates- Policy available for UpdateSourceID={source} ContentVersion={version}", source="cscanagent.cpp:2431"),
        _t(3, "Requesting WSUS Server Locations from LS for {source} version {version}", source="scanjob.cpp:1005"),
        _t(3, "CScanJob::OnLocationUpdate- Received Location={sup}, Version={version}", source="scanjob.cpp:1189"),
        _t(3, "CScanJob::Execute - successfully requested Scan, ScanType=1", source="scanjob.cpp:594"),
        _t(3, "Raised UpdateSource ({source}) state message successfully. StateId = 3", source="cscanagent.cpp:1844"),
        _t(0.3, "CScanJob::Execute- Failed at AddUpdateSource, Error = {code}", 3, "scanjob.cpp:640"),
    )),
    Family("Scheduler", "Scheduler", 0.02, "lo_", (
        _t(4, "SMSTrigger '{guid}' for scheduler 'Machine/DEADLINE:{deployment}' will fire at 01/20/2024 02:00:00", source="smstrigger.cpp:325"),
        _t(4, "Sending message for schedule 'Machine/DEADLINE:{deployment}' (Target: 'direct:UpdatesDeploymentAgent', Name: '')", source="scheduler.cpp:968"),
        _t(3, "Sending message for schedule 'Machine/{{00000000-0000-0000-0000-000000000113}}' (Target: 'direct:ScanAgent', Name: '')", source="scheduler.cpp:968"),
    )),
    Family("StateMessage", "StateMessage", 0.06, "dated", (
        _t(5, "Adding message with TopicType 500 and TopicId {uid} to WMI", source="statemsg.cpp:813"),
        _t(5, "State message(State ID : 2) with TopicType 500 and TopicId {uid} has been recorded for SYSTEM", source="statemsg.cpp:1081"),
        _t(2, "Successfully forwarded State Messages to the MP", source="statemsgforwarder.cpp:512"),
        _t(0.2, "Failed to forward state messages to the MP, error {code}", 3, "statemsgforwarder.cpp:530"),
    )),
    Family("UpdatesDeployment", "UpdatesDeploymentAgent", 0.08, "dated", (
        _t(4, "Update (Site_{source}/SUM_{uid}) Name ({title}) ArticleID ({kb}) added to the targeted list of deployment ({deployment})", source="updatesmanager.cpp:2145"),
        _t(3, "Raised assignment ({deployment}) state message successfully. TopicType = Evaluate, StateId = 2, StateName = ASSIGNMENT_EVALUATE_SUCCESS", source="assignment.cpp:1422"),
        _t(3, "Update (Site_{source}/SUM_{uid}) Progress: Status = ciStateDownloading, PercentComplete = {small}, DownloadSize = {n}, Result = 0x0", source="cupdatesjob.cpp:1893"),
        _t(3, "EnumerateUpdates for action (UpdateActionInstall) - Total actionable updates = {small}", source="cupdatesjob.cpp:402"),
        _t(2, "No current service window available to run updates assignment with time required = 600", source="deploymentutils.cpp:681"),
        _t(2, "CTargetedUpdatesManager::DetectRebootPendingUpdates - Total Pending reboot updates = 0", source="updatesmanager.cpp:3976"),
        _t(0.3, "Job error ({code}) received for assignment ({deployment}) action", 3, "assignment.cpp:1702"),
        _t(0.3, "Update (Site_{source}/SUM_{uid}) Progress: Status = ciStateError, PercentComplete = 0, Result = {code}", 2, "cupdatesjob.cpp:1893"),
    )),
    Family("UpdatesHandler", "UpdatesHandler", 0.04, "lo_", (
        _t(4, "Initiating download for the job ({job}).", source="cdeploymentjob.cpp:447"),
        _t(4, "Update Id = {uid}, State = StateDownloading, Result = 0x0", source="cupdatehandler.cpp:1288"),
        _t(3, "Timeout Options: Priority = 2, DPLocality = 80, Location = 604800, Download = 864000, PerDPInactivity = 0, TotalInactivity = 0, UseBranchCache = true, UseCloudDP = false", source="cdeploymentjob.cpp:472"),
        _t(2, "Updates scan completion received, result = 0x0.", source="capplicabilityhandler.cpp:100"),
        _t(0.3, "CDeploymentJob -- Failed to download update ({uid}). Error = {code}", 3, "cdeploymentjob.cpp:1102"),
    )),
    Family("UpdatesStore", "UpdatesStore", 0.07, "dated", (
        _t(5, "Processing update status from update ({uid}) with ProductID = {uid}", source="cupdatesstore.cpp:331"),
        _t(4, "Update status from update ({uid}) hasn't been reported before, creating new instance.", source="cupdatesstore.cpp:368"),
        _t(4, "Successfully raised state message for update ({uid}) with state (Missing).", source="cupdatesstore.cpp:1253"),
        _t(3, "Successfully added WMI instance of update status ({uid}).", source="cupdatesstore.cpp:402"),
        _t(0.3, "Failed to refresh Resync state message. Error = 0x87d00310.", 3, "cupdatesstore.cpp:1475"),
        _t(0.3, "Successfully raised Resync state message.", source="cupdatesstore.cpp:1479"),
    )),
    Family("WUAHandler", "WUAHandler", 0.10, "dated", (
        _t(10, "Update (Missing): {update}", source="cwuahandler.cpp:4050"),
        _t(8, "Update (Installed): {update}", source="cwuahandler.cpp:4050"),
        _t(1, "Its a WSUS Update Source type ({source}), adding it.", source="sourcemanager.cpp:1461"),
        _t(1, "Search Criteria is (DeploymentAction=* AND Type='Software') OR (DeploymentAction=* AND Type='Driver')", source="cwuahandler.cpp:3677"),
        _t(1, "Async searching of updates using WUAgent started.", source="cwuahandler.cpp:1004"),
        _t(1, "Async searching completed.", source="cwuahandler.cpp:2810"),
        _t(1, "Successfully completed scan.", source="cwuahandler.cpp:4317"),
        _t(1, "Pruning: update id ({uid}) is superseded by ({uid}).", source="cwuahandler.cpp:3950"),
        _t(0.15, "OnSearchComplete - Failed to end search job. Error = {code}.", 3, "cwuahandler.cpp:2845"),
        _t(0.15, "Scan failed with error = {code}.", 3, "cwuahandler.cpp:4330"),
    )),
)

WINDOWS_UPDATE_TEMPLATES = (
    _t(6, "* START *   Finding updates CallerId = CcmExec  Id = {small}"),
    _t(5, "Found {small} updates and {small} categories in search"),
    _t(6, "Update {uid}.200 is pruned out due to potential supersedence"),
    _t(4, "ProtocolTalker  SyncUpdates round trips: {small}"),
    _t(4, "* END *   Finding updates CallerId = CcmExec, Id = {small}, Exit code = 0x00000000"),
    _t(3, "WSUS server: {sup}"),
    _t(3, "Deployment job Id {guid} : Update {uid}.200 downloaded. Last error 0x00000000"),
    _t(0.4, "*FAILED* [80244022] SyncUpdates_WithRecovery failed", 3),
    _t(0.2, "*FAILED* [8024401C] Method failed [CAgentUpdateManager::DetectForServices:1035]", 3),
)
WINDOWS_UPDATE_COMPONENTS = ("Agent", "ComApi", "ProtocolTalker", "DownloadManager", "Handler")

CBS_TEMPLATES = (
    _t(6, "Exec: Processing started.  Client: WindowsUpdateAgent, Session: {n}_{n}, Package: Package_for_RollupFix~31bf3856ad364e35~amd64~~17763.{n}.1.6"),
    _t(5, "Appl: detect Parent, Package: Package_for_KB{kb}~31bf3856ad364e35~amd64~~10.0.1.3, Parent: Microsoft-Windows-Foundation-Package~31bf3856ad364e35~amd64~~10.0.17763.1, Disposition = Detect, VersionComp: EQ, ServiceComp: GE, BuildComp: EQ, DistributionComp: GE, RevisionComp: GE, Exist: present"),
    _t(5, "Loaded Servicing Stack v10.0.17763.{small} with Core: C:\\Windows\\winsxs\\amd64_microsoft-windows-servicingstack_31bf3856ad364e35_10.0.17763.{small}_none_{n}\\cbscore.dll"),
    _t(4, "Session: {n}_{n} initialized by client WindowsUpdateAgent, external staging directory: (null), external registry directory: (null)"),
    _t(0.3, "Failed to resolve package 'Package_for_KB{kb}~31bf3856ad364e35~amd64~~10.0.1.3' [HRESULT = 0x800f0831 - CBS_E_STORE_CORRUPTION]", 3),
    _t(0.3, "Store corruption, manifest missing for package: Package_for_KB{kb}~31bf3856ad364e35~amd64~~10.0.1.3", 3),
)


# fmt: on


class _Picker:
    """Chooses templates by weight with one random draw."""

    def __init__(self, templates: tuple[Template, ...], rng: random.Random):
        self.templates = templates
        self.cumulative = list(itertools.accumulate(t.weight for t in templates))
        self.rng = rng

    def __call__(self) -> Template:
        draw = self.rng.random() * self.cumulative[-1]
        return self.templates[bisect.bisect_right(self.cumulative, draw)]


LineWriter = Callable[[Template, datetime, str], str]  # template, time, message -> text


def _text_lines(
    picker: _Picker, vocab: Vocabulary, write: LineWriter, start: datetime, end: datetime, size: int
) -> Iterator[str]:
    """Chunks of text of about `size` characters whose times run from `start` to `end`.

    A line's time follows its place in the file, so the file covers its stretch evenly
    and its last line falls on `end`, the time its name and zip entry carry.
    """
    written, chunk, chunk_chars = 0, [], 0
    span = end - start
    while written < size:
        template = picker()
        when = start + span * min(written / size, 1.0)
        line = write(template, when, template.text.format_map(vocab))
        chunk.append(line)
        chunk_chars += len(line)
        written += len(line)
        if chunk_chars >= CHUNK_CHARS:
            yield "".join(chunk)
            chunk, chunk_chars = [], 0
    if chunk:
        yield "".join(chunk)


def _split_family(family_bytes: int, history: str) -> list[int]:
    """Sizes of a log's files, oldest first: rotated parts, then the current file."""
    if history == "lo_":
        return [family_bytes * 3 // 5, family_bytes - family_bytes * 3 // 5]
    # Small benchmark sizes still get a few history files, as a log kept with history has.
    file_bytes = min(HISTORY_FILE_BYTES, family_bytes // 3)
    full, rest = divmod(family_bytes, file_bytes)
    return [file_bytes] * full + [max(rest, 64 * 1024)]


def _member_names(family: Family, ends: list[datetime]) -> list[str]:
    current = f"Logs/{family.name}.log"
    if family.history == "lo_":
        return [f"Logs/{family.name}.lo_", current]
    return [f"Logs/{family.name}-{end:%Y%m%d-%H%M%S}.log" for end in ends[:-1]] + [current]


def _write_member(
    archive: zipfile.ZipFile, name: str, last_write: datetime, chunks, bom: bool
) -> int:
    info = zipfile.ZipInfo(name, date_time=last_write.timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    written = 0
    with archive.open(info, "w") as member:
        if bom:
            member.write(BOM)
        for chunk in chunks:
            data = chunk.encode("utf-8")
            member.write(data)
            written += len(data)
    return written


@dataclass
class BuildStats:
    members: int = 0
    uncompressed: int = 0
    seconds: float = 0.0


def build_big_zip(path: Path, megabytes: int = 300, seed: int = 1) -> BuildStats:
    """Writes the zip to `path`: about `megabytes` MiB of log text once uncompressed."""
    rng = random.Random(seed)
    vocab = Vocabulary(rng)
    total = megabytes * MIB
    ccm_total = int(total * (1 - WINDOWS_UPDATE_SHARE - CBS_SHARE))
    shares = sum(family.share for family in FAMILIES)
    stats = BuildStats()
    began = time.perf_counter()

    def cmtrace_writer(component: str, threads: tuple[int, ...]) -> LineWriter:
        def write(template: Template, when: datetime, message: str) -> str:
            line = Line(message, when, component, template.severity, rng.choice(threads))
            return cmtrace_record(line, BIAS, template.source) + "\r\n"

        return write

    def windows_writer(render, components: tuple[str, ...]) -> LineWriter:
        threads = tuple(rng.randint(1000, 12000) for _ in range(8))

        def write(template: Template, when: datetime, message: str) -> str:
            line = Line(
                message, when, rng.choice(components), template.severity, rng.choice(threads)
            )
            return render([line])

        return write

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for family in sorted(FAMILIES, key=lambda f: f.name):
            sizes = _split_family(int(ccm_total * family.share / shares), family.history)
            # Each file covers a stretch of the month in proportion to its size.
            ends, covered = [], 0
            for size in sizes:
                covered += size
                ends.append(SPAN_START + (SPAN_END - SPAN_START) * (covered / sum(sizes)))
            starts = [SPAN_START, *ends[:-1]]
            threads = tuple(rng.randint(1000, 12000) for _ in range(6))
            writer = cmtrace_writer(family.component, threads)
            picker = _Picker(family.templates, rng)
            for name, start, end, size in zip(
                _member_names(family, ends), starts, ends, sizes, strict=True
            ):
                chunks = _text_lines(picker, vocab, writer, start, end, size)
                stats.uncompressed += _write_member(archive, name, end, chunks, bom=True)
                stats.members += 1

        for name, share, templates, writer in (
            (
                "WindowsUpdate.log",
                WINDOWS_UPDATE_SHARE,
                WINDOWS_UPDATE_TEMPLATES,
                windows_writer(wulog_etw, WINDOWS_UPDATE_COMPONENTS),
            ),
            ("CBS.log", CBS_SHARE, CBS_TEMPLATES, windows_writer(cbs_log, ("CBS", "CSI"))),
        ):
            chunks = _text_lines(
                _Picker(templates, rng), vocab, writer, SPAN_START, SPAN_END, int(total * share)
            )
            stats.uncompressed += _write_member(archive, name, SPAN_END, chunks, bom=False)
            stats.members += 1

    stats.seconds = time.perf_counter() - began
    return stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path, help="zip file to write")
    parser.add_argument("--mb", type=int, default=300, help="uncompressed size in MiB (300)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (1)")
    args = parser.parse_args(argv)
    if args.mb < 1:
        parser.error("--mb must be at least 1")
    stats = build_big_zip(args.output, args.mb, args.seed)
    compressed = args.output.stat().st_size
    print(
        f"wrote {args.output}: {stats.members} files, {stats.uncompressed / MIB:.0f} MiB of logs, "
        f"{compressed / MIB:.1f} MiB zipped ({stats.uncompressed / compressed:.1f}x) "
        f"in {stats.seconds:.1f}s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
