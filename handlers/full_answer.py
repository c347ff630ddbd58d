"""The "Show everything" button under a diagnosis: the full answer, as a reply in its thread.

The short answer is what most people need; the button posts the rest (all evidence, error
codes, whole citations, alternatives, files) under it, so the channel stays readable. The
answer comes from the app's memory (bot/answers.py); a symptom is asked again when that
memory was lost, an upload cannot be, and the user is told so privately.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from knowledge import api
from knowledge.errors import InputError

from .blocks import SHOW_EVERYTHING, full_answer_messages, pressed_value

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)

FORGOTTEN = (
    "I no longer keep the full answer to that upload (the app restarted, or it is over a "
    "day old). Upload the logs again, or run `sccm diagnose --full logs.zip` on them."
)


def register(app: App, services: Services) -> None:
    def on_show_everything(
        ack: Ack, body: dict, action: dict, client: WebClient, respond: Respond
    ) -> None:
        ack()
        value = pressed_value(action)
        kept = services.answers.get(str(value.get("k") or ""))
        if kept is not None:
            diagnosis, names = kept.diagnosis, kept.upload_names
        elif isinstance(value.get("sym"), str) and value["sym"].strip():
            try:
                diagnosis, names = api.diagnose_symptom(value["sym"]), ()
            except InputError as problem:
                respond(text=problem.message, response_type="ephemeral", replace_original=False)
                return
        else:
            respond(text=FORGOTTEN, response_type="ephemeral", replace_original=False)
            return
        messages = full_answer_messages(diagnosis, names)
        message = body.get("message") or {}
        channel = (body.get("channel") or {}).get("id")
        if body.get("container", {}).get("is_ephemeral") or not message.get("ts") or not channel:
            # an answer only its asker sees gets its whole version the same private way
            for part in messages:
                respond(response_type="ephemeral", replace_original=False, **part.as_kwargs())
            return
        thread_ts = message.get("thread_ts") or message["ts"]
        try:
            for part in messages:
                client.chat_postMessage(channel=channel, thread_ts=thread_ts, **part.as_kwargs())
        except SlackApiError as problem:
            error = problem.response.get("error", "unknown_error")
            log.warning("cannot post the full answer in %s: %s", channel, error)
            respond(
                text=f"I could not post the full answer here ({error}).",
                response_type="ephemeral",
                replace_original=False,
            )

    app.action(SHOW_EVERYTHING)(on_show_everything)
