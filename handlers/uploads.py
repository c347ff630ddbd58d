"""Upload-and-triage: a log file shared where the app is becomes a diagnosis in its thread.

The same flow serves the "Triage logs" shortcut and the upload form of `/sccm diagnose`:
record the upload in the store, post "reading ..." at once, queue the analysis on the
app's worker pool, edit that message as files are read (at most every ~2 s), and end with
the diagnosis in it.

Nothing is lost on the way:
* the record is written before the user sees "reading ...", so after a crash the next
  start reads the upload again (`resume_unfinished`) or tells its user what happened;
* the download and the analysis each have a deadline, and the app's stop request ends
  both; the user is told what was read and what to do;
* an answer that cannot replace the progress message is posted as a new message in the
  thread, and if even that fails the user is told privately why;
* the same file shared in another conversation is answered there from the stored
  answer, without a second analysis.

The download lives in a folder of its own (named after the record) that is removed
whatever happens, and at the next start if the app was killed.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.analysis import AnalysisCrashed, AnalysisStopped, FleetAnswer, analyse_in_child, triage
from bot.downloads import (
    DownloadStopped,
    display_name,
    file_fields,
    human_size,
    is_supported,
    with_download_links,
)
from bot.store import StoreError, WorkRecord
from bot.work import PoolFull
from knowledge import api
from knowledge.errors import InputError
from knowledge.models import Diagnosis, FleetProgress

from .app_home import remember_diagnosis
from .blocks import Message, diagnosis_message, escape, fleet_message, notice, ready_notice
from .journey import post_picture

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)

PROGRESS_INTERVAL = 2.0  # seconds between edits of the progress message (chat.update is Tier 3)
MAX_ATTEMPTS = 2  # starts of one upload's analysis; past that a crash loop is likely
WORK_FOLDER_PREFIX = "sccm-work-"

TellUser = Callable[[str], None]  # a private note to the person who asked


@dataclass(frozen=True)
class Triage:
    """One request to analyse files: where to answer, and for whom."""

    channel: str
    thread_ts: str | None  # None: start a new message in the channel (the upload form)
    files: list[dict]
    user: str | None
    description: str | None = None
    team_id: str | None = None  # the workspace: resumed work is answered with its token


def label(files: list[dict]) -> str:
    """`logs.zip (12 MB)`, or `3 files (40 MB)`."""
    sizes = [f["size"] for f in files if isinstance(f.get("size"), int)]
    size = f" ({human_size(sum(sizes))})" if sizes else ""
    if len(files) == 1:
        return f"{display_name(files[0])}{size}"
    return f"{len(files)} files{size}"


def file_key(files: list[dict]) -> str:
    """The same files, wherever they are shared."""
    return "files:" + ",".join(sorted(str(f.get("id") or display_name(f)) for f in files))


def work_folder_prefix(store_identity: str) -> str:
    """Folder names of one store's work: a restart cleans its own, never another app's."""
    return WORK_FOLDER_PREFIX + hashlib.sha256(store_identity.encode()).hexdigest()[:10] + "-"


def work_folder(services: Services, work: WorkRecord) -> Path:
    return Path(tempfile.gettempdir()) / f"{services.work_prefix}{work.id}"


def _stopping_notice(what: str) -> Message:
    return notice(
        f"The app was stopped (a restart or an update) while reading {what}. I will read "
        "it again when it is back; if no answer comes here within a few minutes, upload it "
        "again."
    )


def _store_trouble(what: str, problem: StoreError) -> str:
    return (
        f"I cannot take {what} right now: the app's store fails ({problem}). Tell the "
        "app's admin; nothing was analysed."
    )


def start_triage(
    services: Services, client: WebClient, triage: Triage, tell_user: TellUser
) -> None:
    """Record the upload, post the progress message and queue the analysis; problems go
    privately to the user."""
    key = file_key(triage.files)
    what = label(triage.files)
    place = f"{key}@{triage.channel}"  # a re-share in the same channel: see that reply
    if not services.seen.first_time(place):
        tell_user(f"I already analysed {what} in this channel in the last hour; see that reply.")
        return
    cached = services.answers.for_files(key)  # in memory only: no log text on disk
    try:
        leader = None if cached else services.store.active_for(key)
        work = WorkRecord(
            triage.channel,
            triage.thread_ts,
            triage.user,
            [file_fields(file) for file in triage.files],  # no preview lines on disk
            key,
            triage.description,
            state="done" if cached else "waiting" if leader else "queued",
            team_id=triage.team_id,
        )
        if work.state == "queued":
            services.leases.stamp(work)  # this replica runs it while it renews the lease
        services.store.add_work(work)  # before the user is told it was accepted
    except StoreError as problem:
        services.seen.forget(place)
        log.error("upload not recorded: %s", problem)
        tell_user(_store_trouble(what, problem))
        return
    if cached is not None:
        answer = _answer_message(services, work, cached.diagnosis, list(cached.upload_names))
        _answer_from_cache(client, work, answer, tell_user)
        return
    who = f"<@{triage.user}> sent " if triage.user and triage.thread_ts is None else ""
    text = f":hourglass_flowing_sand: {who}reading {escape(what)}…"
    if leader is not None:
        text = (
            f":hourglass_flowing_sand: {who}{escape(what)} is being read for another "
            "conversation; its answer will appear here too…"
        )
    try:
        posted = client.chat_postMessage(
            channel=triage.channel, thread_ts=triage.thread_ts, text=text
        )
    except SlackApiError as problem:
        services.seen.forget(place)
        _set_state(services, work, state="failed")
        error = problem.response.get("error", "unknown_error")
        log.warning("cannot post in %s: %s", triage.channel, error)
        tell_user(
            f"I cannot post in this channel ({error}); invite me with `/invite @sccm` and try "
            "again."
        )
        return
    work.progress_ts = posted["ts"]
    _set_state(services, work, progress_ts=work.progress_ts)
    if leader is None:
        _queue(services, client, work, progress_of(client, work))


def _answer_from_cache(
    client: WebClient, work: WorkRecord, answer: Message, tell_user: TellUser
) -> None:
    """The same files were answered elsewhere: that diagnosis, posted here (masked or not
    as this conversation wants)."""
    try:
        client.chat_postMessage(
            channel=work.channel, thread_ts=work.thread_ts, **answer.as_kwargs()
        )
    except SlackApiError as problem:
        error = problem.response.get("error", "unknown_error")
        log.warning("cannot post a stored answer in %s: %s", work.channel, error)
        tell_user(
            f"I analysed {label(work.files)} before but cannot post its answer here "
            f"({error}); invite me with `/invite @sccm`."
        )


def progress_of(client: WebClient, work: WorkRecord) -> ProgressMessage:
    assert work.progress_ts is not None
    return ProgressMessage(
        client,
        work.channel,
        work.progress_ts,
        label(work.files),
        thread_ts=work.thread_ts,
        user=work.user_id,
    )


def _set_state(services: Services, work: WorkRecord, **changes) -> None:
    """Record a step; a failing store is logged, never allowed to swallow an answer."""
    try:
        services.store.update_work(work.id, **changes)
    except StoreError as problem:
        log.error("work %s not updated (%s): %s", work.id, changes.get("state"), problem)


def _queue(services: Services, client: WebClient, work: WorkRecord, progress: ProgressMessage):
    what = label(work.files)
    try:
        ahead = services.pool.submit(
            lambda: run_work(services, client, work, progress),
            name=f"triage {work.file_key} ({work.id})",
            on_cancel=lambda: progress.finish(_stopping_notice(what)),
            on_stop=lambda: progress.finish(_stopping_notice(what)),
        )
    except PoolFull:
        busy = services.pool.workers + services.pool.max_queued
        complete(
            services,
            client,
            work,
            progress,
            notice(f"I am busy with {busy} analyses; upload {what} again in a few minutes."),
        )
        return
    if ahead is not None:
        progress.queued(ahead)


def run_work(services: Services, client: WebClient, work: WorkRecord, progress: ProgressMessage):
    """The worker's part: download, diagnose, answer, record."""
    progress.started()
    work.attempts += 1
    try:
        if not services.leases.start(work):
            log.info("work %s is held by another replica now; leaving it to that one", work.id)
            return
    except StoreError as problem:  # read it anyway: the user is waiting for an answer
        log.error("work %s not marked running: %s", work.id, problem)
    answer, diagnosis = _outcome(services, client, work, progress)
    answered = diagnosis is not None
    if isinstance(diagnosis, FleetAnswer):
        diagnosis = None  # a fleet's summary: its machines' diagnoses are kept by their menu
    if answer is None:  # the app stops: the record stays unfinished for the next start
        progress.finish(_stopping_notice(label(work.files)))
        return
    delivered = complete(
        services, client, work, progress, answer, diagnosis=diagnosis, answered=answered
    )
    if delivered:  # the picture of the answer as shown (masked where it was masked)
        post_picture(client, work.channel, progress.thread_ts, answer.diagnosis)
    if delivered and progress.was_queued and work.user_id:
        # an edit notifies nobody: someone who waited in the queue gets a mention
        _tell_ready(client, work, progress, answer)


