"""`sccm serve` beyond settings: Socket Mode start-up and the health endpoint."""

from __future__ import annotations

import io

from bot import serve

from .fake_slack import FakeSlack


def test_socket_mode_with_a_refused_app_token_stops_with_one_line(
    clean_env, capsys, fake_slack: FakeSlack, tmp_path
):
    fake_slack.errors["apps.connections.open"] = "invalid_auth"
    clean_env.setenv("SLACK_BOT_TOKEN", "xoxb-1-2-abc")
    clean_env.setenv("SLACK_APP_TOKEN", "xapp-1-A0-1-abc")
    clean_env.setenv("SLACK_API_URL", fake_slack.api_url)
    clean_env.setenv("SCCM_BOT_FEEDBACK_DB", str(tmp_path / "feedback.sqlite3"))
    assert serve.main(None, 0) == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines == ["error: Slack refused SLACK_APP_TOKEN (invalid_auth)"]
    assert [c.method for c in fake_slack.calls] == ["auth.test", "apps.connections.open"]


def call(application, method: str, path: str) -> tuple[str, bytes]:
    answer: dict = {}

    def start_response(status, headers):
        answer["status"] = status

    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "wsgi.input": io.BytesIO()}
    body = b"".join(application(environ, start_response))
    return answer["status"], body


def test_health_follows_the_socket_connection():
    connected = [False]
    application = serve.wsgi_app(None, healthy=lambda: connected[0])
    assert call(application, "GET", "/healthz")[0].startswith("503")
    connected[0] = True
    assert call(application, "GET", "/healthz")[0].startswith("200")
    assert call(application, "POST", "/slack/events")[0].startswith("404"), "no HTTP events"
