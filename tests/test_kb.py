"""The knowledge-base data files: they validate against knowledge/kb.py and hang together.

Most tests read one file at a time through the same models `load_kb()` uses, so a broken
file is reported on its own even while other data files are still being written.
"""

import re
from functools import cache

import pytest

from knowledge.kb import (
    DATA_DIR,
    CacheFact,
    Cause,
    KnowledgeBase,
    LogInfo,
    Procedure,
    Stage,
    _parse_list,
    _read_yaml,
    load_kb,
)
from knowledge.models import STAGE_IDS

SCRIPTS_DIR = DATA_DIR / "scripts"

# CONTRACT.md section 1: the stage titles users see.
CONTRACT_TITLES = {
    "client": "Client health",
    "policy": "Policy retrieval",
    "scan": "Compliance scan",
    "evaluate": "Deployment evaluation",
    "locate": "Content location",
    "download": "Content download",
    "cache": "Client cache",
    "install": "Installation",
    "reboot": "Restart",
    "report": "State reporting",
}

# The seed wiki page's three procedures keep their step count (notes/CAUSES.md).
SEED_PROCEDURES = {"not-downloaded": 7, "cache-store": 6, "install-fails": 6}

# Our procedures and the stage each one serves (notes/CAUSES.md).
FACT_PROCEDURES = {
    "client-health": "client",
    "policy-missing": "policy",
    "scan-fails": "scan",
    "evaluate-blocked": "evaluate",
    "content-location": "locate",
    "reboot-pending": "reboot",
    "state-reporting": "report",
}

