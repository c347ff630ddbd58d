"""Error codes in log text and in what people type, in every spelling, as `0xXXXXXXXX`.

The same HRESULT turns up as `0x80244010`, `80244010`, `hr=8024401c`, `[8024402C]`
(WindowsUpdate.log `*FAILED*` lines), `-2145107952` (signed, as Software Center and
reports print it), `2149859344` (unsigned) and, for Win32 errors, `error 0x2efd`
(HRESULT_FROM_WIN32 makes that 0x80072EFD).

Logs are full of hex that is not an error code: GUIDs, hashes, pointers, thread ids
(`0x17FC`), byte counts, success values (`0x0`, `0x00240001`). So the rules are strict:

- `0x` + 8 digits counts when the failure bit is set (first digit 8-F);
- `0x` + up to 4 digits counts only right after an error word (`error`, `err`, `gle`),
  as a Win32 error;
- 8 bare hex digits count when they start with 8 and stand alone (not inside a GUID,
  hash or longer run); all-decimal ones (`80244010` is also a plausible number) only
  when they start with 80 and do not follow a size word such as "bytes"; a bare code
  with another first digit (`C004F012`) counts inside `[...]` or after an error word;
- a negative 10-digit decimal counts when it is a 32-bit value with the failure bit;
- an unsigned 10-digit decimal counts only after an error word (`error`, `code`, `hr`,
  `result`, `status`, `ErrorCode=`), so sizes and tick counts are not mistaken for codes;
- a Windows Installer error number (1601-1650, e.g. 1603) counts only in MSI's own words
  ("return value 3", "exit code 1603", "error status: 1603", "failed with error 1603"), as
  the HRESULT Windows reports for it (1603 -> 0x80070643).

`error_line_codes` is stricter still: the codes of a line that says it failed. That is what
lets a code with no signature decide a diagnosis, so a line that merely mentions a code
("ErrorCode = 0x87D00215" on a retry, "Call progress and error 0") does not count.
"""

from __future__ import annotations

import re

# The cause "<stage>.code" of causes.yaml: a failure read from an error code alone, no
# signature naming its cause.
CODE_CAUSE_SUFFIX = ".code"

# The lookahead names every character a candidate can open with, so that `re` tries the
# four alternatives (and their lookbehinds) only there: a third faster on log lines.
_CANDIDATES = re.compile(
    r"(?=[-\dA-Fa-f])"
    r"(?:(?<![0-9A-Za-z_])0[xX](?P<hex>[0-9A-Fa-f]{1,8})(?![0-9A-Za-z_])"
    r"|(?<![0-9A-Za-z_\-{}.@$\\/])(?P<bare>[0-9A-Fa-f]{8})(?![0-9A-Za-z_\-{}@])"
    r"|(?<![\w.\-])-(?P<negative>\d{10})(?![\w.])"
    r"|(?<![\w.\-])(?P<decimal>\d{10})(?![\w.]))"
)
# The words that make a short hex number a Win32 error.
_WIN32_CONTEXT = re.compile(r"(?:error|\berr|\bgle)\W{0,4}$", re.I)
# The words that make an unsigned decimal, or a bare code, an error code.
_CODE_CONTEXT = re.compile(r"(?:error|\berr|code|\bhr|hresult|result|status|\bgle)\W{0,4}$", re.I)
_SIZE_CONTEXT = re.compile(r"(?:bytes?|size|length|count|total|kb|mb)\W{0,4}$", re.I)
_CONTEXT_CHARS = 24
# Windows Installer's ways of saying an install failed with an error number (1601-1650):
# "return value 3" is MSI's own failure result, which Windows reports as 1603.
_MSI_FAILURE = re.compile(
    r"\breturn value 3\b"
    r"|(?:exit\s*code|error\s*status|error\s*code|return\s*code|failed with (?:error|code)"
    r"|\berror)\W{0,4}(?P<number>16(?:0[1-9]|[1-4]\d|50))(?!\w|\.\d)",
    re.I,
)
_INSTALL_FAILURE = 1603