def _tell_ready(
    client: WebClient, work: WorkRecord, progress: ProgressMessage, answer: Message
) -> None:
    text = ready_notice(work.user_id or "", label(work.files), answer)
    try:
        client.chat_postMessage(
            channel=work.channel, thread_ts=work.thread_ts or progress.ts, text=text
        )
    except SlackApiError as problem:
        log.warning("cannot tell %s the answer is ready: %s", work.user_id, problem.response)


def complete(
    services: Services,
    client: WebClient,
    work: WorkRecord,
    progress: ProgressMessage,
    answer: Message,
    *,
    diagnosis: Diagnosis | None = None,
    answered: bool | None = None,
) -> bool:
    """Deliver the answer, record that it was given, and give the diagnosis to uploads of
    the same files waiting in other conversations (each masked as its conversation wants).
    The store keeps only the state: the answer quotes the logs, so it stays in memory
    (bot/answers.py). `diagnosis` is None when the answer is a notice, never reused, or a
    fleet's summary (`answered`: the upload was answered all the same).
    False when it could not be delivered."""
    if diagnosis is not None:  # before anyone sees the answer, so a re-share finds it
        names = [display_name(f) for f in work.files]
        services.answers.keep_for_files(work.file_key, diagnosis, names)
    if not progress.finish(answer):
        return False  # its user was told the app stopped; the record stays for the next start
    if answered is None:
        answered = diagnosis is not None
    state = "done" if answered else "failed"
    _set_state(services, work, state=state)
    try:
        followers = services.store.waiting_for(work.file_key)
    except StoreError as problem:
        log.error("cannot find uploads waiting for %s: %s", work.file_key, problem)
        return True
    for follower in followers:
        if follower.progress_ts:
            theirs = answer
            if diagnosis is not None:
                names = [display_name(f) for f in follower.files]
                theirs = _answer_message(services, follower, diagnosis, names)
            # a file shared into another workspace (Slack Connect) is answered with its token
            theirs_client = (
                client
                if follower.team_id == work.team_id
                else services.client_for(follower.team_id)
            )
            if theirs_client is not None:
                progress_of(theirs_client, follower).finish(theirs)
        _set_state(services, follower, state=state)
    return True


