"""The "Right" / "Wrong" buttons under a diagnosis: one stored row per press, then thanks.

The row is committed before Slack gets its acknowledgement, so a press Slack saw as
accepted is never lost to a crash. A store that fails while the app runs is reported to
the person who pressed (and logged); the app keeps serving.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

from slack_bolt import Ack, App, Respond

from bot.feedback import FeedbackRow
from bot.store import StoreError

from .blocks import FEEDBACK_RIGHT, FEEDBACK_WRONG

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)


def register(app: App, services: Services) -> None:
    def on_press(ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        try:
            judged = json.loads(action.get("value") or "{}")
        except ValueError:
            judged = {}
        if not isinstance(judged, dict):
            judged = {}
        judgement = "right" if action["action_id"] == FEEDBACK_RIGHT else "wrong"
        files = judged.get("f")
        row = FeedbackRow(
            judgement=judgement,
            verdict=judged.get("v"),
            stage=judged.get("s"),
            cause=judged.get("c"),
            files=[str(n) for n in files] if isinstance(files, list) else [],
            source=judged.get("src"),
            user_id=body.get("user", {}).get("id"),
            team_id=body.get("team", {}).get("id"),
            channel_id=body.get("channel", {}).get("id"),
            message_ts=body.get("container", {}).get("message_ts"),
        )
        try:
            # Another replica may have taken this person's earlier press: the store says.
            earlier = services.store.earlier_judgement(row)
            services.store.record_feedback(row)
        except StoreError as problem:
            ack()
            log.error("feedback not stored: %s", problem)
            respond(
                text=f"Sorry: I could not save your feedback ({problem}). Nothing else is "
                "affected; please tell the app's admin, and press again later.",
                response_type="ephemeral",
                replace_original=False,
            )
            return
        ack()
        thanks = (
            "Thanks: noted that this diagnosis was right."
            if judgement == "right"
            else "Thanks: noted that this diagnosis was wrong. If you find the real cause, "
            "say it in the thread so the knowledge base can learn it."
        )
        if earlier is not None and earlier != judgement:
            thanks += f" (You said it was {earlier} before; this press is kept after that one.)"
        respond(text=thanks, response_type="ephemeral", replace_original=False)

    app.action(FEEDBACK_RIGHT)(on_press)
    app.action(FEEDBACK_WRONG)(on_press)
