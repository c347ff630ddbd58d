"""The App Home tab: what the bot does, how to collect the logs, the commands, and the
diagnoses it gave the person looking, newest first.

Slack sends `app_home_opened` each time someone opens the tab; the view is published then
(views.publish), so it always shows their latest diagnoses. The diagnoses come from the
store (`record_diagnosis` is called where an answer is built); a failing store still
publishes the rest of the tab, with a line saying the list is unavailable.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block, DividerBlock
from slack_sdk.models.views import View

from bot.store import DiagnosisRecord, StoreError
from knowledge.models import Diagnosis

from .blocks import (
    UPLOAD_TYPES,
    USAGE,
    _context,
    _header,
    _packed_sections,
    _section,
    clip,
    escape,
)

if TYPE_CHECKING:
    from bot.slack_app import Services

log = logging.getLogger(__name__)

RECENT = 10  # diagnoses listed on the tab
MAX_VIEW_BLOCKS = 100  # Slack's limit for a Home tab view
WHAT_LENGTH = 200  # characters of a typed symptom (or a headline) shown in the list

VERDICT_MARK = {"failure": "✗ failure", "healthy": "✓ healthy", "inconclusive": "? inconclusive"}

WHAT_IT_DOES = (
    "I read the client logs of a Windows machine whose software updates fail and name the "
    "stage of the ConfigMgr update pipeline that failed (policy, scan, download, install ...), "
    "the log lines that show it, and the next documented troubleshooting step."
)
HOW_TO_COLLECT = (
    "*How to collect the logs:* on the client, zip the folder `C:\\Windows\\CCM\\Logs`; add "
    "`C:\\Windows\\Logs\\CBS\\CBS.log` for install failures, and on Windows 10 or later the "
    "output of `Get-WindowsUpdateLog` (it writes WindowsUpdate.log to the desktop). "
    "`sccm script collect > collect-logs.ps1` prints a PowerShell script that zips them all. "
    f"Then upload the zip ({UPLOAD_TYPES}) in a direct message to me, through "
    "`/sccm diagnose`, or in a support thread: mention me in the message you upload it with, "
    "unless `/sccm auto on` was said in that channel."
)


def headline_of(diagnosis: Diagnosis) -> str:
    """A few words for the list: the cause, else the stage, else what the verdict means."""
    if diagnosis.verdict == "healthy":
        return "the update pipeline works"
    if diagnosis.verdict == "inconclusive" and not diagnosis.stage:
        return "not enough evidence"
    return diagnosis.cause_title or diagnosis.stage_title or diagnosis.stage or "unknown stage"


def remember_diagnosis(
    services: Services, user: str | None, channel: str | None, diagnosis: Diagnosis, what: str
) -> None:
    """Keep a line for the user's App Home; a failing store is logged, never raised."""
    if not user:
        return
    record = DiagnosisRecord(
        user_id=user,
        channel_id=channel,
        what=clip(what, WHAT_LENGTH),
        source=diagnosis.source,
        verdict=diagnosis.verdict,
        stage=diagnosis.stage,
        headline=headline_of(diagnosis),
    )
    try:
        services.store.record_diagnosis(record)
    except StoreError as problem:
        log.error("diagnosis for %s not recorded for the App Home: %s", user, problem)


def _where(channel: str | None) -> str:
    if not channel:
        return ""
    if channel.startswith("D"):
        return " · in a direct message"
    return f" · in <#{channel}>"


def _when(recorded_at: str) -> str:
    """`2024-03-05 09:00 UTC` from the store's ISO time."""
    return recorded_at[:16].replace("T", " ") + " UTC" if recorded_at else ""


def recent_line(record: DiagnosisRecord) -> str:
    mark = VERDICT_MARK.get(record.verdict, record.verdict)
    stage = f" at *{escape(record.stage)}*" if record.stage else ""
    kind = "symptom" if record.source == "symptom" else "logs"
    return (
        f"*{mark}*{stage}: {clip(escape(record.headline), WHAT_LENGTH)}\n"
        f"    {kind}: {clip(escape(record.what), WHAT_LENGTH)} · "
        f"{_when(record.recorded_at)}{_where(record.channel_id)}"
    )


def home_view(recent: Sequence[DiagnosisRecord] | None) -> dict:
    """The tab's view; `recent` None means the store could not be read."""
    blocks: list[Block] = [
        _header("SCCM Triage"),
        _section(WHAT_IT_DOES),
        _section(HOW_TO_COLLECT),
        DividerBlock(),
        _header("Commands"),
        _section(USAGE),
        _context(
            "Slash commands cannot be used inside threads: there, upload the zip or use the "
            "*Triage logs* message shortcut."
        ),
        DividerBlock(),
        _header("Your recent diagnoses"),
    ]
    if recent is None:
        blocks.append(_section("_Your diagnoses cannot be read right now; try again later._"))
    elif not recent:
        blocks.append(_section("_None yet: upload a logs zip or try `/sccm diagnose <symptom>`._"))
    else:
        blocks += _packed_sections(recent_line(r) for r in recent)
    blocks = blocks[:MAX_VIEW_BLOCKS]
    return View(type="home", blocks=blocks).to_dict()


def publish_home(services: Services, client: WebClient, user: str) -> None:
    try:
        recent = services.store.recent_diagnoses(user, RECENT)
    except StoreError as problem:
        log.error("cannot read the diagnoses of %s: %s", user, problem)
        recent = None
    try:
        client.views_publish(user_id=user, view=home_view(recent))
    except SlackApiError as problem:
        log.warning("cannot publish the App Home of %s: %s", user, problem.response)


def register(app: App, services: Services) -> None:
    @app.event("app_home_opened")
    def on_app_home_opened(event: dict, client: WebClient) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return  # the Messages tab: nothing to publish
        publish_home(services, client, event["user"])