def _outcome(
    services: Services, client: WebClient, work: WorkRecord, progress: ProgressMessage
) -> tuple[Message | None, Diagnosis | FleetAnswer | None]:
    """The answer to post and the diagnosis when there is one (it may be reused), or
    (None, None) when the app stops. The download folder is removed before the answer is
    posted, whatever happened: success, bad input, a crash of the reading process, a stop
    (tests/slack/test_no_leftovers.py)."""
    folder = work_folder(services, work)
    names = [display_name(f) for f in work.files]
    shown = ", ".join(names)
    stopping = services.pool.stopping
    settings = services.settings
    try:
        folder.mkdir(parents=True, exist_ok=True)
        paths = [
            services.downloader.fetch(
                with_download_links(client, file), folder, cancelled=stopping, token=client.token
            )
            for file in work.files
        ]
        target = paths[0] if len(paths) == 1 else folder
        deadline = time.monotonic() + settings.sccm_bot_analysis_timeout_seconds
        diagnosis = analyse_in_child(
            target,
            description=work.description,
            scratch=folder,
            deadline=deadline,
            cancelled=stopping,
            progress=progress.update,
            reader=triage,
        )
        if isinstance(diagnosis, FleetAnswer):  # several machines: one summary, each a pick away
            return _fleet_answer(services, work, diagnosis, names), diagnosis
        remember_diagnosis(services, work.user_id, work.channel, diagnosis, label(work.files))
        return _answer_message(services, work, diagnosis, names), diagnosis
    except (DownloadStopped, AnalysisStopped) as stopped:
        if isinstance(stopped, AnalysisStopped) and stopped.reason == "deadline":
            limit = settings.sccm_bot_analysis_timeout_seconds
            return notice(_too_long(shown, limit, stopped.last)), None
        return None, None
    except InputError as problem:
        return notice(f"I could not diagnose {shown}: {problem.message}"), None
    except AnalysisCrashed as problem:
        log.error("analysis of %s crashed: %s", names, problem)
        return notice(
            f"I could not finish reading {shown}: {str(problem).splitlines()[0]}. Try a "
            "smaller upload (only C:\\Windows\\CCM\\Logs, zipped)."
        ), None
    except Exception:
        log.exception("analysis of %s failed", names)
        return notice(f"Something went wrong inside the app while reading {shown}."), None
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _answer_message(
    services: Services, work: WorkRecord, diagnosis: Diagnosis, names: list[str]
) -> Message:
    """The answer as posted: names masked where more than the uploader reads it, with the
    unmasked one kept for the uploader's DM (handlers/unmasked.py)."""
    if not services.settings.masks_answers_in(work.channel):
        return diagnosis_message(diagnosis, names, services.answers.keep(diagnosis, names))
    shown = api.redact_diagnosis(diagnosis)
    unmasked_key = None
    if work.user_id:
        unmasked_key = services.answers.keep(diagnosis, names, owner=work.user_id)
    return diagnosis_message(
        shown,
        names,
        services.answers.keep(shown, names),
        masked=True,
        unmasked_key=unmasked_key,
    )


