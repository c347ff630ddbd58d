"""Several machines in one upload, end to end (issue 15): signed requests into the app's HTTP
endpoint, Web API calls out to FakeSlack, nothing of the core mocked.

One summary reply in the thread (groups, counts, the shared next step), progress counted
in machines, and each machine's diagnosis one pick away in the menu under the summary.
"""

from __future__ import annotations

import json

import pytest

import handlers.uploads
from knowledge import api
from tests.archive_builders import zip_bytes
from tests.test_fleet import FLEET, machine_files

from .conftest import CHANNEL, USER, RunningApp
from .test_end_to_end import all_text, file_share, final_answer, header_of

THREAD = "1710020000.000100"


def fleet_zip() -> bytes:
    return zip_bytes({f"{name}.zip": zip_bytes(machine_files(name)) for name in FLEET})


def summary_of(running_app: RunningApp, posted) -> dict:
    return final_answer(running_app, posted)


def menu_of(message: dict) -> tuple[dict, dict]:
    """(the actions block, its machine menu)."""
    for block in message["blocks"]:
        if block["type"] == "actions":
            for element in block["elements"]:
                if element["action_id"] == "fleet_machine":
                    return block, element
    raise AssertionError("no machine menu in the summary")


def pick(running_app: RunningApp, summary: dict, message_ts: str, machine: str) -> str:
    block, menu = menu_of(summary)
    option = next(o for o in menu["options"] if o["text"]["text"].startswith(f"{machine} "))
    response_url = running_app.fake.response_url()
    payload = {
        "type": "block_actions",
        "team": {"id": "T0CONTOSO"},
        "user": {"id": USER},
        "api_app_id": "A0SCCM",
        "trigger_id": "trigger.pick",
        "channel": {"id": CHANNEL},
        "container": {"type": "message", "message_ts": message_ts, "channel_id": CHANNEL},
        "message": {"ts": message_ts, "thread_ts": THREAD, "blocks": summary["blocks"]},
        "response_url": response_url,
        "actions": [
            {
                "type": "static_select",
                "action_id": "fleet_machine",
                "block_id": block["block_id"],
                "selected_option": option,
                "action_ts": "1710020001.0",
            }
        ],
    }
    assert running_app.interaction(payload).status_code == 200
    return response_url


@pytest.fixture(autouse=True)
def names_shown(clean_env: pytest.MonkeyPatch) -> None:
    """These tests read the machines' names in the answers: masking in channels off (on by
    default; test_a_fleet_in_a_channel_is_masked below turns it back on)."""
    clean_env.setenv("SCCM_BOT_REDACT_IN_CHANNELS", "false")


@pytest.fixture
def every_progress(monkeypatch):
    """Every progress step edits the message (normally one edit per 2 s)."""
    monkeypatch.setattr(handlers.uploads, "PROGRESS_INTERVAL", 0.0)


def test_a_fleet_upload_gets_one_summary_with_progress_in_machines(
    running_app: RunningApp, every_progress
):
    fake = running_app.fake
    upload = fake.add_file("patch-tuesday.zip", fleet_zip())
    assert (
        running_app.event(file_share(upload, ts="1710020000.000200", thread_ts=THREAD)).status_code
        == 200
    )

    (posted,) = fake.wait_for(lambda: fake.messages_in(CHANNEL))
    summary = summary_of(running_app, posted)
    assert header_of(summary) == "4 machines: 3 failing, 1 healthy"
    text = all_text(summary)
    assert "FAILURE at Content download (download)" in text and "2 machines" in text
    assert "Machines: PC01, PC03" in text
    assert "Next step:" in text
    assert text.index("Content download") < text.index("Compliance scan") < text.index("HEALTHY")
    # one reply in the thread: the progress message became the summary
    assert fake.messages_in(CHANNEL) == [posted]
    progress = [
        call.params["text"]
        for call in fake.calls_to("chat.update")
        if call.params["ts"] == posted.answer["ts"] and "⏳" in call.params["text"]
    ]
    assert any("of 4 machines diagnosed" in line for line in progress)
    assert "4 of 4 machines diagnosed, 3 failing so far" in progress[-1]
    _, menu = menu_of(summary)
    listed = [option["text"]["text"] for option in menu["options"]]
    assert sorted(listed) == sorted(
        ["PC01 · failure", "PC02 · healthy", "PC03 · failure", "PC04 · failure"]
    )
    assert listed[-1] == "PC02 · healthy", "failing machines first"
    assert running_app.leftovers() == []


