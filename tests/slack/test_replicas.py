"""Replicas on one PostgreSQL, and one deployment installed by many workspaces (issue 18).

Two real `sccm serve --http` processes share a PostgreSQL the tests start themselves
(tests/slack/postgres.py) and the fake Slack: an event delivered to both is answered
once, a replica SIGKILLed mid-analysis has its upload finished by the other, a press on
one is seen by the other, and the OAuth install flow stores each workspace's token,
which answers that workspace's uploads.
"""

from __future__ import annotations

import json
import re
import signal
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore

from bot.serve import wsgi_app
from bot.settings import SettingsError, load_settings
from bot.store import DatabaseStore, SqliteStore, WorkRecord

from .conftest import CHANNEL, USER
from .fake_slack import TEAM, FakeSlack
from .served import ServedApp, environment, free_port, run_once
from .test_durable import many_logs_zip, progress_messages
from .test_end_to_end import file_share, gpo_conflict_zip, has_diagnosis
from .test_store import press_payload

LEASE_SECONDS = 3  # a dead replica's uploads are taken over within about this
CLIENT_ID = "1111.2222"
CLIENT_SECRET = "oauth-client-secret"


def replica(fake: FakeSlack, database: str, tmp_path: Path, name: str, **extra) -> ServedApp:
    """One `sccm serve --http` on `database`, with a temporary folder of its own (as a
    container has)."""
    scratch = tmp_path / name
    scratch.mkdir()
    env = environment(
        fake,
        tmp_path / f"{name}-not-used.sqlite3",
        scratch,
        SCCM_BOT_DATABASE_URL=database,
        SCCM_BOT_LEASE_SECONDS=str(LEASE_SECONDS),
        **extra,
    )
    return ServedApp(env, tmp_path / f"{name}.log")


@pytest.fixture
def replicas(
    fake_slack: FakeSlack, postgres_url: str, tmp_path: Path
) -> Iterator[tuple[ServedApp, ServedApp]]:
    first = replica(fake_slack, postgres_url, tmp_path, "first")
    second = replica(fake_slack, postgres_url, tmp_path, "second")
    try:
        yield first.start(), second.start()
    finally:
        first.stop()
        second.stop()


def envelope(event: dict, *, team: str = TEAM, event_id: str | None = None) -> str:
    return json.dumps(
        {
            "token": "legacy",
            "team_id": team,
            "api_app_id": "A0SCCM",
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{time.monotonic_ns()}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": team, "user_id": "UBOTSCCM", "is_bot": True}],
        }
    )


def answers(fake: FakeSlack) -> list[dict]:
    """Every diagnosis the app gave: edits of progress messages and new messages."""
    return [
        c.params
        for c in fake.calls_to("chat.update") + fake.calls_to("chat.postMessage")
        if c.answer.get("ok") and has_diagnosis(c.params)
    ]


# --- the store on PostgreSQL ---------------------------------------------------------------


def test_the_store_keeps_the_same_things_on_postgresql(postgres_url: str):
    store = DatabaseStore(postgres_url)
    assert store.shared and store.reachable() is None
    assert "postgresql" in store.identity and "@" in store.identity

    work = WorkRecord(CHANNEL, "1.0", USER, [{"id": "F1", "name": "a.zip"}], "files:F1")
    store.add_work(work)
    assert store.active_for("files:F1").id == work.id
    store.update_work(work.id, state="done")
    assert store.active_for("files:F1") is None  # answered: no longer in progress

    assert store.first_time("event:Ev1", ttl=60) and not store.first_time("event:Ev1", ttl=60)
    store.forget("event:Ev1")
    assert store.first_time("event:Ev1", ttl=60)
    store.set_auto_triage(CHANNEL, False, USER)
    store.set_auto_triage(CHANNEL, True, USER)
    assert DatabaseStore(postgres_url).auto_triage(CHANNEL) is True, "seen by a second opener"


