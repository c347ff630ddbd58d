"""An upload holding several machines: one summary reply, each machine's diagnosis a pick away.

The summary (`fleet_message` in handlers/blocks.py: the CLI's `sccm fleet` in Block Kit)
shows the machines grouped by verdict and cause, the largest failing group first, with
each group's shared next step. Under it a menu lists the machines; picking one posts
that machine's diagnosis, the same message a single upload gets, as a reply in the
thread. The diagnoses wait in the app's memory
(bot/answers.py), like the answers behind "Show everything".
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from .blocks import PICK_MACHINE, diagnosis_message

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)

FORGOTTEN = (
    "I no longer keep that machine's diagnosis (the app restarted, or it is over a day "
    "old). Upload the logs again, or run `sccm fleet logs.zip --machine NAME` on them."
)


def register(app: App, services: Services) -> None:
    def on_pick_machine(
        ack: Ack, body: dict, action: dict, client: WebClient, respond: Respond
    ) -> None:
        ack()
        key = str((action.get("selected_option") or {}).get("value") or "")
        kept = services.answers.get(key)
        if kept is None:
            respond(text=FORGOTTEN, response_type="ephemeral", replace_original=False)
            return
        answer = diagnosis_message(kept.diagnosis, kept.upload_names, key)
        message = body.get("message") or {}
        channel = (body.get("channel") or {}).get("id")
        if not message.get("ts") or not channel:
            respond(response_type="ephemeral", replace_original=False, **answer.as_kwargs())
            return
        try:
            client.chat_postMessage(
                channel=channel,
                thread_ts=message.get("thread_ts") or message["ts"],
                **answer.as_kwargs(),
            )
        except SlackApiError as problem:
            error = problem.response.get("error", "unknown_error")
            log.warning("cannot post a machine's diagnosis in %s: %s", channel, error)
            respond(
                text=f"I could not post that machine's diagnosis here ({error}).",
                response_type="ephemeral",
                replace_original=False,
            )

    app.action(PICK_MACHINE)(on_pick_machine)
