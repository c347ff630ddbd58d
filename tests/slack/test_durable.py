"""Never lose an answer: the real `sccm serve --http`, killed, starved and refused.

Each test runs the app as a subprocess against the fake Slack, the way an operator would
see it fail: SIGKILL in the middle of work, a crawling download, chat.update refused for
good, SIGTERM with work in flight.
"""

from __future__ import annotations

import io
import random
import signal
import time
import zipfile
from pathlib import Path

import pytest

from bot.store import SqliteStore
from tests.logbuilder import zip_bytes

from .conftest import CHANNEL, USER
from .fake_slack import ApiCall as FakeCall
from .fake_slack import FakeSlack
from .served import ServedApp, environment
from .test_end_to_end import file_share, gpo_conflict_zip, has_diagnosis

DOWNLOAD_DEADLINE = 5  # seconds: SCCM_BOT_DOWNLOAD_TIMEOUT_SECONDS in these tests


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    folder = tmp_path / "scratch"
    folder.mkdir()
    return folder


def served_app(fake: FakeSlack, tmp_path: Path, scratch: Path, **settings: str) -> ServedApp:
    env = environment(
        fake,
        tmp_path / "bot.sqlite3",
        scratch,
        SCCM_BOT_DOWNLOAD_TIMEOUT_SECONDS=str(DOWNLOAD_DEADLINE),
        **settings,
    )
    return ServedApp(env, tmp_path / "serve.log")


def work_files(scratch: Path) -> list[Path]:
    """What the app left of its downloads (the analysis server's own socket aside)."""
    return [p for p in scratch.rglob("*") if "pymp-" not in str(p)]


def answer_in(fake: FakeSlack, progress, predicate, timeout: float = 30.0) -> dict:
    """The final word for a progress message (the ApiCall that posted it): its last edit,
    or a new message in its thread, that satisfies `predicate`."""
    progress_ts, thread_ts = progress.answer["ts"], progress.params.get("thread_ts")

    def probe():
        edits = [c.params for c in fake.calls_to("chat.update") if c.params["ts"] == progress_ts]
        posts = [
            c.params
            for c in fake.messages_in(CHANNEL)
            if c.params.get("thread_ts") in (thread_ts, progress_ts)
            and c.answer["ts"] != progress_ts
        ]
        return next((m for m in reversed(edits + posts) if predicate(m)), None)

    return fake.wait_for(probe, timeout=timeout)


def progress_messages(fake: FakeSlack) -> list:
    return [c for c in fake.messages_in(CHANNEL) if "reading" in c.params.get("text", "")]


def test_a_crawling_download_is_abandoned_within_its_deadline_and_the_queue_moves(
    fake_slack: FakeSlack, tmp_path: Path, scratch: Path
):
    served = served_app(fake_slack, tmp_path, scratch, SCCM_BOT_WORKERS="1").start()
    try:
        crawling = fake_slack.add_file("slow.zip", gpo_conflict_zip(), drip=1.0)
        behind = fake_slack.add_file("next.zip", gpo_conflict_zip())
        started = time.monotonic()
        assert served.event(file_share(crawling, ts="1710005000.000100")).status_code == 200
        fake_slack.wait_for(lambda: len(progress_messages(fake_slack)) == 1)
        assert served.event(file_share(behind, ts="1710005000.000200")).status_code == 200
        first, second = fake_slack.wait_for(
            lambda: len(progress_messages(fake_slack)) == 2 and progress_messages(fake_slack)
        )
        refused = answer_in(fake_slack, first, lambda m: "⏳" not in m["text"])
        abandoned_after = time.monotonic() - started
        assert "took longer than 5 s" in refused["text"] and "smaller upload" in refused["text"]
        assert abandoned_after < DOWNLOAD_DEADLINE + 4
        assert has_diagnosis(answer_in(fake_slack, second, has_diagnosis))
        fake_slack.wait_for(lambda: not work_files(scratch), timeout=5)
    finally:
        served.stop()


def test_sigterm_with_a_crawling_download_exits_in_time_and_tells_the_user(
    fake_slack: FakeSlack, tmp_path: Path, scratch: Path
):
    served = served_app(fake_slack, tmp_path, scratch, SCCM_BOT_STOP_SECONDS="2").start()
    try:
        crawling = fake_slack.add_file("slow.zip", gpo_conflict_zip(), drip=1.0)
        served.event(file_share(crawling, ts="1710006000.000100"))
        fake_slack.wait_for(lambda: len(fake_slack.file_requests) == 1)
        (posted,) = progress_messages(fake_slack)
        stopped = time.monotonic()
        served.process.send_signal(signal.SIGTERM)
        served.process.wait(10)
        assert time.monotonic() - stopped < 10
        told = answer_in(fake_slack, posted, lambda m: "was stopped" in m["text"])
        assert "read it again" in told["text"]
        assert not work_files(scratch)
    finally:
        served.stop()


