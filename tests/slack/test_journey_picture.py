"""The journey picture in Slack, end to end: signed upload events in over HTTP, the answer
and then the picture out through the fake Web API's upload calls
(files.getUploadURLExternal, the POST of the bytes, files.completeUploadExternal)."""

from __future__ import annotations

import logging
import time

from knowledge import api

from .conftest import CHANNEL, RunningApp
from .test_end_to_end import _saved, file_share, final_answer, gpo_conflict_zip, header_of

THREAD = "1710000050.000100"


def _upload_in_thread(running_app: RunningApp, data: bytes, name: str = "logs.zip"):
    upload = running_app.fake.add_file(name, data)
    event = file_share(upload, ts="1710000100.000200", thread_ts=THREAD)
    assert running_app.event(event).status_code == 200
    (posted,) = running_app.fake.wait_for(lambda: running_app.fake.messages_in(CHANNEL))
    return posted


def test_the_picture_follows_the_answer_in_its_thread(running_app: RunningApp):
    fake = running_app.fake
    data = gpo_conflict_zip()
    posted = _upload_in_thread(running_app, data)
    answer = final_answer(running_app, posted)
    expected = api.diagnose_path(_saved(running_app, "logs.zip", data))
    assert expected.stage_title in header_of(answer)

    (picture,) = fake.wait_for(lambda: fake.shared_files(CHANNEL))
    assert picture.thread_ts == THREAD, "in the thread of the answer, not the channel"
    assert picture.filename == "journey.png"
    assert picture.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert picture.length == len(picture.data)
    assert picture.title and "journey" in picture.title
    assert "Compliance scan failed" in picture.alt_txt, "the ledger, for screen readers"
    # Only after the answer: the picture illustrates it, it never stands in for it.
    methods = [call.method for call in fake.calls]
    last_edit = max(i for i, m in enumerate(methods) if m == "chat.update")
    assert methods.index("files.getUploadURLExternal") > last_edit
    assert methods.index("files.completeUploadExternal") > last_edit
    assert running_app.leftovers() == []


def test_without_the_upload_scope_the_answer_stands_and_the_log_says_why(
    running_app: RunningApp, caplog
):
    fake = running_app.fake
    fake.errors["files.getUploadURLExternal"] = "missing_scope"
    caplog.set_level(logging.WARNING, logger="handlers.journey")
    posted = _upload_in_thread(running_app, gpo_conflict_zip())
    answer = final_answer(running_app, posted)
    assert "Compliance scan" in header_of(answer)
    fake.wait_for(lambda: fake.calls_to("files.getUploadURLExternal"))
    fake.wait_for(lambda: any("files:write" in r.getMessage() for r in caplog.records))
    assert fake.shared_files(CHANNEL) == []
    assert fake.calls_to("files.completeUploadExternal") == []
    assert running_app.leftovers() == []


def test_an_upload_that_reads_as_nothing_gets_no_picture(running_app: RunningApp):
    fake = running_app.fake
    posted = _upload_in_thread(running_app, b"not a zip at all", name="logs.zip")
    answer = final_answer(running_app, posted)
    assert "could not" in answer["text"]
    time.sleep(0.5)  # give a wrong picture time to appear
    assert fake.calls_to("files.getUploadURLExternal") == []


def test_logs_that_show_no_timed_step_get_no_picture(running_app: RunningApp):
    from tests.logbuilder import zip_bytes

    fake = running_app.fake
    data = zip_bytes({"Logs/notes.log": "nothing about updates here\n"})
    posted = _upload_in_thread(running_app, data)
    answer = final_answer(running_app, posted)
    assert "Inconclusive" in header_of(answer) or "inconclusive" in answer["text"].lower()
    time.sleep(0.5)  # give a wrong picture time to appear
    assert fake.calls_to("files.getUploadURLExternal") == []
