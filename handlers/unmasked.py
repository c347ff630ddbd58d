"""The "Unmasked answer by DM" button under a masked answer: the uploader, and only the
uploader, gets the answer with its real host, user and network names in a DM with the app.

Answers in channels are masked (SCCM_BOT_REDACT_IN_CHANNELS, knowledge/redact.py); the
unmasked diagnosis waits in the app's memory (bot/answers.py) under the key the button
carries, with the uploader's id. Anyone else who presses is told privately whose it is.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from .blocks import UNMASKED_IN_DM, diagnosis_message, pressed_value

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)

FORGOTTEN = (
    "I no longer keep the unmasked answer to that upload (the app restarted, or it is over "
    "a day old). Upload the logs again in a DM with me, or run `sccm diagnose` on them."
)


def _private(respond: Respond, text: str) -> None:
    respond(text=text, response_type="ephemeral", replace_original=False)


def register(app: App, services: Services) -> None:
    @app.action(UNMASKED_IN_DM)
    def on_unmasked(ack: Ack, body: dict, action: dict, client: WebClient, respond: Respond):
        ack()
        presser = (body.get("user") or {}).get("id")
        kept = services.answers.get(str(pressed_value(action).get("k") or ""))
        if kept is None or kept.owner is None:
            _private(respond, FORGOTTEN)
            return
        if presser != kept.owner:
            _private(
                respond,
                f"Only <@{kept.owner}>, who uploaded these logs, can get the unmasked answer.",
            )
            return
        names = kept.upload_names
        message = diagnosis_message(
            kept.diagnosis, names, services.answers.keep(kept.diagnosis, names)
        )
        try:
            # a user id as the channel posts in the user's DM with the app (its Messages tab)
            client.chat_postMessage(channel=presser, **message.as_kwargs())
        except SlackApiError as problem:
            error = problem.response.get("error", "unknown_error")
            log.warning("cannot send the unmasked answer to %s: %s", presser, error)
            _private(respond, f"I could not send you a DM ({error}).")
            return
        _private(respond, "I sent you the unmasked answer in a DM.")