# The fixed cause vocabulary (notes/CAUSES.md).
CAUSE_IDS = [
    "client.install_failed",
    "client.mp_unreachable",
    "client.not_registered",
    "client.unhealthy",
    "policy.not_received",
    "policy.assignment_missing",
    "scan.gpo_conflict",
    "scan.no_wsus_location",
    "scan.wsus_unreachable",
    "scan.proxy",
    "scan.tls_certificate",
    "scan.wsus_server_error",
    "scan.wua_corrupt",
    "scan.applicability_failed",
    "scan.dns",
    "scan.failed",
    "evaluate.no_maintenance_window",
    "evaluate.deployment_not_active",
    "evaluate.not_applicable",
    "evaluate.failed",
    "locate.no_dp",
    "locate.location_timeout",
    "download.http_404",
    "download.http_auth",
    "download.dns",
    "download.proxy",
    "download.network",
    "download.bits",
    "download.delivery_optimization",
    "download.failed",
    "cache.full",
    "cache.too_small",
    "cache.hash_mismatch",
    "cache.in_use",
    "install.msi_1603",
    "install.max_runtime",
    "install.untrusted_cert",
    "install.component_store",
    "install.servicing_stack",
    "install.hash_mismatch",
    "install.reinstall_loop",
    "install.failed",
    "reboot.pending",
    "report.state_messages_not_sent",
    "report.compliance_unknown",
]
# Causes read from an error code alone, one per stage (issue 12).
CAUSE_IDS += [
    f"{stage}.code"
    for stage in (
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
]

# Causes and procedures added for issue 12 (signatures for certificates, CMG, client setup and
# Windows servicing), kept apart to ease merges.
ISSUE12_CAUSE_IDS = [
    "client.server_certificate",
    "client.cmg_token",
    "client.cmg_forbidden",
    "client.msi_failed",
    "download.server_certificate",
    "install.cbs_installers_failed",
]
CAUSE_IDS += ISSUE12_CAUSE_IDS
ISSUE12_PROCEDURES = {"client-certificates": "client", "client-setup": "client"}

# Causes and procedures added for current branch (issue 13), kept apart to ease merges.
CURRENT_BRANCH_CAUSE_IDS = [
    "client.provisioning_mode",
    "scan.sup_no_failover",
    "scan.wsus_overloaded",
    "scan.wsus_prerequisite_limit",
    "scan.comanagement_workload",
    "scan.dual_scan",
    "evaluate.prerequisite_missing",
    "locate.wrong_dp",
    "download.iis_request_filtering",
    "download.stale_content",
    "reboot.restart_suppressed",
    "report.summarization_lag",
]
CAUSE_IDS += CURRENT_BRANCH_CAUSE_IDS
CURRENT_BRANCH_PROCEDURES = {
    f"cb-{stage}": stage
    for stage in ("client", "scan", "evaluate", "locate", "download", "cache", "install")
} | {"cb-reboot": "reboot", "cb-report": "report"}

# Catalogue names that signatures refer to (notes/CAUSES.md).
CATALOGUE_NAMES = [
    "ccmsetup.log",
    "ClientIDManagerStartup.log",
    "CcmExec.log",
    "CcmMessaging.log",
    "ClientLocation.log",
    "LocationServices.log",
    "PolicyAgent.log",
    "PolicyEvaluator.log",
    "ScanAgent.log",
    "WUAHandler.log",
    "UpdatesStore.log",
    "StateMessage.log",
    "UpdatesDeployment.log",
    "UpdatesHandler.log",
    "ServiceWindowManager.log",
    "Scheduler.log",
    "CIAgent.log",
    "SdmAgent.log",
    "DCMAgent.log",
    "CAS.log",
    "ContentTransferManager.log",
    "DataTransferService.log",
    "CMBITSManager.log",
    "DeltaDownload.log",
    "RebootCoordinator.log",
    "MaintenanceCoordinator.log",
    "SCNotify.log",
    "execmgr.log",
    "CIDownloader.log",
    "CIStore.log",
    "CIStateStore.log",
    "CITaskMgr.log",
    "AlternateHandler.log",
    "SmsWusHandler.log",
    "FileBITS.log",
    "WindowsUpdate.log",
    "CBS.log",
    "DISM.log",
    "SCClient.log",
    "AppEnforce.log",
    "AppDiscovery.log",
]

# Names from the seed page and public docs that are wrong; the steps must use the real names.
SEED_SLIPS = [
    "ContentTransferService.log",
    "UpdateDeployment.log",
    "UpdateStore.log",
    "UpdateHandler.log",
    "UpdateHander.log",
    "DataTransferServices.log",
]


def _load(model, file_name: str) -> list:
    return _parse_list(model, _read_yaml(DATA_DIR / file_name), file_name)


@cache
def stages() -> dict[str, Stage]:
    return {stage.id: stage for stage in _load(Stage, "stages.yaml")}


@cache
def procedures() -> dict[str, Procedure]:
    return {procedure.id: procedure for procedure in _load(Procedure, "procedures.yaml")}


@cache
def logs() -> list[LogInfo]:
    return _load(LogInfo, "logs.yaml")


@cache
def causes() -> dict[str, Cause]:
    return {cause.id: cause for cause in _load(Cause, "causes.yaml")}


@cache
def cache_facts() -> list[CacheFact]:
    return _load(CacheFact, "cache.yaml")


@cache
def partial_kb() -> KnowledgeBase:
    """The files this test module covers, without codes, signatures and symptoms."""
    return KnowledgeBase(
        stages=stages(),
        procedures=procedures(),
        logs=logs(),
        codes={},
        causes=causes(),
        signatures=[],
        symptoms=[],
        synonyms={},
        cache_facts=cache_facts(),
    )


# --- stages ----------------------------------------------------------------------------------


def test_all_ten_stages_in_pipeline_order_with_contract_titles():
    assert tuple(stages()) == STAGE_IDS
    assert {sid: stage.title for sid, stage in stages().items()} == CONTRACT_TITLES


def test_each_stage_names_catalogue_logs_and_a_procedure_for_that_stage():
    catalogue = {info.name: info for info in logs()}
    for stage in stages().values():
        assert stage.logs, stage.id
        for name in stage.logs:
            assert name in catalogue, f"{stage.id}: {name} is not a catalogue name"
            assert stage.id in catalogue[name].stages, f"{name} does not list stage {stage.id}"
        assert procedures()[stage.procedure].stage == stage.id


# --- procedures ------------------------------------------------------------------------------


@pytest.mark.parametrize(("procedure_id", "step_count"), SEED_PROCEDURES.items())
def test_seed_procedures_keep_their_steps(procedure_id, step_count):
    procedure = procedures()[procedure_id]
    assert procedure.origin == "seed"
    assert len(procedure.steps) == step_count
    assert "Dominik Heinz" in procedure.source


@pytest.mark.parametrize(("procedure_id", "stage"), FACT_PROCEDURES.items())
def test_fact_procedures_have_five_to_eight_steps(procedure_id, stage):
    procedure = procedures()[procedure_id]
    assert procedure.origin == "facts"
    assert procedure.stage == stage
    assert 5 <= len(procedure.steps) <= 8


def test_only_the_known_procedures_exist():
    expected = (
        set(SEED_PROCEDURES)
        | set(FACT_PROCEDURES)
        | set(ISSUE12_PROCEDURES)
        | set(CURRENT_BRANCH_PROCEDURES)
    )
    assert set(procedures()) == expected


def test_steps_use_real_log_names_not_the_seed_slips():
    for procedure in procedures().values():
        texts = [procedure.note or ""] + [step.text for step in procedure.steps]
        for text in texts:
            for slip in SEED_SLIPS:
                assert slip not in text, f"{procedure.id} still says {slip}"


def test_every_source_names_a_findable_document():
    documented = re.compile(r"https?://|Dominik Heinz|kbs\.patchmypc\.com|SDK")
    entries = [
        *stages().values(),
        *procedures().values(),
        *[step for p in procedures().values() for step in p.steps if step.source],
        *logs(),
        *causes().values(),
        *cache_facts(),
    ]
    for entry in entries:
        assert documented.search(entry.source), entry.source


def test_clear_cache_step_points_at_our_script():
    step = procedures()["cache-store"].steps[5]
    assert "knowledge/data/scripts/clear-cache.ps1" in step.text


# --- causes ----------------------------------------------------------------------------------


def test_every_cause_in_the_vocabulary_exists_and_nothing_else():
    assert sorted(causes()) == sorted(CAUSE_IDS)


@pytest.mark.parametrize("cause_id", CAUSE_IDS)
def test_cause_belongs_to_its_stage_and_its_steps_exist(cause_id):
    cause = causes()[cause_id]
    assert cause_id.startswith(cause.stage + ".")
    assert 1 <= len(cause.next) <= 3
    for ref in cause.next:
        procedure = procedures()[ref.procedure]
        assert 1 <= ref.step <= len(procedure.steps), f"{ref.procedure} has no step {ref.step}"
    for code in cause.codes:
        assert re.fullmatch(r"0x[0-9A-F]{8}", code), f"{cause_id}: bad code {code!r}"


def test_step_text_names_the_procedure_and_its_source():
    ref = causes()["scan.gpo_conflict"].next[0]
    text, source = partial_kb().step_text(ref)
    assert "0x87D00692" in text
    assert source.startswith('"Software update scan fails", step 3 (')


# --- log catalogue ---------------------------------------------------------------------------


def test_catalogue_has_every_name_signatures_use():
    names = {info.name for info in logs()}
    assert set(CATALOGUE_NAMES) <= names


def test_no_name_or_alias_points_at_two_logs():
    kb = partial_kb()
    for info in logs():
        for known in (info.name, *info.aliases):
            assert kb.log_by_name(known) is info, f"{known} resolves to another entry"


@pytest.mark.parametrize(
    ("written", "real"),
    [
        ("ContentTransferService.log", "ContentTransferManager.log"),
        ("UpdateDeployment.log", "UpdatesDeployment.log"),
        ("UpdateStore.log", "UpdatesStore.log"),
        ("UpdateHandler.log", "UpdatesHandler.log"),
        ("UpdateHander.log", "UpdatesHandler.log"),
        ("WUAHander.log", "WUAHandler.log"),
        ("DataTransferServices.log", "DataTransferService.log"),
        ("WUAHandler-20240101-120000.log", "WUAHandler.log"),
        ("wuahandler.lo_", "WUAHandler.log"),
        ("Logs\\CAS.log", "CAS.log"),
        ("ccmlogs/UpdatesDeployment.log", "UpdatesDeployment.log"),
        ("WINDOWSUPDATE.LOG", "WindowsUpdate.log"),
    ],
)
def test_misspelled_and_rotated_names_resolve(written, real):
    found = partial_kb().log_by_name(written)
    assert found is not None and found.name == real


@pytest.mark.parametrize(
    ("written", "real"),
    [
        ("SCNotify_CONTOSO@jdoe_1.log", "SCNotify.log"),
        ("SCClient_CONTOSO@jdoe_1-20240101-120000.log", "SCClient.log"),
    ],
)
def test_per_user_log_names_resolve(written, real):
    found = partial_kb().log_by_name(written)
    assert found is not None and found.name == real


def test_unknown_log_name_resolves_to_nothing():
    assert partial_kb().log_by_name("NotAConfigMgrLog.log") is None


def test_logs_outside_ccm_logs_say_where_they_are_and_how_to_collect_them():
    catalogue = {info.name: info for info in logs()}
    for name in ("WindowsUpdate.log", "CBS.log", "DISM.log", "ccmsetup.log"):
        info = catalogue[name]
        assert not info.in_ccm_logs, name
        assert "CCM\\Logs" not in info.location, name
        assert info.how_to_collect, name
    assert "Get-WindowsUpdateLog" in catalogue["WindowsUpdate.log"].how_to_collect
    assert catalogue["CBS.log"].location == "C:\\Windows\\Logs\\CBS"


def test_component_tags_that_differ_from_file_names():
    catalogue = {info.name: info for info in logs()}
    assert "UpdatesDeploymentAgent" in catalogue["UpdatesDeployment.log"].components
    assert "ContentAccess" in catalogue["CAS.log"].components
    assert "PolicyAgent_PolicyEvaluator" in catalogue["PolicyEvaluator.log"].components
    assert {"PolicyAgent_ReplyAssignments", "PolicyAgent_PolicyDownload"} <= set(
        catalogue["PolicyAgent.log"].components
    )


# --- cache facts -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prop", "value"),
    [
        ("Cache Failure Retry Count", "18"),
        ("Cache Failure Retry Interval", "14400"),
        ("Cache Tombstone Content Min Duration", "86400"),
        ("Cache Content Timeout", "2592000"),
    ],
)
def test_cache_facts_carry_the_sitectrl_values(prop, value):
    matching = [f.fact for f in cache_facts() if prop in f.fact]
    assert any(re.search(rf"\b{value}\b", fact) for fact in matching), prop


