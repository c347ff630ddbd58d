"""Masking before an answer is shared: names of the customer's machines, people and
networks become stable tokens (`host-1`, `user-1`, `ip-1` ...), the diagnosis stays.

What is masked, wherever it appears in the answer's free text (evidence lines, summary,
notes, file paths, skip reasons):

* host names: fully qualified names (`sccm01.contoso.local` -> `host-1.domain-1`),
  the host of a URL (`http://dp01:80/...`), the server of a UNC path (`\\\\dp01\\share`),
  and afterwards every other mention of a host name learned that way;
* user names: the folder of a profile path (`C:\\Users\\jdoe`), `DOMAIN\\user` after a
  word that says it is an account, `user: jdoe`; then every other mention of them;
* IPv4 and IPv6 addresses (loopback and the unspecified address are kept: they name
  nothing and matter for proxy trouble), SIDs of domain and Entra ID accounts, e-mail
  addresses.

What is kept so the diagnosis still reads: verdict, stage, cause, update ids and other
GUIDs, KB numbers, error codes, log names, times, and public Microsoft host names
(`*.microsoft.com`, `*.windowsupdate.com`, ...), which say where a client went without
saying whose it is.

The same name gets the same token within one answer (one `Masker`), so "host-1 refused
host-2" still tells which machine did what. `redact_diagnosis` and `redact_read_report`
are the entry points for the CLI, the Slack app and the picture and report writers.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Any

from knowledge.models import Diagnosis, FleetReport, ReadReport


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Fields whose values come from the knowledge base or are machine-readable ids: never
# masked (a cause id or a time must stay exactly what it was, and a next step's example
# `http://SERVER:8530` or its source's URL names nobody).
_KEPT_FIELDS = frozenset(
    {
        "next_steps",
        "how_to_collect",
        "error_codes",
        "missing_logs",
        "verdict",
        "stage",
        "stage_title",
        "cause",
        "cause_title",
        "confidence",
        "time",
        "first_time",
        "last_time",
        "first",
        "last",
        "signature",
        "status",
        "outcome",
        "code",
        "symbol",
        "update",
        "furthest_stage",
        "stopped_at",
        "procedure",
        "format",
        "time_zone",
        "encoding",
        "log",
        "source",
    }
)

# Fields that hold a path inside the upload: its folders are named by whoever zipped the
# logs, often after the machine (`WKS-0042/Logs/CAS.log`).
_PATH_FIELDS = frozenset({"file", "path", "name", "rotated_into"})

# Folders of a client's logs and of the usual collection tools: they name no one.
_KNOWN_FOLDERS = _words(
    """
    c d logs log ccm windows ccmsetup smstslog panther temp tmp softwaredistribution
    datastore system32 logfiles cbs dism windowsupdate programdata microsoft sms
    ccmcache setupapi wbem sysnative syswow64 users public appdata local
    """
)

# Last labels that make a dotted word a DNS name rather than a file or a class name:
# the generic ones, the usual internal AD suffixes, and country codes that are not also
# common file extensions (.py, .sh, .md, .ps ... stay file names).
_TLDS = _words(
    """
    com net org edu gov mil int info biz io cloud app dev online site tech
    local lan corp internal intranet intra home localdomain private priv domain
    uk de fr nl be ch at se no dk fi es pt pl cz sk hu ro ie ca au nz jp cn br mx za ru
    us eu sg hk kr tw il ae ar cl lu gr tr ua
    """
)

# Public names: where a client went (Microsoft Update, a CRL) without saying whose it is.
_PUBLIC_DOMAINS = (
    "microsoft.com",
    "windowsupdate.com",
    "windows.com",
    "windows.net",
    "msft.net",
    "live.com",
    "office.com",
    "office.net",
    "azure.com",
    "azureedge.net",
    "digicert.com",
    "verisign.com",
    "akamaiedge.net",
    "akamai.net",
    "delivery.mp.microsoft.com",
    "example.com",
    "github.com",
    "githubusercontent.com",
)

# Accounts and profile folders every Windows machine has: not a person.
_WELL_KNOWN_USERS = _words(
    """
    system administrator admin public default defaultuser0 guest localservice
    networkservice local service network trustedinstaller all default.migrated
    """
)
_WELL_KNOWN_DOMAINS = frozenset({"nt authority", "builtin", "nt service", "workgroup"})

# Words too common to replace wherever they appear, even when a name was learned from
# them (a WSUS server called `wsus.contoso.local` must not turn every "WSUS" into a token).
_COMMON_WORDS = _words(
    """
    wsus sccm configmgr sup mp dp www server servers client clients update updates
    download site sites home share content localhost proxy cache domain host user users
    windows microsoft system admin log logs http https smb dns file files data
    """
)

_ADMIN_SHARES = frozenset({"admin", "ipc", "print"})

# Words that follow "user" or "account" in log lines without being a name.
_NOT_NAMES = _words(
    """
    is was has had not no name id sid token logged logon session context policy policies
    profile the a an of in on for to with from and or cannot can does did account settings
    rights mode type state count interaction notification none null unknown info
    """
)

_ACCOUNT_WORDS = (
    r"(?:user(?:\s*name)?|username|account|logged[- ]on(?:\s+user)?|logon\s+user|"
    r"owner|run\s*as|runas|for\s+user|as\s+user|by\s+user)"
)

_PATTERN = re.compile(
    r"""
    (?P<email>(?<![\w.%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)
  | (?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]{1,15}://)
        (?:(?P<userinfo>[^/\s@:]+)(?::[^/\s@]*)?@)?
        (?P<urlhost>\[[0-9A-Fa-f:.]+\]|[^/\s:?#'"<>\[\]\\]+)
  | (?P<unc>(?<![\w\\])\\\\)(?P<uncserver>[A-Za-z0-9_-][A-Za-z0-9._-]*)(?=\\)
  | (?P<profile>(?:\b[A-Za-z]:)?[\\/](?:Users|Documents\ and\ Settings|home)[\\/])
        (?P<profileuser>[^\\/\s'"<>:|*?]+)
  | (?P<sid>\bS-1-(?:5-21|12-1)(?:-\d+){3,})
  | (?P<accountctx>\b"""
    + _ACCOUNT_WORDS
    + r"""\b[\s:=(\['"]*)
        (?:(?P<acctdomain>[A-Za-z0-9][A-Za-z0-9._-]{0,62}|NT\ AUTHORITY|NT\ SERVICE)\\)?
        (?P<acctuser>[A-Za-z0-9][A-Za-z0-9._$-]{0,62}[A-Za-z0-9$])(?![\w\\/-])
  | (?P<hostctx>\b(?:computer|machine|host|device|netbios|client|server)(?:\s*name)?
        \b[\s:=(\['"]*)(?P<ctxhost>[A-Za-z][A-Za-z0-9-]{1,62})(?![\w\\/.-])
  | (?P<machineacct>(?<![\w$\\-])[A-Za-z0-9][A-Za-z0-9-]{1,14})\$(?![\w$])
  | (?P<ipv4>(?<![\w.~])(?:\d{1,3}\.){3}\d{1,3}(?!\w|\.\d))
  | (?P<ipv6>(?<![\w:.])(?=[0-9A-Fa-f:.]*::|(?:[0-9A-Fa-f]{1,4}:){7})[0-9A-Fa-f:.]{2,45}
        (?:%[\w]+)?(?![\w:]))
  | (?P<fqdn>(?<![\w.@/\\-])(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+
        [A-Za-z]{2,24}(?![\w-]|\.[A-Za-z0-9]))
    """,
    re.VERBOSE | re.IGNORECASE,
)

_KEPT_IPS = frozenset({"127.0.0.1", "0.0.0.0", "255.255.255.255", "::1", "::"})


class Masker:
    """Tokens for one answer: `token("host", "DP01")` is `host-1` every time."""

    def __init__(self) -> None:
        self._tokens: dict[tuple[str, str], str] = {}
        self._counts: dict[str, int] = {}
        self._bare: dict[str, tuple[str, str]] = {}  # learned word -> (kind, name)
        self._bare_pattern: re.Pattern[str] | None = None

    # --- tokens ----------------------------------------------------------------------

    def token(self, kind: str, name: str) -> str:
        key = (kind, name.lower())
        found = self._tokens.get(key)
        if found is None:
            self._counts[kind] = self._counts.get(kind, 0) + 1
            found = f"{kind}-{self._counts[kind]}"
            self._tokens[key] = found
        return found

    def _learn(self, kind: str, name: str) -> None:
        word = name.lower()
        if len(word) < 3 or word in _COMMON_WORDS or word in _WELL_KNOWN_USERS:
            return
        if word not in self._bare:
            self._bare[word] = (kind, name)
            self._bare_pattern = None

    # --- the two passes ----------------------------------------------------------------

    def learn_host(self, name: str) -> None:
        """A name known to be a machine's (a fleet's folder or zip name): masked wherever
        it appears bare."""
        self.token("host", name)
        self._learn("host", name)

    def learn(self, text: str) -> None:
        """Read `text` for names, so that a bare mention elsewhere is masked too."""
        self._replace(text)

    def mask(self, text: str) -> str:
        masked = self._replace(text)
        if not self._bare:
            return masked
        if self._bare_pattern is None:
            words = sorted(self._bare, key=len, reverse=True)
            self._bare_pattern = re.compile(
                r"(?<![\w.-])(?:" + "|".join(re.escape(w) for w in words) + r")(?![\w-])",
                re.IGNORECASE,
            )
        return self._bare_pattern.sub(self._bare_token, masked)

    def mask_path(self, path: str) -> str:
        """A path inside the upload: folders the logs do not name masked as hosts (when
        they look like a machine name) or folders; the file name as free text."""
        parts = re.split(r"([\\/])", path)
        for index in range(0, len(parts) - 1, 2):  # every segment but the file name
            parts[index] = self._folder(parts[index])
        stem, dot, suffix = parts[-1].rpartition(".")
        if dot and suffix.lower() == "zip" and stem:
            # a zip is a folder packed (PC01.zip holds one machine's logs): named the same way
            parts[-1] = self._folder(stem) + dot + suffix
        else:
            parts[-1] = self.mask(parts[-1])
        return "".join(parts)

    def _folder(self, segment: str) -> str:
        if not segment or segment.lower() in _KNOWN_FOLDERS:
            return segment
        masked = self.mask(segment)
        if masked != segment:
            return masked
        if re.fullmatch(r"[A-Za-z0-9-]{1,15}", segment) and any(c.isdigit() for c in segment):
            self._learn("host", segment)  # a NetBIOS-sized name with digits: a machine
            return self.token("host", segment)
        return self.token("folder", segment)

    def _bare_token(self, match: re.Match[str]) -> str:
        kind, name = self._bare[match.group(0).lower()]
        return self.token(kind, name)

    def _replace(self, text: str) -> str:
        return _PATTERN.sub(self._masked, text)

    # --- one match -------------------------------------------------------------------

    def _masked(self, match: re.Match[str]) -> str:
        kind = match.lastgroup
        whole = match.group(0)
        if match.group("email"):
            local = whole.split("@", 1)[0]
            self._learn("user", local)
            return self.token("email", whole)
        if match.group("scheme"):
            return self._url(match)
        if match.group("unc"):
            return "\\\\" + self._host(match.group("uncserver"))
        if match.group("profile"):
            user = match.group("profileuser")
            if user.lower() in _WELL_KNOWN_USERS:
                return whole
            self._learn("user", user)
            return match.group("profile") + self.token("user", user)
        if match.group("sid"):
            return self.token("sid", whole)
        if match.group("accountctx") is not None:
            return self._account(match)
        if match.group("hostctx") is not None:
            return self._context_host(match)
        if match.group("machineacct"):
            name = match.group("machineacct")
            if name.lower() in _ADMIN_SHARES:
                return whole
            self._learn("host", name)
            return self.token("host", name) + "$"
        if match.group("ipv4"):
            return self._ipv4(match)
        if match.group("ipv6"):
            return self._ipv6(whole)
        if match.group("fqdn"):
            return self._fqdn(whole)
        raise AssertionError(f"unhandled pattern group {kind}")  # pragma: no cover

    def _url(self, match: re.Match[str]) -> str:
        host = match.group("urlhost")
        if host.startswith("["):
            masked_host = "[" + self._ipv6(host[1:-1]) + "]"
        elif _is_ipv4(host):
            masked_host = self._ip(host)
        else:
            masked_host = self._host(host)
        userinfo = match.group("userinfo")
        credentials = ""
        if userinfo:
            self._learn("user", userinfo)
            credentials = self.token("user", userinfo) + "@"
        return match.group("scheme") + credentials + masked_host

    def _account(self, match: re.Match[str]) -> str:
        context, user = match.group("accountctx"), match.group("acctuser")
        domain = match.group("acctdomain")
        if _is_sid(user):  # `User: S-1-5-21-...` is a SID; the SID pattern masks it
            return context + self._replace(match.group(0)[len(context) :])
        domain_part = ""
        if domain:
            if domain.lower() in _WELL_KNOWN_DOMAINS:
                domain_part = domain + "\\"
            else:
                self._learn("domain", domain)
                domain_part = self.token("domain", domain) + "\\"
        if user.lower() in _WELL_KNOWN_USERS:
            return context + domain_part + user
        if user.endswith("$") and len(user) > 1:  # a machine account names its host
            self._learn("host", user[:-1])
            return context + domain_part + self.token("host", user[:-1]) + "$"
        if not domain and not _names_a_user(context, user):
            return match.group(0)  # "user 3 of 5", "account is locked": not a name
        self._learn("user", user)
        return context + domain_part + self.token("user", user)

    def _context_host(self, match: re.Match[str]) -> str:
        """`client WKS-0042`, `computer name: FRONTDESK`: a machine's name when it has a
        digit, or is shaped like one after `:` / `=` (so "client version", "server WSUS",
        "Client: Control Panel" stay words)."""
        context, name = match.group("hostctx"), match.group("ctxhost")
        shaped = name.isupper() or "-" in name  # FRONTDESK, PC-KITCHEN; not "Control"
        named = any(c.isdigit() for c in name) or (shaped and any(c in context for c in ":="))
        if not named or name.lower() in _COMMON_WORDS or name.lower() in _NOT_NAMES:
            return match.group(0)
        self._learn("host", name)
        return context + self.token("host", name)

    def _ipv4(self, match: re.Match[str]) -> str:
        address = match.group(0)
        before = match.string[max(0, match.start() - 12) : match.start()].lower()
        if not _is_ipv4(address) or "version" in before or before.rstrip().endswith(" v"):
            return address  # 5.0.0.0 after "version" is a version number
        return self._ip(address)

    def _ip(self, address: str) -> str:
        return address if address in _KEPT_IPS else self.token("ip", address)

    def _ipv6(self, text: str) -> str:
        address, _, zone = text.partition("%")
        try:
            parsed = ipaddress.IPv6Address(address)
        except ValueError:
            return text
        if not any(c not in ":." for c in address) or str(parsed) in _KEPT_IPS:
            return text
        return self.token("ip", parsed.compressed) + (f"%{zone}" if zone else "")

    def _host(self, host: str) -> str:
        """A host of a URL or UNC path: a dotted name, an address or a bare name."""
        if _is_ipv4(host):
            return self._ip(host)
        if "." in host.strip("."):
            return self._fqdn(host, always=True)
        if host.lower() == "localhost":
            return host
        self._learn("host", host)
        return self.token("host", host)

    def _fqdn(self, name: str, *, always: bool = False) -> str:
        lowered = name.lower().rstrip(".")
        if _is_public(lowered):
            return name
        labels = lowered.split(".")
        if not always and labels[-1] not in _TLDS:
            return name  # WUAHandler.log, System.IO: not a DNS name
        if len(labels) == 2 and labels[-1] in _TLDS:
            self._learn("domain", labels[0])
            return self.token("domain", lowered)
        first = name.split(".", 1)[0]
        self._learn("host", first)
        domain = ".".join(labels[1:])
        return self.token("host", first) + "." + self.token("domain", domain)


def _is_ipv4(text: str) -> bool:
    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        return False
    return True


def _is_sid(text: str) -> bool:
    return bool(re.fullmatch(r"S-1-[\d-]+", text, re.IGNORECASE))


def _names_a_user(context: str, word: str) -> bool:
    """An account name without a domain: after `user:` / `user=` / a quote, or shaped
    like one (digits, dots, dashes); never a number or a word such as "is" or the
    "Experience" of "User Experience"."""
    if not word[0].isalpha() or word.lower() in _NOT_NAMES:
        return False
    if any(c in context for c in ':="('):
        return True
    return any(c.isdigit() or c in "._-" for c in word)


def _is_public(name: str) -> bool:
    return any(name == d or name.endswith("." + d) for d in _PUBLIC_DOMAINS)


# --- walking the models ------------------------------------------------------------------


def _rewrite(value: Any, change: Callable[[str, bool], str], key: str | None = None) -> Any:
    """`value` with every string of a field not kept passed through `change(text,
    is_path)`."""
    if key in _KEPT_FIELDS:
        return value
    if isinstance(value, str):
        return change(value, key in _PATH_FIELDS)
    if isinstance(value, dict):
        return {name: _rewrite(item, change, name) for name, item in value.items()}
    if isinstance(value, list):
        return [_rewrite(item, change, key) for item in value]
    return value


def _masked_dump(data: dict, masker: Masker) -> dict:
    def learn(text: str, is_path: bool) -> str:
        if is_path:
            masker.mask_path(text)
        masker.learn(text)
        return text

    def mask(text: str, is_path: bool) -> str:
        return masker.mask_path(text) if is_path else masker.mask(text)

    _rewrite(data, learn)  # first every name, so a bare mention before it is masked too
    return _rewrite(data, mask)


def redact_diagnosis(diagnosis: Diagnosis, masker: Masker | None = None) -> Diagnosis:
    """A copy of `diagnosis` with host, user and network names replaced by tokens.

    Verdict, stage, cause, codes, update ids and times are unchanged. Pass one `masker`
    to several calls (say a diagnosis and its read report) to share tokens between them.
    """
    data = _masked_dump(diagnosis.model_dump(), masker or Masker())
    return Diagnosis.model_validate(data)


def redact_read_report(report: ReadReport, masker: Masker | None = None) -> ReadReport:
    """`sccm logs`' answer with the same masking: file paths, skip reasons and notes."""
    data = _masked_dump(report.model_dump(), masker or Masker())
    return ReadReport.model_validate(data)


def redact_text(text: str, masker: Masker | None = None) -> str:
    """One piece of free text (a title, a file name) with the same masking."""
    masker = masker or Masker()
    masker.learn(text)
    return masker.mask(text)


def redact_fleet_report(report: FleetReport, masker: Masker | None = None) -> FleetReport:
    """`sccm fleet --redact`: machine names (their folders or zips, often host names) and
    everything the rows quote, masked as in `redact_diagnosis`."""
    masker = masker or Masker()
    for row in report.machines:
        masker.learn_host(row.machine)
    for item in report.skipped:  # a path given that could not be read names a machine too
        masker.mask_path(item.name.rstrip("/\\") + "/")
    data = _masked_dump(report.model_dump(), masker)
    # A row's `source` is a path (a Diagnosis's `source` is a kept word: "logs").
    for row, original in zip(data["machines"], report.machines, strict=True):
        row["source"] = masker.mask_path(original.source)
    return FleetReport.model_validate(data)
