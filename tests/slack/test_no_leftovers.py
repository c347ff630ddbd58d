"""Nothing of an upload outlives its analysis (issue 17 item 4), end to end.

Each upload is downloaded into a work folder of its own, and the analysis's child
process writes its temporary files there too (bot/analysis.py points `tempfile` at it);
handlers/uploads.py removes the folder whatever happens. These tests make the reading
leave files behind on purpose (an unpacked zip in a folder of its own, a loose temporary
file), then end it every way it can end: an answer, bad input, a killed or failing
reading process, the app's stop request. The store is checked to hold no log text.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import tempfile
import time
from pathlib import Path

import pytest

from bot import analysis
from handlers import uploads
from knowledge import api
from tests.logbuilder import zip_bytes
from tests.named_uploads import NAMES, named_logs, named_zip

from .conftest import CHANNEL, USER, RunningApp
from .test_end_to_end import file_share, final_answer, has_diagnosis


def _litter() -> None:
    """What a reader leaves while it works: an unpacked member in a folder of its own and
    a loose temporary file, both where `tempfile` puts them."""
    folder = Path(tempfile.mkdtemp(prefix="sccm-upload-"))
    (folder / "nested-1.zip").write_bytes(b"PK\x03\x04 an unpacked member")
    handle, _ = tempfile.mkstemp(suffix=".log")
    os.write(handle, b"a line of the customer's log")
    os.close(handle)


def litter_then_die(path: Path, description: str | None, report) -> None:
    _litter()
    os.kill(os.getpid(), signal.SIGKILL)  # as the kernel's OOM killer would


def litter_then_fail(path: Path, description: str | None, report) -> None:
    _litter()
    raise RuntimeError("a bug in the reader")


def litter_then_hang(path: Path, description: str | None, report) -> None:
    _litter()
    report(api.Progress(1, 6, "Logs/CAS.log", None))
    while True:
        time.sleep(1)


@pytest.fixture
def seen_at_the_end(running_app: RunningApp, monkeypatch: pytest.MonkeyPatch):
    """Makes the app's analyses run `reader`; records what the work folder held when the
    analysis ended, before the app cleaned up (so a test can tell litter was there)."""
    seen: list[list[Path]] = []

    def use(reader) -> list[list[Path]]:
        def analyse(target: Path, *, scratch: Path, **options):
            try:
                options.pop("reader", None)  # the app's own reader, replaced by the test's
                return analysis.analyse_in_child(target, scratch=scratch, reader=reader, **options)
            finally:
                seen.append(sorted(p for p in scratch.rglob("*")))

        monkeypatch.setattr(uploads, "analyse_in_child", analyse)
        return seen

    return use


def _upload(running_app: RunningApp, data: bytes, ts: str, **object_fields) -> dict:
    fake = running_app.fake
    upload = {**fake.add_file("logs.zip", data), **object_fields}
    running_app.event(file_share(upload, ts=ts))
    (posted,) = fake.wait_for(lambda: fake.messages_in(CHANNEL))
    return final_answer(running_app, posted)


def _no_leftovers(running_app: RunningApp) -> None:
    running_app.fake.wait_for(lambda: running_app.leftovers() == [], timeout=5)
    assert running_app.leftovers() == []


def test_after_an_answer_from_a_zip_inside_a_zip(running_app: RunningApp):
    inner = named_zip()
    outer = zip_bytes({"from-helpdesk/client-logs.zip": inner})
    edit = _upload(running_app, outer, "1710030000.000100")
    assert has_diagnosis(edit)  # the nested zip was unpacked and read
    _no_leftovers(running_app)


def test_after_bad_input(running_app: RunningApp):
    edit = _upload(running_app, b"PK\x03\x04 this is not a zip at all", "1710030100.000100")
    assert "could not diagnose" in edit["text"]
    _no_leftovers(running_app)


@pytest.mark.parametrize(
    ("reader", "said"),
    [(litter_then_die, "could not finish reading"), (litter_then_fail, "could not finish")],
    ids=["killed", "failing"],
)
def test_after_the_reading_process_is_killed_or_fails(
    running_app: RunningApp, seen_at_the_end, reader, said
):
    seen = seen_at_the_end(reader)
    edit = _upload(running_app, named_zip(), "1710030200.000100")
    assert said in edit["text"]
    (held,) = seen
    assert any(p.name == "nested-1.zip" for p in held), "the reader left files behind"
    assert any(p.suffix == ".log" and p.parent.name.startswith("sccm-work-") for p in held)
    _no_leftovers(running_app)


def test_after_the_app_stops_the_analysis(running_app: RunningApp, seen_at_the_end):
    fake = running_app.fake
    seen = seen_at_the_end(litter_then_hang)
    upload = fake.add_file("logs.zip", named_zip())
    running_app.event(file_share(upload, ts="1710030300.000100"))
    fake.wait_for(lambda: [p for p in running_app.scratch.rglob("nested-1.zip")], timeout=10)
    running_app.app.services.pool.cancel_all(grace=5)  # what SIGTERM or Ctrl-C does
    (posted,) = fake.messages_in(CHANNEL)
    edit = final_answer(running_app, posted)
    assert "The app was stopped" in edit["text"]
    assert seen and any(p.name == "nested-1.zip" for p in seen[0])
    _no_leftovers(running_app)


def test_the_store_keeps_no_log_text(running_app: RunningApp):
    """After an answer, a re-share and a feedback press, no line of the logs is in the
    SQLite file: only states, verdicts, causes and the user's choice."""
    fake = running_app.fake
    # Slack's object for a text file carries its first lines: they must not be stored.
    preview = "Preview line of the customer's own log, PREVIEW-MARKER-7"
    edit = _upload(
        running_app,
        named_zip(),
        "1710030400.000100",
        preview=preview,
        preview_highlight=preview,
        lines=12,
    )
    actions = next(b for b in edit["blocks"] if b["type"] == "actions")
    right = next(e for e in actions["elements"] if e["action_id"] == "feedback_right")
    press = {
        "type": "block_actions",
        "team": {"id": "T0CONTOSO"},
        "user": {"id": USER},
        "api_app_id": "A0SCCM",
        "channel": {"id": CHANNEL},
        "container": {"type": "message", "message_ts": "1", "channel_id": CHANNEL},
        "message": {"ts": "1", "blocks": edit["blocks"]},
        "response_url": fake.response_url(),
        "actions": [{**right, "block_id": actions["block_id"], "action_ts": "1710030401.0"}],
    }
    assert running_app.interaction(press).status_code == 200
    fake.wait_for(lambda: fake.responses)

    with sqlite3.connect(running_app.feedback_db) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        rows = [row for table in tables for row in db.execute(f"SELECT * FROM {table}")]
        (feedback,) = db.execute("SELECT judgement, verdict, stage, cause FROM feedback")
    stored = "\n".join(str(value) for row in rows for value in row).lower()
    assert feedback == ("right", "failure", "download", "download.http_404")
    assert [name for name in NAMES if name.lower() in stored] == []
    assert "preview-marker-7" not in stored
    for text in named_logs().values():
        for line in text.splitlines():
            message = line.split("]LOG]!>")[0].removeprefix("\ufeff").removeprefix("<![LOG[")
            assert message.lower()[:40] not in stored
