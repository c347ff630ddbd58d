"""Error codes in every spelling logs and people use, and the look-alikes that are not codes."""

from __future__ import annotations

import re
import unicodedata

import pytest

from knowledge.codes import (
    _CANDIDATES,
    _FAILURE_WORDS,
    _MSI_FAILURE,
    _NOT_A_FAILURE,
    _msi_codes,
    find_codes,
    from_win32,
    normalize_code,
    to_signed,
)


@pytest.mark.parametrize(
    ("message", "codes"),
    [
        ("Scan failed with error = 0x80244010.", ["0x80244010"]),
        ("OnSearchComplete - Failed to end search job. Error = 0x87d00692.", ["0x87D00692"]),
        ("*FAILED* [80244010] SyncUpdates_WithRecovery failed", ["0x80244010"]),
        ("WARNING: ISusInternal::GetUpdateMetadata2 failed, hr=8007000E", ["0x8007000E"]),
        ("WARNING: Send failed with hr = 80072ee2.", ["0x80072EE2"]),
        ("Completed install of CBS update, hr = 0x800736b3", ["0x800736B3"]),
        ("*FAILED* [8024402C] Method failed", ["0x8024402C"]),
        ("*FAILED* [C004F012] Licensing check", ["0xC004F012"]),
        ('Install failed: ErrorCode="-2145107952"', ["0x80244010"]),
        ("Software Center shows -2016410007", ["0x87D00669"]),
        ('ErrorCode="2149859344" Description="..."', ["0x80244010"]),
        ("exit code 2149859344", ["0x80244010"]),
        ("WinHttp request failed. Error: 0x2efd", ["0x80072EFD"]),
        ("failed with error 0x2efd after retries", ["0x80072EFD"]),
        ("[gle=0x80004005]", ["0x80004005"]),
        ("Failed to download files through BITS. Error: 0x80190194", ["0x80190194"]),
        ("Error 80244010 then 0X80244010 again", ["0x80244010"]),
        ("first 0x80070005 then 0x80244010", ["0x80070005", "0x80244010"]),
    ],
)
def test_every_spelling_is_found_and_normalised(message, codes):
    assert find_codes(message) == codes


@pytest.mark.parametrize(
    "message",
    [
        "Updates scan completion received, result = 0x0.",
        "Update 1 (7e1d4a92-3c5b-4e06-a8f7-9b2c6d1e0a53) finished installing (0x00000000)",
        "hr=S_OK",
        "Its a WSUS Update Source type ({5D2C8E41-9A3B-4F70-B6E2-3C1D8F7A9B04}), adding it.",
        "guid {8ed58b3f-0e23-4a0f-bb3b-2bbf6a07b6d3} and E0789628-CE08-4437-BE74-2495B842F43B",
        "tlc: [5b1e07c3d9a24f68e0b3c7d215a9f4e6, Version = 6.1.7601.24117]",
        "Package_for_KB3177467~31bf3856ad364e35~amd64~~6.1.1.1",
        "SHA256 hash 8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa4",
        "Job: {594E9A72}, Total Bytes: 80000000, Transferred Bytes: 81234567",
        "Downloaded 2149859344 bytes",
        "SessionID = 1294367247; TIME_CREATED = 130646479687642814",
        "thread=4242 (0x1092) stack @0x7fed806eb5d",
        "Service exit [Exit code = 0x240001]",
        "CSI 0000004d@2019/04/23:17:34:01.356 Performing 2 operations",
        "Content 14a11199-ee14-4c06-a5a7-68eadf501337.1 removed",
        "time is 0x2efd without any error word",
    ],
)
def test_look_alikes_are_not_codes(message):
    assert find_codes(message) == []


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("0x80244010", "0x80244010"),
        ("80244010", "0x80244010"),
        ("8024401c", "0x8024401C"),
        ("hr=8024401c", "0x8024401C"),
        ("hr = 0x8024401C", "0x8024401C"),
        ("[8024402C]", "0x8024402C"),
        ("-2145107952", "0x80244010"),
        ("2149859344", "0x80244010"),
        ("Error: 0x2efd", "0x80072EFD"),
        ("error 0x2efd", "0x80072EFD"),
        ("0x2efd", "0x80072EFD"),
        ("1603", "0x80070643"),
        ("  0X87d00692. ", "0x87D00692"),
        ("0x0", "0x00000000"),
        ("0x00240001", "0x00240001"),
    ],
)
def test_a_typed_code_is_normalised(typed, code):
    assert normalize_code(typed) == code


