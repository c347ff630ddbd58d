"""Every upload gets a clear answer where it was shared: the same file in another channel
(from the diagnosis kept in memory, no second analysis), cut-off downloads, bad links, odd names."""

from __future__ import annotations

import json

from .conftest import CHANNEL, SECOND_CHANNEL, USER, RunningApp
from .test_end_to_end import file_share, final_answer, gpo_conflict_zip, has_diagnosis

OTHER_CHANNEL = SECOND_CHANNEL


def shared_in(channel: str, file: dict, ts: str) -> dict:
    return {**file_share(file, ts=ts), "channel": channel}


def without_buttons(blocks: list[dict]) -> list[dict]:
    """The answer itself: its buttons carry keys of their own in each conversation."""
    return [b for b in blocks if b["type"] != "actions"]


def test_the_same_file_in_another_channel_is_answered_there_from_the_stored_answer(
    running_app: RunningApp,
):
    fake = running_app.fake
    upload = fake.add_file("logs.zip", gpo_conflict_zip())
    running_app.event(file_share(upload, ts="1710010000.000100"))
    (posted,) = fake.wait_for(lambda: fake.messages_in(CHANNEL))
    first = final_answer(running_app, posted)
    assert has_diagnosis(first)

    running_app.event(shared_in(OTHER_CHANNEL, upload, "1710010100.000100"))
    (answer,) = fake.wait_for(lambda: fake.messages_in(OTHER_CHANNEL))
    assert answer.params["thread_ts"] == "1710010100.000100"
    assert without_buttons(answer.params["blocks"]) == without_buttons(first["blocks"])
    assert len(fake.file_requests) == 1, "answered without a second download or analysis"


def test_a_file_shared_elsewhere_while_it_is_read_gets_the_same_answer_once_read(
    running_app: RunningApp,
):
    fake = running_app.fake
    upload = fake.add_file("logs.zip", gpo_conflict_zip(), drip=0.004)
    running_app.event(file_share(upload, ts="1710011000.000100"))
    fake.wait_for(lambda: fake.file_requests)
    running_app.event(shared_in(OTHER_CHANNEL, upload, "1710011100.000100"))
    (waiting,) = fake.wait_for(lambda: fake.messages_in(OTHER_CHANNEL))
    assert "another conversation" in waiting.params["text"]
    answer = fake.final_update(OTHER_CHANNEL, waiting.answer["ts"], has_diagnosis)
    (posted,) = fake.messages_in(CHANNEL)
    first = final_answer(running_app, posted)["blocks"]
    assert without_buttons(answer["blocks"]) == without_buttons(first)
    assert len(fake.file_requests) == 1


def test_a_download_cut_off_says_so(running_app: RunningApp):
    fake = running_app.fake
    upload = fake.add_file("logs.zip", gpo_conflict_zip(), cut_after=100)
    running_app.event(file_share(upload, ts="1710012000.000100"))
    (posted,) = fake.wait_for(lambda: fake.messages_in(CHANNEL))
    edit = final_answer(running_app, posted)
    assert "was cut off after 100 bytes" in edit["text"] and "upload it again" in edit["text"]
    assert "went wrong inside the app" not in edit["text"]
    assert running_app.leftovers() == []


def test_a_link_that_is_no_url_says_so(running_app: RunningApp):
    fake = running_app.fake
    upload = fake.add_file("logs.zip", gpo_conflict_zip())
    broken = {**upload, "url_private_download": fake.origin + "/files/x\x00y/logs.zip"}
    running_app.event(file_share(broken, ts="1710013000.000100"))
    (posted,) = fake.wait_for(lambda: fake.messages_in(CHANNEL))
    edit = final_answer(running_app, posted)
    assert "is not a URL I can download" in edit["text"]
    assert "went wrong inside the app" not in edit["text"]


def test_control_and_bidirectional_characters_in_a_name_are_neutralised(
    running_app: RunningApp,
):
    fake = running_app.fake
    name = "report\u202egpj.exe\u200b\n<!channel>.zip"
    upload = fake.add_file(name, gpo_conflict_zip())
    running_app.event(file_share(upload, ts="1710014000.000100"))
    (posted,) = fake.wait_for(lambda: fake.messages_in(CHANNEL))
    edit = final_answer(running_app, posted)
    visible = [b for b in edit["blocks"] if b["type"] != "actions"]  # button values are data
    for shown in (posted.params["text"], edit["text"], json.dumps(visible, ensure_ascii=False)):
        for hidden in ("\u202e", "\u200b", "\n<!channel>", "<!channel>"):
            assert hidden not in shown
    assert "report\ufffdgpj.exe" in posted.params["text"]
    assert has_diagnosis(edit)


def test_a_store_that_breaks_refuses_new_uploads_clearly(running_app: RunningApp):
    fake = running_app.fake
    db = running_app.feedback_db
    for leftover in db.parent.glob(db.name + "-*"):
        leftover.unlink()
    db.write_bytes(b"garbage" * 1000)
    upload = fake.add_file("logs.zip", gpo_conflict_zip())
    running_app.event(file_share(upload, ts="1710015000.000100"))
    (told,) = fake.wait_for(lambda: fake.calls_to("chat.postEphemeral"))
    assert told.params["user"] == USER
    assert "store fails" in told.params["text"] and "nothing was analysed" in told.params["text"]
    assert fake.messages_in(CHANNEL) == [] and fake.file_requests == []
