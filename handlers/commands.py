"""`/sccm`: diagnose, error, stages, steps, help.

Every request is acknowledged first. Answers are posted for the channel through the
command's response_url; usage mistakes go only to the person who typed them. A symptom
diagnosis runs on the app's worker pool; lookups are quick and answer from the listener.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.store import StoreError
from bot.work import PoolFull
from knowledge import api
from knowledge.errors import InputError

from .app_home import remember_diagnosis
from .blocks import (
    USAGE,
    Message,
    diagnosis_message,
    error_message,
    help_message,
    notice,
    stages_message,
    steps_message,
)
from .modal import open_upload_form

if TYPE_CHECKING:
    from bot.slack_app import Services

log = logging.getLogger(__name__)


def _to_channel(respond: Respond, message: Message) -> None:
    respond(response_type="in_channel", **message.as_kwargs())


def _to_user(respond: Respond, message: Message) -> None:
    respond(response_type="ephemeral", **message.as_kwargs())


def _usage(problem: str) -> Message:
    return notice(f"{problem}\n\nUsage:\n{USAGE}")


def auto_triage_answer(services: Services, channel: str, user: str | None, word: str) -> Message:
    """`/sccm auto on|off` turns automatic triage of uploads in this channel on or off
    (kept in the store); `/sccm auto` says how it is set."""
    if channel.startswith("D"):
        return notice("In direct messages and group DMs I read every upload; nothing to set.")
    try:
        if word in ("on", "off"):
            services.store.set_auto_triage(channel, word == "on", user)
        said = services.store.auto_triage(channel)
    except StoreError as problem:
        return notice(f"I cannot read or change this channel's setting now ({problem}).")
    enabled = said if said is not None else services.settings.auto_triage_by_default(channel)
    if enabled:
        state = (
            "Automatic triage is on here: I read every logs upload in this channel (if I am "
            "a member: `/invite @sccm`). `/sccm auto off` stops it."
        )
    else:
        state = (
            "Automatic triage is off here: I read an upload only when someone mentions me "
            "in its message or uses the *Triage logs* shortcut. `/sccm auto on` starts it."
        )
    return notice(state)


def register(app: App, services: Services) -> None:
    def answer(respond: Respond, build: Callable[[], Message]) -> None:
        """Build an answer and post it for the channel; an InputError goes to the user."""
        try:
            _to_channel(respond, build())
        except InputError as problem:
            _to_user(respond, notice(problem.message))
        except Exception:
            log.exception("/sccm failed")
            _to_user(respond, notice("Something went wrong inside the app; please try again."))

    def diagnose_symptom(respond: Respond, text: str, user: str | None, channel: str | None):
        def job() -> None:
            def build() -> Message:
                diagnosis = api.diagnose_symptom(text)
                key = services.answers.keep(diagnosis)
                remember_diagnosis(services, user, channel, diagnosis, text)
                return diagnosis_message(diagnosis, answer_key=key, symptom=text)

            answer(respond, build)

        try:
            ahead = services.pool.submit(
                job,
                name="symptom",
                on_cancel=lambda: _to_user(respond, notice("The app restarted; ask again.")),
            )
        except PoolFull:
            _to_user(respond, notice("I am busy with many analyses; try again in a minute."))
            return
        if ahead is not None:
            line = f"{ahead} analyses wait ahead of yours" if ahead else "yours is next"
            _to_user(respond, notice(f"Queued: {line}."))

    @app.command("/sccm")
    def sccm(ack: Ack, command: dict, respond: Respond, client: WebClient) -> None:
        ack()
        verb, _, rest = (command.get("text") or "").strip().partition(" ")
        verb, rest = verb.lower(), rest.strip()
        if verb == "diagnose" and rest:
            diagnose_symptom(respond, rest, command.get("user_id"), command.get("channel_id"))
        elif verb == "diagnose":
            try:
                open_upload_form(
                    client, command["trigger_id"], command["channel_id"], command["response_url"]
                )
            except SlackApiError as problem:
                error = problem.response.get("error", "unknown_error")
                _to_user(respond, notice(f"Slack would not open the upload form ({error})."))
        elif verb == "error" and rest:
            answer(respond, lambda: error_message(api.lookup_error(rest)))
        elif verb == "error":
            _to_user(respond, _usage("Say which code: `/sccm error 0x87D00692`."))
        elif verb == "stages":
            answer(respond, stages_message)
        elif verb == "steps" and rest:
            answer(respond, lambda: steps_message(rest))
        elif verb == "steps":
            _to_user(respond, _usage("Say which stage: `/sccm steps scan`."))
        elif verb == "auto" and rest.lower() in ("", "on", "off"):
            message = auto_triage_answer(
                services, command["channel_id"], command.get("user_id"), rest.lower()
            )
            if rest:  # the channel learns who changed how the app behaves there
                _to_channel(respond, message)
            else:
                _to_user(respond, message)
        elif verb == "auto":
            _to_user(respond, _usage("Say `/sccm auto on` or `/sccm auto off`."))
        elif verb in ("", "help"):
            _to_user(respond, help_message())
        else:
            _to_user(respond, _usage(f"I do not know `/sccm {verb}`."))