def _fleet_answer(
    services: Services, work: WorkRecord, answer: FleetAnswer, names: list[str]
) -> Message:
    """The fleet's summary; each machine's diagnosis kept for the menu under it. Where
    answers are masked, machine names (often host names) are too, with one set of tokens
    for the summary and every machine's diagnosis."""
    if not services.settings.masks_answers_in(work.channel):
        keys = {
            machine: services.answers.keep(diagnosis, [*names, machine])
            for machine, diagnosis in answer.diagnoses.items()
        }
        return fleet_message(answer.report, keys, names)
    masker = api.masker()
    report = api.redact_fleet_report(answer.report, masker)
    keys = {}
    for shown, row in zip(report.machines, answer.report.machines, strict=True):
        diagnosis = answer.diagnoses.get(row.machine)
        if diagnosis is not None:
            masked = api.redact_diagnosis(diagnosis, masker)
            keys[shown.machine] = services.answers.keep(masked, [*names, shown.machine])
    return fleet_message(report, keys, names, masked=True)


def _too_long(shown: str, limit: int, last: api.Progress | FleetProgress | None) -> str:
    if last is None:
        read = "it had not finished the first log file"
    elif isinstance(last, FleetProgress):
        read = f"it had diagnosed {last.done} of {last.total} machines; the rest were not read"
    else:
        read = f"it had read {last.files_read} of {last.files_total} log files"
        if last.current_file and last.files_read < last.files_total:
            read += f" (the last one read: {last.current_file})"
        read += "; the rest was not read"
    return (
        f"I stopped reading {shown} after {limit} s, the most this app spends on one "
        f"upload: {read}, so there is no diagnosis. Try a smaller upload (only the logs of "
        "C:\\Windows\\CCM\\Logs and WindowsUpdate.log, zipped), or run `sccm diagnose` on "
        "the zip, which has no time limit."
    )


def resume_unfinished(services: Services) -> int:
    """At start: remove the folders of dead work, then read again each upload a crash cut
    off, or tell its user why not. With one process (SQLite) that is every unfinished
    upload; with replicas, those whose replica's lease ran out (the others belong to
    live replicas). Returns how many were taken."""
    for leftover in Path(tempfile.gettempdir()).glob(services.work_prefix + "*"):
        shutil.rmtree(leftover, ignore_errors=True)
    taken = services.leases.take_over(everything=not services.store.shared)
    resume_taken(services, taken)
    if taken:
        log.info("found %d upload(s) cut off by the last stop", len(taken))
    return len(taken)