@pytest.mark.parametrize(
    "typed", ["", "hr=", "0x", "0x123456789", "banana", "80244010x", "-99999999999", "4294967296"]
)
def test_a_malformed_code_is_refused(typed):
    assert normalize_code(typed) is None


def test_signed_and_win32_conversions():
    assert to_signed("0x80244010") == -2145107952
    assert to_signed("0x00240001") == 0x240001
    assert from_win32(12029) == 0x80072EFD


@pytest.mark.parametrize("number", range(1601, 1651))
@pytest.mark.parametrize(
    "spelling", ["exit code {}", "Error status: {}", "failed with error {}.", "error {}"]
)
def test_every_msi_error_number_passes_the_quick_check(spelling, number):
    # `_msi_codes` skips its regex when the message has no "16" followed by 0-5: every
    # number the regex takes must pass that check, in each of MSI's spellings.
    message = "MSI (s) (A0:B4) " + spelling.format(number)
    assert _msi_codes(message) == [f"0x{0x80070000 | number:08X}"]
    assert _msi_codes(message) == [
        f"0x{0x80070000 | int(m.group('number')):08X}" for m in _MSI_FAILURE.finditer(message)
    ]


_OPENING = re.compile(r"\(\?=\[[^\]]+\]\)\(\?:(.*)\)", re.DOTALL)
# Every spelling the code patterns know, next to every Unicode digit seven (`\d` takes them).
_LOOKAHEAD_TEXTS = [
    "Result = 0x80070643, hr=8024401C [8024402C] error 0x2efd -2145107952 2149859344",
    "{6C9B2F1E-0A38-4C6B-9A51-2F6E3D1A7B20} deadbeef DEADBEEF 12.3456789012 x-0x1",
    "_0x80070005 a80070005 80070005b @80070005 $80070005 /80070005 \\80070005",
    "FAILED: no errors, without Failures, 0 errors, failed = 0, Fatal, ERROR: 1",
    "MSI (s) Return value 3. Exit code 1603; exitcode: 1625 failures: 0 NO ERROR",
    *(
        f"code {d * 10} -{d * 10} {d * 8} fail{d}"
        for d in (chr(c) for c in range(0x110000))
        if unicodedata.decimal(d, None) == 7
    ),
]


@pytest.mark.parametrize("pattern", [_CANDIDATES, _FAILURE_WORDS, _NOT_A_FAILURE])
def test_a_lookahead_only_skips_places_where_no_match_starts(pattern):
    # These patterns open with a lookahead for speed; without it each must find the same
    # matches at the same places, in every spelling, next to any digit and in any case.
    body = _OPENING.fullmatch(pattern.pattern)
    assert body is not None
    plain = re.compile(body.group(1), pattern.flags)
    for text in _LOOKAHEAD_TEXTS + [text.swapcase() for text in _LOOKAHEAD_TEXTS]:
        found = [(m.span(), m.groups()) for m in pattern.finditer(text)]
        assert found == [(m.span(), m.groups()) for m in plain.finditer(text)]
    assert find_codes(_LOOKAHEAD_TEXTS[0]) == [
        "0x80070643",
        "0x8024401C",
        "0x8024402C",
        "0x80072EFD",
        "0x80244010",
    ]