# --- scripts ---------------------------------------------------------------------------------


def _vbs_code_lines() -> list[str]:
    """VBScript lines without comments, string literals and line continuations."""
    text = (SCRIPTS_DIR / "clear-cache.vbs").read_text(encoding="utf-8")
    text = re.sub(r"\s_\s*\n\s*", " ", text)  # join continued lines
    lines = []
    for line in text.splitlines():
        line = re.sub(r'"[^"]*"', '""', line)
        line = line.split("'", 1)[0].strip()
        if line:
            lines.append(line)
    return lines


def test_vbscript_starts_with_option_explicit():
    assert _vbs_code_lines()[0] == "Option Explicit"


def test_vbscript_blocks_are_balanced():
    lines = _vbs_code_lines()
    block_ifs = [line for line in lines if re.match(r"If\b.*\bThen$", line, re.I)]
    one_line_ifs = [line for line in lines if re.match(r"If\b.*\bThen\b.+", line, re.I)]
    end_ifs = [line for line in lines if re.match(r"End If\b", line, re.I)]
    assert not one_line_ifs, "one-line If statements make End If counting unreliable"
    assert len(block_ifs) == len(end_ifs)
    functions = [line for line in lines if re.match(r"Function\b", line, re.I)]
    assert len(functions) == len([line for line in lines if re.match(r"End Function\b", line)])
    loops = [line for line in lines if re.match(r"For\b", line, re.I)]
    assert len(loops) == len([line for line in lines if re.match(r"Next\b", line, re.I)])


