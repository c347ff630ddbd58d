"""Upload-and-triage: a log file shared where the app is becomes a diagnosis in its thread.

The same flow serves the "Triage logs" shortcut and the upload form of `/sccm diagnose`:
post "reading ..." at once, queue the analysis on the app's worker pool, edit that message
as files are read (at most every ~2 s), and end with the diagnosis in it. The download
lives in a temporary folder that is removed whatever happens.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.downloads import display_name, human_size, is_supported, with_download_links
from bot.work import PoolFull
from knowledge import api
from knowledge.errors import InputError

from .blocks import Message, diagnosis_message, escape, notice

if TYPE_CHECKING:
    from bot.slack_app import Services

log = logging.getLogger(__name__)

PROGRESS_INTERVAL = 2.0  # seconds between edits of the progress message (chat.update is Tier 3)

TellUser = Callable[[str], None]  # a private note to the person who asked


@dataclass(frozen=True)
class Triage:
    """One request to analyse files: where to answer, and for whom."""

    channel: str
    thread_ts: str | None  # None: start a new message in the channel (the upload form)
    files: list[dict]
    user: str | None
    description: str | None = None


def label(files: list[dict]) -> str:
    """`logs.zip (12 MB)`, or `3 files (40 MB)`."""
    sizes = [f["size"] for f in files if isinstance(f.get("size"), int)]
    size = f" ({human_size(sum(sizes))})" if sizes else ""
    if len(files) == 1:
        return f"{display_name(files[0])}{size}"
    return f"{len(files)} files{size}"


def start_triage(
    services: Services, client: WebClient, triage: Triage, tell_user: TellUser
) -> None:
    """Post the progress message and queue the analysis; problems go privately to the user."""
    key = "files:" + ",".join(sorted(str(f.get("id") or display_name(f)) for f in triage.files))
    if not services.seen.first_time(key):
        tell_user(f"I already analysed {label(triage.files)} in the last hour; see that reply.")
        return
    who = f"<@{triage.user}> sent " if triage.user and triage.thread_ts is None else ""
    try:
        posted = client.chat_postMessage(
            channel=triage.channel,
            thread_ts=triage.thread_ts,
            text=f":hourglass_flowing_sand: {who}reading {escape(label(triage.files))}…",
        )
    except SlackApiError as problem:
        services.seen.forget(key)
        error = problem.response.get("error", "unknown_error")
        log.warning("cannot post in %s: %s", triage.channel, error)
        tell_user(
            f"I cannot post in this channel ({error}); invite me with `/invite @sccm` and try "
            "again."
        )
        return
    progress = ProgressMessage(client, triage.channel, posted["ts"], label(triage.files))
    try:
        ahead = services.pool.submit(
            lambda: analyse(services, client, triage, progress),
            name=f"triage {key}",
            on_cancel=lambda: progress.finish(
                notice(f"The app stopped before reading {label(triage.files)}; upload it again.")
            ),
            on_stop=lambda: progress.stop(
                notice(
                    f"The app was stopped (a restart or an update) while reading "
                    f"{label(triage.files)}; upload it again."
                )
            ),
        )
    except PoolFull:
        services.seen.forget(key)
        progress.finish(
            notice(
                f"I am busy with {services.pool.workers + services.pool.max_queued} analyses; "
                f"upload {label(triage.files)} again in a few minutes."
            )
        )
        return
    if ahead is not None:
        progress.queued(ahead)


def analyse(services: Services, client: WebClient, triage: Triage, progress: ProgressMessage):
    """The worker's part: download, diagnose, answer."""
    progress.started()
    progress.finish(_diagnosis_of(services, client, triage, progress))


