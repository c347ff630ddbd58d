"""Masked answers in channels (issue 17 item 3), end to end: signed requests into the
served app, Web API calls into FakeSlack, the real core and the real masking."""

from __future__ import annotations

import json

import pytest

from bot.settings import SettingsError, load_settings
from handlers.blocks import MASKED_NOTE, UNMASKED_IN_DM
from knowledge import api
from tests.named_uploads import DP_HOST, NAMES, named_zip

from .conftest import CHANNEL, USER, RunningApp
from .test_end_to_end import (
    _saved,
    all_text,
    file_share,
    final_answer,
    has_diagnosis,
    header_of,
)

OTHER_USER = "U0BYSTANDER"
NOTE = MASKED_NOTE.split(" (")[0]  # "Host, user and network names are masked"
DM = "D0ADMINDM"


def _names_in(text: str) -> list[str]:
    lowered = text.lower()
    return [name for name in NAMES if name.lower() in lowered]


def _answer_in_channel(running_app: RunningApp, ts: str) -> tuple[dict, str]:
    fake = running_app.fake
    upload = fake.add_file("named.zip", named_zip())
    running_app.event(file_share(upload, ts=ts))
    (posted,) = fake.wait_for(lambda: fake.messages_in(CHANNEL))
    return final_answer(running_app, posted), posted.answer["ts"]


def _press(running_app: RunningApp, edit: dict, message_ts: str, action_id: str, user: str):
    actions = next(b for b in edit["blocks"] if b["type"] == "actions")
    button = next(e for e in actions["elements"] if e["action_id"] == action_id)
    response_url = running_app.fake.response_url()
    press = {
        "type": "block_actions",
        "team": {"id": "T0CONTOSO"},
        "user": {"id": user},
        "api_app_id": "A0SCCM",
        "trigger_id": "trigger.press",
        "channel": {"id": CHANNEL},
        "container": {"type": "message", "message_ts": message_ts, "channel_id": CHANNEL},
        "message": {"ts": message_ts, "blocks": edit["blocks"]},
        "response_url": response_url,
        "actions": [{**button, "block_id": actions["block_id"], "action_ts": "1710020001.0"}],
    }
    assert running_app.interaction(press).status_code == 200
    return response_url


def test_an_answer_in_a_channel_names_no_host_user_address_or_sid(running_app: RunningApp):
    edit, _ = _answer_in_channel(running_app, "1710020000.000100")
    expected = api.diagnose_path(_saved(running_app, "named.zip", named_zip()))
    shown = all_text(edit)
    assert _names_in(json.dumps(expected.model_dump())), "the unmasked answer has names"
    assert _names_in(shown) == []
    assert expected.stage_title in header_of(edit)  # the same verdict and stage
    assert expected.cause_title in shown
    assert NOTE in shown
    assert "host-" in shown and "0x80190194" in shown
    assert running_app.leftovers() == []


def test_show_everything_under_a_masked_answer_stays_masked(running_app: RunningApp):
    fake = running_app.fake
    edit, ts = _answer_in_channel(running_app, "1710020100.000100")
    _press(running_app, edit, ts, "show_everything", USER)
    full = fake.wait_for(
        lambda: [m for m in fake.messages_in(CHANNEL) if "Everything" in m.params["text"]]
    )
    shown = "".join(all_text(m.params) for m in full)
    assert "sid-1" in shown and _names_in(shown) == []


def test_the_uploader_gets_the_unmasked_answer_in_a_dm(running_app: RunningApp):
    fake = running_app.fake
    edit, ts = _answer_in_channel(running_app, "1710020200.000100")
    response_url = _press(running_app, edit, ts, UNMASKED_IN_DM, USER)
    (dm,) = fake.wait_for(lambda: fake.messages_in(USER))
    shown = all_text(dm.params)
    assert DP_HOST in shown and "host-" not in shown
    assert NOTE not in shown
    assert not any(e["action_id"] == UNMASKED_IN_DM for e in _buttons(dm.params))
    (reply,) = fake.wait_for(lambda: running_app.responses_to(response_url))
    assert reply["response_type"] == "ephemeral" and "DM" in reply["text"]
    assert _names_in("".join(all_text(m.params) for m in fake.messages_in(CHANNEL))) == []


