"""`sccm serve --http` as a real subprocess, for the tests that kill or restart it.

The fake Slack runs in the test process; the served app reaches it through SLACK_API_URL
and the files' URLs, exactly as in production. Requests are signed like Slack signs them.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

from .conftest import BOT_TOKEN, CHANNEL, SETTINGS_VARIABLES, SIGNING_SECRET
from .fake_slack import TEAM, FakeSlack

START_LIMIT = 30.0  # seconds a loaded CI machine may take to import and listen


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment(fake: FakeSlack, store: Path, scratch: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARIABLES}
    env.update(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake.api_url,
        SCCM_BOT_FILE_ORIGINS=fake.origin,
        SCCM_BOT_FEEDBACK_DB=str(store),
        SCCM_BOT_AUTO_TRIAGE_CHANNELS=CHANNEL,
        TMPDIR=str(scratch),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


@dataclass
class ServedApp:
    """One `sccm serve --http` process; `start()` returns once /healthz answers."""

    env: dict[str, str]
    log: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServedApp:
        command = [sys.executable, "-m", "bot.cli", "serve", "--http", "--host", "127.0.0.1"]
        command += ["--port", str(self.port)]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(command, env=self.env, stdout=out, stderr=out)
        deadline = time.monotonic() + START_LIMIT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"sccm serve exited: {self.log.read_text()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"sccm serve did not listen in {START_LIMIT}s: {self.log.read_text()}")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    # --- speaking as Slack ----------------------------------------------------------------

    def post(self, body: str, content_type: str, timeout: float = 10) -> httpx.Response:
        stamp = str(int(time.time()))
        signature = SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=stamp, body=body)
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature,
        }
        return httpx.post(
            self.url + "/slack/events", content=body, headers=headers, timeout=timeout
        )

    def event(self, event: dict) -> httpx.Response:
        envelope = {
            "token": "legacy",
            "team_id": TEAM,
            "api_app_id": "A0SCCM",
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{time.monotonic_ns()}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM, "user_id": "UBOTSCCM", "is_bot": True}],
        }
        return self.post(json.dumps(envelope), "application/json")

    def interaction(self, payload: dict) -> httpx.Response:
        return self.post(
            urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
        )


def run_once(env: dict[str, str], timeout: float = START_LIMIT) -> subprocess.CompletedProcess:
    """`sccm serve --http` expected to stop by itself (a bad setting): its exit and output."""
    command = [sys.executable, "-m", "bot.cli", "serve", "--http", "--host", "127.0.0.1"]
    command += ["--port", str(free_port())]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)


__all__ = ["BOT_TOKEN", "ServedApp", "environment", "free_port", "run_once"]
