"""The events endpoint of the real `sccm serve --http` under hostile and broken clients.

An unsigned body far over the size limit, garbage signed and unsigned, events the app
has no listener for, hundreds of idle connections and a request trickled in a byte at a
time: each is refused or closed the way bot/endpoint.py and bot/serve.py promise, the
server's memory stays flat, its log holds no traceback, and it keeps answering Slack.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from slack_sdk.signature import SignatureVerifier

from .conftest import SIGNING_SECRET
from .fake_slack import TEAM, FakeSlack
from .served import ServedApp, environment
from .test_end_to_end import file_share, gpo_conflict_zip

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/status").exists(), reason="reads the server's memory from /proc"
)

CONNECTION_SECONDS = 2  # SCCM_BOT_HTTP_TIMEOUT_SECONDS in these tests


@pytest.fixture
def served(fake_slack: FakeSlack, tmp_path: Path) -> Iterator[ServedApp]:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    env = environment(
        fake_slack,
        tmp_path / "bot.sqlite3",
        scratch,
        SCCM_BOT_HTTP_TIMEOUT_SECONDS=str(CONNECTION_SECONDS),
    )
    app = ServedApp(env, tmp_path / "serve.log").start()
    yield app
    app.stop()


def resident_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS line")


def status_of(reply: bytes) -> int:
    """The status code of a raw HTTP answer ("HTTP/1.1 413 ...")."""
    assert reply.startswith(b"HTTP/1."), reply[:80]
    return int(reply.split(b" ", 2)[1])


def huge_unsigned_post(port: int, chunked: bool, megabytes: int = 200) -> bytes:
    """POST `megabytes` of zeros without a signature, streamed (never held in memory
    here either); returns what the server answered, read while the body was going out."""
    head = f"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
    head += "Content-Type: application/json\r\n"
    head += (
        "Transfer-Encoding: chunked\r\n\r\n"
        if chunked
        else f"Content-Length: {megabytes << 20}\r\n\r\n"
    )
    piece = b"0" * (1 << 20)
    if chunked:
        piece = b"%x\r\n" % len(piece) + piece + b"\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=20) as connection:

        def send_body() -> None:
            try:
                connection.sendall(head.encode())
                for _ in range(megabytes):
                    connection.sendall(piece)
            except OSError:
                pass  # the server answered and closed: the rest is not wanted

        sender = threading.Thread(target=send_body, daemon=True)
        sender.start()
        reply = b""
        try:
            while b"\r\n" not in reply:
                data = connection.recv(4096)
                if not data:
                    break
                reply += data
        except ConnectionResetError:
            pass  # closed with body unread: a reset may drop the answer (see below)
        finally:
            with contextlib.suppress(OSError):  # already reset by the server
                connection.shutdown(socket.SHUT_RDWR)
            sender.join(20)
        return reply


def test_an_unsigned_200_mb_body_is_refused_unread_and_memory_stays_flat(served: ServedApp):
    pid = served.process.pid
    assert served.post("help=1", "text/plain").status_code == 415  # warm: the guard has run
    before = resident_kb(pid)
    for chunked in (False, True):
        # The server closes with the rest of the body unread, so the kernel may send a
        # reset that overtakes its answer: try again until the answer is seen.
        for _attempt in range(5):
            started = time.monotonic()
            reply = huge_unsigned_post(served.port, chunked=chunked)
            assert time.monotonic() - started < 10, "refused at once, not after reading it"
            if reply:
                break
        assert status_of(reply) in (401, 413), reply[:200]
    grown_mb = (resident_kb(pid) - before) / 1024
    assert grown_mb < 20, f"the server grew by {grown_mb:.0f} MB"
    assert httpx.get(served.url + "/healthz", timeout=5).status_code == 200


def signed_headers(body: str, *, timestamp: int | None = None, secret: str = SIGNING_SECRET):
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature}


def file_share_body(fake: FakeSlack) -> str:
    upload = fake.add_file("logs.zip", gpo_conflict_zip())
    event = file_share(upload, ts="1710007000.000100")
    return json.dumps({"type": "event_callback", "team_id": TEAM, "event": event})


def test_garbage_signed_or_not_gets_a_4xx_no_traceback_and_reaches_no_listener(
    served: ServedApp, fake_slack: FakeSlack
):
    fake = fake_slack
    share = file_share_body(fake)  # would start a download if it got through
    form = "application/x-www-form-urlencoded"
    not_a_time = {**signed_headers(share), "X-Slack-Request-Timestamp": "soon"}
    unsigned = [
        (401, share, "application/json", {}),
        (401, share, "application/json", {"X-Slack-Request-Timestamp": str(int(time.time()))}),
        (401, share, "application/json", signed_headers(share, secret="not-the-secret")),
        (401, share, "application/json", signed_headers(share, timestamp=int(time.time()) - 600)),
        (401, share, "application/json", not_a_time),
        (401, "{not json", "application/json", {}),
        (401, "payload=%7B", form, {}),
    ]
    signed = [
        (400, "{not json", "application/json"),
        (400, "[1, 2]", "application/json"),
        (400, '{"type": "event_callback", "event": "file_shared"}', "application/json"),
        (400, '{"type": "event_callback", "event": {"user": "U1"}}', "application/json"),
        (400, '{"event": {"type": "message"}}', "application/json"),
        (400, "payload=%7Bnot+json", form),
        (400, "payload=%5B1%5D", form),
        (400, "payload=%FF%FE", form),
        (400, "a=1&&=&==", form),
        (400, "team_id=T1&user_id=U1", form),
        (415, share, "text/plain"),
        (415, "command=%2Fsccm", "multipart/form-data; boundary=x"),
    ]
    url = served.url + "/slack/events"
    for status, body, content_type, headers in unsigned:
        answer = httpx.post(
            url, content=body, headers={"Content-Type": content_type, **headers}, timeout=10
        )
        assert answer.status_code == status, (body, headers, answer.text)
    for status, body, content_type in signed:
        answer = served.post(body, content_type)
        assert answer.status_code == status, (body, content_type, answer.text)
    assert httpx.get(url, timeout=10).status_code == 405
    assert httpx.get(served.url + "/elsewhere", timeout=10).status_code == 404

    assert served.post(share, "application/json").status_code == 200  # the real thing works
    fake.wait_for(lambda: fake.file_requests)
    time.sleep(0.5)
    assert len(fake.file_requests) == 1, "only the signed share was downloaded"
    log = served.log.read_text()
    assert "Traceback" not in log and " 500 " not in log, log[-3000:]


def test_events_the_app_does_not_handle_are_acknowledged_with_200(served: ServedApp):
    for event in (
        {"type": "emoji_changed", "subtype": "add", "name": "x"},
        {"type": "reaction_added", "user": "U1", "reaction": "+1"},
        {"type": "message", "subtype": "channel_topic", "channel": "C1", "text": "topic"},
    ):
        answer = served.event(event)
        assert answer.status_code == 200, (event, answer.text)
    rate_limited = json.dumps(
        {"type": "app_rate_limited", "team_id": TEAM, "minute_rate_limited": 1, "api_app_id": "A"}
    )
    assert served.post(rate_limited, "application/json").status_code == 200


def closed_within(connections: list[socket.socket], seconds: float) -> float:
    """Seconds until the server closed every connection (each read returns EOF or a
    reset); fails if some are still open after `seconds`."""
    started = time.monotonic()
    with selectors.DefaultSelector() as waiting:
        for connection in connections:
            connection.setblocking(False)
            waiting.register(connection, selectors.EVENT_READ)
        open_count = len(connections)
        while open_count:
            left = started + seconds - time.monotonic()
            assert left > 0, f"{open_count} of {len(connections)} still open after {seconds}s"
            for key, _ in waiting.select(timeout=left):
                try:
                    data = key.fileobj.recv(4096)
                except OSError:
                    data = b""
                if not data:
                    waiting.unregister(key.fileobj)
                    open_count -= 1
    return time.monotonic() - started


def test_three_hundred_idle_connections_are_closed_and_the_app_keeps_answering(
    served: ServedApp,
):
    connections = [socket.create_connection(("127.0.0.1", served.port)) for _ in range(300)]
    try:
        # While they are held open, Slack's requests are still answered at once.
        assert served.event({"type": "emoji_changed", "subtype": "add"}).status_code == 200
        took = closed_within(connections, seconds=CONNECTION_SECONDS + 8)
        assert took < 30
    finally:
        for connection in connections:
            connection.close()
    assert httpx.get(served.url + "/healthz", timeout=5).status_code == 200


def test_a_request_trickled_a_byte_at_a_time_is_cut_off(served: ServedApp):
    """Each byte is activity, so an idle timeout alone would keep this open for ever."""
    body = json.dumps({"type": "event_callback", "event": {"type": "x"}})
    request = (
        f"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n{body}"
    ).encode()
    closed = threading.Event()

    def trickle(connection: socket.socket) -> None:
        try:
            for byte in request:
                connection.sendall(bytes([byte]))
                if closed.wait(0.25):
                    return
        except OSError:
            return

    with socket.create_connection(("127.0.0.1", served.port)) as connection:
        sender = threading.Thread(target=trickle, args=(connection,), daemon=True)
        sender.start()
        try:
            took = closed_within([connection], seconds=CONNECTION_SECONDS + 6)
        finally:
            closed.set()
            sender.join(5)
    assert took < CONNECTION_SECONDS + 6
    assert len(request) * 0.25 > CONNECTION_SECONDS + 6, "the test's request outlasts the limit"
    assert httpx.get(served.url + "/healthz", timeout=5).status_code == 200


def test_the_timeout_setting_is_checked_at_start(fake_slack: FakeSlack, tmp_path: Path):
    from .served import run_once

    env = environment(
        fake_slack, tmp_path / "bot.sqlite3", tmp_path, SCCM_BOT_HTTP_TIMEOUT_SECONDS="0"
    )
    done = run_once(env)
    assert done.returncode == 2
    assert done.stderr.startswith("error: SCCM_BOT_HTTP_TIMEOUT_SECONDS is malformed"), done.stderr
    assert os.linesep not in done.stderr.strip()
