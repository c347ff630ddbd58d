"""The Slack app end to end: signed requests over HTTP in, Web API calls out to FakeSlack.

Nothing of the diagnosis core is mocked: the uploads are zips of CMTrace lines written
here, and the expected stage comes from asking the core the same question.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from datetime import datetime

import httpx

from bot.downloads import FILES_READ_FIX
from knowledge import api
from tests.logbuilder import cmtrace_log, timeline, zip_bytes

from .conftest import CHANNEL, USER, RunningApp
from .fake_slack import FakeSlack

ACK_LIMIT = 3.0  # seconds Slack waits for an acknowledgement

SYMPTOM = "updates stuck downloading at 0% in Software Center"
GPO_CODE = "0x87D00692"


def gpo_conflict_zip() -> bytes:
    """A client whose domain GPO points WUA at another WSUS server: a scan failure."""
    lines = timeline(
        datetime(2024, 3, 5, 9, 0),
        (
            0,
            "WUAHandler",
            "Its a WSUS Update Source type ({3C4D5E6F-7A8B-4C9D-8E0F-1A2B3C4D5E6F}).",
        ),
        (
            1,
            "WUAHandler",
            "Group policy settings were overwritten by a higher authority (Domain Controller) "
            "to: Server http://wsus-old.contoso.local:8530 and Policy ENABLED",
            2,
        ),
        (
            2,
            "WUAHandler",
            "Failed to Add Update Source for WUAgent of type (2) and id "
            "({3C4D5E6F-7A8B-4C9D-8E0F-1A2B3C4D5E6F}). Error = 0x87d00692.",
            3,
        ),
    )
    return zip_bytes({"Logs/WUAHandler.log": cmtrace_log(lines)})


def file_share(file: dict, *, ts: str, thread_ts: str | None = None) -> dict:
    event = {
        "type": "message",
        "subtype": "file_share",
        "channel": CHANNEL,
        "user": USER,
        "text": "",
        "ts": ts,
        "files": [file],
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def header_of(message: dict) -> str:
    return next(b["text"]["text"] for b in message["blocks"] if b["type"] == "header")


def all_text(message: dict) -> str:
    return json.dumps(message.get("blocks", [])) + message.get("text", "")


def is_answer(edit: dict) -> bool:
    """The final edit of a progress message: a diagnosis (header) or a problem (no ⏳)."""
    blocks = edit.get("blocks") or []
    return any(b["type"] == "header" for b in blocks) or "⏳" not in edit.get("text", "")


def final_answer(running: RunningApp, posted) -> dict:
    """The last edit of a progress message, once it is the answer."""
    return running.fake.final_update(CHANNEL, posted.answer["ts"], is_answer)


def has_diagnosis(edit: dict) -> bool:
    return any(b["type"] == "header" for b in edit.get("blocks") or [])


# --- slash commands ---------------------------------------------------------------------


def test_symptom_diagnosis_is_posted_for_the_channel(running_app: RunningApp):
    started = time.monotonic()
    answer, response_url = running_app.command(f"diagnose {SYMPTOM}")
    assert answer.status_code == 200
    assert time.monotonic() - started < ACK_LIMIT
    (reply,) = running_app.fake.wait_for(lambda: running_app.responses_to(response_url))
    expected = api.diagnose_symptom(SYMPTOM)
    assert reply["response_type"] == "in_channel"
    assert expected.stage_title in header_of(reply)
    assert any(b["type"] == "actions" for b in reply["blocks"]), "feedback buttons"
    assert reply["text"]


def test_error_lookup_answers_in_the_channel(running_app: RunningApp):
    answer, response_url = running_app.command("error 87d00692")
    assert answer.status_code == 200
    (reply,) = running_app.fake.wait_for(lambda: running_app.responses_to(response_url))
    assert reply["response_type"] == "in_channel"
    assert GPO_CODE in header_of(reply)
    assert api.lookup_error(GPO_CODE).meaning[:40] in all_text(reply)


def test_usage_mistakes_go_only_to_the_user(running_app: RunningApp):
    _, missing_code = running_app.command("error")
    _, unknown_verb = running_app.command("fix everything")
    _, unknown_stage = running_app.command("steps nowhere")
    for url in (missing_code, unknown_verb, unknown_stage):
        (reply,) = running_app.fake.wait_for(lambda url=url: running_app.responses_to(url))
        assert reply["response_type"] == "ephemeral"
    assert "nowhere" in all_text(running_app.responses_to(unknown_stage)[0])


def test_stages_and_steps_answer_from_the_knowledge_base(running_app: RunningApp):
    _, stages_url = running_app.command("stages")
    _, steps_url = running_app.command("steps scan")
    (stages,) = running_app.fake.wait_for(lambda: running_app.responses_to(stages_url))
    (steps,) = running_app.fake.wait_for(lambda: running_app.responses_to(steps_url))
    assert "download" in all_text(stages) and "report" in all_text(stages)
    from knowledge.kb import kb

    procedure = kb().procedures[kb().stages["scan"].procedure]
    assert header_of(steps) == procedure.title


# --- the upload form --------------------------------------------------------------------


def test_diagnose_without_text_opens_the_form_and_its_submission_answers_in_the_channel(
    running_app: RunningApp,
):
    fake = running_app.fake
    answer, _ = running_app.command("diagnose")
    assert answer.status_code == 200
    (opened,) = fake.wait_for(lambda: fake.calls_to("views.open"))
    view = opened.params["view"]
    assert opened.params["trigger_id"].startswith("trigger.")
    file_input = view["blocks"][0]["element"]
    assert file_input["type"] == "file_input" and file_input["max_files"] == 1

    upload = fake.add_file("client-logs.zip", gpo_conflict_zip())
    # view_submission carries files as objects; the form's own ids pick them out.
    file_block, description_block = view["blocks"][0], view["blocks"][1]
    values = {
        file_block["block_id"]: {
            file_input["action_id"]: {"type": "file_input", "files": [upload]}
        },
        description_block["block_id"]: {
            description_block["element"]["action_id"]: {
                "type": "plain_text_input",
                "value": "scan never finishes",
            }
        },
    }
    submission = {
        "type": "view_submission",
        "team": {"id": "T0CONTOSO"},
        "user": {"id": USER},
        "api_app_id": "A0SCCM",
        "trigger_id": "trigger.submit",
        "view": {**view, "id": "V0UPLOAD", "state": {"values": values}},
    }
    assert running_app.interaction(submission).status_code == 200
    (posted,) = fake.wait_for(lambda: fake.messages_in(CHANNEL))
    assert posted.params.get("thread_ts") is None, "a new message in the command's channel"
    assert "client-logs.zip" in posted.params["text"]
    expected = api.diagnose_path(_saved(running_app, "client-logs.zip", gpo_conflict_zip()))
    edit = final_answer(running_app, posted)
    assert expected.stage_title in header_of(edit)
    assert running_app.leftovers() == []


def _saved(running_app: RunningApp, name: str, data: bytes):
    """The same upload on disk, outside the app's scratch folder, to ask the core directly."""
    path = running_app.feedback_db.parent / name
    path.write_bytes(data)
    return path