_FAILURE_BIT = 0x8000_0000
_WIN32_FACILITY = 0x8007_0000


def _hex8(value: int) -> str:
    return f"0x{value:08X}"


def from_win32(number: int) -> int:
    """HRESULT_FROM_WIN32: a Win32 error number as the HRESULT Windows reports."""
    return _WIN32_FACILITY | (number & 0xFFFF)


def find_codes(message: str) -> list[str]:
    """Error codes in a log message, normalised and unique, in order of appearance."""
    found: list[str] = []
    for match in _CANDIDATES.finditer(message):
        code = _judge(message, match)
        if code is not None and code not in found:
            found.append(code)
    for code in _msi_codes(message):
        if code not in found:
            found.append(code)
    return found


# Every number `_MSI_FAILURE` takes (1601-1650) starts so: GUIDs and hashes hold "16"
# often, this far less, and a literal prefix makes the search fast.
_MSI_NUMBER_START = re.compile(r"16[0-5]")


def _msi_codes(message: str) -> list[str]:
    if _MSI_NUMBER_START.search(message) is None and "eturn value" not in message.lower():
        return []  # the common case, decided without the regex
    codes = []
    for match in _MSI_FAILURE.finditer(message):
        number = match.group("number")
        code = _hex8(from_win32(int(number) if number else _INSTALL_FAILURE))
        if code not in codes:
            codes.append(code)
    return codes


# A line says it failed: these words (any case), or MSI's failure result. Every line that
# does holds one of `ERROR_LINE_TEXTS`, so a byte scan can find them all by those texts.
# (Like `_CANDIDATES`, this and `_NOT_A_FAILURE` open with a lookahead for the letters
# their words start with: `re` then tries the alternatives at those places only.)
_FAILURE_WORDS = re.compile(
    r"(?=[efr])(?:fail|error|fatal|\breturn value 3\b|\bexit ?code\W{0,4}16\d\d)",
    re.I | re.ASCII,
)
ERROR_LINE_TEXTS = ("fail", "error", "fatal", "return value 3", "exit code", "exitcode")
# Each failure word's literal part: a line without one of them cannot say it failed.
_FAILURE_LITERALS = ("fail", "error", "fatal", "return value 3", "exit")


def says_failed(message: str) -> bool:
    """Whether the line may say something failed (a quick test before the regexes; `lower`
    folds ASCII letters as the regexes' IGNORECASE does, and only finds more elsewhere)."""
    lower = message.lower()
    return any(word in lower for word in _FAILURE_LITERALS)


# "no error", "error 0", "without errors": a failure word that says nothing failed.
_NOT_A_FAILURE = re.compile(
    r"(?=[nwf0])"
    r"(?:\b(?:no|without|0)\s+(?:errors?|failures?)\b|\bfail(?:ed|ures?)?\W{0,3}(?:=|:)\s*0\b)",
    re.I,
)
# How far (characters) a failure word may be from the code it is about.
_NEAR = 160


def error_line_codes(message: str) -> list[str]:
    """The error codes of a line that says something failed, near the words that say so.

    A code counts when a failure word (failed, failure, error, fatal, `*FAILED*`, MSI's
    "return value 3") stands within a short distance of it in the same message; routine
    lines that carry codes without such a word (or only a "no error") give none.
    """
    if not says_failed(message):
        return []  # most records, decided without the regexes
    words = [m.start() for m in _FAILURE_WORDS.finditer(message)]
    if not words:
        return []
    negated = {m.start() for m in _NOT_A_FAILURE.finditer(message)}
    if negated:
        words = [w for w in words if not any(n <= w < n + 20 for n in negated)]
        if not words:
            return []
    found: list[str] = []
    for match in _CANDIDATES.finditer(message):
        if not any(abs(word - match.start()) <= _NEAR for word in words):
            continue
        code = _judge(message, match)
        if code is not None and code not in found:
            found.append(code)
    for code in _msi_codes(message):
        if code not in found:
            found.append(code)
    return found


