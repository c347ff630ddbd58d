"""Logs the way they reach a helpdesk: copied rows, markdown pastes, console wraps.

The lines here are quoted byte-exact from Microsoft's support articles
(MicrosoftDocs/SupportArticles-docs, published at learn.microsoft.com/troubleshoot, CC BY
4.0, (c) Microsoft), each test naming its article. Host names in them are Microsoft's own
placeholders (CONTOSO, <CMGname>); where a test changes a line (wrapping it at a console
width) it says so. Only the CMTrace records of the last tests are ours: a message from
the articles in the record syntax of tests/logbuilder.py, to test the reading around it.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from knowledge.api import diagnose_path, diagnose_symptom
from knowledge.formats import NO_CLEANING, detect_reading, parse_entries
from knowledge.formats.decoding import open_text
from knowledge.formats.paste import PASTE_MAX_BYTES
from knowledge.intake.archive import open_upload
from knowledge.reading.reader import LogReader
from tests.conftest import REPO_ROOT


def read(content: str, name: str = "paste.txt"):
    """(format, cleaning, entries) of a file, the way the timeline reads it."""
    data = content.encode("utf-8")
    text, _ = open_text(io.BytesIO(data))
    fmt, cleaning = detect_reading(text.read(16_384), name, len(data))
    text, _ = open_text(io.BytesIO(data))
    return fmt, cleaning, list(parse_entries(fmt, text, name, cleaning))


# --- CMTrace rows with their tabs flattened, quoted in a list item ------------------

# "Removing computers from a collection in System Center Configuration Manager 2007 may
# cause an unexpected reboot" (KB 2612955): a `> ` quote inside a numbered list (4-space
# indent), markdown line breaks (two trailing spaces), and the page's own "PM PM".
KB2612955 = (
    "1. The assignment {0A650EE8-0DE5-4D82-AED6-947BD72425D4} was downloaded successfully "
    "at 11:10:30 PM on 8/22/2011:\n"
    "\n"
    "    > DownloadCIContents Job ({39B93D1E-6868-4E2A-B271-BA721753019D}) started for "
    "assignment ({0A650EE8-0DE5-4D82-AED6-947BD72425D4}) UpdatesDeploymentAgent  "
    "8/22/2011 11:10:16 PM  11888 (0x2E70)  \n"
    "    > Progress received for assignment ({0A650EE8-0DE5-4D82-AED6-947BD72425D4}) "
    "UpdatesDeploymentAgent  8/22/2011 11:10:29 PM  14120 (0x3728)  \n"
    "    > Update (Site_C20CCE23-F877-4170-89AB-ED6F54566E97/SUM_ff0863f8-1e9d-4c0b-91a2-"
    "7ef1e2faf357) Progress: Status = ciStateDownloading, PercentComplete = 0, Result = 0x0 "
    "UpdatesDeploymentAgent  8/22/2011 11:10:30 PM PM  14120 (0x3728)  \n"
    "    > No Service Windows Left. There is no next event.... ServiceWindowManager "
    "8/23/2011 12:12:46 AM  10356 (0x2874)\n"
)


def test_flattened_cmtrace_rows_in_a_quoted_list_item_keep_component_time_and_thread():
    fmt, cleaning, entries = read(KB2612955, "UpdatesDeployment.log")
    assert fmt == "cmtrace-copy"
    assert cleaning.quote
    rows = [(e.line, e.component, e.time, e.thread) for e in entries]
    assert rows == [
        (1, "UpdatesDeploymentAgent", datetime(2011, 8, 22, 23, 10, 16), "11888"),
        (4, "UpdatesDeploymentAgent", datetime(2011, 8, 22, 23, 10, 29), "14120"),
        (5, "UpdatesDeploymentAgent", datetime(2011, 8, 22, 23, 10, 30), "14120"),
        (6, "ServiceWindowManager", datetime(2011, 8, 23, 0, 12, 46), "10356"),
    ]
    # The sentence before the quote has no component: it is held for the first row.
    assert entries[0].message.endswith(
        "started for assignment ({0A650EE8-0DE5-4D82-AED6-947BD72425D4})"
    )
    assert entries[2].message.endswith("PercentComplete = 0, Result = 0x0")
    assert not any(">" in e.message.split("\n")[-1][:2] for e in entries)


# --- message, date, component, thread; and date first, with &nbsp; columns ----------

# "Clients can't download content from a cloud management gateway" (Symptoms): the
# Ccmsetup.log quote puts the date between message and component (day first), and the
# DataTransferService.log quote puts it first, columns apart by &nbsp; entities, with
# the markdown escape `\<` for a literal `<`.
CMG_CCMSETUP = (
    "> GetDirectoryList failed with a non-recoverable failure, 0x87d00454 19/02/2019 "
    "13:49:35 ccmsetup 8548 (0x2164)  \n"
    "> Failed to get directory list from 'https://\\<CMGname>.cloudapp.net/"
    "downloadrestservice.svc/getcontentxmlsecure?pid=XXX002B9&cid=XXX002B9'. Error "
    "0x87d00454 19/02/2019 13:49:35 ccmsetup 8548 (0x2164)  \n"
    "> [CCMHTTP] AsyncCallback(): WINHTTP_CALLBACK_STATUS_SECURE_FAILURE Encountered "
    "19/02/2019 13:49:36 ccmsetup 8548 (0x2164)  \n"
    "> [CCMHTTP] &nbsp; &nbsp; &nbsp; &nbsp; &nbsp; &nbsp;: "
    "WINHTTP_CALLBACK_STATUS_FLAG_CERT_CN_INVALID is set\n"
)
CMG_DTS = (
    "> 12-28-2018 16:06:39.334 &nbsp; &nbsp;DataTransferService &nbsp; &nbsp;3544 (0xdd8) "
    "&nbsp; &nbsp;Target URL scheme is HTTPS: https://\\<CMGname>.cloudapp.net:443/"
    "downloadrestservice.svc/getcontentxmlsecure?pid=XXX00052&cid=XXX00052  \n"
    "> [CCMHTTP] AsyncCallback(): WINHTTP_CALLBACK_STATUS_SECURE_FAILURE Encountered  \n"
    "> 12-28-2018 16:06:39.391 &nbsp; &nbsp;DataTransferService &nbsp; &nbsp;3544 (0xdd8)  \n"
    "> [CCMHTTP] &nbsp; &nbsp; &nbsp; &nbsp; &nbsp; &nbsp;: "
    "WINHTTP_CALLBACK_STATUS_FLAG_CERT_CN_INVALID is set\n"
)


def test_message_then_day_first_date_then_component():
    fmt, cleaning, entries = read(CMG_CCMSETUP, "Ccmsetup.log")
    assert fmt == "cmtrace-copy"
    assert cleaning.quote and cleaning.entities
    assert [(e.line, e.component, e.time, e.thread) for e in entries[:3]] == [
        (1, "ccmsetup", datetime(2019, 2, 19, 13, 49, 35), "8548"),
        (2, "ccmsetup", datetime(2019, 2, 19, 13, 49, 35), "8548"),
        (3, "ccmsetup", datetime(2019, 2, 19, 13, 49, 36), "8548"),
    ]
    assert entries[1].message.startswith("Failed to get directory list from 'https://<CMGname>.")
    # The last line's row end was not quoted: it stays, untimed and searchable.
    assert entries[3].time is None
    assert entries[3].message.endswith(": WINHTTP_CALLBACK_STATUS_FLAG_CERT_CN_INVALID is set")


def test_date_first_rows_take_the_lines_after_them():
    fmt, _cleaning, entries = read(CMG_DTS, "DataTransferservice.log")
    assert fmt == "cmtrace-copy"
    assert [(e.line, e.component, e.time, e.thread) for e in entries] == [
        (1, "DataTransferService", datetime(2018, 12, 28, 16, 6, 39, 334000), "3544"),
        (3, "DataTransferService", datetime(2018, 12, 28, 16, 6, 39, 391000), "3544"),
    ]
    first, second = entries
    assert first.message.startswith("Target URL scheme is HTTPS: https://<CMGname>.cloudapp")
    assert first.message.endswith("WINHTTP_CALLBACK_STATUS_SECURE_FAILURE Encountered")
    assert second.message.endswith("WINHTTP_CALLBACK_STATUS_FLAG_CERT_CN_INVALID is set")


# "Client installation fails with error 1603" (Symptoms): message, component, date with
# dashes and a 24-hour time, thread.
CLIENT_1603 = (
    "> MSI: Configuration Manager Client is not installed. ccmsetup 12-11-2010 16:26:12 "
    "3264 (0x0CC0)  \n"
    "> Installation failed with error code 1603 ccmsetup 12-11-2010 16:26:12 3264 (0x0CC0)\n"
)


def test_flattened_row_with_dashed_date_and_24_hour_time():
    fmt, _cleaning, entries = read(CLIENT_1603, "ccmsetup.log")
    assert fmt == "cmtrace-copy"
    assert [(e.message, e.component, e.time) for e in entries] == [
        (
            "MSI: Configuration Manager Client is not installed.",
            "ccmsetup",
            datetime(2010, 12, 11, 16, 26, 12),
        ),
        (
            "Installation failed with error code 1603",
            "ccmsetup",
            datetime(2010, 12, 11, 16, 26, 12),
        ),
    ]


# --- stripped copies in a fenced block inside a list item ---------------------------

# "Track the software update deployment process" (KB 3090265), step on installation: a
# ```output fence indented 4 spaces, rows `message   Component` with two trailing spaces.
FENCED_STRIPPED = (
    "1. Here's what we see in WUAHandler.log:\n"
    "\n"
    "    ```output\n"
    "    Adding file to list for CopyToCache(): C:\\Windows\\ccmcache\\1\\"
    "windows6.1-kb2705219-v2-x64.cab   WUAHandler  \n"
    "    CopyToCache() for update (4c2e9d71-6b0a-4f53-9e18-2d7a5b3c8f40) completed "
    "successfully   WUAHandler  \n"
    "    ```\n"
)


def test_fenced_stripped_copy_in_a_list_item():
    fmt, cleaning, entries = read(FENCED_STRIPPED, "WUAHandler.log")
    assert fmt == "cmtrace-copy"
    assert cleaning.fences
    assert [e.component for e in entries] == ["WUAHandler", "WUAHandler"]
    assert entries[0].message.endswith(
        "Adding file to list for CopyToCache(): C:\\Windows\\ccmcache\\1\\"
        "windows6.1-kb2705219-v2-x64.cab"
    )  # a backslash before a letter is a path, never an escape
    assert entries[1].message == (
        "CopyToCache() for update (4c2e9d71-6b0a-4f53-9e18-2d7a5b3c8f40) completed successfully"
    )
    assert entries[1].line == 5


# --- classic WindowsUpdate.log: quoted, escaped, numbered, console-wrapped ----------

# "Track software update compliance assessment" (Software update scan on clients): a quoted
# classic WindowsUpdate.log block whose tabs became runs of spaces, with markdown's `\*`.
QUOTED_WULOG = (
    "> 2014-01-20   12:18:52:694   968    f58    Agent  \\* Found 163 updates and 70 "
    "categories in search; evaluated appl. rules of 622 out of 1150 deployed entities  \n"
    "> 2014-01-20   12:18:52:745   968    f58    Agent  \\** END ** Agent: Finding updates "
    "[CallerId = CcmExec]  \n"
)


def test_quoted_classic_windowsupdate_log_is_wulog():
    fmt, _cleaning, entries = read(QUOTED_WULOG, "WindowsUpdate.log")
    assert fmt == "wulog"
    assert [(e.time, e.component, e.thread) for e in entries] == [
        (datetime(2014, 1, 20, 12, 18, 52, 694000), "Agent", str(0xF58)),
        (datetime(2014, 1, 20, 12, 18, 52, 745000), "Agent", str(0xF58)),
    ]
    # The page turned each tab into spaces; the message keeps those past the first.
    assert entries[0].message.lstrip().startswith("* Found 163 updates")
    assert entries[1].message.lstrip() == "** END ** Agent: Finding updates [CallerId = CcmExec]"


@pytest.mark.parametrize("style", ["{n}: ", "{n}| ", "{n} ", "{n:>6}\t"])
def test_leading_line_numbers_are_taken_off(style):
    lines = QUOTED_WULOG.replace("> ", "").replace("\\*", "*").splitlines()
    numbered = "".join(style.format(n=n) + line + "\n" for n, line in enumerate(lines * 2, 40))
    fmt, cleaning, entries = read(numbered, "WindowsUpdate.log")
    assert (fmt, cleaning.numbers) == ("wulog", True)
    assert [e.time.second for e in entries] == [52] * 4


def _wrap(line: str, width: int) -> str:
    return "\n".join(line[i : i + width] for i in range(0, len(line), width))


def test_console_wrapped_classic_rows_join_their_first_part():
    # The two rows above, as the classic log writes them (tabs), broken at 80 columns
    # the way a console copy breaks them (the wrapping is ours, the rows are real).
    rows = [
        "2014-01-20\t12:18:52:694\t 968\tf58\tAgent\t* Found 163 updates and 70 categories "
        "in search; evaluated appl. rules of 622 out of 1150 deployed entities",
        "2014-01-20\t12:18:52:745\t 968\tf58\tAgent\t** END ** Agent: Finding updates "
        "[CallerId = CcmExec]",
    ]
    pasted = "\n".join(_wrap(row, 80) for row in rows) + "\n"
    fmt, cleaning, entries = read(pasted, "WindowsUpdate.log")
    assert fmt == "wulog"
    assert cleaning.unwrap is not None
    assert [(e.line, e.message) for e in entries] == [
        (1, rows[0].split("\t", 5)[5]),
        (3, rows[1].split("\t", 5)[5]),
    ]


EXTRA = Path("/work/realworld-extra/gh-wpp-4-install-80070643/WindowsUpdate.log")


@pytest.mark.skipif(not EXTRA.exists(), reason="outside excerpt not on this machine")
def test_console_wrapped_windows10_log_reads_as_the_unwrapped_one():
    # A Get-WindowsUpdateLog excerpt pasted in a GitHub issue (no licence stated, so it is
    # read in place, never kept here), wrapped at 100 columns in memory.
    original = EXTRA.read_text(encoding="utf-8")
    wrapped = "\n".join(_wrap(line, 100) for line in original.splitlines()) + "\n"
    fmt, _c, plain = read(original, "WindowsUpdate.log")
    wrapped_fmt, cleaning, joined = read(wrapped, "WindowsUpdate.log")
    assert (fmt, wrapped_fmt) == ("wulog-etw", "wulog-etw")
    assert cleaning.unwrap is not None
    # (A row's trailing blanks wrapped onto a line of their own read as a blank line.)
    assert [(e.time, e.message.rstrip()) for e in joined] == [
        (e.time, e.message.rstrip()) for e in plain
    ]


# --- message-only, mixed and the limits of the cleaning -----------------------------

# "Troubleshoot software update scan failures" (Group Policy overrides the WSUS server).
GPO_LINE = (
    "Group policy settings were overwritten by a higher authority (Domain Controller) to: "
    "Server http://server and Policy ENABLED"
)


def test_message_only_excerpt_in_a_fence_stays_text_and_every_line_is_kept():
    fmt, cleaning, entries = read(f"WUAHandler.log says:\n```\n{GPO_LINE}\n```\n", "paste.txt")
    assert fmt == "text" and cleaning.fences
    assert [(e.line, e.message) for e in entries] == [(1, "WUAHandler.log says:"), (3, GPO_LINE)]


def test_mixed_paste_reads_each_block_in_its_own_format():
    pasted = QUOTED_WULOG + "\nand in the CMTrace viewer:\n\n" + KB2612955.split("\n\n", 1)[1]
    fmt, cleaning, entries = read(pasted, "excerpt.txt")
    assert cleaning.blocks
    assert fmt == "cmtrace-copy"  # the richer part names the file's format
    assert [(e.line, e.component, e.time is not None) for e in entries] == [
        (1, "Agent", True),
        (2, "Agent", True),
        (4, "", False),  # the note between the blocks stays, untimed
        (6, "UpdatesDeploymentAgent", True),
        (7, "UpdatesDeploymentAgent", True),
        (8, "UpdatesDeploymentAgent", True),
        (9, "ServiceWindowManager", True),
    ]
    assert entries[2].message == "and in the CMTrace viewer:"


def test_a_log_as_written_is_never_cleaned():
    line = (
        '<![LOG[Successfully completed scan.]LOG]!><time="09:14:07.512+240" date="03-11-2022" '
        'component="WUAHandler" context="" type="1" thread="6140" file="x.cpp:1">\n'
    )
    assert read(line * 3, "WUAHandler.log")[1] == NO_CLEANING
    # A big file is a log, not a paste, whatever its first lines look like.
    fenced = "```\n" + line * 3
    data = fenced.encode()
    assert detect_reading(fenced, "WUAHandler.log", len(data))[1].fences
    assert detect_reading(fenced, "WUAHandler.log", PASTE_MAX_BYTES + 1)[1] == NO_CLEANING


# --- end to end: sccm logs, and a paste that is diagnosed right ---------------------


def test_sccm_logs_lists_a_pasted_excerpt_with_its_format_and_entries(tmp_path):
    paste = tmp_path / "excerpt.txt"
    paste.write_text(CMG_CCMSETUP, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "logs", "--json", str(paste)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    (listed,) = json.loads(result.stdout)["files"]
    assert (listed["name"], listed["format"], listed["entries"]) == (
        "excerpt.txt",
        "cmtrace-copy",
        4,
    )
    assert listed["first"] == "2019-02-19T13:49:35.000"  # local time: no zone in a copy


def test_a_quoted_fenced_scan_failure_paste_is_diagnosed(tmp_path):
    # The Group Policy line of "Troubleshoot software update scan failures", pasted in a
    # fence inside a quote, as a ticket would carry it.
    paste = tmp_path / "WUAHandler.log"
    paste.write_text(f"> ```\n> {GPO_LINE}  \n> ```\n", encoding="utf-8")
    diagnosis = diagnose_path(paste)
    assert (diagnosis.verdict, diagnosis.stage, diagnosis.cause) == (
        "failure",
        "scan",
        "scan.gpo_conflict",
    )
    assert [e.line for e in diagnosis.evidence] == [2]
    assert diagnosis.evidence[0].text == GPO_LINE


def test_a_quoted_windowsupdate_paste_under_any_name_shows_the_scan_working(tmp_path):
    # Read as text, the quoted rows showed no step of the pipeline (inconclusive); read
    # as the WindowsUpdate.log they are, the completed scan shows.
    paste = tmp_path / "paste.txt"
    paste.write_text(QUOTED_WULOG, encoding="utf-8")
    diagnosis = diagnose_path(paste)
    assert diagnosis.verdict == "healthy"
    assert {row.stage: row.status for row in diagnosis.ledger}["scan"] == "ok"
    assert diagnosis.evidence[0].text.lstrip().startswith("* Found 163 updates")


def test_a_paste_takes_the_careful_path_and_both_readings_agree(tmp_path):
    # The byte scans know files as written; a paste is read entry by entry, and the
    # reader's facts are those of the cleaned parse.
    folder = tmp_path / "Logs"
    folder.mkdir()
    fenced = (
        "```\n"
        + "".join(
            f'<![LOG[Scan failed with error = 0x80244010.]LOG]!><time="09:14:0{n}.512+240" '
            'date="03-11-2022" component="WUAHandler" context="" type="3" thread="6140" '
            'file="cwuahandler.cpp:3276">\n'
            for n in range(3)
        )
        + "```\n"
    )
    (folder / "WUAHandler.log").write_text(fenced, encoding="utf-8")
    with open_upload(folder) as upload:
        reader = LogReader(upload)
        (source,) = upload.sources
        assert reader.formats[source.path][0] == "cmtrace"
        assert reader.fast_facts(source) is False
        with source.open() as binary:
            assert reader.file_scan(source, binary, scanner=None) is None
        entries = [entry for _key, entry in reader.file_entries(source)]
    assert [(e.line, e.time.isoformat()) for e in entries] == [
        (2, "2022-03-11T13:14:00.512000+00:00"),
        (3, "2022-03-11T13:14:01.512000+00:00"),
        (4, "2022-03-11T13:14:02.512000+00:00"),
    ]


def test_a_symptom_with_a_fenced_record_is_read_as_the_record():
    record = (
        "<![LOG[OnSearchComplete - Failed to end search job. Error = 0x80244010.]LOG]!>"
        '<time="09:14:07.512+240" date="03-11-2022" component="WUAHandler" context="" '
        'type="3" thread="6140" file="cwuahandler.cpp:3276">'
    )
    diagnosis = diagnose_symptom(f"the scan fails, WUAHandler.log says:\n> ```\n> {record}\n> ```")
    assert (diagnosis.verdict, diagnosis.stage) == ("failure", "scan")


# "Troubleshoot software update deployments" (unexpected reboots, step 1): ServiceWindowManager
# rows stripped to `message Component`, one space apart, with markdown's trailing breaks.
SERVICE_WINDOWS = (
    "Refreshing Service Windows..... ServiceWindowManager  \n"
    "This is a one shot Service Window that has already finished. ServiceWindowManager  \n"
    "Duration for the Service Window is Total days: 0, hours: 00, mins: 00, secs: 00 "
    "ServiceWindowManager  \n"
    "StartTime is 02/09/14 00:00:00 ServiceWindowManager  \n"
)


def test_single_space_stripped_copy_splits_off_the_component_every_line_ends_in():
    fmt, cleaning, entries = read(SERVICE_WINDOWS, "paste.txt")
    assert (fmt, cleaning.component) == ("cmtrace-copy", "ServiceWindowManager")
    assert [(e.line, e.component, e.message) for e in entries] == [
        (1, "ServiceWindowManager", "Refreshing Service Windows....."),
        (2, "ServiceWindowManager", "This is a one shot Service Window that has already finished."),
        (
            3,
            "ServiceWindowManager",
            "Duration for the Service Window is Total days: 0, hours: 00, mins: 00, secs: 00",
        ),
        (4, "ServiceWindowManager", "StartTime is 02/09/14 00:00:00"),
    ]


def test_lines_ending_in_the_same_plain_word_stay_text():
    lines = "".join(f"update {n} download failed\n" for n in range(5))
    fmt, cleaning, entries = read(lines, "paste.txt")
    assert (fmt, cleaning) == ("text", NO_CLEANING)
    assert len(entries) == 5


@pytest.mark.parametrize(
    "paste",
    [
        "```\n" + "x" * 200_000 + "\n```\n",
        "> " + "2014-01-20\t12:18:52:694\t 968\tf58\tAgent\t*" + "y" * 150_000 + "\n> z\n",
        "".join(f"{n}: \x00\x01 junk\n" for n in range(1, 50)),
        "~~~\n" + "12-28-2018 16:06:39.334 DataTransferService 3544 (0xdd8)\n" * 3 + "\n" * 5,
        "2014-01-20\t12:18:52:694\t 968\tf58\tAgent\tx\n" + "wrapped\n" * 20_000,
    ],
)
def test_odd_pastes_are_read_without_error_and_capped(paste):
    _fmt, _cleaning, entries = read(paste)
    assert all(len(e.message) <= (1 << 20) and e.line >= 1 for e in entries)


@pytest.mark.parametrize(
    "wrap",
    [
        lambda line: "> > " + line,  # a quote inside a quote (a reply to a reply)
        lambda line: ">> " + line,
        lambda line: "    " + line,  # a markdown code block
        lambda line: "      " + line,  # deeper, as inside a list item
    ],
)
def test_nested_quotes_and_indented_blocks_read_as_if_pasted_clean(wrap):
    rows = CLIENT_1603.replace("> ", "").replace("  \n", "\n").splitlines()
    pasted = "~~~\n" + "".join(wrap(row) + "  \n" for row in rows) + "~~~\n"
    fmt, _cleaning, entries = read(pasted, "ccmsetup.log")
    assert fmt == "cmtrace-copy"
    assert [(e.line, e.component, e.time) for e in entries] == [
        (2, "ccmsetup", datetime(2010, 12, 11, 16, 26, 12)),
        (3, "ccmsetup", datetime(2010, 12, 11, 16, 26, 12)),
    ]
    assert entries[1].message == "Installation failed with error code 1603"


def test_flattened_rows_quoted_in_a_list_item_are_diagnosed_under_any_name(tmp_path):
    # The row layout of KB 2612955 (quoted in a list item, tabs flattened, thread column)
    # holding WUAHandler's scan-failure messages, as a ticket would paste them. Read as
    # text this was inconclusive: no log name, no component, no time.
    paste = tmp_path / "excerpt.txt"
    paste.write_text(
        "1. WUAHandler.log on the client:\n\n"
        "    > OnSearchComplete - Failed to end search job. Error = 0x80244010. WUAHandler "
        "2/14/2019 10:23:33 AM  6548 (0x1994)  \n"
        "    > Scan failed with error = 0x80244010. WUAHandler 2/14/2019 10:23:33 AM  "
        "6548 (0x1994)\n",
        encoding="utf-8",
    )
    diagnosis = diagnose_path(paste)
    assert (diagnosis.verdict, diagnosis.stage) == ("failure", "scan")
    assert diagnosis.cause is not None and diagnosis.cause.startswith("scan.")
    (evidence, *_) = diagnosis.evidence
    assert (evidence.file, evidence.line) == ("excerpt.txt", 4)
    assert evidence.time == "2019-02-14T10:23:33.000"  # local: a copy states no zone
    assert "0x80244010" in {code.code.lower() for code in diagnosis.error_codes}
