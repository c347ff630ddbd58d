"""The "Triage logs" message shortcut: any message with a log file, analysed in its thread."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.downloads import is_supported
from knowledge.errors import InputError

from .blocks import UPLOAD_TYPES
from .uploads import Triage, described, start_triage

if TYPE_CHECKING:
    from bot.services import Services

CALLBACK_ID = "triage_logs"


def register(app: App, services: Services) -> None:
    @app.message_shortcut(CALLBACK_ID)
    def triage_logs(ack: Ack, body: dict, client: WebClient, respond: Respond) -> None:
        ack()

        def tell_user(text: str) -> None:
            respond(text=text, response_type="ephemeral", replace_original=False)

        message = body.get("message", {})
        if not message.get("files"):
            tell_user(
                f"That message has no file. Use *Triage logs* on a message with a {UPLOAD_TYPES} "
                "attached, or upload the logs zip in the thread."
            )
            return
        try:
            shared = [described(client, f) for f in message["files"]]
        except InputError as problem:
            tell_user(problem.message)
            return
        files = [f for f in shared if is_supported(f)]
        if not files:
            tell_user(f"I read {UPLOAD_TYPES} files; that message has none.")
            return
        thread_ts = message.get("thread_ts") or message["ts"]
        user = body.get("user", {}).get("id")
        team = (body.get("team") or {}).get("id")
        triage = Triage(body["channel"]["id"], thread_ts, files, user, team_id=team)
        start_triage(services, client, triage, tell_user)