def _judge(message: str, match: re.Match) -> str | None:
    before = message[max(0, match.start() - _CONTEXT_CHARS) : match.start()]
    digits = match.group("hex")
    if digits is not None:
        value = int(digits, 16)
        if len(digits) == 8 and value & _FAILURE_BIT:
            return _hex8(value)
        if len(digits) <= 4 and value and _WIN32_CONTEXT.search(before):
            return _hex8(from_win32(value))
        return None
    digits = match.group("bare")
    if digits is not None:
        return _judge_bare(message, match, digits, before)
    digits = match.group("negative")
    if digits is not None:
        value = int(digits)
        return _hex8(2**32 - value) if value <= 2**31 else None
    value = int(match.group("decimal"))
    if _FAILURE_BIT <= value <= 0xFFFF_FFFF and _CODE_CONTEXT.search(before):
        return _hex8(value)
    return None


def _judge_bare(message: str, match: re.Match, digits: str, before: str) -> str | None:
    value = int(digits, 16)
    if not value & _FAILURE_BIT:
        return None
    bracketed = before.endswith("[") and message[match.end() : match.end() + 1] == "]"
    if bracketed or _CODE_CONTEXT.search(before):
        return _hex8(value)
    if digits[0] != "8":
        return None
    if digits.isdigit() and (not digits.startswith("80") or _SIZE_CONTEXT.search(before)):
        return None
    return _hex8(value)


_TYPED_PREFIX = re.compile(
    r"^(?:hr|hresult|error\s*code|errorcode|error|err|exit\s*code|code|result|status|gle)"
    r"\s*[:=]?\s*",
    re.I,
)


def normalize_code(text: str) -> str | None:
    """One code as a person types it, in any spelling, or None if it is not a 32-bit code.

    `80244010`, `0x80244010`, `hr=8024401c`, `[8024402C]`, `-2145107952`, `2149859344`,
    `Error: 0x2efd` all work. A short number (up to 0xFFFF, or a decimal up to 65535)
    is taken as a Win32 error, as `sccm error 0x2efd` and `sccm error 1603` mean.
    """
    typed = text.strip().strip("[](){}\"'.,;").strip()
    typed = _TYPED_PREFIX.sub("", typed).strip().strip("[](){}\"'")
    if not typed:
        return None
    typed_value = _typed_value(typed)
    if typed_value is None:
        return None
    value, short = typed_value
    if not 0 <= value <= 0xFFFF_FFFF:
        return None
    if short and 0 < value <= 0xFFFF:
        value = from_win32(value)
    return _hex8(value)


def _typed_value(typed: str) -> tuple[int, bool] | None:
    """(value, whether it was written short enough to be a Win32 error number)."""
    if typed[:2] in ("0x", "0X"):
        digits = typed[2:]
        if not re.fullmatch(r"[0-9A-Fa-f]{1,8}", digits):
            return None
        return int(digits, 16), len(digits) < 8
    if re.fullmatch(r"-\d{1,10}", typed):
        value = int(typed)
        return (value + 2**32, False) if -(2**31) <= value < 0 else None
    if re.fullmatch(r"[0-9A-Fa-f]{8}", typed):
        return int(typed, 16), False  # eight digits are hex, as WindowsUpdate.log writes them
    if re.fullmatch(r"\d{1,10}", typed):
        return int(typed), True
    if re.fullmatch(r"[0-9A-Fa-f]{1,7}", typed):
        return int(typed, 16), True  # it has a letter, so it can only be hex
    return None


def to_signed(code: str) -> int:
    """'0x80244010' -> -2145107952: the 32-bit code as a signed integer."""
    value = int(code, 16)
    return value - 2**32 if value & _FAILURE_BIT else value