def resume_taken(services: Services, taken: list[WorkRecord]) -> None:
    """Read again uploads this replica took over (a waiting record among them leads its
    files now), each answered with its own workspace's token."""
    for work in taken:
        client = services.client_for(work.team_id)
        if client is None:  # the workspace uninstalled the app meanwhile
            log.info("work %s: workspace %s has no installation; dropped", work.id, work.team_id)
            _set_state(services, work, state="failed")
            continue
        _resume(services, client, work)


def _resume(services: Services, client: WebClient, work: WorkRecord) -> None:
    what = label(work.files)
    if work.progress_ts is None:  # killed between recording and posting
        try:
            posted = client.chat_postMessage(
                channel=work.channel,
                thread_ts=work.thread_ts,
                text=f":hourglass_flowing_sand: reading {escape(what)}…",
            )
        except SlackApiError as problem:
            log.warning("cannot resume %s in %s: %s", work.id, work.channel, problem.response)
            _set_state(services, work, state="failed")
            return
        work.progress_ts = posted["ts"]
        _set_state(services, work, progress_ts=work.progress_ts)
    progress = progress_of(client, work)
    if work.attempts >= MAX_ATTEMPTS:
        complete(
            services,
            client,
            work,
            progress,
            notice(
                f"The app stopped {work.attempts} times while reading {what} (it may be too "
                "large or too unusual to read here), so I gave up on it. Try a smaller upload "
                "(only C:\\Windows\\CCM\\Logs, zipped), or run `sccm diagnose` on the zip."
            ),
        )
        return
    progress.note(f"⏳ The app restarted before {what} was answered; reading it again…")
    _queue(services, client, work, progress)


class ProgressMessage:
    """The "reading ..." message: edited while queued and while reading, then answered.

    The answer is delivered once (the first `finish` wins), and always somewhere: by
    editing this message, else as a new message in the thread, else privately to the
    user with the reason."""

    def __init__(
        self,
        client: WebClient,
        channel: str,
        ts: str,
        what: str,
        *,
        thread_ts: str | None = None,
        user: str | None = None,
    ):
        self.client = client
        self.channel = channel
        self.ts = ts
        self.what = what
        self.thread_ts = thread_ts or ts
        self.user = user
        self._lock = threading.Lock()
        self._started = False
        self._finished = False
        self._last_edit = 0.0
        self.was_queued = False  # it waited behind others: say so when the answer is in

    def queued(self, ahead: int) -> None:
        if ahead:
            line = f"queued: {ahead} upload{'s' if ahead != 1 else ''} ahead of yours"
        else:
            line = "queued: yours is next"
        with self._lock:
            if not self._started and not self._finished:  # a worker may have it already
                self.was_queued = True
                self._edit(notice(f"⏳ {line} ({self.what})."))

    def started(self) -> None:
        with self._lock:
            self._started = True

    def note(self, text: str) -> None:
        with self._lock:
            if not self._finished:
                self._edit(notice(text))

    def update(self, step: api.Progress | FleetProgress) -> None:
        """Progress callback of the core; throttled to one edit per PROGRESS_INTERVAL."""
        now = time.monotonic()
        with self._lock:
            if self._finished or now - self._last_edit < PROGRESS_INTERVAL:
                return
            self._last_edit = now
            if isinstance(step, FleetProgress):
                text = (
                    f"⏳ reading {self.what}: {step.done} of {step.total} machines diagnosed"
                    f", {step.failing} failing so far"
                )
            else:
                text = f"⏳ reading {self.what}: {step.files_read} of {step.files_total} files read"
                if step.stage_found:
                    text += f"; first trouble seen at stage {step.stage_found}"
            self._edit(notice(text + "…"))

    def finish(self, message: Message) -> bool:
        """Deliver the answer; False when it had been delivered already."""
        with self._lock:
            if self._finished:
                return False
            self._finished = True
        self._deliver(message)
        return True

    def _deliver(self, message: Message) -> None:
        try:
            self.client.chat_update(channel=self.channel, ts=self.ts, **message.as_kwargs())
            return
        except SlackApiError as problem:  # after the client's own retries
            edit_error = problem.response.get("error", "unknown_error")
        log.warning(
            "cannot edit %s in %s (%s): posting the answer anew", self.ts, self.channel, edit_error
        )
        try:
            self.client.chat_postMessage(
                channel=self.channel, thread_ts=self.thread_ts, **message.as_kwargs()
            )
            return
        except SlackApiError as problem:
            post_error = problem.response.get("error", "unknown_error")
        log.error(
            "answer for %s in %s not delivered: edit %s, post %s",
            self.what,
            self.channel,
            edit_error,
            post_error,
        )
        if not self.user:
            return
        try:
            self.client.chat_postEphemeral(
                channel=self.channel,
                user=self.user,
                text=f"I finished reading {self.what} but Slack refused both to update my "
                f"message ({edit_error}) and to post the answer ({post_error}). Check that I "
                "am still in this channel (`/invite @sccm`) and share the file again.",
            )
        except SlackApiError as problem:
            log.error(
                "cannot tell %s either: %s", self.user, problem.response.get("error", "unknown")
            )

    def _edit(self, message: Message) -> None:
        try:
            self.client.chat_update(channel=self.channel, ts=self.ts, **message.as_kwargs())
        except SlackApiError as problem:  # a progress note only: the answer has fallbacks
            log.warning("cannot edit %s in %s: %s", self.ts, self.channel, problem.response)


