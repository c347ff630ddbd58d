"""The "Right" / "Wrong" presses under a diagnosis, kept in a SQLite file.

A row says what was judged (verdict, stage, cause, the names of the uploaded files) and
by whom; never a line of the logs themselves.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

Judgement = Literal["right", "wrong"]

_SCHEMA = """
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
"""


@dataclass(frozen=True)
class FeedbackRow:
    judgement: Judgement
    verdict: str | None
    stage: str | None
    cause: str | None
    files: list[str]
    source: str | None
    user_id: str | None
    team_id: str | None = None
    channel_id: str | None = None
    message_ts: str | None = None


class FeedbackStore:
    """Appends rows; one short connection per write, so any thread may call it."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute(_SCHEMA)

    def record(self, row: FeedbackRow) -> None:
        with self._lock, self._connect() as db:
            db.execute(
                "INSERT INTO feedback (recorded_at, judgement, verdict, stage, cause, files, "
                "source, user_id, team_id, channel_id, message_ts) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
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

    def rows(self) -> list[FeedbackRow]:
        with self._connect() as db:
            found = db.execute(
                "SELECT judgement, verdict, stage, cause, files, source, user_id, team_id, "
                "channel_id, message_ts FROM feedback ORDER BY id"
            ).fetchall()
        return [FeedbackRow(*r[:4], json.loads(r[4]), *r[5:]) for r in found]

    def _connect(self) -> sqlite3.Connection:
        return _Closing(sqlite3.connect(self.path, timeout=10))


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
