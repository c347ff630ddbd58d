"""The real `sccm serve --http` as a process: concurrent requests, size limit, SIGTERM.

The app runs as admins run it (the `sccm` program, settings from the environment) on a
free port of 127.0.0.1; Slack's side is FakeSlack, and requests are signed as Slack signs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .conftest import CHANNEL, RunningApp
from .fake_slack import FakeSlack
from .served import environment as served_environment
from .served import free_port
from .test_end_to_end import file_share, gpo_conflict_zip, has_diagnosis, is_answer

pytestmark = pytest.mark.skipif(
    not hasattr(signal, "SIGTERM") or os.name != "posix", reason="POSIX signals"
)

ACK_LIMIT = 3.0  # seconds Slack waits for an acknowledgement
SCCM = Path(sys.executable).with_name("sccm")


class ServedApp(RunningApp):
    process: subprocess.Popen


def start_serve(fake: FakeSlack, tmp_path: Path, **settings: str) -> tuple[ServedApp, Path]:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    port = free_port()
    environment = served_environment(fake, tmp_path / "feedback.sqlite3", scratch, **settings)
    log = tmp_path / "serve.log"
    process = subprocess.Popen(
        [str(SCCM), "serve", "--http", "--host", "127.0.0.1", "--port", str(port)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"sccm serve did not start:\n{log.read_text()}")
        time.sleep(0.1)
    served = ServedApp(url, fake, None, scratch, tmp_path / "feedback.sqlite3")
    served.process = process
    return served, log


@pytest.fixture
def serve_process(fake_slack: FakeSlack, tmp_path: Path) -> Iterator:
    started: list[subprocess.Popen] = []

    def start(**settings: str) -> tuple[ServedApp, Path]:
        served, log = start_serve(fake_slack, tmp_path, **settings)
        started.append(served.process)
        return served, log

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_fifty_concurrent_signed_commands_are_each_answered_in_time(serve_process):
    served, _ = serve_process(SCCM_BOT_HTTP_THREADS="16")
    timings: list[float] = []
    statuses: list[int] = []
    urls: list[str] = []
    lock = threading.Lock()
    gate = threading.Barrier(50)

    def send(n: int) -> None:
        gate.wait()
        started = time.monotonic()
        text = "error 0x80244010" if n % 2 else "help"
        answer, response_url = served.command(text)
        with lock:
            timings.append(time.monotonic() - started)
            statuses.append(answer.status_code)
            urls.append(response_url)

    senders = [threading.Thread(target=send, args=(n,)) for n in range(50)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    assert statuses == [200] * 50
    assert max(timings) < ACK_LIMIT, sorted(timings)[-5:]
    for url in urls:
        (reply,) = served.fake.wait_for(lambda url=url: served.responses_to(url))
        assert reply["text"] or reply.get("blocks")


def test_a_request_over_the_size_limit_is_refused_unread(serve_process):
    served, _ = serve_process(SCCM_BOT_MAX_REQUEST_KB="16")
    body = "x" * (64 * 1024)
    answer = httpx.post(
        served.url + "/slack/events",
        content=body,
        headers={"Content-Type": "application/json", **served.signed_headers(body)},
        timeout=10,
    )
    assert answer.status_code == 413
    answer, _ = served.command("help")
    assert answer.status_code == 200, "the server keeps serving"


def test_connections_are_kept_alive(serve_process):
    served, _ = serve_process()
    with httpx.Client() as client:
        first = client.get(served.url + "/healthz")
        second = client.get(served.url + "/healthz")
    assert first.status_code == second.status_code == 200
    assert first.http_version == "HTTP/1.1"
    assert first.headers.get("connection", "").lower() != "close"


def _upload(served: ServedApp, trickle_seconds: float):
    fake = served.fake
    upload = fake.add_file("logs.zip", gpo_conflict_zip(), trickle_seconds=trickle_seconds)
    assert served.event(file_share(upload, ts="1710009000.000100")).status_code == 200
    (posted,) = fake.wait_for(lambda: fake.messages_in(CHANNEL))
    fake.wait_for(lambda: fake.file_requests)  # the analysis is under way: downloading
    return posted


def test_sigterm_lets_a_running_analysis_finish_then_exits(serve_process):
    served, log = serve_process(SCCM_BOT_STOP_SECONDS="10")
    posted = _upload(served, trickle_seconds=2.0)
    stopped_at = time.monotonic()
    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(timeout=10 + 3) == 0, log.read_text()
    assert time.monotonic() - stopped_at < 10 + 3
    answer = served.fake.final_update(CHANNEL, posted.answer["ts"], is_answer)
    assert has_diagnosis(answer), "the analysis finished and its answer landed"
    assert served.leftovers() == [], "the download was removed"
    with pytest.raises(httpx.TransportError):
        httpx.get(served.url + "/healthz", timeout=1)


def test_sigterm_tells_the_user_when_the_analysis_outlives_the_deadline(serve_process):
    served, log = serve_process(SCCM_BOT_STOP_SECONDS="1")
    posted = _upload(served, trickle_seconds=60.0)
    stopped_at = time.monotonic()
    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(timeout=1 + 5) == 0, log.read_text()
    assert time.monotonic() - stopped_at < 1 + 5
    answer = served.fake.final_update(CHANNEL, posted.answer["ts"], is_answer)
    assert "was stopped" in answer["text"] and "upload it again" in answer["text"]
