"""`sccm error CODE`: what an error code means, whichever way it was written.

A code listed in data/error_codes.yaml answers from there (`known: true`). Any other
well-formed code still answers (`known: false`) with what its family says: the range or
facility it belongs to, named as precisely as the bundled tables allow (Win32 and WinHTTP
numbers by name, BITS HTTP statuses by reason phrase, Windows Update Agent sub-ranges...).

Accepted spellings (see `knowledge.codes.normalize_code`):
- hex, with or without 0x and in any case: 0x80244010, 80244010, 0X80244010, 0x87d00310
- a log-style label in front: hr=0x8024401c, hr=8024401C, "Error = 0x87d00310."
- signed decimal as Software Center and reports print it: -2145107952
- unsigned decimal: 2149859344
- a Win32 error number, 1 to 65535 (1603, 3010, 0x5): it becomes its HRESULT 0x8007XXXX,
  because that is how the same failure appears in ConfigMgr logs (1603 -> 0x80070643).
  A bare run of 8 digits (80070643) is read as hex, never as decimal.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from http import HTTPStatus

from pydantic import BaseModel, ConfigDict, ValidationError

from knowledge.codes import normalize_code, to_signed
from knowledge.errors import InputError
from knowledge.kb import DATA_DIR, ErrorCode, KnowledgeError, _read_yaml, kb
from knowledge.models import ErrorInfo, StageId

_HOW_TO_WRITE = "write it as 0x80244010, 80244010 or -2145107952"


# --- reading what the user typed ----------------------------------------------------


def _parse_code(text: str) -> int:
    """The code as an unsigned 32-bit value. Raises InputError for anything else."""
    code = normalize_code(text or "")
    if code is None:
        raise InputError(f"{_shown(text)} is not an error code: {_HOW_TO_WRITE}")
    return int(code, 16)


def _shown(text: str | None) -> str:
    """The input as the error message quotes it: short, so a pasted log stays readable."""
    stripped = (text or "").strip()
    if not stripped:
        return "An empty value"
    return repr(stripped if len(stripped) <= 40 else stripped[:40] + "...")


# --- bundled tables ---------------------------------------------------------------------


class NumberedError(BaseModel):
    """One row of win32_errors.yaml / winhttp_errors.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    number: int
    symbol: str
    meaning: str
    stage: StageId | None = None
    wininet: str | None = None  # WinINet's name for the same number, when it differs