# --- uploads ------------------------------------------------------------------------------


def test_a_zip_uploaded_in_a_thread_is_diagnosed_in_that_thread(running_app: RunningApp):
    fake = running_app.fake
    data = gpo_conflict_zip()
    upload = fake.add_file("logs.zip", data)
    event = file_share(upload, ts="1710000100.000200", thread_ts="1710000050.000100")
    assert running_app.event(event).status_code == 200

    (posted,) = fake.wait_for(lambda: fake.messages_in(CHANNEL))
    assert posted.params["thread_ts"] == "1710000050.000100"
    assert posted.params["text"].startswith(":hourglass_flowing_sand: reading logs.zip (")
    edit = final_answer(running_app, posted)
    expected = api.diagnose_path(_saved(running_app, "logs.zip", data))
    assert expected.verdict == "failure"
    assert expected.stage_title in header_of(edit)
    assert expected.cause in all_text(edit)
    assert "WUAHandler.log" in all_text(edit), "evidence names the file"
    progress = [u.params["text"] for u in fake.calls_to("chat.update")][:-1]
    assert progress and "1 of 1 files read" in progress[0]
    (download,) = fake.file_requests
    assert download["headers"]["Authorization"] == "Bearer xoxb-0000-1111-testtoken"
    assert running_app.leftovers() == [], "nothing of the upload stays on disk"


