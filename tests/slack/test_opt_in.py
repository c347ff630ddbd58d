"""Uploads are read unasked only where that is wanted (issue 16): channels that opted in,
the app's DMs and group DMs, and messages that mention the app; elsewhere the uploader
is told once about the shortcut. End to end against the fake Slack, plus the setting and
the store underneath."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError, load_settings
from bot.store import SqliteStore

from .conftest import CHANNEL, USER, RunningApp
from .fake_slack import BOT_USER
from .test_end_to_end import gpo_conflict_zip, header_of

OTHER_CHANNEL = "C0GENERAL"  # the app is a member, nobody opted in
QUIET = 1.0  # seconds to let an event's listener run when nothing visible should happen


def upload_event(running: RunningApp, channel: str, **extra) -> dict:
    upload = running.fake.add_file("logs.zip", gpo_conflict_zip())
    event = {
        "type": "message",
        "subtype": "file_share",
        "channel": channel,
        "channel_type": "channel",
        "user": USER,
        "text": "",
        "ts": f"1710001000.{time.monotonic_ns() % 1_000_000:06d}",
        "files": [upload],
    }
    event.update(extra)
    return event


def reading_posts(running: RunningApp, channel: str) -> list:
    return [c for c in running.fake.messages_in(channel) if "reading" in c.params.get("text", "")]


def offers(running: RunningApp, channel: str) -> list:
    return [
        c
        for c in running.fake.calls_to("chat.postEphemeral")
        if c.params.get("channel") == channel and "Triage logs" in c.params.get("text", "")
    ]


def assert_triaged(running: RunningApp, channel: str) -> None:
    (posted,) = running.fake.wait_for(lambda: reading_posts(running, channel))
    edit = running.fake.final_update(
        channel, posted.answer["ts"], lambda e: any(b["type"] == "header" for b in e["blocks"])
    )
    assert "Compliance scan" in header_of(edit)


def test_an_upload_where_nobody_opted_in_is_not_read_and_the_shortcut_is_offered_once(
    running_app: RunningApp,
):
    fake = running_app.fake
    assert running_app.event(upload_event(running_app, OTHER_CHANNEL)).status_code == 200
    (offer,) = fake.wait_for(lambda: offers(running_app, OTHER_CHANNEL))
    assert offer.params["user"] == USER
    assert "thread_ts" not in offer.params, "not a thread: the offer goes to the channel"
    assert "/sccm auto on" in offer.params["text"] and f"<@{BOT_USER}>" in offer.params["text"]
    assert running_app.event(upload_event(running_app, OTHER_CHANNEL)).status_code == 200
    time.sleep(QUIET)
    assert len(offers(running_app, OTHER_CHANNEL)) == 1, "offered once, not at every upload"
    assert reading_posts(running_app, OTHER_CHANNEL) == []
    assert fake.file_requests == [], "nothing was downloaded"


def test_the_opted_in_channel_is_read(running_app: RunningApp):
    assert running_app.event(upload_event(running_app, CHANNEL)).status_code == 200
    assert_triaged(running_app, CHANNEL)
    assert offers(running_app, CHANNEL) == []


def test_a_mention_with_the_file_is_read_anywhere(running_app: RunningApp):
    event = upload_event(running_app, OTHER_CHANNEL, text=f"<@{BOT_USER}> why no updates?")
    assert running_app.event(event).status_code == 200
    assert_triaged(running_app, OTHER_CHANNEL)


@pytest.mark.parametrize(("channel", "kind"), [("D0DIRECT", "im"), ("G0GROUPDM", "mpim")])
def test_direct_and_group_messages_are_always_read(
    running_app: RunningApp, channel: str, kind: str
):
    assert running_app.event(upload_event(running_app, channel, channel_type=kind)).is_success
    assert_triaged(running_app, channel)


def test_auto_on_and_off_change_a_channel_and_are_kept(running_app: RunningApp):
    fake = running_app.fake
    _, turned_on = running_app.command("auto on", channel=OTHER_CHANNEL)
    (reply,) = fake.wait_for(lambda: running_app.responses_to(turned_on))
    assert reply["response_type"] == "in_channel" and "is on here" in reply["text"]
    assert running_app.event(upload_event(running_app, OTHER_CHANNEL)).is_success
    assert_triaged(running_app, OTHER_CHANNEL)

    _, turned_off = running_app.command("auto off")  # the channel opted in by the setting
    (reply,) = fake.wait_for(lambda: running_app.responses_to(turned_off))
    assert "is off here" in reply["text"]
    assert running_app.event(upload_event(running_app, CHANNEL)).is_success
    fake.wait_for(lambda: offers(running_app, CHANNEL))
    assert reading_posts(running_app, CHANNEL) == [], "what was said wins over the default"

    _, asked = running_app.command("auto", channel=OTHER_CHANNEL)
    (status,) = fake.wait_for(lambda: running_app.responses_to(asked))
    assert status["response_type"] == "ephemeral" and "is on here" in status["text"]
    kept = SqliteStore(running_app.feedback_db)
    assert (kept.auto_triage(OTHER_CHANNEL), kept.auto_triage(CHANNEL)) == (True, False)


def test_auto_in_a_direct_message_and_a_wrong_word_explain(running_app: RunningApp):
    fake = running_app.fake
    _, in_dm = running_app.command("auto off", channel="D0DIRECT")
    _, wrong = running_app.command("auto maybe")
    (dm_reply,) = fake.wait_for(lambda: running_app.responses_to(in_dm))
    (wrong_reply,) = fake.wait_for(lambda: running_app.responses_to(wrong))
    assert "direct messages" in dm_reply["text"]
    assert wrong_reply["response_type"] == "ephemeral" and "/sccm auto on" in wrong_reply["text"]
    assert SqliteStore(running_app.feedback_db).auto_triage("D0DIRECT") is None


# --- the setting and the store ----------------------------------------------------------------


def test_the_default_channels_setting(clean_env: pytest.MonkeyPatch):
    clean_env.setenv("SLACK_BOT_TOKEN", "xoxb-1-2-abc")
    clean_env.setenv("SLACK_SIGNING_SECRET", "secret")
    settings, _ = load_settings("http")
    # CONTRACT.md: an upload in a channel the app is in is read; turning that off is a choice
    assert settings.auto_triage_by_default(CHANNEL), "every channel reads uploads by default"
    clean_env.setenv("SCCM_BOT_AUTO_TRIAGE_CHANNELS", "")
    settings, _ = load_settings("http")
    assert not settings.auto_triage_by_default(CHANNEL), "empty: only channels that opted in"
    clean_env.setenv("SCCM_BOT_AUTO_TRIAGE_CHANNELS", f" {CHANNEL}, G0PRIVATE ,")
    settings, _ = load_settings("http")
    assert settings.auto_triage_by_default(CHANNEL)
    assert settings.auto_triage_by_default("G0PRIVATE")
    assert not settings.auto_triage_by_default(OTHER_CHANNEL)
    everywhere = Settings(slack_bot_token="xoxb-1", sccm_bot_auto_triage_channels="*")
    assert everywhere.auto_triage_by_default(OTHER_CHANNEL)
    clean_env.setenv("SCCM_BOT_AUTO_TRIAGE_CHANNELS", "#sccm-support")
    with pytest.raises(SettingsError, match="SCCM_BOT_AUTO_TRIAGE_CHANNELS is malformed"):
        load_settings("http")


def test_the_store_keeps_channel_choices_and_offers(tmp_path: Path):
    store = SqliteStore(tmp_path / "bot.sqlite3")
    assert store.auto_triage(CHANNEL) is None
    store.set_auto_triage(CHANNEL, True, USER)
    store.set_auto_triage(CHANNEL, False, USER)
    assert store.first_offer(CHANNEL, USER) is True
    assert store.first_offer(CHANNEL, USER) is False
    assert store.first_offer(CHANNEL, "U0SECOND") is True
    reopened = SqliteStore(tmp_path / "bot.sqlite3")
    assert reopened.auto_triage(CHANNEL) is False
    assert reopened.first_offer(CHANNEL, USER) is False
