"""The journey picture in Slack: posted in the thread, right after the answer it draws.

It goes through Slack's current upload API (slack_sdk's `files_upload_v2`:
files.getUploadURLExternal, a POST of the bytes to the URL it gives, then
files.completeUploadExternal into the channel and thread), which needs the `files:write`
scope (manifest.yml). The picture is an extra: if it cannot be drawn or posted (say an
app installed before the scope was added), the answer stands and the reason is logged.
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot import picture
from knowledge.models import Diagnosis

log = logging.getLogger(__name__)

FILE_NAME = "journey.png"


def alt_text(diagnosis: Diagnosis) -> str:
    """What a screen reader says instead of the picture: the ledger, stage by stage."""
    stages = "; ".join(
        f"{row.title or row.stage} {row.status.replace('_', ' ')}" for row in diagnosis.ledger
    )
    return f"Timeline of the update pipeline: {stages}"[:1000]


def post_picture(
    client: WebClient, channel: str, thread_ts: str | None, diagnosis: Diagnosis | None
) -> bool:
    """Posts the picture of `diagnosis` in the thread; False (logged) when it was not."""
    if diagnosis is None or diagnosis.source != "logs" or not picture.has_marks(diagnosis):
        return False  # a picture of ten empty tracks would only add noise to the thread
    try:
        png = picture.render_png(diagnosis)
    except Exception:  # a drawing bug must not cost the user the answer already posted
        log.exception("cannot draw the journey picture for %s", channel)
        return False
    try:
        client.files_upload_v2(
            channel=channel,
            thread_ts=thread_ts,
            content=png,
            filename=FILE_NAME,
            title="The update's journey through the ten stages",
            alt_txt=alt_text(diagnosis),
        )
    except SlackApiError as problem:
        error = problem.response.get("error", "unknown_error")
        hint = " (add the files:write scope, see manifest.yml)" if error == "missing_scope" else ""
        log.warning("cannot post the journey picture in %s: %s%s", channel, error, hint)
        return False
    except (SlackClientError, OSError) as problem:  # the upload URL refused or unreachable
        log.warning("cannot upload the journey picture for %s: %s", channel, problem)
        return False
    return True
