"""Format detection and the parser of every format, on lines we write ourselves."""

from __future__ import annotations

import io
import os
from datetime import UTC, datetime

import pytest

from knowledge.formats import PARSERS, detect_format, parse_entries
from knowledge.formats.decoding import open_text
from knowledge.models import ERROR, FORMATS, INFO, VERBOSE, WARNING
from tests.logbuilder import (
    cbs_log,
    cmtrace_log,
    timeline,
    wulog_classic,
    wulog_etw,
)

MORNING = datetime(2024, 3, 5, 8, 0, 0)


def read(content: str | bytes, name: str = "x.log"):
    """(format, entries) of a file, the way the timeline reads it: detect, then parse."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    text, _ = open_text(io.BytesIO(data))
    fmt = detect_format(text.read(16_384), name)
    text, _ = open_text(io.BytesIO(data))
    return fmt, list(parse_entries(fmt, text, f"Logs/{name}"))


def utc(*parts) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_every_contract_format_has_a_parser():
    assert set(PARSERS) == set(FORMATS)


def test_an_unknown_format_name_is_a_bug_not_input():
    with pytest.raises(ValueError):
        parse_entries("xml", io.StringIO(""), "x")


# --- cmtrace -------------------------------------------------------------------------


def _record(message, time, date, component="WUAHandler", kind="1", thread="4242"):
    return (
        f'<![LOG[{message}]LOG]!><time="{time}" date="{date}" component="{component}" '
        f'context="" type="{kind}" thread="{thread}" file="cwuahandler.cpp:100">'
    )


def test_cmtrace_bias_gives_utc_and_every_field_is_read():
    fmt, entries = read(
        cmtrace_log(timeline(MORNING, (0.338, "WUAHandler", "Successfully completed scan.", 3)))
    )
    assert fmt == "cmtrace"
    (entry,) = entries
    assert entry.file == "Logs/x.log" and entry.line == 1
    assert entry.time == utc(2024, 3, 5, 12, 0, 0, 338000)  # +240 is UTC-4
    assert (entry.component, entry.severity, entry.thread) == ("WUAHandler", ERROR, "4242")
    assert entry.message == "Successfully completed scan."


@pytest.mark.parametrize(
    ("time", "date", "expected"),
    [
        ("09:14:07.512+240", "03-11-2022", utc(2022, 3, 11, 13, 14, 7, 512000)),
        ("19:33:19.766-330", "11-28-2014", utc(2014, 11, 28, 14, 3, 19, 766000)),
        ("00:10:00.000-60", "3-7-2016", utc(2016, 3, 6, 23, 10)),  # day changes too
        ("23:50:00.000+480", "12-31-2014", utc(2015, 1, 1, 7, 50)),  # and the year
        ("16:27:01.068+00", "05-08-2020", utc(2020, 5, 8, 16, 27, 1, 68000)),
        ("11:47:36.8422964", "3-7-2016", datetime(2016, 3, 7, 11, 47, 36, 842296)),
        ("9:05:01.5+60", "3-4-2022", utc(2022, 3, 4, 10, 5, 1, 500000)),
        ("11:47:36", "3-7-2016", datetime(2016, 3, 7, 11, 47, 36)),
        ("25:00:00.000+240", "03-11-2022", None),
        ("09:14:07.512+240", "13-45-2021", None),
        ("garbage", "03-11-2022", None),
    ],
)
def test_cmtrace_time_shapes(time, date, expected):
    _, (entry,) = read(_record("m", time, date))
    assert entry.time == expected


def test_cmtrace_severity_from_type():
    content = "\r\n".join(
        _record(f"m{kind}", "08:00:00.000+0", "01-01-2024", kind=kind) for kind in "01239"
    )
    _, entries = read(content)
    assert [e.severity for e in entries] == [VERBOSE, INFO, WARNING, ERROR, INFO]


def test_cmtrace_multi_line_message_keeps_its_lines_and_starting_line_number():
    content = (
        _record("before", "10:00:00.000+0", "3-7-2016")
        + "\n<![LOG[Event object details:\ninstance of CCM_InstanceEvent\n{\n"
        + '        ClassName = "CCM_Application";\n\n};\n'
        + ']LOG]!><time="10:00:01.000+0" date="3-7-2016" component="SCClient" context="" '
        + 'type="0" thread="16" file="">\n'
        + _record("after", "10:00:02.000+0", "3-7-2016")
    )
    _, entries = read(content)
    assert [e.line for e in entries] == [1, 2, 9]
    assert entries[1].message == (
        "Event object details:\ninstance of CCM_InstanceEvent\n{\n"
        '        ClassName = "CCM_Application";\n\n};\n'
    )
    assert entries[1].component == "SCClient" and entries[1].time == utc(2016, 3, 7, 10, 0, 1)


def test_cmtrace_embedded_crlf_in_a_message():
    content = (
        "<![LOG[Failed to correctly receive a WEBDAV HTTP request..\r\n"
        ' (StatusCode at WinHttpQueryHeaders: 401)]LOG]!><time="16:27:05.318+00" '
        'date="05-08-2020" component="ccmsetup" context="" type="3" thread="2872" '
        'file="httphelper.cpp:851">\r\n'
    )
    _, (entry,) = read(content)
    assert entry.message.splitlines() == [
        "Failed to correctly receive a WEBDAV HTTP request..",
        " (StatusCode at WinHttpQueryHeaders: 401)",
    ]
    assert entry.severity == ERROR


def test_cmtrace_attributes_in_another_order_or_missing():
    content = (
        '<![LOG[reordered]LOG]!><time="08:00:00.000+240" component="CAS" date="03-05-2024" '
        'type="2" thread="7">\n'
        '<![LOG[bare]LOG]!><time="08:00:01.000+240" date="03-05-2024" component="CAS">\n'
    )
    _, entries = read(content)
    assert [(e.message, e.component, e.severity, e.thread) for e in entries] == [
        ("reordered", "CAS", WARNING, "7"),
        ("bare", "CAS", INFO, None),
    ]
    assert entries[1].time == utc(2024, 3, 5, 12, 0, 1)


def test_cmtrace_two_records_on_one_line():
    content = _record("one", "08:00:00.000+0", "01-01-2024") + _record(
        "two", "08:00:01.000+0", "01-01-2024"
    )
    _, entries = read(content)
    assert [(e.line, e.message) for e in entries] == [(1, "one"), (1, "two")]


def test_cmtrace_unterminated_record_ends_at_the_next_record():
    content = (
        "<![LOG[this record never closes\nsecond line of it\n"
        + _record("next", "08:00:00.000+0", "01-01-2024")
        + "\n"
    )
    _, entries = read(content)
    assert [(e.line, e.time, e.message) for e in entries] == [
        (1, None, "this record never closes\nsecond line of it\n"),
        (3, utc(2024, 1, 1, 8), "next"),
    ]


def test_cmtrace_unterminated_record_at_the_end_is_capped():
    content = "<![LOG[start\n" + "filler line of the damaged record\n" * 20_000
    _, (entry,) = read(content)
    assert entry.time is None and entry.line == 1
    assert entry.message.count("\n") < 10_001


def test_cmtrace_text_outside_records_is_kept_untimed():
    content = "some note an admin typed\n" + _record("m", "08:00:00.000+0", "01-01-2024")
    _, entries = read(content)
    assert [(e.time, e.message) for e in entries][0] == (None, "some note an admin typed")
    assert len(entries) == 2


def test_cmtrace_utf8_bom_and_lf_only():
    content = cmtrace_log(timeline(MORNING, (0, "CAS", "a"), (1, "CAS", "b")))
    data = b"\xef\xbb\xbf" + content.replace("\r\n", "\n").encode()
    fmt, entries = read(data)
    assert fmt == "cmtrace" and [e.message for e in entries] == ["a", "b"]


# --- simple --------------------------------------------------------------------------

SIMPLE = (
    "SMS_EXECUTIVE started.  $$<SMS_EXECUTIVE>"
    "<03-05-2024 08:00:00.125+240><thread=4660 (0x1234)>\r\n"
    "Failed to connect to cm01.contoso.local\r\n"
    "second line of the failure  $$<SMS_MP_CONTROL_MANAGER>"
    "<3-5-2024 08:00:01.000-60><thread=1 (0x1)>\r\n"
    "no zone here  $$<SMS_EXECUTIVE><03-05-2024 08:00:02.000><thread=2 (0x2)>\r\n"
)


def test_simple_trace_lines():
    fmt, entries = read(SIMPLE)
    assert fmt == "simple"
    first, second, third = entries
    assert (first.line, first.component, first.thread) == (1, "SMS_EXECUTIVE", "4660")
    assert first.time == utc(2024, 3, 5, 12, 0, 0, 125000)
    assert first.message == "SMS_EXECUTIVE started."
    assert second.line == 2 and second.time == utc(2024, 3, 5, 7, 0, 1)
    assert second.message == ("Failed to connect to cm01.contoso.local\nsecond line of the failure")
    assert second.severity == ERROR
    assert third.time == datetime(2024, 3, 5, 8, 0, 2)


# --- wulog (classic) -----------------------------------------------------------------


def test_wulog_banner_zone_covers_lines_before_and_after_it():
    content = (
        "2021-08-28\t03:07:48:216\t 648\t13bc\tService\t**  END  **  Service: Service exit\r\n"
        "2021-08-28\t11:05:07:920\t 576\ta70\tMisc\t===========  Logging initialized "
        "(build: 7.6.7600.256, tz: +0530)  ===========\r\n"
        "2021-08-28\t11:05:08:029\t 576\ta70\tAgent\t  * WU client version 7.6.7600.256\r\n"
    )
    fmt, entries = read(content, "WindowsUpdate.log")
    assert fmt == "wulog"
    assert [e.time for e in entries] == [
        utc(2021, 8, 27, 21, 37, 48, 216000),
        utc(2021, 8, 28, 5, 35, 7, 920000),
        utc(2021, 8, 28, 5, 35, 8, 29000),
    ]
    assert entries[0].thread == str(0x13BC) and entries[2].component == "Agent"
    assert entries[2].message == "  * WU client version 7.6.7600.256"


def test_wulog_later_banner_takes_over_from_where_it_stands():
    lines = timeline(MORNING, (0, "Agent", "winter"))
    summer = timeline(datetime(2024, 4, 5, 8), (0, "Agent", "summer"))
    content = wulog_classic(lines, tz="-0500") + wulog_classic(summer, tz="-0400")
    _, entries = read(content)
    times = {e.message: e.time for e in entries}
    assert times["winter"] == utc(2024, 3, 5, 13)
    assert times["summer"] == utc(2024, 4, 5, 12)


def test_wulog_without_banner_stays_local_and_severity_from_words():
    content = wulog_classic(
        timeline(
            MORNING,
            (0, "Handler", "CBS called Error with 0x800736b3,", 3),
            (1, "Misc", "Send failed with hr = 80072ee2.", 2),
            (2, "Agent", "Found 3 updates"),
        ),
        tz=None,
    )
    _, entries = read(content)
    assert entries[0].message == "FATAL: CBS called Error with 0x800736b3,"
    assert [e.severity for e in entries] == [ERROR, WARNING, INFO]
    assert entries[0].time == datetime(2024, 3, 5, 8, 0)


def test_wulog_tabs_flattened_to_spaces_and_a_pasted_first_line():
    content = (
        "** START **  Agent: Installing updates [CallerId = CcmExec]\n"
        "2015-06-17 08:42:11:402 912 b3c Agent * Updates to install = 3\n"
        "2015-06-17 08:42:14:657 1120 6d4 Handler Completed install of CBS update with "
        "type=3, requiresReboot=1, installerError=0, hr=0x0\n"
    )
    fmt, entries = read(content)
    assert fmt == "wulog"
    assert entries[0].time is None and entries[0].message.startswith("** START **")
    assert entries[1].time == datetime(2015, 6, 17, 8, 42, 11, 402000)
    assert (entries[2].component, entries[2].thread) == ("Handler", str(0x6D4))
    assert entries[2].message.startswith("Completed install of CBS update")


# --- wulog-etw -----------------------------------------------------------------------


@pytest.mark.parametrize("separator", ["/", "-"])
def test_wulog_etw_lines(separator):
    content = (
        f"2022{separator}03{separator}10 09:41:17.2210938 2216  4410  Agent           "
        "WU client version 10.0.19041.3636\r\n"
        f"2022{separator}03{separator}10 09:41:25.6120347 2216  4410  Misc            "
        "*FAILED* [8024000C] LoadHistoryEventFromRegistry completed\r\n"
        f"2022{separator}03{separator}10 09:41:26.0000001 5208  12944 ComApiWithAVeryLongName "
        "* START *   SLS Discovery\r\n"
    )
    fmt, entries = read(b"\xef\xbb\xbf" + content.encode())
    assert fmt == "wulog-etw"
    first, failed, long_name = entries
    assert first.time == datetime(2022, 3, 10, 9, 41, 17, 221093)
    assert (first.component, first.thread) == ("Agent", "4410")
    assert first.message == "WU client version 10.0.19041.3636"
    assert failed.severity == WARNING and first.severity == INFO
    assert long_name.component == "ComApiWithAVeryLongName"
    assert long_name.message == "* START *   SLS Discovery"


def test_wulog_etw_from_the_builder():
    fmt, entries = read(wulog_etw(timeline(MORNING, (1.5, "Agent", "* END * Finding updates"))))
    assert fmt == "wulog-etw"
    assert entries[0].time == datetime(2024, 3, 5, 8, 0, 1, 500000)


# --- cbs -----------------------------------------------------------------------------

CBS_WITH_CSI = (
    "2019-04-23 11:34:00, Info                  CBS    Exec: Processing started.\r\n"
    "2019-04-23 11:34:01, Info                  CSI    0000004d Performing 2 operations:\r\n"
    "  Install (5): flags: 0 tlc: [5b1e07c3d9a24f68, Version = 6.1.7601.24117]\r\n"
    "  Install (5): flags: 0 tlc: [466e94be62b208e5, Version = 6.1.7601.23505]\r\n"
    "\r\n"
    "2019-04-23 11:34:01, Error                 CSI    0000004e@2019/04/23:17:34:01.356 "
    "(F) Error STATUS_SXS_ASSEMBLY_NOT_FOUND\r\n"
    "2019-04-23 11:34:02, Info                  CBS    Failed to commit [HRESULT = 0x800736b3]\r\n"
)


def test_cbs_continuations_and_zone_learned_from_csi_stamps():
    fmt, entries = read(CBS_WITH_CSI, "CBS.log")
    assert fmt == "cbs"
    assert [e.line for e in entries] == [1, 2, 6, 7]
    assert entries[1].message == (
        "0000004d Performing 2 operations:\n"
        "  Install (5): flags: 0 tlc: [5b1e07c3d9a24f68, Version = 6.1.7601.24117]\n"
        "  Install (5): flags: 0 tlc: [466e94be62b208e5, Version = 6.1.7601.23505]"
    )
    # Local 11:34:01 against CSI 17:34:01 UTC: the machine is at UTC-6, for every entry.
    assert [e.time for e in entries] == [
        utc(2019, 4, 23, 17, 34, 0),
        utc(2019, 4, 23, 17, 34, 1),
        utc(2019, 4, 23, 17, 34, 1),
        utc(2019, 4, 23, 17, 34, 2),
    ]
    assert [e.severity for e in entries] == [INFO, INFO, ERROR, INFO]
    assert [e.component for e in entries] == ["CBS", "CSI", "CSI", "CBS"]


def test_cbs_without_csi_stamp_stays_local():
    content = cbs_log(
        timeline(MORNING, (0, "CBS", "Starting TrustedInstaller"), (1, "DISM", "oops", 3))
    )
    fmt, entries = read(content, "DISM.log")
    assert fmt == "cbs"
    assert entries[0].time == datetime(2024, 3, 5, 8, 0, 0)
    assert entries[1].severity == ERROR and entries[1].component == "DISM"


def test_cbs_zone_buffer_is_bounded(monkeypatch):
    from knowledge.formats import _shared

    monkeypatch.setattr(_shared, "ZONE_WAIT_ENTRIES", 2)
    lines = [f"2019-04-23 11:3{n}:00, Info                  CBS    line {n}" for n in range(4)]
    lines.append(
        "2019-04-23 11:35:00, Info                  CSI    00000001@2019/04/23:17:35:00.100 x"
    )
    _, entries = read("\n".join(lines))
    # The first two waited, gave up waiting and went out local; the rest are UTC.
    assert [e.time.tzinfo is None for e in entries] == [True, True, True, True, False]


# --- cmtrace-copy --------------------------------------------------------------------


def test_cmtrace_copy_tab_rows_with_time_and_thread():
    content = (
        "Successfully completed scan.\tWUAHandler\t3/11/2022 9:14:07 AM\t5932 (0x172C)\r\n"
        "Evaluation started\tUpdatesDeploymentAgent\t03-11-2022 21:14:07.512\t6140 (0x17FC)\r\n"
        "Midnight row\tScanAgent\t3/11/2022 12:00:05 AM\t1 (0x1)\r\n"
    )
    fmt, entries = read(content)
    assert fmt == "cmtrace-copy"
    assert [(e.message, e.component, e.thread, e.time) for e in entries] == [
        ("Successfully completed scan.", "WUAHandler", "5932", datetime(2022, 3, 11, 9, 14, 7)),
        (
            "Evaluation started",
            "UpdatesDeploymentAgent",
            "6140",
            datetime(2022, 3, 11, 21, 14, 7, 512000),
        ),
        ("Midnight row", "ScanAgent", "1", datetime(2022, 3, 11, 0, 0, 5)),
    ]


def test_cmtrace_copy_stripped_rows_and_the_held_line_rule():
    content = (
        "DTSJob {11111111-2222-3333-4444-555555555555} in state 'PendingDownload'.   "
        "DataTransferService\n"
        "DTS::SetCustomHeadersOnBITSJob - setting custom headers on DTS job:\n"
        "<none>   DataTransferService\n"
        "CDTSJob::JobTransferred : DTS Job done  DataTransferService\n"
        "trailing line with no component\n"
    )
    fmt, entries = read(content)
    assert fmt == "cmtrace-copy"
    assert [(e.line, e.message, e.component, e.time) for e in entries] == [
        (
            1,
            "DTSJob {11111111-2222-3333-4444-555555555555} in state 'PendingDownload'.",
            "DataTransferService",
            None,
        ),
        (
            2,
            "DTS::SetCustomHeadersOnBITSJob - setting custom headers on DTS job:\n<none>",
            "DataTransferService",
            None,
        ),
        (4, "CDTSJob::JobTransferred : DTS Job done", "DataTransferService", None),
        (5, "trailing line with no component", "", None),
    ]


# --- text and bad input --------------------------------------------------------------


def test_text_lines_with_iso_times_and_words():
    content = (
        "2024-03-05T08:00:00Z service started\n"
        "\n"
        "2024-03-05 09:00:00+02:00 Error: disk full\n"
        "a warning without a time\n"
        "2024-03-05 10:00:00.5 local note\n"
    )
    fmt, entries = read(content, "notes.txt")
    assert fmt == "text"
    assert [(e.line, e.time, e.severity) for e in entries] == [
        (1, utc(2024, 3, 5, 8), INFO),
        (3, utc(2024, 3, 5, 7), ERROR),
        (4, None, WARNING),
        (5, datetime(2024, 3, 5, 10, 0, 0, 500000), INFO),
    ]


def test_empty_file_is_text_with_no_entries():
    assert read(b"") == ("text", [])


def test_binary_junk_named_log_gives_few_entries_and_no_error():
    junk = bytes(range(256)) * 50 + os.urandom(100_000)
    fmt, entries = read(junk, "CAS.log")
    assert fmt == "text"
    assert len(entries) < 20


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_parser_survives_junk_and_a_huge_line(fmt):
    data = os.urandom(50_000) + b"\n" + b"<![LOG[" + b"x" * 200_000 + b"\n$$<" + os.urandom(500)
    text, _ = open_text(io.BytesIO(data))
    entries = list(parse_entries(fmt, text, "junk.log"))
    assert all(len(e.message) <= (1 << 20) for e in entries)


# --- detection -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (cmtrace_log(timeline(MORNING, (0, "CAS", "x"))), "cmtrace"),
        (SIMPLE, "simple"),
        (wulog_classic(timeline(MORNING, (0, "Agent", "x"))), "wulog"),
        (wulog_etw(timeline(MORNING, (0, "Agent", "x"))), "wulog-etw"),
        (CBS_WITH_CSI, "cbs"),
        ("a row\tWUAHandler\t3/11/2022 9:14:07 AM\t1 (0x1)\n", "cmtrace-copy"),
        ("just some words\nand more words\n", "text"),
    ],
)
def test_detection_is_by_content_whatever_the_name(content, expected):
    for name in ("CBS.log", "WindowsUpdate.log", "WUAHandler.log", "renamed.txt"):
        assert detect_format(content, name) == expected


def test_a_file_that_opens_with_cbs_continuations_is_still_cbs():
    content = "  Install (5): flags: 0\n" * 30 + CBS_WITH_CSI
    assert detect_format(content) == "cbs"