def many_logs_zip(count: int = 300) -> bytes:
    """The GPO-conflict client's WUAHandler.log, rotated `count` times: an analysis that
    takes a second or two, long enough to be killed in the middle of it."""
    with zipfile.ZipFile(io.BytesIO(gpo_conflict_zip())) as source:
        text = source.read("Logs/WUAHandler.log")
    return zip_bytes(
        {f"Logs/WUAHandler-2024010{n % 10}-{n:06d}.log": text * 200 for n in range(count)}
    )


def test_sigkill_mid_analysis_then_restart_reads_the_upload_again_and_leaves_no_files(
    fake_slack: FakeSlack, tmp_path: Path, scratch: Path
):
    served = served_app(fake_slack, tmp_path, scratch)
    served.start()
    upload = fake_slack.add_file("logs.zip", many_logs_zip())
    served.event(file_share(upload, ts="1710007000.000100"))
    fake_slack.wait_for(  # the first "n of 300 files read": the analysis is under way
        lambda: any("files read" in c.params["text"] for c in fake_slack.calls_to("chat.update"))
    )
    served.kill()
    (posted,) = progress_messages(fake_slack)
    assert work_files(scratch), "the killed app left its download behind"

    served.start()
    try:
        answer = answer_in(fake_slack, posted, has_diagnosis)
        assert answer["ts"] == posted.answer["ts"], "the stale progress message got the answer"
        restarted = [
            c.params["text"]
            for c in fake_slack.calls_to("chat.update")
            if c.params["ts"] == posted.answer["ts"]
        ]
        assert any("restarted" in text for text in restarted), "the user saw what happened"
        assert len(fake_slack.file_requests) == 2, "downloaded again after the restart"
        fake_slack.wait_for(lambda: not work_files(scratch), timeout=5)
        store = SqliteStore(tmp_path / "bot.sqlite3")  # recorded just after it is delivered
        fake_slack.wait_for(lambda: store.unfinished_work() == [], timeout=5)
    finally:
        served.stop()


def test_sigkill_mid_download_leaves_nothing_after_the_restart(
    fake_slack: FakeSlack, tmp_path: Path, scratch: Path
):
    served = served_app(fake_slack, tmp_path, scratch)
    served.start()
    crawling = fake_slack.add_file("logs.zip", gpo_conflict_zip(), drip=0.05)
    served.event(file_share(crawling, ts="1710007500.000100"))
    fake_slack.wait_for(lambda: work_files(scratch), timeout=10)  # mid-download
    served.kill()
    (posted,) = progress_messages(fake_slack)
    path = next(p for p in fake_slack.files if p.startswith(f"/files/{crawling['id']}/"))
    fake_slack.files[path].drip = None  # Slack serves it normally again
    served.start()
    try:
        assert has_diagnosis(answer_in(fake_slack, posted, has_diagnosis))
        fake_slack.wait_for(lambda: not work_files(scratch), timeout=5)
    finally:
        served.stop()


def test_an_upload_that_kept_killing_the_app_is_given_up_with_a_clear_word(
    fake_slack: FakeSlack, tmp_path: Path, scratch: Path
):
    from bot.store import WorkRecord

    store = SqliteStore(tmp_path / "bot.sqlite3")
    upload = fake_slack.add_file("huge.zip", gpo_conflict_zip())
    crashed = WorkRecord(
        CHANNEL, "1710008000.000100", USER, [upload], f"files:{upload['id']}", attempts=2
    )
    crashed.state, crashed.progress_ts = "running", "1710008000.000200"
    store.add_work(crashed)
    (scratch / "sccm-work-0123456789-dead").mkdir()  # another store's: not ours to remove
    served = served_app(fake_slack, tmp_path, scratch).start()
    try:
        progress = FakeCall(
            "chat.postMessage", {"thread_ts": crashed.thread_ts}, {}, {"ts": crashed.progress_ts}
        )
        told = answer_in(fake_slack, progress, lambda m: "gave up" in m["text"])
        assert "stopped 2 times" in told["text"] and "smaller upload" in told["text"]
        assert fake_slack.file_requests == [], "not read a third time"
        fake_slack.wait_for(lambda: store.unfinished_work() == [], timeout=5)
        assert (scratch / "sccm-work-0123456789-dead").is_dir()
    finally:
        served.stop()