def described(client: WebClient, file: dict) -> dict:
    """Slack Connect shares arrive without name or links (`check_file_info`): ask files.info."""
    if file.get("file_access") == "check_file_info" or not file.get("name"):
        return with_download_links(client, file)
    return file


def _conversation_type(event: dict) -> str:
    """`channel`, `group` (private channel), `im` or `mpim`; Slack sends it, the id
    prefix is the fallback (D: a direct message)."""
    kind = event.get("channel_type")
    if kind:
        return kind
    return "im" if str(event.get("channel", "")).startswith("D") else "channel"


def triage_wanted(services: Services, event: dict, bot_user_id: str | None) -> bool:
    """Uploads are read unasked in the app's DMs and group DMs, when the message mentions
    the app, and in channels that opted in (`/sccm auto on`, else the
    SCCM_BOT_AUTO_TRIAGE_CHANNELS default)."""
    if _conversation_type(event) in ("im", "mpim"):
        return True
    if bot_user_id and f"<@{bot_user_id}>" in (event.get("text") or ""):
        return True
    channel = event["channel"]
    try:
        said = services.store.auto_triage(channel)
    except StoreError as problem:
        log.error("cannot read whether %s opted in: %s", channel, problem)
        said = None
    return said if said is not None else services.settings.auto_triage_by_default(channel)


def shortcut_offer(bot_user_id: str | None) -> str:
    mention = f"<@{bot_user_id}>" if bot_user_id else "me"
    return (
        "I read uploads in this channel only when asked: use the *Triage logs* shortcut "
        "(the message's ⋮ More actions menu) on a message with logs, or mention "
        f"{mention} in the message you upload them with. `/sccm auto on` makes me read "
        "every upload here. (I say this once.)"
    )


def offer_shortcut_once(
    services: Services, channel: str, user: str | None, bot_user_id: str | None, tell
) -> None:
    if not user:
        return
    try:
        first = services.store.first_offer(channel, user)
    except StoreError as problem:
        log.error("cannot record the shortcut offer in %s: %s", channel, problem)
        return
    if first:
        tell(shortcut_offer(bot_user_id))


def register(app: App, services: Services) -> None:
    @app.event({"type": "message", "subtype": "file_share"})
    def on_file_share(body: dict, event: dict, client: WebClient, context: BoltContext) -> None:
        event_id = body.get("event_id")
        if event_id and not services.seen.first_time(f"event:{event_id}"):
            return  # a retried delivery of an event already handled
        channel, user = event["channel"], event.get("user")

        def tell_user(text: str) -> None:
            if not user:
                return
            try:
                client.chat_postEphemeral(
                    channel=channel, user=user, text=text, thread_ts=event.get("thread_ts")
                )
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
        if not triage_wanted(services, event, context.bot_user_id):
            offer_shortcut_once(services, channel, user, context.bot_user_id, tell_user)
            return

        thread_ts = event.get("thread_ts") or event["ts"]
        team = body.get("team_id") or context.team_id
        triage = Triage(channel, thread_ts, files, user, team_id=team)
        start_triage(services, client, triage, tell_user)

    @app.event("message")
    def on_other_message() -> None:
        """Other messages in the app's channels: acknowledged, so Slack does not retry them."""
