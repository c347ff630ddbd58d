"""The Slack app, running as `sccm serve --http` does, against a fake Slack on 127.0.0.1.

Requests go over real HTTP, signed like Slack signs them; the app's Web API calls, file
downloads and response_url posts land in `FakeSlack`, which records them.
"""

from __future__ import annotations

import json
import multiprocessing.util
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from slack_sdk.signature import SignatureVerifier

from bot.serve import http_server
from bot.settings import load_settings
from bot.slack_app import SlackApp, build_app

from .fake_slack import TEAM, FakeSlack
from .postgres import PostgresServer, server_binaries

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_TOKEN = "xoxb-0000-1111-testtoken"
CHANNEL = "C0SUPPORT"
SECOND_CHANNEL = "C0OTHERTEAM"  # another team's support channel, also opted in
USER = "U0ADMIN"

SETTINGS_VARIABLES = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_API_URL",
    "SCCM_BOT_FILE_ORIGINS",
    "SCCM_BOT_MAX_UPLOAD_MB",
    "SCCM_BOT_WORKERS",
    "SCCM_BOT_MAX_QUEUED",
    "SCCM_BOT_FEEDBACK_DB",
    "SCCM_BOT_DOWNLOAD_TIMEOUT_SECONDS",
    "SCCM_BOT_ANALYSIS_TIMEOUT_SECONDS",
    "SCCM_BOT_STOP_SECONDS",
    "SCCM_BOT_HTTP_THREADS",
    "SCCM_BOT_MAX_REQUEST_KB",
    "SCCM_BOT_HTTP_TIMEOUT_SECONDS",
    "SCCM_BOT_AUTO_TRIAGE_CHANNELS",
    "SCCM_BOT_REDACT_IN_CHANNELS",
    "SCCM_BOT_DATABASE_URL",
    "SCCM_BOT_LEASE_SECONDS",
    "SLACK_CLIENT_ID",
    "SLACK_CLIENT_SECRET",
    "SLACK_SCOPES",
    "SCCM_BOT_OAUTH_STATE_SECONDS",
)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No Slack setting leaks in from the machine running the tests."""
    for name in SETTINGS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.stop()


# One client for every request the tests send: `httpx.post` builds a client (and its TLS
# context, a few ms of CPU) per call, which 50 concurrent requests would add to the
# app's answer times. No keep-alive: each test's server is a new one.
_HTTP = httpx.Client(timeout=10, limits=httpx.Limits(max_keepalive_connections=0))


@dataclass
class RunningApp:
    """The served app plus helpers that speak to it the way Slack does."""

    url: str
    fake: FakeSlack
    app: SlackApp
    scratch: Path  # the temporary-files folder the app uses during the test
    feedback_db: Path

    def signed_headers(self, body: str, *, timestamp: int | None = None, secret=SIGNING_SECRET):
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
        return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature}

    def post(self, body: str, content_type: str, headers: dict | None = None) -> httpx.Response:
        sent = {"Content-Type": content_type, **self.signed_headers(body), **(headers or {})}
        return _HTTP.post(self.url + "/slack/events", content=body, headers=sent)

    def command(self, text: str, *, channel: str = CHANNEL) -> tuple[httpx.Response, str]:
        """`/sccm <text>`; returns the HTTP answer and the command's response_url."""
        response_url = self.fake.response_url()
        body = urlencode(
            {
                "token": "legacy",
                "team_id": TEAM,
                "channel_id": channel,
                "channel_name": "sccm-support",
                "user_id": USER,
                "user_name": "admin",
                "command": "/sccm",
                "text": text,
                "api_app_id": "A0SCCM",
                "response_url": response_url,
                "trigger_id": f"trigger.{time.monotonic_ns()}",
            }
        )
        return self.post(body, "application/x-www-form-urlencoded"), response_url

    def event(
        self, event: dict, *, event_id: str | None = None, headers: dict | None = None
    ) -> httpx.Response:
        envelope = {
            "token": "legacy",
            "team_id": TEAM,
            "api_app_id": "A0SCCM",
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{time.monotonic_ns()}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM, "user_id": "UBOTSCCM", "is_bot": True}],
        }
        return self.post(json.dumps(envelope), "application/json", headers)

    def interaction(self, payload: dict) -> httpx.Response:
        body = urlencode({"payload": json.dumps(payload)})
        return self.post(body, "application/x-www-form-urlencoded")

    def responses_to(self, response_url: str) -> list[dict]:
        path = response_url.removeprefix(self.fake.origin)
        return [r for r in self.fake.responses if r["path"] == path]

    def leftovers(self) -> list[Path]:
        return list(self.scratch.iterdir())


@pytest.fixture
def running_app(
    clean_env: pytest.MonkeyPatch, fake_slack: FakeSlack, tmp_path: Path
) -> Iterator[RunningApp]:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    feedback_db = tmp_path / "feedback.sqlite3"
    clean_env.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    clean_env.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    clean_env.setenv("SLACK_API_URL", fake_slack.api_url)
    clean_env.setenv("SCCM_BOT_FILE_ORIGINS", fake_slack.origin)
    clean_env.setenv("SCCM_BOT_FEEDBACK_DB", str(feedback_db))
    clean_env.setenv("SCCM_BOT_WORKERS", "3")
    # the support channels opted in to automatic triage (tests/slack/test_opt_in.py: others)
    clean_env.setenv("SCCM_BOT_AUTO_TRIAGE_CHANNELS", f"{CHANNEL},{SECOND_CHANNEL}")
    multiprocessing.util.get_temp_dir()  # the analysis server's socket: not in scratch
    clean_env.setattr(tempfile, "tempdir", str(scratch))  # where downloads land
    settings, mode = load_settings(None)
    assert mode == "http"
    app = build_app(settings)
    server = http_server(app, "127.0.0.1", 0)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield RunningApp(
            f"http://127.0.0.1:{server.server_address[1]}", fake_slack, app, scratch, feedback_db
        )
    finally:
        server.shutdown()
        server.server_close()
        app.close()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL for the whole session (tests/slack/postgres.py)."""
    binaries = server_binaries()
    if binaries is None:
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl) on this machine")
    server = PostgresServer.start(binaries)
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """A database of this test's own on the session's PostgreSQL."""
    return postgres_server.fresh_database()
