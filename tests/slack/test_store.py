"""The bot's store: feedback is committed before it is acknowledged, a broken store stops
the app at start with one line, and one broken while running is reported to the user."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.feedback import FeedbackRow
from bot.store import SqliteStore, WorkRecord

from .conftest import CHANNEL, USER, RunningApp
from .fake_slack import FakeSlack
from .served import ServedApp, environment, run_once


def press_payload(fake: FakeSlack, n: int) -> dict:
    value = '{"v": "failure", "s": "scan", "c": "scan.gpo_conflict", "f": ["logs.zip"]}'
    return {
        "type": "block_actions",
        "team": {"id": "T0CONTOSO"},
        "user": {"id": f"U{n:06d}"},
        "api_app_id": "A0SCCM",
        "trigger_id": f"trigger.{n}",
        "channel": {"id": CHANNEL},
        "container": {"type": "message", "message_ts": f"1710000000.{n:06d}"},
        "response_url": fake.response_url(),
        "actions": [{"action_id": "feedback_right", "block_id": "feedback", "value": value}],
    }


def test_store_keeps_feedback_and_work(tmp_path: Path):
    store = SqliteStore(tmp_path / "bot.sqlite3")
    row = FeedbackRow("right", "failure", "scan", None, ["logs.zip"], "logs", USER)
    store.record_feedback(row)
    assert store.feedback_rows() == [row]

    work = WorkRecord(CHANNEL, "1.0", USER, [{"id": "F1", "name": "a.zip"}], "files:F1")
    store.add_work(work)
    assert [w.id for w in store.unfinished_work()] == [work.id]
    assert store.active_for("files:F1").id == work.id
    store.update_work(work.id, state="done")
    assert store.unfinished_work() == [] and store.active_for("files:F1") is None
    with pytest.raises(ValueError):
        store.update_work(work.id, channel="elsewhere")


def test_answers_an_older_store_kept_are_wiped_when_it_opens(tmp_path: Path):
    """Before issue 17 the store kept each posted answer, log lines and all."""
    path = tmp_path / "bot.sqlite3"
    store = SqliteStore(path)
    work = WorkRecord(CHANNEL, "1.0", USER, [{"id": "F1", "name": "a.zip"}], "files:F1")
    store.add_work(work)
    store.update_work(work.id, state="done", answer={"text": "a line of the customer's log"})
    assert store.work(work.id).answer is not None
    reopened = SqliteStore(path)
    assert reopened.work(work.id).answer is None and reopened.work(work.id).state == "done"


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """`path` cannot be written, even by root (who ignores file modes): chattr +i there."""
    path.chmod(0o444)
    immutable = os.geteuid() == 0
    if immutable:
        made = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
        if made.returncode != 0:
            pytest.skip(f"running as root and chattr +i failed: {made.stderr.strip()!r}")
    try:
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(path)], check=False)
        path.chmod(0o644)


def test_a_read_only_store_stops_the_app_at_start_with_one_line(fake_slack: FakeSlack, tmp_path):
    store = tmp_path / "bot.sqlite3"
    SqliteStore(store)
    for leftover in tmp_path.glob("bot.sqlite3-*"):
        leftover.unlink()
    with read_only(store):
        result = run_once(environment(fake_slack, store, tmp_path))
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"error: SCCM_BOT_FEEDBACK_DB {store}: it cannot be written")
    assert fake_slack.calls == [], "nothing connected"


def test_a_corrupted_store_stops_the_app_at_start_with_one_line(fake_slack: FakeSlack, tmp_path):
    store = tmp_path / "bot.sqlite3"
    store.write_bytes(b"this is not a database, just bytes\n" * 200)
    result = run_once(environment(fake_slack, store, tmp_path))
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"error: SCCM_BOT_FEEDBACK_DB {store}: it is damaged")


def test_a_store_broken_while_running_tells_the_user_and_the_app_keeps_serving(
    running_app: RunningApp,
):
    fake = running_app.fake
    db = running_app.feedback_db
    for leftover in db.parent.glob(db.name + "-*"):  # the WAL files
        leftover.unlink()
    db.write_bytes(b"garbage" * 1000)
    payload = press_payload(fake, 1)
    assert running_app.interaction(payload).status_code == 200
    (reply,) = fake.wait_for(lambda: running_app.responses_to(payload["response_url"]))
    assert reply["response_type"] == "ephemeral"
    assert "could not save your feedback" in reply["text"] and "damaged" in reply["text"]
    assert httpx.get(running_app.url + "/healthz").status_code == 200
    answer, url = running_app.command("help")
    assert answer.status_code == 200
    assert fake.wait_for(lambda: running_app.responses_to(url)), "other requests still served"


def test_every_acknowledged_press_survives_a_sigkill(fake_slack: FakeSlack, tmp_path: Path):
    store = tmp_path / "bot.sqlite3"
    served = ServedApp(environment(fake_slack, store, tmp_path), tmp_path / "serve.log").start()
    acknowledged: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def presser(first: int) -> None:
        n = first
        while not stop.is_set():
            payload = press_payload(fake_slack, n)
            try:
                answer = served.interaction(payload)
            except httpx.HTTPError:
                return  # the server died mid-request: not acknowledged
            if answer.status_code == 200:
                with lock:
                    acknowledged.append(payload["user"]["id"])
            n += 1

    pressers = [threading.Thread(target=presser, args=(k * 100_000,)) for k in range(4)]
    try:
        for thread in pressers:
            thread.start()
        fake_slack.wait_for(lambda: len(acknowledged) >= 200, timeout=60)
        served.kill()
    finally:
        stop.set()
        for thread in pressers:
            thread.join(15)
        served.stop()
    stored = {r[0] for r in sqlite3.connect(store).execute("SELECT user_id FROM feedback")}
    missing = set(acknowledged) - stored
    assert len(acknowledged) >= 200 and not missing, f"{len(missing)} acknowledged presses lost"