def test_someone_else_cannot_get_the_unmasked_answer(running_app: RunningApp):
    fake = running_app.fake
    edit, ts = _answer_in_channel(running_app, "1710020300.000100")
    response_url = _press(running_app, edit, ts, UNMASKED_IN_DM, OTHER_USER)
    (reply,) = fake.wait_for(lambda: running_app.responses_to(response_url))
    assert reply["response_type"] == "ephemeral"
    assert f"Only <@{USER}>" in reply["text"] and _names_in(reply["text"]) == []
    assert fake.messages_in(OTHER_USER) == [] and fake.messages_in(USER) == []


def test_a_forgotten_unmasked_answer_is_said_privately(running_app: RunningApp):
    fake = running_app.fake
    edit, ts = _answer_in_channel(running_app, "1710020400.000100")
    running_app.app.services.answers._answers.clear()  # as after a restart
    response_url = _press(running_app, edit, ts, UNMASKED_IN_DM, USER)
    (reply,) = fake.wait_for(lambda: running_app.responses_to(response_url))
    assert "no longer keep" in reply["text"] and fake.messages_in(USER) == []


def test_an_upload_in_a_dm_with_the_app_is_answered_unmasked(running_app: RunningApp):
    fake = running_app.fake
    upload = fake.add_file("named.zip", named_zip())
    event = {**file_share(upload, ts="1710020500.000100"), "channel": DM, "channel_type": "im"}
    running_app.event(event)
    (posted,) = fake.wait_for(lambda: fake.messages_in(DM))
    edit = fake.final_update(DM, posted.answer["ts"], has_diagnosis)
    assert DP_HOST in all_text(edit) and NOTE not in all_text(edit)


@pytest.fixture
def unmasked_app(clean_env: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> RunningApp:
    clean_env.setenv("SCCM_BOT_REDACT_IN_CHANNELS", "false")
    return request.getfixturevalue("running_app")


def test_masking_in_channels_can_be_turned_off(unmasked_app: RunningApp):
    edit, _ = _answer_in_channel(unmasked_app, "1710020600.000100")
    shown = all_text(edit)
    assert DP_HOST in shown and NOTE not in shown
    assert not any(e["action_id"] == UNMASKED_IN_DM for e in _buttons(edit))


def _buttons(message: dict) -> list[dict]:
    return [e for b in message.get("blocks") or [] if b["type"] == "actions" for e in b["elements"]]


def test_files_answered_in_a_dm_and_shared_in_a_channel_are_masked_there(
    running_app: RunningApp,
):
    fake = running_app.fake
    upload = fake.add_file("named.zip", named_zip())
    in_dm = {**file_share(upload, ts="1710020700.000100"), "channel": DM, "channel_type": "im"}
    running_app.event(in_dm)
    (posted,) = fake.wait_for(lambda: fake.messages_in(DM))
    assert DP_HOST in all_text(fake.final_update(DM, posted.answer["ts"], has_diagnosis))

    running_app.event(file_share(upload, ts="1710020800.000100"))  # the same file, a channel
    (again,) = fake.wait_for(lambda: fake.messages_in(CHANNEL))
    assert has_diagnosis(again.params) and len(fake.file_requests) == 1  # not read again
    assert _names_in(all_text(again.params)) == [] and NOTE in all_text(again.params)
    assert any(e["action_id"] == UNMASKED_IN_DM for e in _buttons(again.params))


def test_the_masking_setting(clean_env: pytest.MonkeyPatch):
    clean_env.setenv("SLACK_BOT_TOKEN", "xoxb-1-2-abc")
    clean_env.setenv("SLACK_SIGNING_SECRET", "secret")
    settings, _ = load_settings("http")
    assert settings.masks_answers_in(CHANNEL) and settings.masks_answers_in("G0PRIVATE")
    assert not settings.masks_answers_in(DM)
    clean_env.setenv("SCCM_BOT_REDACT_IN_CHANNELS", "off")
    settings, _ = load_settings("http")
    assert not settings.masks_answers_in(CHANNEL)
    clean_env.setenv("SCCM_BOT_REDACT_IN_CHANNELS", "sometimes")
    with pytest.raises(SettingsError, match="SCCM_BOT_REDACT_IN_CHANNELS is malformed"):
        load_settings("http")