def test_a_lapsed_lease_is_taken_over_by_exactly_one_replica(postgres_url: str):
    store = DatabaseStore(postgres_url)
    held = WorkRecord(CHANNEL, "1.0", USER, [{"id": "F1"}], "files:F1", owner="alive")
    held.lease_until = time.time() + 60
    lapsed = WorkRecord(CHANNEL, "2.0", USER, [{"id": "F2"}], "files:F2", owner="dead")
    lapsed.lease_until = time.time() - 1
    store.add_work(held)
    store.add_work(lapsed)

    claims: dict[str, list[str]] = {}

    def claim(owner: str) -> None:
        claims[owner] = [w.id for w in DatabaseStore(postgres_url).take_over(owner, 30)]

    racers = [threading.Thread(target=claim, args=(f"replica-{n}",)) for n in range(4)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join()
    winners = [owner for owner, ids in claims.items() if ids]
    assert len(winners) == 1 and claims[winners[0]] == [lapsed.id]
    assert store.start_work(lapsed.id, "dead", 1, 30) is False, "the dead one lost it"
    assert store.start_work(lapsed.id, winners[0], 1, 30) is True
    assert store.work(held.id).owner == "alive", "a live lease is left alone"


def test_a_sqlite_file_made_before_migrations_is_adopted(tmp_path: Path):
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as db:  # the first store's tables, without alembic_version
        db.execute(
            "CREATE TABLE work (id TEXT PRIMARY KEY, file_key TEXT NOT NULL, state TEXT NOT "
            "NULL, attempts INTEGER NOT NULL DEFAULT 0, channel TEXT NOT NULL, thread_ts TEXT, "
            "user_id TEXT, description TEXT, files TEXT NOT NULL, progress_ts TEXT, answer "
            "TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)"
        )
        db.execute(
            "INSERT INTO work VALUES ('w1', 'files:F1', 'running', 1, 'C1', NULL, 'U1', NULL, "
            "'[]', '1.0', NULL, '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z')"
        )
    store = SqliteStore(path)
    (kept,) = store.unfinished_work()
    assert (kept.id, kept.attempts, kept.owner) == ("w1", 1, None)
    assert [w.id for w in store.take_over("me", 30, everything=True)] == ["w1"]


def test_health_says_whether_the_database_answers():
    def status(problem):
        answer = {}
        body = b"".join(
            wsgi_app(None, healthy=lambda: True, database=lambda: problem)(
                {"REQUEST_METHOD": "GET", "PATH_INFO": "/healthz"},
                lambda s, _h: answer.setdefault("status", s),
            )
        )
        return answer["status"], body.decode()

    assert status(None) == ("200 OK", "ok\ndatabase: reachable\n")
    code, body = status("connection refused")
    assert code.startswith("503") and "database unreachable: connection refused" in body


# --- two replicas on one PostgreSQL ----------------------------------------------------------


def test_the_same_event_delivered_to_both_replicas_is_answered_once(
    replicas: tuple[ServedApp, ServedApp], fake_slack: FakeSlack
):
    first, second = replicas
    assert "database: reachable" in httpx.get(first.url + "/healthz").text
    upload = fake_slack.add_file("logs.zip", gpo_conflict_zip())
    body = envelope(file_share(upload, ts="1710100000.000100"), event_id="Ev0SAMEEVENT")
    acks: list[int] = []

    def deliver(to: ServedApp) -> None:
        acks.append(to.post(body, "application/json").status_code)

    deliveries = [threading.Thread(target=deliver, args=(r,)) for r in (first, second)]
    for delivery in deliveries:
        delivery.start()
    for delivery in deliveries:
        delivery.join()
    assert acks == [200, 200]
    fake_slack.wait_for(lambda: answers(fake_slack), timeout=30)
    time.sleep(LEASE_SECONDS)  # room for a second answer, were there one
    assert len(answers(fake_slack)) == 1
    assert len(progress_messages(fake_slack)) == 1, "one 'reading ...' message"
    assert len(fake_slack.file_requests) == 1, "downloaded once"


def test_a_replica_killed_mid_analysis_has_its_upload_finished_by_the_other(
    replicas: tuple[ServedApp, ServedApp], fake_slack: FakeSlack
):
    first, second = replicas
    upload = fake_slack.add_file("logs.zip", many_logs_zip())
    assert first.post(envelope(file_share(upload, ts="1710100100.000100")), "application/json")
    fake_slack.wait_for(  # the analysis is under way on the first replica
        lambda: any("files read" in c.params["text"] for c in fake_slack.calls_to("chat.update")),
        timeout=30,
    )
    first.kill()
    (posted,) = progress_messages(fake_slack)
    ts = posted.answer["ts"]

    final = fake_slack.final_update(CHANNEL, ts, has_diagnosis)
    assert has_diagnosis(final), "the answer landed in the same message"
    notes = [c.params["text"] for c in fake_slack.calls_to("chat.update") if c.params["ts"] == ts]
    assert any("reading it again" in text for text in notes), "the user saw what happened"
    assert len(fake_slack.file_requests) == 2, "the second replica downloaded it again"
    assert "took over 1 upload" in second.log.read_text()


def test_a_replica_stopped_with_sigterm_hands_its_upload_on_at_once(
    replicas: tuple[ServedApp, ServedApp], fake_slack: FakeSlack
):
    first, second = replicas
    upload = fake_slack.add_file("logs.zip", gpo_conflict_zip(), trickle_seconds=60)
    assert first.post(envelope(file_share(upload, ts="1710100150.000100")), "application/json")
    fake_slack.wait_for(lambda: fake_slack.file_requests, timeout=30)  # downloading
    stopped_at = time.monotonic()
    first.process.send_signal(signal.SIGTERM)
    assert first.process.wait(15) == 0
    (posted,) = progress_messages(fake_slack)
    fake_slack.files[next(iter(fake_slack.files))].trickle_seconds = 0  # served at once now
    final = fake_slack.final_update(CHANNEL, posted.answer["ts"], has_diagnosis)
    assert has_diagnosis(final)
    assert "let go of 1 unfinished upload(s)" in first.log.read_text(), "not a lapsed lease"
    assert "took over 1 upload" in second.log.read_text()
    assert time.monotonic() - stopped_at < 30


def test_feedback_pressed_on_one_replica_is_seen_by_the_other(
    replicas: tuple[ServedApp, ServedApp], fake_slack: FakeSlack, postgres_url: str
):
    first, second = replicas
    right = press_payload(fake_slack, 7)
    assert first.interaction(right).status_code == 200
    wrong = press_payload(fake_slack, 7)  # the same person, the same message
    wrong["actions"][0]["action_id"] = "feedback_wrong"
    assert second.interaction(wrong).status_code == 200

    def reply_to(payload: dict) -> dict | None:
        path = payload["response_url"].removeprefix(fake_slack.origin)
        return next((r for r in fake_slack.responses if r["path"] == path), None)

    assert "was right" in fake_slack.wait_for(lambda: reply_to(right))["text"]
    said = fake_slack.wait_for(lambda: reply_to(wrong))["text"]
    assert "was wrong" in said and "You said it was right before" in said
    rows = DatabaseStore(postgres_url).feedback_rows()
    assert [r.judgement for r in rows] == ["right", "wrong"]


def test_a_channel_setting_made_on_one_replica_holds_on_the_other(
    replicas: tuple[ServedApp, ServedApp], fake_slack: FakeSlack
):
    first, second = replicas
    body = urlencode(
        {
            "token": "legacy",
            "team_id": TEAM,
            "channel_id": CHANNEL,
            "user_id": USER,
            "command": "/sccm",
            "text": "auto off",
            "api_app_id": "A0SCCM",
            "response_url": fake_slack.response_url(),
            "trigger_id": "trigger.1",
        }
    )
    assert first.post(body, "application/x-www-form-urlencoded").status_code == 200
    fake_slack.wait_for(lambda: fake_slack.responses)
    upload = fake_slack.add_file("logs.zip", gpo_conflict_zip())
    assert second.post(envelope(file_share(upload, ts="1710100200.000100")), "application/json")
    offer = fake_slack.wait_for(lambda: fake_slack.calls_to("chat.postEphemeral"))
    assert "Triage logs" in offer[0].params["text"], "told about the shortcut, not read"
    assert fake_slack.file_requests == []


# --- many workspaces: the OAuth install --------------------------------------------------------


def oauth_replica(fake: FakeSlack, database: str, tmp_path: Path, name: str) -> ServedApp:
    served = replica(
        fake, database, tmp_path, name, SLACK_CLIENT_ID=CLIENT_ID, SLACK_CLIENT_SECRET=CLIENT_SECRET
    )
    del served.env["SLACK_BOT_TOKEN"]  # no single workspace's token: installs bring them
    return served


def install(begin: ServedApp, finish: ServedApp, fake: FakeSlack, team: str) -> None:
    """An admin of `team` opens /slack/install on one replica; Slack sends them back to
    /slack/oauth_redirect, which the load balancer hands to the other."""
    page = httpx.get(begin.url + "/slack/install", timeout=10)
    assert page.status_code == 200
    (state,) = set(re.findall(r"state=([A-Za-z0-9-]+)", page.text))
    assert f"client_id={CLIENT_ID}" in page.text
    back = httpx.get(
        finish.url + "/slack/oauth_redirect",
        params={"code": fake.install_code(team), "state": state},
        cookies={"slack-app-oauth-state": state},
        timeout=10,
    )
    assert back.status_code == 200, back.text


def test_two_workspaces_install_and_each_is_answered_with_its_own_token(
    fake_slack: FakeSlack, postgres_url: str, tmp_path: Path
):
    first = oauth_replica(fake_slack, postgres_url, tmp_path, "first")
    second = oauth_replica(fake_slack, postgres_url, tmp_path, "second")
    try:
        first.start()
        second.start()
        install(first, second, fake_slack, "T0ALPHA")
        install(second, first, fake_slack, "T0BETA")
        (exchange, _) = fake_slack.calls_to("oauth.v2.access")
        assert exchange.headers["Authorization"].startswith("Basic "), "client id and secret"

        for team, served, ts in (
            ("T0ALPHA", first, "1710100300.000100"),
            ("T0BETA", second, "1710100400.000100"),
        ):
            upload = fake_slack.add_file(f"{team}.zip", gpo_conflict_zip())
            assert served.post(envelope(file_share(upload, ts=ts), team=team), "application/json")
            bearer = f"Bearer {fake_slack.bot_token_of(team)}"

            def answered(bearer=bearer):
                return [
                    c
                    for c in fake_slack.calls_to("chat.update")
                    if has_diagnosis(c.params) and c.headers.get("Authorization") == bearer
                ]

            fake_slack.wait_for(answered, timeout=30)
            download = next(r for r in fake_slack.file_requests if upload["id"] in r["path"])
            assert download["headers"]["Authorization"] == bearer

        uninstalled = {"type": "app_uninstalled"}
        assert first.post(envelope(uninstalled, team="T0BETA"), "application/json")
        installs = SQLAlchemyInstallationStore(CLIENT_ID, DatabaseStore(postgres_url).engine)
        fake_slack.wait_for(lambda: installs.find_bot(enterprise_id=None, team_id="T0BETA") is None)
        assert installs.find_bot(enterprise_id=None, team_id="T0ALPHA") is not None
    finally:
        first.stop()
        second.stop()


# --- settings ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variables", "says"),
    [
        ({"SCCM_BOT_DATABASE_URL": "mysql://db/x"}, "SCCM_BOT_DATABASE_URL is malformed: uses"),
        ({"SCCM_BOT_DATABASE_URL": "not a url"}, "is not a database URL"),
        (
            {"SLACK_CLIENT_ID": CLIENT_ID, "SLACK_CLIENT_SECRET": CLIENT_SECRET},
            "SLACK_BOT_TOKEN and SLACK_CLIENT_ID are both set",
        ),
        ({"SLACK_CLIENT_SECRET": CLIENT_SECRET}, "SLACK_CLIENT_ID is not set"),
    ],
)
def test_database_and_oauth_settings_are_checked_at_start(clean_env, variables, says):
    clean_env.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    clean_env.setenv("SLACK_SIGNING_SECRET", "secret")
    for name, value in variables.items():
        clean_env.setenv(name, value)
    with pytest.raises(SettingsError, match=re.escape(says)):
        load_settings("http")


