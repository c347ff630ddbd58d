"""The reader's cross-file work: zones lent between logs, rotation order."""

from __future__ import annotations

from datetime import UTC, date, datetime

from knowledge.api import read_logs
from knowledge.intake.archive import open_upload
from knowledge.reading.reader import LogReader, ZoneHints
from tests.logbuilder import Line, cmtrace_log, timeline, wulog_etw, zip_bytes

MORNING = datetime(2024, 3, 5, 8, 0, 0)


def _write_zip(tmp_path, files):
    path = tmp_path / "logs.zip"
    path.write_bytes(zip_bytes(files))
    return path


def test_windows10_update_log_borrows_the_zone_of_the_cmtrace_logs(tmp_path):
    ccm = cmtrace_log(
        timeline(MORNING, (0, "WUAHandler", "Successfully completed scan.")), bias=300
    )
    wu = wulog_etw(timeline(MORNING, (5, "Agent", "* END * Finding updates CallerId = CcmExec")))
    report = read_logs(_write_zip(tmp_path, {"Logs/WUAHandler.log": ccm, "WindowsUpdate.log": wu}))
    by_name = {f.name: f for f in report.files}
    assert by_name["WUAHandler.log"].first == "2024-03-05T13:00:00.000Z"
    assert by_name["WUAHandler.log"].time_zone == "utc"
    # 08:00:05 local on a machine at UTC-5 is 13:00:05 UTC.
    assert by_name["WindowsUpdate.log"].first == "2024-03-05T13:00:05.000Z"
    assert by_name["WindowsUpdate.log"].time_zone == "inferred"
    assert any("UTC-05:00" in note for note in report.notes)


def test_local_time_is_kept_and_said_when_nothing_reveals_the_zone(tmp_path):
    wu = wulog_etw(timeline(MORNING, (5, "Agent", "* END * Finding updates CallerId = CcmExec")))
    report = read_logs(_write_zip(tmp_path, {"WindowsUpdate.log": wu}))
    (only,) = report.files
    assert only.first == "2024-03-05T08:00:05.000"  # no Z: local time
    assert only.time_zone == "local"
    assert any("local" in note for note in only.notes)


def test_zone_hints_disagreeing_are_not_lent():
    hints = ZoneHints()
    hints.add(date(2024, 1, 1), 240)
    hints.add(date(2024, 1, 2), -330)
    assert not hints.consistent
    assert hints.resolver() is None


def test_zone_hints_follow_a_daylight_saving_change():
    hints = ZoneHints()
    hints.add(date(2024, 3, 1), 300)  # EST
    hints.add(date(2024, 3, 20), 240)  # EDT
    bias_for = hints.resolver()
    assert bias_for(datetime(2024, 3, 2, 9)) == 300
    assert bias_for(datetime(2024, 3, 19, 9)) == 240


def test_rotated_files_are_read_oldest_first_and_listed_as_joining_the_current_one(tmp_path):
    def log(hour, text):
        return cmtrace_log([Line(text, MORNING.replace(hour=hour), "CAS")])

    files = {
        "Logs/CAS.log": log(11, "current"),
        "Logs/CAS.lo_": log(10, "previous"),
        "Logs/CAS-20240305-090000.log": log(9, "history"),
    }
    path = _write_zip(tmp_path, files)
    with open_upload(path) as upload:
        reader = LogReader(upload)
        (group,) = reader.groups()
        messages = [e.message for s in group for _, e in reader.file_entries(s)]
        assert messages == ["history", "previous", "current"]
        report = reader.report()
    rotated = {f.name: f.rotated_into for f in report.files}
    assert rotated["CAS.log"] is None
    assert rotated["CAS.lo_"] == "Logs/CAS.log"


def test_each_file_reads_in_its_own_order_with_times_made_utc(tmp_path):
    first = cmtrace_log(timeline(MORNING, (0, "ScanAgent", "a"), (20, "ScanAgent", "c")))
    second = cmtrace_log(timeline(MORNING, (10, "WUAHandler", "b"), (30, "WUAHandler", "d")))
    path = _write_zip(tmp_path, {"ScanAgent.log": first, "WUAHandler.log": second})
    with open_upload(path) as upload:
        reader = LogReader(upload)
        entries = [e for s in reader.sources_in_order() for _, e in reader.file_entries(s)]
    assert [e.message for e in entries] == ["a", "c", "b", "d"]
    assert entries[0].time == datetime(2024, 3, 5, 12, 0, tzinfo=UTC)
