"""`/sccm diagnose` with no text: a form to upload a logs zip, answered in the channel.

The command's channel and response_url travel in the view's private_metadata, because a
view_submission says neither. Slack caps file_input uploads at 10 MB; larger zips go
through an upload in a thread, which this form says.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.models.blocks import (
    InputBlock,
    PlainTextInputElement,
    PlainTextObject,
)
from slack_sdk.models.blocks.block_elements import FileInputElement  # not re-exported
from slack_sdk.models.views import View
from slack_sdk.webhook import WebhookClient

from bot.downloads import SUPPORTED_SUFFIXES, display_name, is_supported

from .blocks import UPLOAD_TYPES
from .uploads import Triage, start_triage

if TYPE_CHECKING:
    from bot.services import Services

CALLBACK_ID = "sccm_diagnose_upload"
FILE_BLOCK, FILE_ACTION = "logs", "file"
DESCRIPTION_BLOCK, DESCRIPTION_ACTION = "description", "text"


def upload_view(channel_id: str, response_url: str | None) -> View:
    return View(
        type="modal",
        callback_id=CALLBACK_ID,
        title=PlainTextObject(text="Diagnose SCCM logs"),
        submit=PlainTextObject(text="Diagnose"),
        close=PlainTextObject(text="Cancel"),
        private_metadata=json.dumps({"channel": channel_id, "response_url": response_url}),
        blocks=[
            InputBlock(
                block_id=FILE_BLOCK,
                label=PlainTextObject(text="Logs zip or log file"),
                element=FileInputElement(
                    action_id=FILE_ACTION,
                    filetypes=[suffix.lstrip(".") for suffix in SUPPORTED_SUFFIXES],
                    max_files=1,
                ),
                hint=PlainTextObject(
                    text="Zip C:\\Windows\\CCM\\Logs on the client. This form takes up to "
                    "10 MB; upload bigger zips in a thread of a channel I am in."
                ),
            ),
            InputBlock(
                block_id=DESCRIPTION_BLOCK,
                optional=True,
                label=PlainTextObject(text="What goes wrong (optional)"),
                element=PlainTextInputElement(
                    action_id=DESCRIPTION_ACTION, multiline=True, max_length=2000
                ),
            ),
        ],
    )


def open_upload_form(
    client: WebClient, trigger_id: str, channel_id: str, response_url: str | None
) -> None:
    client.views_open(trigger_id=trigger_id, view=upload_view(channel_id, response_url))


def register(app: App, services: Services) -> None:
    @app.view(CALLBACK_ID)
    def submitted(ack: Ack, body: dict, view: dict, client: WebClient) -> None:
        values = view.get("state", {}).get("values", {})
        files = values.get(FILE_BLOCK, {}).get(FILE_ACTION, {}).get("files") or []
        if not files:
            ack(response_action="errors", errors={FILE_BLOCK: "Attach the logs zip."})
            return
        # A file object without a name is described by files.info when it is analysed.
        unreadable = [display_name(f) for f in files if f.get("name") and not is_supported(f)]
        if unreadable:
            ack(
                response_action="errors",
                errors={FILE_BLOCK: f"{unreadable[0]} is not a {UPLOAD_TYPES} file."},
            )
            return
        ack()
        description = values.get(DESCRIPTION_BLOCK, {}).get(DESCRIPTION_ACTION, {}).get("value")
        origin = json.loads(view.get("private_metadata") or "{}")
        response_url = origin.get("response_url")

        def tell_user(text: str) -> None:
            if response_url:
                WebhookClient(response_url).send(text=text, response_type="ephemeral")

        user = body.get("user", {}).get("id")
        team = (body.get("team") or {}).get("id")
        triage = Triage(origin["channel"], None, files, user, description or None, team)
        start_triage(services, client, triage, tell_user)
