"""The App Home tab: its blocks stay inside Slack's limits, the store keeps each user's
diagnoses, and opening the tab publishes it (end to end against the fake Slack)."""

from __future__ import annotations

import json
from pathlib import Path

from bot.store import DiagnosisRecord, SqliteStore
from handlers import app_home
from handlers.blocks import MAX_HEADER, MAX_SECTION
from knowledge import api

from .conftest import CHANNEL, USER, RunningApp
from .test_blocks import INJECTED, oversized_diagnosis
from .test_end_to_end import SYMPTOM, file_share, final_answer, gpo_conflict_zip

MAX_VIEW_BLOCKS = 100


def record(n: int = 0, **changes) -> DiagnosisRecord:
    fields = {
        "user_id": USER,
        "channel_id": CHANNEL,
        "what": f"logs-{n}.zip (2 MB)",
        "source": "logs",
        "verdict": "failure",
        "stage": "scan",
        "headline": "Group Policy points the client at another WSUS server",
        "recorded_at": "2024-03-05T09:00:00.000Z",
    }
    return DiagnosisRecord(**{**fields, **changes})


def texts(view: dict) -> str:
    return json.dumps(view["blocks"], ensure_ascii=False)


def assert_within_limits(view: dict) -> None:
    assert view["type"] == "home"
    assert 0 < len(view["blocks"]) <= MAX_VIEW_BLOCKS
    for block in view["blocks"]:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= MAX_SECTION
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= MAX_HEADER


# --- the view ---------------------------------------------------------------------------


def test_the_tab_says_what_the_bot_does_how_to_collect_and_the_commands():
    view = app_home.home_view([])
    assert_within_limits(view)
    shown = texts(view)
    assert "C:\\\\Windows\\\\CCM\\\\Logs" in shown, "how to collect the logs"
    for command in ("/sccm diagnose", "/sccm error", "/sccm stages", "/sccm steps"):
        assert command in shown
    assert "None yet" in shown


def test_recent_diagnoses_show_verdict_stage_what_and_where():
    view = app_home.home_view(
        [
            record(1),
            record(2, verdict="healthy", stage=None, headline="the update pipeline works"),
            record(3, source="symptom", what="stuck at 0%", channel_id="D0DIRECT"),
        ]
    )
    assert_within_limits(view)
    shown = texts(view)
    assert shown.index("logs-1.zip") < shown.index("logs-2.zip"), "in the store's order"
    assert "✗ failure" in shown and "*scan*" in shown
    assert "✓ healthy" in shown
    assert f"<#{CHANNEL}>" in shown and "in a direct message" in shown
    assert "symptom: stuck at 0%" in shown
    assert "2024-03-05 09:00 UTC" in shown


def test_oversized_and_hostile_records_stay_within_limits_and_escaped():
    long = INJECTED + "w" * 5000
    huge = [record(n, what=long, headline=long, stage=INJECTED) for n in range(50)]
    view = app_home.home_view(huge)
    assert_within_limits(view)
    assert len(view["blocks"]) < 20, "each line is kept short, so the list packs into few sections"
    assert "<!channel>" not in texts(view) and "&lt;!channel&gt;" in texts(view)


def test_an_unreadable_store_still_publishes_the_tab_with_a_note():
    view = app_home.home_view(None)
    assert_within_limits(view)
    assert "cannot be read" in texts(view)


def test_headlines_name_the_cause_or_what_the_verdict_means():
    failing = oversized_diagnosis()
    assert app_home.headline_of(failing) == failing.cause_title
    healthy = failing.model_copy(update={"verdict": "healthy", "stage": None, "cause": None})
    assert app_home.headline_of(healthy) == "the update pipeline works"
    unsure = failing.model_copy(
        update={"verdict": "inconclusive", "stage": None, "cause_title": None}
    )
    assert app_home.headline_of(unsure) == "not enough evidence"


# --- the store ----------------------------------------------------------------------------


def test_the_store_keeps_each_users_diagnoses_newest_first(tmp_path: Path):
    store = SqliteStore(tmp_path / "bot.sqlite3")
    for n in range(5):
        store.record_diagnosis(record(n))
    store.record_diagnosis(record(99, user_id="U0OTHER"))
    mine = store.recent_diagnoses(USER, 3)
    assert [r.what for r in mine] == ["logs-4.zip (2 MB)", "logs-3.zip (2 MB)", "logs-2.zip (2 MB)"]
    assert all(r.recorded_at.endswith("Z") for r in mine), "the store sets the time"
    reopened = SqliteStore(tmp_path / "bot.sqlite3")
    assert [r.what for r in reopened.recent_diagnoses("U0OTHER", 10)] == ["logs-99.zip (2 MB)"]


# --- end to end -------------------------------------------------------------------------------


def home_opened(user: str = USER, tab: str = "home") -> dict:
    return {
        "type": "app_home_opened",
        "user": user,
        "channel": "D0HOME",
        "tab": tab,
        "event_ts": "1710000200.000100",
    }


def test_opening_the_home_tab_publishes_the_users_diagnoses(running_app: RunningApp):
    fake = running_app.fake
    _, response_url = running_app.command(f"diagnose {SYMPTOM}")
    fake.wait_for(lambda: running_app.responses_to(response_url))
    upload = fake.add_file("logs.zip", gpo_conflict_zip())
    assert running_app.event(file_share(upload, ts="1710000100.000200")).status_code == 200
    (posted,) = fake.wait_for(lambda: fake.messages_in(CHANNEL))
    final_answer(running_app, posted)

    assert running_app.event(home_opened()).status_code == 200
    (published,) = fake.wait_for(lambda: fake.calls_to("views.publish"))
    assert published.params["user_id"] == USER
    view = published.params["view"]
    assert_within_limits(view)
    shown = texts(view)
    symptom = api.diagnose_symptom(SYMPTOM)
    assert shown.index("logs.zip") < shown.index(SYMPTOM), "the newest first"
    assert "✗ failure" in shown and "*scan*" in shown, "the upload's verdict and stage"
    assert f"*{symptom.stage}*" in shown, "the symptom's stage"


def test_another_user_sees_none_of_them_and_the_messages_tab_publishes_nothing(
    running_app: RunningApp,
):
    fake = running_app.fake
    _, response_url = running_app.command(f"diagnose {SYMPTOM}")
    fake.wait_for(lambda: running_app.responses_to(response_url))
    assert running_app.event(home_opened(tab="messages")).status_code == 200
    assert running_app.event(home_opened(user="U0OTHER")).status_code == 200
    (published,) = fake.wait_for(lambda: fake.calls_to("views.publish"))
    assert published.params["user_id"] == "U0OTHER"
    assert SYMPTOM not in texts(published.params["view"])
    assert "None yet" in texts(published.params["view"])
    assert len(fake.calls_to("views.publish")) == 1, "the Messages tab published nothing"
