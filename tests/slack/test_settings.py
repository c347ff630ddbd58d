"""`sccm serve` stops on a missing or malformed setting: one `error:` line, exit 2,
before anything connects."""

from __future__ import annotations

import pytest

from bot import serve
from bot.settings import load_settings

from .fake_slack import FakeSlack

GOOD = {
    "SLACK_BOT_TOKEN": "xoxb-1-2-abc",
    "SLACK_SIGNING_SECRET": "secret",
}


def run_serve(monkeypatch, capsys, env: dict, mode=None) -> tuple[int, list[str]]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    status = serve.main(mode, 0)
    return status, capsys.readouterr().err.splitlines()


@pytest.mark.parametrize(
    ("env", "mode", "says"),
    [
        ({}, "http", "SLACK_BOT_TOKEN is not set"),
        ({**GOOD, "SLACK_BOT_TOKEN": "xoxp-user-token"}, "http", "SLACK_BOT_TOKEN is malformed"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "http", "SLACK_SIGNING_SECRET is required in HTTP mode"),
        (GOOD, "socket", "SLACK_APP_TOKEN is required in Socket Mode"),
        ({**GOOD, "SLACK_APP_TOKEN": "xoxb-wrong"}, None, "SLACK_APP_TOKEN is malformed"),
        ({**GOOD, "SCCM_BOT_MAX_UPLOAD_MB": "lots"}, "http", "SCCM_BOT_MAX_UPLOAD_MB is malformed"),
        ({**GOOD, "SCCM_BOT_MAX_UPLOAD_MB": "0"}, "http", "SCCM_BOT_MAX_UPLOAD_MB is malformed"),
        ({**GOOD, "SCCM_BOT_FILE_ORIGINS": "files.slack.com"}, "http", "SCCM_BOT_FILE_ORIGINS"),
        ({**GOOD, "SLACK_API_URL": "slack.com/api"}, "http", "SLACK_API_URL is malformed"),
        ({**GOOD, "SCCM_BOT_WORKERS": "-1"}, "http", "SCCM_BOT_WORKERS is malformed"),
        (
            {**GOOD, "SCCM_BOT_DOWNLOAD_TIMEOUT_SECONDS": "soon"},
            "http",
            "SCCM_BOT_DOWNLOAD_TIMEOUT_SECONDS is malformed",
        ),
        (
            {**GOOD, "SCCM_BOT_ANALYSIS_TIMEOUT_SECONDS": "0"},
            "http",
            "SCCM_BOT_ANALYSIS_TIMEOUT_SECONDS is malformed",
        ),
    ],
)
def test_a_bad_setting_is_one_line_and_exit_2_before_connecting(
    clean_env, capsys, fake_slack: FakeSlack, env, mode, says
):
    env = {"SLACK_API_URL": fake_slack.api_url, **env}
    status, lines = run_serve(clean_env, capsys, env, mode)
    assert status == 2
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert says in lines[0]
    secrets = [value for name, value in env.items() if "TOKEN" in name or "SECRET" in name]
    assert not any(secret in lines[0] for secret in secrets), "no secret is echoed"
    assert fake_slack.calls == [], "nothing connected"


def test_a_token_slack_rejects_stops_with_one_line(
    clean_env, capsys, fake_slack: FakeSlack, tmp_path
):
    fake_slack.errors["auth.test"] = "invalid_auth"
    env = {**GOOD, "SLACK_API_URL": fake_slack.api_url, "SCCM_BOT_FEEDBACK_DB": str(tmp_path / "f")}
    status, lines = run_serve(clean_env, capsys, env, "http")
    assert status == 2
    assert len(lines) == 1 and lines[0].startswith("error: Slack refused SLACK_BOT_TOKEN")
    assert "invalid_auth" in lines[0]


def test_the_mode_follows_the_app_token(clean_env):
    for name, value in GOOD.items():
        clean_env.setenv(name, value)
    assert load_settings(None)[1] == "http"
    clean_env.setenv("SLACK_APP_TOKEN", "xapp-1-A0-1-abc")
    assert load_settings(None)[1] == "socket"
    assert load_settings("http")[1] == "http"


def test_origins_are_normalised_and_the_api_url_gets_its_slash(clean_env):
    for name, value in GOOD.items():
        clean_env.setenv(name, value)
    clean_env.setenv("SCCM_BOT_FILE_ORIGINS", " https://files.slack.com , http://127.0.0.1:8080/")
    clean_env.setenv("SLACK_API_URL", "http://127.0.0.1:8080/api")
    settings, _ = load_settings("http")
    assert settings.sccm_bot_file_origins == (
        "https://files.slack.com:443",
        "http://127.0.0.1:8080",
    )
    assert settings.slack_api_url == "http://127.0.0.1:8080/api/"


def test_an_unusable_feedback_file_stops_before_connecting(
    clean_env, capsys, fake_slack: FakeSlack, tmp_path
):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    env = {
        **GOOD,
        "SLACK_API_URL": fake_slack.api_url,
        "SCCM_BOT_FEEDBACK_DB": str(blocker / "feedback.sqlite3"),
    }
    status, lines = run_serve(clean_env, capsys, env, "http")
    assert status == 2
    assert len(lines) == 1 and lines[0].startswith("error: SCCM_BOT_FEEDBACK_DB")
    assert fake_slack.calls == []


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SLACK_BOT_TOKEN", "xoxb-1-2-topsecretpart\nX-Injected: 1"),
        ("SLACK_BOT_TOKEN", "xoxb-1-2-top secretpart"),
        ("SLACK_SIGNING_SECRET", "topsecretpart\x07"),
    ],
)
def test_a_secret_with_a_line_break_is_refused_without_being_printed(
    clean_env, capsys, fake_slack: FakeSlack, tmp_path, name, value
):
    env = {**GOOD, "SLACK_API_URL": fake_slack.api_url, name: value}
    env["SCCM_BOT_FEEDBACK_DB"] = str(tmp_path / "bot.sqlite3")
    status, lines = run_serve(clean_env, capsys, env, "http")
    assert status == 2 and len(lines) == 1
    assert f"{name} is malformed" in lines[0] and "line break" in lines[0]
    assert "secretpart" not in "\n".join(lines)
    assert fake_slack.calls == []


def test_a_secret_files_final_newline_is_dropped(clean_env):
    for name, value in GOOD.items():
        clean_env.setenv(name, value + "\r\n")
    settings, _ = load_settings("http")
    assert settings.slack_bot_token.get_secret_value() == GOOD["SLACK_BOT_TOKEN"]
    assert settings.slack_signing_secret.get_secret_value() == GOOD["SLACK_SIGNING_SECRET"]