def test_an_upload_outside_a_thread_is_answered_in_its_own_thread(running_app: RunningApp):
    fake = running_app.fake
    upload = fake.add_file("CCM-logs.zip", gpo_conflict_zip())
    running_app.event(file_share(upload, ts="1710000200.000300"))
    (posted,) = fake.wait_for(lambda: fake.messages_in(CHANNEL))
    assert posted.params["thread_ts"] == "1710000200.000300"


def test_pictures_are_ignored(running_app: RunningApp):
    fake = running_app.fake
    picture = fake.add_file("screenshot.png", b"\x89PNG\r\n", content_type="image/png")
    assert running_app.event(file_share(picture, ts="1710000300.000100")).status_code == 200
    time.sleep(0.5)  # give a wrong reply time to appear
    assert fake.messages_in(CHANNEL) == [] and fake.file_requests == []


def test_a_retried_event_and_a_repeated_file_are_analysed_once(running_app: RunningApp):
    fake = running_app.fake
    upload = fake.add_file("logs.zip", gpo_conflict_zip())
    event = file_share(upload, ts="1710000400.000100")
    first = running_app.event(event, event_id="Ev0RETRY")
    retry = running_app.event(
        event, event_id="Ev0RETRY", headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "x"}
    )
    reshared = running_app.event(file_share(upload, ts="1710000500.000100"))
    assert [r.status_code for r in (first, retry, reshared)] == [200, 200, 200]
    (posted,) = fake.wait_for(lambda: fake.messages_in(CHANNEL))
    assert has_diagnosis(final_answer(running_app, posted))
    assert len(fake.messages_in(CHANNEL)) == 1
    assert len(fake.file_requests) == 1


def test_a_sign_in_page_instead_of_the_file_explains_the_missing_scope(running_app: RunningApp):
    fake = running_app.fake
    page = b"<!DOCTYPE html><html><head><title>Slack</title></head><body>Sign in</body></html>"
    upload = fake.add_file("logs.zip", page, content_type="text/html; charset=utf-8")
    running_app.event(file_share(upload, ts="1710000600.000100"))
    (posted,) = fake.wait_for(lambda: fake.messages_in(CHANNEL))
    edit = final_answer(running_app, posted)
    assert "files:read" in edit["text"] and "reinstall" in edit["text"]
    assert edit["text"].endswith(FILES_READ_FIX)
    assert running_app.leftovers() == []


def test_a_file_outside_the_allowed_origins_is_never_fetched(running_app: RunningApp):
    elsewhere = FakeSlack().start()
    try:
        upload = elsewhere.add_file("logs.zip", gpo_conflict_zip())
        running_app.event(file_share(upload, ts="1710000700.000100"))
        (posted,) = running_app.fake.wait_for(lambda: running_app.fake.messages_in(CHANNEL))
        edit = final_answer(running_app, posted)
        assert "not an allowed file origin" in edit["text"]
        assert elsewhere.file_requests == []
    finally:
        elsewhere.stop()