def test_vbscript_assigns_only_declared_names():
    lines = _vbs_code_lines()
    declared: set[str] = set()
    for line in lines:
        if match := re.match(r"(?:Dim|Const)\s+(.*)", line, re.I):
            declared |= {re.split(r"[\s=]", part.strip())[0] for part in match[1].split(",")}
        elif match := re.match(r"Function\s+(\w+)\s*\(([^)]*)\)", line, re.I):
            declared.add(match[1])
            declared |= {arg.strip() for arg in match[2].split(",") if arg.strip()}
    for line in lines:
        target = re.match(r"(?:Set\s+)?(\w+)\s*=", line, re.I) or re.match(
            r"For\s+(?:Each\s+)?(\w+)", line, re.I
        )
        if target:
            assert target[1] in declared, f"{target[1]} is not declared: {line}"


def test_vbscript_uses_the_client_api_and_has_a_dry_run():
    text = (SCRIPTS_DIR / "clear-cache.vbs").read_text(encoding="utf-8")
    for needed in (
        "UIResource.UIResourceMgr",
        "GetCacheElements",
        "DeleteCacheElementEx",
        "/dryrun",
    ):
        assert needed in text
    assert re.search(r"ClearCache = EXIT_NO_CLIENT", text)
    assert re.search(r"Const EXIT_NO_CLIENT = [1-9]", text)


def test_powershell_supports_whatif_and_fails_without_the_client():
    text = (SCRIPTS_DIR / "clear-cache.ps1").read_text(encoding="utf-8")
    assert re.search(r"\[CmdletBinding\(SupportsShouldProcess\s*=\s*\$true", text)
    assert re.search(r"^param\(", text, re.M)
    assert "$PSCmdlet.ShouldProcess(" in text
    assert "DeleteCacheElementEx($element.CacheElementId, $true)" in text
    assert re.search(r"\$ExitNoClient = [1-9]", text)
    assert "exit $ExitNoClient" in text
    assert re.search(r"elevated", text.split("#>", 1)[0], re.I)
    for opening, closing in ("{}", "()", "[]"):
        assert text.count(opening) == text.count(closing), f"unbalanced {opening}{closing}"


# --- the whole knowledge base ----------------------------------------------------------------


def test_whole_kb_loads():
    """Needs every data file, including error_codes.yaml, symptoms.yaml and signatures/."""
    kb = load_kb()
    assert tuple(kb.stages) == STAGE_IDS
    assert set(CAUSE_IDS) <= set(kb.causes)