def _diagnosis_of(
    services: Services, client: WebClient, triage: Triage, progress: ProgressMessage
) -> Message:
    """The answer to post. The download is removed before it is posted, whatever happened."""
    folder = Path(tempfile.mkdtemp(prefix="sccm-upload-"))
    names = [display_name(f) for f in triage.files]
    try:
        paths = [
            services.downloader.fetch(with_download_links(client, file), folder)
            for file in triage.files
        ]
        target = paths[0] if len(paths) == 1 else folder
        diagnosis = api.diagnose_path(
            target, description=triage.description, progress=progress.update
        )
        return diagnosis_message(diagnosis, names)
    except InputError as problem:
        return notice(f"I could not diagnose {', '.join(names)}: {problem.message}")
    except Exception:
        log.exception("analysis of %s failed", names)
        return notice(f"Something went wrong inside the app while reading {', '.join(names)}.")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class ProgressMessage:
    """The "reading ..." message: edited while queued and while reading, then answered."""

    def __init__(self, client: WebClient, channel: str, ts: str, what: str):
        self.client = client
        self.channel = channel
        self.ts = ts
        self.what = what
        self._lock = threading.Lock()
        self._started = False
        self._stopped = False  # told the user the app stopped: the message stays so
        self._last_edit = 0.0

    def queued(self, ahead: int) -> None:
        if ahead:
            line = f"queued: {ahead} upload{'s' if ahead != 1 else ''} ahead of yours"
        else:
            line = "queued: yours is next"
        with self._lock:
            if not self._started:  # the worker may already have picked it up
                self._edit(notice(f"⏳ {line} ({self.what})."))

    def started(self) -> None:
        with self._lock:
            self._started = True

    def update(self, step: api.Progress) -> None:
        """Progress callback of the core; throttled to one edit per PROGRESS_INTERVAL."""
        now = time.monotonic()
        with self._lock:
            if now - self._last_edit < PROGRESS_INTERVAL:
                return
            self._last_edit = now
            text = f"⏳ reading {self.what}: {step.files_read} of {step.files_total} files read"
            if step.stage_found:
                text += f"; first trouble seen at stage {step.stage_found}"
            self._edit(notice(text + "…"))

    def finish(self, message: Message) -> None:
        with self._lock:
            self._edit(message)

    def stop(self, message: Message) -> None:
        """The app is ending under a running analysis: say so, and edit no more."""
        with self._lock:
            self._edit(message)
            self._stopped = True

    def _edit(self, message: Message) -> None:
        if self._stopped:
            return
        try:
            self.client.chat_update(channel=self.channel, ts=self.ts, **message.as_kwargs())
        except SlackApiError as problem:  # message deleted, channel archived: nothing to do
            log.warning("cannot edit %s in %s: %s", self.ts, self.channel, problem.response)


def described(client: WebClient, file: dict) -> dict:
    """Slack Connect shares arrive without name or links (`check_file_info`): ask files.info."""
    if file.get("file_access") == "check_file_info" or not file.get("name"):
        return with_download_links(client, file)
    return file


def register(app: App, services: Services) -> None:
    @app.event({"type": "message", "subtype": "file_share"})
    def on_file_share(body: dict, event: dict, client: WebClient) -> None:
        event_id = body.get("event_id")
        if event_id and not services.seen.first_time(f"event:{event_id}"):
            return  # a retried delivery of an event already handled
        channel, user = event["channel"], event.get("user")

        def tell_user(text: str) -> None:
            if not user:
                return
            try:
                client.chat_postEphemeral(channel=channel, user=user, text=text)
            except SlackApiError as problem:
                log.warning("cannot tell %s in %s: %s", user, channel, problem.response)

        try:
            shared = [described(client, f) for f in event.get("files", [])]
        except InputError as problem:
            tell_user(problem.message)
            return
        files = [f for f in shared if is_supported(f)]
        if not files:
            return  # screenshots and the like are not ours to comment on

        thread_ts = event.get("thread_ts") or event["ts"]
        start_triage(services, client, Triage(channel, thread_ts, files, user), tell_user)

    @app.event("message")
    def on_other_message() -> None:
        """Other messages in the app's channels: acknowledged, so Slack does not retry them."""