def test_a_redirect_to_another_origin_is_refused(running_app: RunningApp):
    elsewhere = FakeSlack().start()
    try:
        target = elsewhere.add_file("logs.zip", gpo_conflict_zip())
        upload = running_app.fake.add_file("logs.zip", b"", location=target["url_private_download"])
        running_app.event(file_share(upload, ts="1710000800.000100"))
        (posted,) = running_app.fake.wait_for(lambda: running_app.fake.messages_in(CHANNEL))
        edit = final_answer(running_app, posted)
        assert "not an allowed file origin" in edit["text"]
        assert elsewhere.file_requests == []
    finally:
        elsewhere.stop()


def test_a_slack_connect_file_is_described_by_files_info(running_app: RunningApp):
    fake = running_app.fake
    upload = fake.add_file("logs.zip", gpo_conflict_zip())
    hidden = {"id": upload["id"], "mode": "hidden_by_limit", "file_access": "check_file_info"}
    running_app.event(file_share(hidden, ts="1710000900.000100"))
    (posted,) = fake.wait_for(lambda: fake.messages_in(CHANNEL))
    assert has_diagnosis(final_answer(running_app, posted))
    assert [c.params["file"] for c in fake.calls_to("files.info")] == [upload["id"]]


def test_a_429_from_chat_post_message_is_retried_and_the_answer_lands(running_app: RunningApp):
    fake = running_app.fake
    fake.rate_limit_once.add("chat.postMessage")
    upload = fake.add_file("logs.zip", gpo_conflict_zip())
    running_app.event(file_share(upload, ts="1710001000.000100"))
    (posted,) = fake.wait_for(lambda: fake.messages_in(CHANNEL))
    assert has_diagnosis(final_answer(running_app, posted))
    attempts = fake.calls_to("chat.postMessage")
    assert [c.answer["ok"] for c in attempts] == [False, True], "the 429, then its retry"


