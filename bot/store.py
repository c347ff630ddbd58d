"""The bot's store: feedback presses and the record of each accepted upload.

Everything the bot must not lose lives here and is committed before the user is told:
a press is written before Slack gets its acknowledgement, an upload is recorded before
"reading ..." is posted. After a crash, `unfinished_work()` says whose uploads were cut
off, so the next start can finish them or tell their users.

`Store` is the interface the handlers use; `SqliteStore` is the embedded default (one
file, one process). A shared database for several replicas implements the same methods
(issue 18), so nothing outside this module knows which one runs.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, Protocol

from .feedback import FeedbackRow

WorkState = Literal["queued", "running", "waiting", "done", "failed"]
UNFINISHED: tuple[WorkState, ...] = ("queued", "running", "waiting")

_SCHEMA = (
    """
    CREATE TABLE IF NOT EXISTS feedback (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        recorded_at TEXT NOT NULL,          -- ISO 8601 UTC
        judgement TEXT NOT NULL CHECK (judgement IN ('right', 'wrong')),
        verdict TEXT,                       -- failure / healthy / inconclusive
        stage TEXT,
        cause TEXT,
        files TEXT NOT NULL DEFAULT '[]',   -- JSON list of uploaded file names
        source TEXT,                        -- logs / symptom
        user_id TEXT,
        team_id TEXT,
        channel_id TEXT,
        message_ts TEXT
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS work (
        id TEXT PRIMARY KEY,
        file_key TEXT NOT NULL,             -- the files' ids: the same upload shared twice
        state TEXT NOT NULL,                -- queued / running / waiting / done / failed
        attempts INTEGER NOT NULL DEFAULT 0,
        channel TEXT NOT NULL,
        thread_ts TEXT,
        user_id TEXT,
        description TEXT,
        files TEXT NOT NULL,                -- JSON: the Slack file objects (no contents)
        progress_ts TEXT,                   -- the "reading ..." message being edited
        answer TEXT,                        -- no longer written: answers quote the logs
                                            -- (bot/answers.py keeps them in memory)
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )
    """,
    "CREATE INDEX IF NOT EXISTS work_by_key ON work (file_key, state)",
    "CREATE INDEX IF NOT EXISTS work_by_state ON work (state)",
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT)",
    """
    CREATE TABLE IF NOT EXISTS diagnoses (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        recorded_at TEXT NOT NULL,          -- ISO 8601 UTC
        user_id TEXT NOT NULL,              -- who asked: their App Home lists it
        channel_id TEXT,
        what TEXT NOT NULL,                 -- the upload's label or the symptom typed
        source TEXT NOT NULL,               -- logs / symptom
        verdict TEXT NOT NULL,
        stage TEXT,
        headline TEXT NOT NULL              -- the cause or stage title, for a person
    )
    """,
    "CREATE INDEX IF NOT EXISTS diagnoses_by_user ON diagnoses (user_id, id)",
    """
    CREATE TABLE IF NOT EXISTS channel_triage (
        channel_id TEXT PRIMARY KEY,
        enabled INTEGER NOT NULL,           -- 1: uploads here are triaged without asking
        set_by TEXT,                        -- who typed /sccm auto on|off
        set_at TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS triage_offers (
        channel_id TEXT NOT NULL,
        user_id TEXT NOT NULL,              -- told once where the shortcut is
        offered_at TEXT NOT NULL,
        PRIMARY KEY (channel_id, user_id)
    )
    """,
)


class StoreError(Exception):
    """The store cannot be read or written; the message says why, for a person."""


@dataclass
class WorkRecord:
    """One accepted upload, from "reading ..." to its answer."""

    channel: str
    thread_ts: str | None
    user_id: str | None
    files: list[dict]
    file_key: str
    description: str | None = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    state: WorkState = "queued"
    attempts: int = 0
    progress_ts: str | None = None
    answer: dict | None = None


@dataclass(frozen=True)
class DiagnosisRecord:
    """One diagnosis given to someone, for their App Home (no log lines, no file contents)."""

    user_id: str
    channel_id: str | None
    what: str
    source: str
    verdict: str
    stage: str | None
    headline: str
    recorded_at: str = ""  # set by the store


class Store(Protocol):
    """What the bot keeps. Every write is committed when the method returns."""

    identity: str  # names this store (its file or database); work folders carry it

    def check(self) -> None:
        """Prove the store is readable and writable now; raise StoreError if not."""

    def record_feedback(self, row: FeedbackRow) -> None: ...

    def feedback_rows(self) -> list[FeedbackRow]: ...

    def add_work(self, work: WorkRecord) -> None: ...

    def update_work(self, work_id: str, **changes) -> None:
        """Set columns of one record (state, attempts, progress_ts, answer)."""

    def work(self, work_id: str) -> WorkRecord | None: ...

    def unfinished_work(self) -> list[WorkRecord]:
        """Records left queued, running or waiting: after a restart, cut off by a crash."""

    def active_for(self, file_key: str) -> WorkRecord | None:
        """A record of these files being analysed now (queued or running)."""

    def waiting_for(self, file_key: str) -> list[WorkRecord]:
        """Records waiting for the analysis of these files in another channel."""

    def record_diagnosis(self, record: DiagnosisRecord) -> None: ...

    def recent_diagnoses(self, user_id: str, limit: int) -> list[DiagnosisRecord]:
        """The user's newest diagnoses first."""

    def set_auto_triage(self, channel_id: str, enabled: bool, user_id: str | None) -> None:
        """Turn automatic triage of uploads in a channel on or off (`/sccm auto on|off`)."""

    def auto_triage(self, channel_id: str) -> bool | None:
        """What was last said for the channel; None when nobody said anything."""

    def first_offer(self, channel_id: str, user_id: str) -> bool:
        """True once per channel and user: the first time the shortcut is offered there."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


_WORK_COLUMNS = (
    "id, file_key, state, attempts, channel, thread_ts, user_id, description, files, "
    "progress_ts, answer"
)
_UPDATABLE = {"state", "attempts", "progress_ts", "answer"}


def _work_of(row: tuple) -> WorkRecord:
    (work_id, key, state, attempts, channel, thread_ts, user, description, files, ts, answer) = row
    return WorkRecord(
        channel=channel,
        thread_ts=thread_ts,
        user_id=user,
        files=json.loads(files),
        file_key=key,
        description=description,
        id=work_id,
        state=state,
        attempts=attempts,
        progress_ts=ts,
        answer=json.loads(answer) if answer else None,
    )


class SqliteStore:
    """One SQLite file; a short connection per call, so any thread may use it.

    WAL journaling lets presses and work updates write while another thread reads; a
    committed row survives the process being killed.
    """

    BUSY_TIMEOUT = 5.0  # seconds a write waits for another writer

    def __init__(self, path: Path):
        self.path = path
        self.identity = f"sqlite:{path.resolve()}"
        self._lock = threading.Lock()  # one writer at a time inside this process
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as db:
                db.execute("PRAGMA journal_mode=WAL")
                for statement in _SCHEMA:
                    db.execute(statement)
                # files written before issue 17 kept posted answers, log lines and all
                db.execute("UPDATE work SET answer = NULL WHERE answer IS NOT NULL")
        except (OSError, sqlite3.Error) as problem:
            raise StoreError(_reason(problem)) from None
        self.check()

    # --- health -----------------------------------------------------------------------

    def check(self) -> None:
        with self._writing() as db:
            found = db.execute("PRAGMA quick_check").fetchone()
            if not found or found[0] != "ok":
                raise StoreError(f"the file is damaged ({found[0] if found else 'no answer'})")
            db.execute(
                "INSERT OR REPLACE INTO meta (name, value) VALUES ('checked_at', ?)", (_now(),)
            )

    # --- feedback -----------------------------------------------------------------------

    def record_feedback(self, row: FeedbackRow) -> None:
        with self._writing() as db:
            db.execute(
                "INSERT INTO feedback (recorded_at, judgement, verdict, stage, cause, files, "
                "source, user_id, team_id, channel_id, message_ts) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    _now(),
                    row.judgement,
                    row.verdict,
                    row.stage,
                    row.cause,
                    json.dumps(row.files),
                    row.source,
                    row.user_id,
                    row.team_id,
                    row.channel_id,
                    row.message_ts,
                ),
            )

    def feedback_rows(self) -> list[FeedbackRow]:
        found = self._read(
            "SELECT judgement, verdict, stage, cause, files, source, user_id, team_id, "
            "channel_id, message_ts FROM feedback ORDER BY id"
        )
        return [FeedbackRow(*r[:4], json.loads(r[4]), *r[5:]) for r in found]

    # --- work ---------------------------------------------------------------------------

    def add_work(self, work: WorkRecord) -> None:
        now = _now()
        with self._writing() as db:
            db.execute(
                f"INSERT INTO work ({_WORK_COLUMNS}, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    work.id,
                    work.file_key,
                    work.state,
                    work.attempts,
                    work.channel,
                    work.thread_ts,
                    work.user_id,
                    work.description,
                    json.dumps(work.files),
                    work.progress_ts,
                    json.dumps(work.answer) if work.answer is not None else None,
                    now,
                    now,
                ),
            )

    def update_work(self, work_id: str, **changes) -> None:
        unknown = set(changes) - _UPDATABLE
        if unknown:
            raise ValueError(f"work has no updatable column {sorted(unknown)}")
        if "answer" in changes and changes["answer"] is not None:
            changes["answer"] = json.dumps(changes["answer"])
        assignments = ", ".join(f"{name} = ?" for name in changes)
        with self._writing() as db:
            db.execute(
                f"UPDATE work SET {assignments}, updated_at = ? WHERE id = ?",
                (*changes.values(), _now(), work_id),
            )

    def work(self, work_id: str) -> WorkRecord | None:
        found = self._read(f"SELECT {_WORK_COLUMNS} FROM work WHERE id = ?", (work_id,))
        return _work_of(found[0]) if found else None

    def unfinished_work(self) -> list[WorkRecord]:
        marks = ", ".join("?" for _ in UNFINISHED)
        found = self._read(
            f"SELECT {_WORK_COLUMNS} FROM work WHERE state IN ({marks}) ORDER BY created_at",
            UNFINISHED,
        )
        return [_work_of(r) for r in found]

    def active_for(self, file_key: str) -> WorkRecord | None:
        found = self._read(
            f"SELECT {_WORK_COLUMNS} FROM work WHERE file_key = ? "
            "AND state IN ('queued', 'running') ORDER BY created_at LIMIT 1",
            (file_key,),
        )
        return _work_of(found[0]) if found else None

    def waiting_for(self, file_key: str) -> list[WorkRecord]:
        found = self._read(
            f"SELECT {_WORK_COLUMNS} FROM work WHERE file_key = ? AND state = 'waiting' "
            "ORDER BY created_at",
            (file_key,),
        )
        return [_work_of(r) for r in found]

    # --- diagnoses given (App Home) -------------------------------------------------------

    def record_diagnosis(self, record: DiagnosisRecord) -> None:
        with self._writing() as db:
            db.execute(
                "INSERT INTO diagnoses (recorded_at, user_id, channel_id, what, source, "
                "verdict, stage, headline) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    _now(),
                    record.user_id,
                    record.channel_id,
                    record.what,
                    record.source,
                    record.verdict,
                    record.stage,
                    record.headline,
                ),
            )

    def recent_diagnoses(self, user_id: str, limit: int) -> list[DiagnosisRecord]:
        found = self._read(
            "SELECT user_id, channel_id, what, source, verdict, stage, headline, recorded_at "
            "FROM diagnoses WHERE user_id = ? ORDER BY id DESC LIMIT ?",
            (user_id, limit),
        )
        return [DiagnosisRecord(*row) for row in found]

    # --- where uploads are triaged (issue 16) ------------------------------------------

    def set_auto_triage(self, channel_id: str, enabled: bool, user_id: str | None) -> None:
        with self._writing() as db:
            db.execute(
                "INSERT OR REPLACE INTO channel_triage (channel_id, enabled, set_by, set_at) "
                "VALUES (?, ?, ?, ?)",
                (channel_id, int(enabled), user_id, _now()),
            )

    def auto_triage(self, channel_id: str) -> bool | None:
        found = self._read("SELECT enabled FROM channel_triage WHERE channel_id = ?", (channel_id,))
        return bool(found[0][0]) if found else None

    def first_offer(self, channel_id: str, user_id: str) -> bool:
        with self._writing() as db:
            added = db.execute(
                "INSERT OR IGNORE INTO triage_offers (channel_id, user_id, offered_at) "
                "VALUES (?, ?, ?)",
                (channel_id, user_id, _now()),
            )
            return added.rowcount == 1

    # --- plumbing -----------------------------------------------------------------------

    def _read(self, sql: str, parameters: tuple = ()) -> list[tuple]:
        try:
            with self._connect() as db:
                return db.execute(sql, parameters).fetchall()
        except sqlite3.Error as problem:
            raise StoreError(_reason(problem)) from None

    def _writing(self) -> _Writing:
        return _Writing(self)

    def _connect(self) -> _Closing:
        return _Closing(sqlite3.connect(self.path, timeout=self.BUSY_TIMEOUT))


class _Writing:
    """One committed transaction under the store's lock; sqlite errors become StoreError."""

    def __init__(self, store: SqliteStore):
        self.store = store
        self.closing: _Closing | None = None

    def __enter__(self) -> sqlite3.Connection:
        self.store._lock.acquire()
        try:
            self.closing = self.store._connect()
            return self.closing.__enter__()
        except (OSError, sqlite3.Error) as problem:
            self.store._lock.release()
            raise StoreError(_reason(problem)) from None

    def __exit__(self, kind, problem, trace) -> bool:
        try:
            assert self.closing is not None
            self.closing.__exit__(kind, problem, trace)
        except sqlite3.Error as failure:  # the commit itself failed
            raise StoreError(_reason(failure)) from None
        finally:
            self.store._lock.release()
        if isinstance(problem, sqlite3.Error):
            raise StoreError(_reason(problem)) from None
        return False


class _Closing:
    """sqlite3's context manager commits but does not close; this one does both."""

    def __init__(self, connection: sqlite3.Connection):
        self.connection = connection

    def __enter__(self) -> sqlite3.Connection:
        return self.connection.__enter__()

    def __exit__(self, *exc_info) -> None:
        try:
            self.connection.__exit__(*exc_info)
        finally:
            self.connection.close()


def _reason(problem: BaseException) -> str:
    text = str(problem) or type(problem).__name__
    if "readonly" in text or "read-only" in text:
        return f"it cannot be written ({text}); give the app's user write access to it"
    if "not a database" in text or "malformed" in text:
        return f"it is damaged ({text}); move it aside and start again to create a new one"
    if "unable to open" in text:
        return f"it cannot be opened ({text}); check the folder exists and is writable"
    return text
