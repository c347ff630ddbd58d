"""An analysis runs in a child process that its deadline or a stop request ends for sure."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from bot.analysis import AnalysisStopped, analyse_in_child
from knowledge import api

from .test_end_to_end import gpo_conflict_zip


def test_the_child_answers_as_the_core_does(tmp_path: Path):
    upload = tmp_path / "logs.zip"
    upload.write_bytes(gpo_conflict_zip())
    seen: list[api.Progress] = []
    found = analyse_in_child(
        upload,
        description=None,
        scratch=tmp_path,
        deadline=time.monotonic() + 30,
        cancelled=threading.Event(),
        progress=seen.append,
    )
    assert found == api.diagnose_path(upload)
    assert seen and seen[-1].files_read == seen[-1].files_total


def hang(path: Path, description: str | None, report) -> None:
    """A reader stuck in one enormous record: it reports once, then never returns."""
    report(api.Progress(3, 40, "Logs/WUAHandler.log", None))
    while True:
        time.sleep(1)


def test_a_hung_analysis_is_killed_at_its_deadline(tmp_path: Path):
    upload = tmp_path / "logs.zip"
    upload.write_bytes(gpo_conflict_zip())
    started = time.monotonic()
    with pytest.raises(AnalysisStopped) as stopped:
        analyse_in_child(
            upload,
            description=None,
            scratch=tmp_path,
            deadline=time.monotonic() + 1.5,
            cancelled=threading.Event(),
            reader=hang,
        )
    assert stopped.value.reason == "deadline"
    assert stopped.value.last == api.Progress(3, 40, "Logs/WUAHandler.log", None)
    assert time.monotonic() - started < 5


def test_a_stop_request_ends_the_analysis_at_once(tmp_path: Path):
    upload = tmp_path / "logs.zip"
    upload.write_bytes(gpo_conflict_zip())
    cancelled = threading.Event()
    threading.Timer(0.5, cancelled.set).start()
    started = time.monotonic()
    with pytest.raises(AnalysisStopped) as stopped:
        analyse_in_child(
            upload,
            description=None,
            scratch=tmp_path,
            deadline=time.monotonic() + 30,
            cancelled=cancelled,
            reader=hang,
        )
    assert stopped.value.reason == "stopped"
    assert time.monotonic() - started < 3


def test_the_user_is_told_what_was_read_and_what_to_send():
    from handlers.uploads import _too_long

    text = _too_long("logs.zip", 120, api.Progress(3, 40, "Logs/WUAHandler.log", None))
    assert "after 120 s" in text and "read 3 of 40 log files" in text
    assert "Logs/WUAHandler.log" in text and "the rest was not read" in text
    assert "smaller upload" in text and "no diagnosis" in text
    assert "not finished the first log file" in _too_long("logs.zip", 120, None)