def test_ten_uploads_at_once_are_all_acknowledged_in_time_and_all_answered(
    running_app: RunningApp,
):
    fake = running_app.fake
    uploads = [fake.add_file(f"logs-{n}.zip", gpo_conflict_zip()) for n in range(10)]
    timings: list[float] = []
    statuses: list[int] = []
    lock = threading.Lock()

    def send(n: int) -> None:
        started = time.monotonic()
        answer = running_app.event(file_share(uploads[n], ts=f"1710002000.{n:06d}"))
        with lock:
            timings.append(time.monotonic() - started)
            statuses.append(answer.status_code)

    senders = [threading.Thread(target=send, args=(n,)) for n in range(10)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    assert statuses == [200] * 10
    assert max(timings) < ACK_LIMIT

    def progress_posts():  # the "reading ..." messages, not the "ready" notices
        return [m for m in fake.messages_in(CHANNEL) if "reading" in m.params["text"]]

    posted = fake.wait_for(lambda: len(progress_posts()) == 10 and progress_posts())
    threads = sorted(c.params["thread_ts"] for c in posted)
    assert threads == [f"1710002000.{n:06d}" for n in range(10)]
    for progress in posted:
        assert has_diagnosis(final_answer(running_app, progress))
    queued = [u for u in fake.calls_to("chat.update") if "queued" in u.params.get("text", "")]
    assert queued, "with 3 workers, some uploads waited and were told so"
    assert running_app.leftovers() == []


# --- the shortcut -------------------------------------------------------------------------


def shortcut(running_app: RunningApp, message: dict) -> str:
    response_url = running_app.fake.response_url()
    payload = {
        "type": "message_action",
        "callback_id": "triage_logs",
        "trigger_id": "trigger.shortcut",
        "team": {"id": "T0CONTOSO"},
        "user": {"id": USER},
        "channel": {"id": CHANNEL},
        "message_ts": message["ts"],
        "message": message,
        "response_url": response_url,
    }
    assert running_app.interaction(payload).status_code == 200
    return response_url


def test_the_shortcut_triages_a_message_with_a_file_in_its_thread(running_app: RunningApp):
    fake = running_app.fake
    upload = fake.add_file("logs.zip", gpo_conflict_zip())
    message = {"type": "message", "user": "U0OTHER", "ts": "1710003000.000100", "files": [upload]}
    shortcut(running_app, {**message, "thread_ts": "1710002900.000100"})
    (posted,) = fake.wait_for(lambda: fake.messages_in(CHANNEL))
    assert posted.params["thread_ts"] == "1710002900.000100"
    assert has_diagnosis(final_answer(running_app, posted))


def test_the_shortcut_on_a_message_without_files_explains_privately(running_app: RunningApp):
    message = {"type": "message", "user": "U0OTHER", "ts": "1710003100.000100", "text": "help?"}
    response_url = shortcut(running_app, message)
    (reply,) = running_app.fake.wait_for(lambda: running_app.responses_to(response_url))
    assert reply["response_type"] == "ephemeral"
    assert "no file" in reply["text"]
    assert running_app.fake.messages_in(CHANNEL) == []


# --- feedback -----------------------------------------------------------------------------


def test_a_feedback_press_is_recorded_without_log_contents(running_app: RunningApp):
    fake = running_app.fake
    upload = fake.add_file("logs.zip", gpo_conflict_zip())
    running_app.event(file_share(upload, ts="1710004000.000100"))
    (posted,) = fake.wait_for(lambda: fake.messages_in(CHANNEL))
    edit = final_answer(running_app, posted)
    message_ts = posted.answer["ts"]
    actions = next(b for b in edit["blocks"] if b["type"] == "actions")
    wrong = next(e for e in actions["elements"] if e["action_id"] == "feedback_wrong")
    response_url = fake.response_url()
    press = {
        "type": "block_actions",
        "team": {"id": "T0CONTOSO"},
        "user": {"id": USER},
        "api_app_id": "A0SCCM",
        "trigger_id": "trigger.press",
        "channel": {"id": CHANNEL},
        "container": {"type": "message", "message_ts": message_ts, "channel_id": CHANNEL},
        "message": {"ts": message_ts, "blocks": edit["blocks"]},
        "response_url": response_url,
        "actions": [{**wrong, "block_id": actions["block_id"], "action_ts": "1710004001.0"}],
    }
    assert running_app.interaction(press).status_code == 200
    (thanks,) = fake.wait_for(lambda: running_app.responses_to(response_url))
    assert thanks["response_type"] == "ephemeral" and thanks["replace_original"] is False

    with sqlite3.connect(running_app.feedback_db) as db:
        rows = db.execute("SELECT judgement, verdict, stage, cause, files, user_id FROM feedback")
        (row,) = rows.fetchall()
    expected = api.diagnose_path(_saved(running_app, "logs.zip", gpo_conflict_zip()))
    assert row == ("wrong", "failure", expected.stage, expected.cause, '["logs.zip"]', USER)


# --- request checks and health --------------------------------------------------------------


def test_a_bad_signature_and_a_stale_timestamp_are_refused(running_app: RunningApp):
    body = "command=%2Fsccm&text=help&response_url=" + running_app.fake.response_url()
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    forged = {**form, **running_app.signed_headers(body, secret="not-the-secret")}
    stale = {**form, **running_app.signed_headers(body, timestamp=int(time.time()) - 301)}
    for headers in (forged, stale):
        answer = httpx.post(running_app.url + "/slack/events", content=body, headers=headers)
        assert answer.status_code == 401
    assert running_app.fake.responses == []


def test_health_check_answers(running_app: RunningApp):
    assert httpx.get(running_app.url + "/healthz").status_code == 200
    assert httpx.get(running_app.url + "/elsewhere").status_code == 404


# --- issue 16: Show everything and the queued notice -------------------------------------


def _press(running_app: RunningApp, edit: dict, message_ts: str, thread_ts: str | None):
    actions = next(b for b in edit["blocks"] if b["type"] == "actions")
    button = next(e for e in actions["elements"] if e["action_id"] == "show_everything")
    response_url = running_app.fake.response_url()
    message = {"ts": message_ts, "blocks": edit["blocks"]}
    if thread_ts:
        message["thread_ts"] = thread_ts
    press = {
        "type": "block_actions",
        "team": {"id": "T0CONTOSO"},
        "user": {"id": USER},
        "api_app_id": "A0SCCM",
        "trigger_id": "trigger.press",
        "channel": {"id": CHANNEL},
        "container": {"type": "message", "message_ts": message_ts, "channel_id": CHANNEL},
        "message": message,
        "response_url": response_url,
        "actions": [{**button, "block_id": actions["block_id"], "action_ts": "1710009001.0"}],
    }
    assert running_app.interaction(press).status_code == 200
    return response_url


def test_show_everything_posts_the_full_answer_in_the_thread(running_app: RunningApp):
    fake = running_app.fake
    upload = fake.add_file("logs.zip", gpo_conflict_zip())
    running_app.event(file_share(upload, ts="1710009000.000100", thread_ts="1710008000.000100"))
    (posted,) = fake.wait_for(lambda: fake.messages_in(CHANNEL))
    edit = final_answer(running_app, posted)
    _press(running_app, edit, posted.answer["ts"], "1710008000.000100")
    full = fake.wait_for(
        lambda: [m for m in fake.messages_in(CHANNEL) if "Everything" in m.params["text"]]
    )
    assert all(m.params["thread_ts"] == "1710008000.000100" for m in full)
    expected = api.diagnose_path(_saved(running_app, "logs.zip", gpo_conflict_zip()))
    shown = "".join(all_text(m.params) for m in full)
    for item in expected.evidence:
        assert f"{item.file}:{item.line}" in shown
    assert expected.cause in shown


def test_show_everything_on_a_forgotten_upload_answer_says_so_privately(running_app: RunningApp):
    fake = running_app.fake
    upload = fake.add_file("logs.zip", gpo_conflict_zip())
    running_app.event(file_share(upload, ts="1710009100.000100"))
    (posted,) = fake.wait_for(lambda: fake.messages_in(CHANNEL))
    edit = final_answer(running_app, posted)
    running_app.app.services.answers._answers.clear()  # as after a restart
    response_url = _press(running_app, edit, posted.answer["ts"], "1710009100.000100")
    (reply,) = fake.wait_for(lambda: running_app.responses_to(response_url))
    assert reply["response_type"] == "ephemeral" and "no longer keep" in reply["text"]


def test_an_answer_that_waited_in_the_queue_mentions_its_asker(running_app: RunningApp):
    fake = running_app.fake
    pool = running_app.app.services.pool
    release = threading.Event()
    for n in range(pool.workers):  # every worker busy: the upload has to wait
        pool.submit(lambda: release.wait(10), name=f"blocker {n}")
    upload = fake.add_file("logs.zip", gpo_conflict_zip())
    running_app.event(file_share(upload, ts="1710009200.000100"))
    (posted,) = fake.wait_for(lambda: fake.messages_in(CHANNEL))
    fake.wait_for(lambda: [u for u in fake.calls_to("chat.update") if "queued" in u.params["text"]])
    release.set()
    assert has_diagnosis(final_answer(running_app, posted))
    (ready,) = fake.wait_for(
        lambda: [m for m in fake.messages_in(CHANNEL) if m.params["text"].startswith(f"<@{USER}>")]
    )
    assert ready.params["thread_ts"] == "1710009200.000100"
    assert "ready" in ready.params["text"]


def test_an_answer_that_did_not_wait_posts_no_extra_message(running_app: RunningApp):
    fake = running_app.fake
    upload = fake.add_file("logs.zip", gpo_conflict_zip())
    running_app.event(file_share(upload, ts="1710009300.000100"))
    (posted,) = fake.wait_for(lambda: fake.messages_in(CHANNEL))
    assert has_diagnosis(final_answer(running_app, posted))
    time.sleep(0.3)
    assert len(fake.messages_in(CHANNEL)) == 1