def test_installs_by_many_workspaces_need_http_mode(clean_env):
    clean_env.setenv("SLACK_CLIENT_ID", CLIENT_ID)
    clean_env.setenv("SLACK_CLIENT_SECRET", CLIENT_SECRET)
    clean_env.setenv("SLACK_APP_TOKEN", "xapp-1")
    with pytest.raises(SettingsError, match="need HTTP mode"):
        load_settings("socket")
    clean_env.setenv("SLACK_SIGNING_SECRET", "secret")
    settings, mode = load_settings("http")
    assert settings.oauth and settings.slack_bot_token is None and mode == "http"


def test_an_unreachable_database_stops_the_app_with_one_line_without_its_password(
    fake_slack: FakeSlack, tmp_path: Path
):
    nobody_listens = f"postgresql://sccm:hunter2@127.0.0.1:{free_port()}/sccm"
    env = environment(fake_slack, tmp_path / "x.sqlite3", tmp_path)
    result = run_once({**env, "SCCM_BOT_DATABASE_URL": nobody_listens})
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: SCCM_BOT_DATABASE_URL postgresql+psycopg://sccm:***@127.0.0.1")
    assert "hunter2" not in result.stderr and "refused" in line.lower()
    assert fake_slack.calls == [], "nothing connected to Slack"