class NumberedTable(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str
    errors: list[NumberedError]


def load_error_codes() -> dict[str, ErrorCode]:
    """error_codes.yaml as {code: entry}, as the knowledge base validated it."""
    return kb().codes


@cache
def _numbered_table(name: str) -> tuple[str, dict[int, NumberedError]]:
    path = DATA_DIR / name
    try:
        table = NumberedTable.model_validate(_read_yaml(path))
    except ValidationError as exc:
        raise KnowledgeError(f"{name}: {exc}") from exc
    return table.source, {row.number: row for row in table.errors}


def win32_error(number: int) -> NumberedError | None:
    return _numbered_table("win32_errors.yaml")[1].get(number)


def winhttp_error(number: int) -> NumberedError | None:
    return _numbered_table("winhttp_errors.yaml")[1].get(number)


# --- families ---------------------------------------------------------------------------

_ERREF = (
    "[MS-ERREF] Windows Error Codes, HRESULT layout and facilities "
    "(learn.microsoft.com/openspecs/windows_protocols/ms-erref)"
)
_WUREF = (
    "Microsoft Learn: Windows Update error reference "
    "(learn.microsoft.com/windows/deployment/update/windows-update-error-reference)"
)
_BITS = (
    "Microsoft Learn: BITS return values "
    "(learn.microsoft.com/windows/win32/bits/bits-return-values)"
)
_CMTRACE = "CMTrace Error Lookup (Ctrl+L) in the ConfigMgr client tools"


@dataclass(frozen=True, slots=True)
class Family:
    """What the range a code falls in says about it."""

    name: str
    meaning: str
    next_step: str
    source: str
    stage: StageId | None = None
    symbol: str | None = None


# Windows Update Agent sub-ranges, keyed by the fourth hex digit (0x8024X...):
# (component, what it does, stage, first step)
_WUA_PARTS: dict[int, tuple[str, str, StageId | None, str]] = {
    0x0: (
        "common errors",
        "a general agent error",
        None,
        "Find the operation (search, download, install) it belongs to in WindowsUpdate.log.",
    ),
    0x1: (
        "Windows Installer minor errors",
        "Windows Installer trouble made the search miss some updates",
        "scan",
        "Check that the Windows Installer service works, then scan again.",
    ),
    0x2: (
        "update handler",
        "the component that installs updates failed (install)",
        "install",
        "Read CBS.log (Windows updates) or the product's installer log at that time.",
    ),
    0x3: (
        "UI",
        "the Windows Update user interface failed",
        None,
        "Usually cosmetic for ConfigMgr; look for a real failure code near it.",
    ),
    0x4: (
        "protocol talker",
        "talking to the update server failed (scan traffic)",
        "scan",
        "Find the HTTP or WinHTTP error next to it in WindowsUpdate.log and test the SUP URL "
        "and port from the client.",
    ),
    0x5: (
        "redirector",
        "handling the redirector cab (wuredir.cab) failed",
        "scan",
        "Reset the Windows Update components (rename SoftwareDistribution) and scan again.",
    ),
    0x6: (
        "download manager",
        "the agent's download of update files failed",
        "download",
        "Check BITS and that the update's content reached ccmcache (WUAHandler.log CopyToCache).",
    ),
    0x7: (
        "offline scan",
        "a search with an offline scan package (wsusscn2.cab) failed",
        "scan",
        "Check the scan package version and the agent version.",
    ),
    0x8: (
        "data store",
        "the agent's local database (SoftwareDistribution\\DataStore) failed",
        "scan",
        "Reset the WUA datastore: stop wuauserv, rename SoftwareDistribution, start wuauserv, "
        "scan again.",
    ),
    0x9: (
        "inventory",
        "collecting or uploading inventory failed",
        None,
        "Read WindowsUpdate.log around it; inventory errors rarely block updates.",
    ),
    0xA: (
        "Automatic Updates",
        "the Automatic Updates service could not handle a request",
        None,
        "Check that wuauserv runs and can start; reset the Windows Update components.",
    ),
    0xB: (
        "service-initiated healing",
        "the agent's self-repair component failed",
        None,
        "Reset the Windows Update components and make sure the agent is current.",
    ),
    0xC: (
        "driver util",
        "handling a driver update failed",
        "scan",
        "Check the driver update's metadata and the device it targets.",
    ),
    0xD: (
        "self-update",
        "the agent could not update itself",
        "scan",
        "Check the WSUS Selfupdate virtual directory and the agent version.",
    ),
    0xE: (
        "expression evaluator",
        "evaluating an update's applicability rules failed",
        "scan",
        "Scan again; reset the WUA datastore if it repeats.",
    ),
    0xF: (
        "reporter",
        "sending events back to the update server failed",
        None,
        "Check WSUS health; this does not stop installs by itself.",
    ),
}

# Windows Update reports WinHTTP errors inside this part of the Win32 range.
_WINHTTP_FIRST, _WINHTTP_LAST = 0x80072EE0, 0x80072FFF
_SXS_FIRST, _SXS_LAST = 14000, 14999


def describe_family(value: int) -> Family:
    """The family a 32-bit code belongs to, named as precisely as the tables allow."""
    upper = value >> 16
    low = value & 0xFFFF
    if value == 0:
        return Family(
            "success (S_OK / ERROR_SUCCESS)",
            "No error: the operation succeeded.",
            "Nothing to do.",
            _ERREF,
            symbol="S_OK",
        )
    if _WINHTTP_FIRST <= value <= _WINHTTP_LAST:
        return _winhttp_family(low)
    if upper == 0x8007:
        return _win32_family(low)
    if upper == 0x8019:
        return _bits_http_family(low)
    if upper == 0x8020:
        return Family(
            "BITS error (BG_E_*)",
            "A Background Intelligent Transfer Service error: the file transfer itself failed.",
            "List the BITS jobs (bitsadmin /list /allusers /verbose) and read "
            "DataTransferService.log for the job's error context.",
            _BITS,
            stage="download",
        )
    if upper == 0x0020:
        return Family(
            "BITS success code (BG_S_*)",
            "A BITS success or information code: not a failure.",
            "Nothing to do on its own.",
            _BITS,
        )
    if upper == 0x8024:
        return _wua_family(value)
    if upper == 0x0024:
        return Family(
            "Windows Update Agent success code (WU_S_*)",
            "A Windows Update Agent success or information code: not a failure.",
            "Nothing to do on its own.",
            _WUREF,
        )
    if upper in (0x87D0, 0x87D2):
        return Family(
            f"Configuration Manager client error (0x{upper:04X}xxxx)",
            "A ConfigMgr client error. Microsoft publishes no symbol for most of these; "
            "CMTrace's Error Lookup shows their text.",
            "Look the code up in CMTrace (Ctrl+L) and read the lines around it in the log "
            "that raised it.",
            _CMTRACE,
        )
    if upper == 0x87D1:
        return Family(
            "Intune / MDM error (0x87D1xxxx)",
            "Most codes in 0x87D1xxxx are Intune or MDM codes (SyncML, app install), "
            "not ConfigMgr software-update codes.",
            "Troubleshoot it on the Intune side (device or app install status) unless a "
            "ConfigMgr log clearly raised it.",
            "Microsoft Learn: Intune app installation error codes "
            "(learn.microsoft.com/troubleshoot/mem/intune/app-management/app-install-error-codes)",
        )
    if upper == 0x800F:
        return Family(
            "servicing stack / CBS error (CBS_E_*, PSFX_E_*)",
            "The Windows servicing stack (Component-Based Servicing) failed while "
            "installing or checking a package.",
            "Read CBS.log at the failure time (search for ', error'); for corruption run "
            "DISM /Online /Cleanup-Image /RestoreHealth and sfc /scannow.",
            "Microsoft Learn: Fix Windows Update corruptions and installation failures "
            "(learn.microsoft.com/troubleshoot/windows-server/installing-updates-features-roles/"
            "fix-windows-update-errors)",
            stage="install",
        )
    if upper == 0x800B:
        return Family(
            "certificate / trust error (CERT_E_*, TRUST_E_*)",
            "A certificate chain or signature did not pass the trust check.",
            "Check the certificate the log line is about: the WSUS SSL certificate at scan "
            "time, the update's signing certificate (Trusted Root, Trusted Publishers) at "
            "install time.",
            _ERREF,
        )
    if upper == 0x8009:
        return Family(
            "security / crypto error (NTE_*, CRYPT_E_*, SEC_E_*)",
            "A cryptography or secure-channel operation failed.",
            "Check certificates, TLS settings and the client's clock; the log line names "
            "the operation.",
            _ERREF,
        )
    if upper == 0x80D0:
        return Family(
            "Delivery Optimization error (DO_E_*)",
            "Delivery Optimization could not finish the download.",
            "Read DeltaDownload.log and the Delivery Optimization log "
            "(Get-DeliveryOptimizationLog); check access to the download URLs and peers.",
            "Microsoft Learn: Common Windows Update errors "
            "(learn.microsoft.com/troubleshoot/windows-client/installing-updates-features-roles/"
            "common-windows-update-errors)",
            stage="download",
        )
    if 0x80041000 <= value <= 0x800410FF:
        return Family(
            "WMI error (WBEM_E_*)",
            "Windows Management Instrumentation refused or failed the request.",
            "Check WMI on the client (winmgmt /verifyrepository) and the namespace or class "
            "in the log line; a damaged repository breaks the ConfigMgr client.",
            "Microsoft Learn: WMI Error Constants "
            "(learn.microsoft.com/windows/win32/wmisdk/wmi-error-constants)",
        )
    if upper == 0x8004:
        return Family(
            "COM interface-specific error (FACILITY_ITF, 0x8004xxxx)",
            "Its meaning is defined by the component that returned it.",
            "Read the log line for the component and look the code up in its documentation.",
            _ERREF,
        )
    if upper == 0x8001:
        return Family(
            "COM / RPC error (RPC_E_*)",
            "A call between processes (COM or RPC) failed.",
            "Check that the service that was called is running; restart it or the machine.",
            _ERREF,
        )
    if upper == 0x8000:
        return Family(
            "generic COM error (E_*)",
            "A general Windows/COM failure that does not say which component failed.",
            "Read the lines around it to find the component that failed.",
            _ERREF,
        )
    if value >> 28 == 0xC:
        return Family(
            "NTSTATUS error (STATUS_*)",
            "A kernel-mode status code, typically from a driver or a process that crashed.",
            "Check the Application and System event logs at that time.",
            _ERREF,
        )
    return _facility_family(value)


def _win32_family(number: int) -> Family:
    row = win32_error(number)
    source = _numbered_table("win32_errors.yaml")[0]
    if _SXS_FIRST <= number <= _SXS_LAST:
        name = f"side-by-side (component store) Win32 error {number}"
        return Family(
            f"{name} ({row.symbol})" if row else name,
            row.meaning
            if row
            else "The side-by-side component store could not resolve a component.",
            "Run DISM /Online /Cleanup-Image /RestoreHealth and sfc /scannow; CBS.log names "
            "the component.",
            source,
            stage="install",
            symbol=row.symbol if row else None,
        )
    if row is None:
        return Family(
            f"Win32 error {number}",
            f"Win32 error {number} written as an HRESULT; it is not in our table of common codes.",
            f"Look up system error {number} in Microsoft's System Error Codes and read the log "
            "line for the file, service or path it concerns.",
            source,
        )
    return Family(
        f"Win32 error {number} ({row.symbol})",
        f"Win32 error {number} ({row.symbol}). {row.meaning}",
        "Read the log line around it for the file, service or path it concerns; a Win32 "
        "error says what Windows refused, the log says which step asked.",
        source,
        stage=row.stage,
        symbol=row.symbol,
    )


def _winhttp_family(number: int) -> Family:
    row = winhttp_error(number)
    source = _numbered_table("winhttp_errors.yaml")[0]
    next_step = (
        "WUA scans and BITS downloads both go through WinHTTP: check name resolution, port, "
        "proxy (netsh winhttp show proxy) and TLS between the client and the SUP or DP in "
        "the log line."
    )
    if row is None:
        return Family(
            f"WinHTTP/WinINet error {number}",
            f"Internet error {number} written as an HRESULT; WinHTTP defines no name for it.",
            next_step,
            source,
        )
    also = f", WinINet: {row.wininet}" if row.wininet else ""
    return Family(
        f"WinHTTP error {number} ({row.symbol}{also})",
        f"WinHTTP error {number} ({row.symbol}). {row.meaning}",
        next_step,
        source,
        symbol=row.symbol,
    )


def _bits_http_family(status: int) -> Family:
    try:
        phrase = f" ({HTTPStatus(status).phrase})"
    except ValueError:
        phrase = ""
    return Family(
        f"BITS saw HTTP status {status}{phrase}",
        f"BITS got HTTP {status}{phrase} from the server it downloads from (DP, MP or WSUS).",
        "Take the URL from DataTransferService.log (ccmsetup.log for client installs) and "
        "check it on that server and in its IIS logs.",
        _BITS,
        stage="download",
    )


def _wua_family(value: int) -> Family:
    component, what, stage, next_step = _WUA_PARTS[(value >> 12) & 0xF]
    prefix = f"0x8024{(value >> 12) & 0xF:X}xxx"
    return Family(
        f"Windows Update Agent error, {component} ({prefix})",
        f"A Windows Update Agent error from its {component}: {what}. WUAHandler.log only "
        "passes on what the agent reported.",
        next_step,
        _WUREF,
        stage=stage,
    )


def _facility_family(value: int) -> Family:
    facility = (value >> 16) & 0x7FF
    if value & 0x80000000:
        return Family(
            f"HRESULT failure with facility {facility}",
            f"A failure code from facility {facility}; the component that wrote it defines it.",
            "Read the log line around it to find which component returned it.",
            _ERREF,
        )
    return Family(
        f"success or information code with facility {facility}",
        "The severity bit is clear, so this is not a failure code.",
        "Nothing to do on its own.",
        _ERREF,
    )


# --- the lookup -------------------------------------------------------------------------


def lookup_error(text: str) -> ErrorInfo:
    """What a code means. Raises InputError when `text` is not an error code."""
    value = _parse_code(text)
    code = f"0x{value:08X}"
    family = describe_family(value)
    entry = load_error_codes().get(code)
    described = entry or family  # our table first; what the code's range says otherwise
    return ErrorInfo(
        code=code,
        known=entry is not None,
        symbol=described.symbol,
        decimal=to_signed(code),
        unsigned=value,
        stage=described.stage,
        meaning=described.meaning,
        next_step=described.next_step,
        family=family.name,
        source=described.source,
        routine=entry.routine if entry else False,
        cause=entry.cause if entry else None,
    )