def test_picking_a_machine_posts_its_diagnosis_in_the_thread(running_app: RunningApp, tmp_path):
    fake = running_app.fake
    upload = fake.add_file("fleet.zip", fleet_zip())
    running_app.event(file_share(upload, ts="1710020100.000200", thread_ts=THREAD))
    (posted,) = fake.wait_for(lambda: fake.messages_in(CHANNEL))
    summary = summary_of(running_app, posted)

    pick(running_app, summary, posted.answer["ts"], "PC04")
    reply = fake.wait_for(lambda: fake.messages_in(CHANNEL)[1:])[0]
    assert reply.params["thread_ts"] == THREAD
    alone = tmp_path / "PC04.zip"
    alone.write_bytes(zip_bytes(machine_files("PC04")))
    expected = api.diagnose_path(alone)
    assert expected.stage_title in header_of(reply.params)
    assert expected.cause in all_text(reply.params)
    actions = [b for b in reply.params["blocks"] if b["type"] == "actions"][0]
    assert "show_everything" in json.dumps(actions), "its whole answer is one more press away"


def test_several_files_in_one_message_are_one_fleet(running_app: RunningApp):
    fake = running_app.fake
    files = [
        fake.add_file(f"{name}.zip", zip_bytes(machine_files(name))) for name in ("PC01", "PC02")
    ]
    event = file_share(files[0], ts="1710020200.000200", thread_ts=THREAD)
    event["files"] = files
    running_app.event(event)
    (posted,) = fake.wait_for(lambda: fake.messages_in(CHANNEL))
    summary = summary_of(running_app, posted)
    assert header_of(summary) == "2 machines: 1 failing, 1 healthy"
    assert "PC01.zip, PC02.zip" in all_text(summary)


def test_a_forgotten_machine_diagnosis_is_said_privately(running_app: RunningApp):
    fake = running_app.fake
    upload = fake.add_file("fleet.zip", fleet_zip())
    running_app.event(file_share(upload, ts="1710020300.000200", thread_ts=THREAD))
    (posted,) = fake.wait_for(lambda: fake.messages_in(CHANNEL))
    summary = summary_of(running_app, posted)
    running_app.app.services.answers._answers.clear()  # as after a restart
    response_url = pick(running_app, summary, posted.answer["ts"], "PC01")
    (reply,) = fake.wait_for(lambda: running_app.responses_to(response_url))
    assert reply["response_type"] == "ephemeral" and "no longer keep" in reply["text"]


def test_a_fleet_in_a_channel_is_masked(
    clean_env: pytest.MonkeyPatch, request: pytest.FixtureRequest
):
    """Machine names are often host names: with masking on, neither the summary nor a
    picked machine's diagnosis names them, and the tokens agree between the two."""
    clean_env.setenv("SCCM_BOT_REDACT_IN_CHANNELS", "true")
    running_app = request.getfixturevalue("running_app")
    fake = running_app.fake
    upload = fake.add_file("patch-tuesday.zip", fleet_zip())
    running_app.event(file_share(upload, ts="1710020000.000900", thread_ts=THREAD))
    (posted,) = fake.wait_for(lambda: fake.messages_in(CHANNEL))
    summary = summary_of(running_app, posted)
    text = all_text(summary)
    assert header_of(summary) == "4 machines: 3 failing, 1 healthy"
    assert not [name for name in FLEET if name in text]
    assert "contoso" not in text.lower() and "masked" in text
    _block, menu = menu_of(summary)
    first = menu["options"][0]["text"]["text"].split(" ")[0]
    assert first.startswith("host-")
    pick(running_app, summary, posted.answer["ts"], first)
    reply = fake.wait_for(
        lambda: [c for c in fake.calls_to("chat.postMessage") if c.params.get("thread_ts")]
    )[-1]
    shown = all_text(reply.params)
    assert not [name for name in FLEET if name in shown] and "contoso" not in shown.lower()


def test_a_fleet_summary_names_what_it_did_not_read_without_the_servers_folders(
    running_app: RunningApp,
):
    fake = running_app.fake
    files = {f"{name}.zip": zip_bytes(machine_files(name)) for name in FLEET}
    files["broken.zip"] = b"PK\x03\x04 not really a zip"
    upload = fake.add_file("patch-tuesday.zip", zip_bytes(files))
    running_app.event(file_share(upload, ts="1710020000.000950", thread_ts=THREAD))
    (posted,) = fake.wait_for(lambda: fake.messages_in(CHANNEL))
    text = all_text(summary_of(running_app, posted))
    assert "broken.zip" in text
    assert str(running_app.scratch) not in text and "/tmp" not in text