def test_chat_update_failing_for_good_the_answer_lands_as_a_new_message(
    fake_slack: FakeSlack, tmp_path: Path, scratch: Path
):
    fake_slack.errors["chat.update"] = "cant_update_message"
    served = served_app(fake_slack, tmp_path, scratch).start()
    try:
        upload = fake_slack.add_file("logs.zip", gpo_conflict_zip())
        served.event(file_share(upload, ts="1710009000.000100", thread_ts="1710009000.000050"))
        answer = fake_slack.wait_for(
            lambda: next(
                (c.params for c in fake_slack.messages_in(CHANNEL) if has_diagnosis(c.params)),
                None,
            )
        )
        assert answer["thread_ts"] == "1710009000.000050"
    finally:
        served.stop()


def test_when_slack_refuses_every_answer_the_user_is_told_why(
    fake_slack: FakeSlack, tmp_path: Path, scratch: Path
):
    fake_slack.errors["chat.update"] = "cant_update_message"
    served = served_app(fake_slack, tmp_path, scratch).start()
    try:
        upload = fake_slack.add_file("logs.zip", gpo_conflict_zip(), drip=0.005)
        served.event(file_share(upload, ts="1710009100.000100"))
        fake_slack.wait_for(lambda: progress_messages(fake_slack))
        fake_slack.errors["chat.postMessage"] = "channel_is_archived"
        (told,) = fake_slack.wait_for(lambda: fake_slack.calls_to("chat.postEphemeral"))
        assert told.params["user"] == USER
        assert "cant_update_message" in told.params["text"]
        assert "channel_is_archived" in told.params["text"]
    finally:
        served.stop()


def odd_records_zip(mebibytes: int = 32) -> bytes:
    """The GPO-conflict client's WUAHandler.log grown to `mebibytes` across four rotated
    files by varied routine records (so it packs like real logs, not like a zip bomb),
    with an odd record in every MiB (a message holding the text that closes a message):
    inside every limit, the kind of upload that once read at 1 MiB/s."""
    with zipfile.ZipFile(io.BytesIO(gpo_conflict_zip())) as source:
        text = source.read("Logs/WUAHandler.log").removeprefix(b"\xef\xbb\xbf")
    noise = random.Random(14)

    def record(message: str, second: int) -> bytes:
        return (
            f'<![LOG[{message}]LOG]!><time="08:{second // 60 % 60:02d}:{second % 60:02d}.000+240" '
            f'date="03-05-2024" component="WUAHandler" context="" type="1" '
            f'thread="{4000 + second % 97}" '
            f'file="agent.cpp:{100 + second % 13}">\r\n'
        ).encode()

    def mebibyte() -> bytes:
        lines, size = [], 0
        while size < 1 << 20:
            line = record(
                f"Async searching completed. Id {noise.getrandbits(64):016x}", size % 3600
            )
            lines.append(line)
            size += len(line)
        lines[len(lines) // 2] = record("Update scan ]LOG]!> held in a message", 1)
        return b"".join(lines)

    per_file = mebibytes // 4
    files = {
        f"Logs/WUAHandler-2024030{n}-000000.lo_": b"".join(mebibyte() for _ in range(per_file))
        for n in range(1, 4)
    }
    files["Logs/WUAHandler.log"] = b"".join(mebibyte() for _ in range(per_file)) + text
    return zip_bytes(files)


def test_a_slow_but_legal_upload_is_answered_within_90_seconds(
    fake_slack: FakeSlack, tmp_path: Path, scratch: Path
):
    """Odd records in every MiB, sent slowly (but well inside the download deadline) by
    the files endpoint: the user gets the diagnosis, or a clear refusal, in time."""
    env = environment(
        fake_slack, tmp_path / "bot.sqlite3", scratch, SCCM_BOT_DOWNLOAD_TIMEOUT_SECONDS="60"
    )
    served = ServedApp(env, tmp_path / "serve.log").start()
    try:
        upload = fake_slack.add_file("big.zip", odd_records_zip(), trickle_seconds=4.0)
        started = time.monotonic()
        assert served.event(file_share(upload, ts="1710010000.000100")).status_code == 200
        (posted,) = fake_slack.wait_for(lambda: progress_messages(fake_slack))
        answer = answer_in(
            fake_slack,
            posted,
            lambda m: "⏳" not in m["text"],
            timeout=90,
        )
        assert time.monotonic() - started < 90
        assert has_diagnosis(answer), answer["text"]
    finally:
        served.stop()
