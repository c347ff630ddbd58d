"""The bot's store: feedback presses, the record of each accepted upload, channel settings
and the memory of deliveries already handled.

Everything the bot must not lose lives here and is committed before the user is told:
a press is written before Slack gets its acknowledgement, an upload is recorded before
"reading ..." is posted. After a crash, `unfinished_work()` says whose uploads were cut
off, so the next start can finish them or tell their users.

`DatabaseStore` keeps it in a database named by a SQLAlchemy URL (SCCM_BOT_DATABASE_URL):
a SQLite file, the embedded default for one process, or PostgreSQL, which several
replicas share (issue 18). The schema is `bot.schema`, created and upgraded by the
Alembic migrations in `bot/migrations` when the store opens. Replicas share work through
leases on the `work` rows: `take_over` claims rows whose lease ran out with
`SELECT ... FOR UPDATE SKIP LOCKED`, so two replicas never claim the same upload.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, Protocol

from sqlalchemy import (
    Connection,
    Engine,
    Row,
    create_engine,
    delete,
    exists,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from . import schema
from .feedback import FeedbackRow

WorkState = Literal["queued", "running", "waiting", "done", "failed"]
UNFINISHED: tuple[WorkState, ...] = ("queued", "running", "waiting")
ACTIVE: tuple[WorkState, ...] = ("queued", "running")  # held by a replica's lease

# Rows written are counted with RETURNING, not rowcount: psycopg's rowcount stays -1
# under SQLAlchemy here, and RETURNING works alike on SQLite (3.35+) and PostgreSQL.
# Any number: replicas starting together take this PostgreSQL advisory lock around the
# migrations, so one upgrades the schema and the others find it done.
_MIGRATION_LOCK = 18_001
_SEEN_PURGE_EVERY = 500  # first_time calls between sweeps of expired dedupe keys


# Alembic logs its plugins and dialect at INFO on every start; `sccm serve` prints INFO lines,
# and a start that fails must print one line only.
logging.getLogger("alembic").setLevel(logging.WARNING)


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
    team_id: str | None = None  # the workspace whose token answers it
    owner: str | None = None  # the replica holding its lease
    lease_until: float | None = None  # epoch seconds


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
    shared: bool  # several processes may use it at once (PostgreSQL), not one (SQLite)

    def check(self) -> None:
        """Prove the store is readable and writable now; raise StoreError if not."""

    def reachable(self) -> str | None:
        """None when the database answers now, else why not (for health checks)."""

    def record_feedback(self, row: FeedbackRow) -> None: ...

    def feedback_rows(self) -> list[FeedbackRow]: ...

    def earlier_judgement(self, row: FeedbackRow) -> str | None:
        """What the same person last said about the same message, if anything."""

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

    def start_work(self, work_id: str, owner: str, attempts: int, lease_seconds: float) -> bool:
        """Mark a record running for `owner`; False when another replica holds it now."""

    def renew_leases(self, owner: str, lease_seconds: float) -> int:
        """Extend the leases of `owner`'s unfinished work; how many it holds."""

    def release_leases(self, owner: str) -> int:
        """Give up `owner`'s leases at once (a graceful stop): another replica takes over.
        Returns how many it held."""

    def take_over(
        self, owner: str, lease_seconds: float, *, everything: bool = False
    ) -> list[WorkRecord]:
        """Claim unfinished work whose lease ran out (with `everything`, all of it: one
        process, just started) and waiting records whose leader is gone."""

    def first_time(self, key: str, ttl: float) -> bool:
        """True the first time `key` is offered within `ttl` seconds, by any replica."""

    def forget(self, key: str) -> None:
        """Let `key` be handled again."""

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


_UPDATABLE = {"state", "attempts", "progress_ts", "answer"}
_W = schema.work.c
_WORK_COLUMNS = (
    _W.id,
    _W.file_key,
    _W.state,
    _W.attempts,
    _W.channel,
    _W.thread_ts,
    _W.user_id,
    _W.description,
    _W.files,
    _W.progress_ts,
    _W.answer,
    _W.team_id,
    _W.owner,
    _W.lease_until,
)


def _work_of(row: Row) -> WorkRecord:
    (work_id, key, state, attempts, channel, thread_ts, user, description, files, ts, answer) = row[
        :11
    ]
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
        team_id=row.team_id,
        owner=row.owner,
        lease_until=row.lease_until,
    )


def database_url(value: str | URL) -> URL:
    """A SQLAlchemy URL for SQLite or PostgreSQL; plain `postgresql://` (and Heroku's
    `postgres://`) get the psycopg 3 driver this package installs. Raises ValueError with
    what to write instead."""
    try:
        url = make_url(value) if isinstance(value, str) else value
    except ArgumentError:
        raise ValueError(
            "is not a database URL such as sqlite:///path/bot.sqlite3 or "
            "postgresql://user@host:5432/db"
        ) from None
    backend = url.get_backend_name()
    if backend == "postgres":
        backend = "postgresql"
    if backend == "postgresql":
        if url.drivername in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+psycopg")
        return url
    if backend == "sqlite":
        if not url.database or url.database == ":memory:":
            raise ValueError("names no SQLite file (write sqlite:///path/bot.sqlite3)")
        return url
    raise ValueError(f"uses {backend!r}; this app runs on sqlite:/// or postgresql://")


class DatabaseStore:
    """The store on SQLAlchemy: one SQLite file or one PostgreSQL database.

    SQLite: a fresh connection per call (a file replaced under the app is noticed at once),
    WAL journaling so presses and work updates write while another thread reads, and one
    writer at a time inside the process. PostgreSQL: a pool of connections, checked
    before use, so a database restart costs one failed call at most.
    """

    BUSY_TIMEOUT = 5.0  # seconds a SQLite write waits for another writer
    CONNECT_TIMEOUT = 5  # seconds to reach PostgreSQL before the call fails

    def __init__(self, url: str | URL):
        self.url = database_url(url)
        self.shared = self.url.get_backend_name() != "sqlite"
        self.identity = self._identity()
        self._lock = threading.Lock() if not self.shared else None
        self._seen_calls = 0
        try:
            self.engine = self._engine()
            migrate(self.engine)
            with self.engine.begin() as db:
                # files written before issue 17 kept posted answers, log lines and all
                db.execute(update(schema.work).where(_W.answer.is_not(None)).values(answer=None))
        except (OSError, SQLAlchemyError) as problem:
            raise StoreError(_reason(problem)) from None
        self.check()

    def _identity(self) -> str:
        if self.shared:
            return self.url.render_as_string(hide_password=True)
        return f"sqlite:{Path(self.url.database).resolve()}"

    def _engine(self) -> Engine:
        if self.shared:
            return create_engine(
                self.url,
                pool_pre_ping=True,
                connect_args={"connect_timeout": self.CONNECT_TIMEOUT},
            )
        Path(self.url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            self.url, poolclass=NullPool, connect_args={"timeout": self.BUSY_TIMEOUT}
        )
        with engine.connect() as db:  # WAL is kept in the file: once is enough
            db.exec_driver_sql("PRAGMA journal_mode=WAL")
        return engine

    def close(self) -> None:
        self.engine.dispose()

    # --- health -----------------------------------------------------------------------

    def check(self) -> None:
        with self._writing() as db:
            if not self.shared:
                found = db.exec_driver_sql("PRAGMA quick_check").fetchone()
                if not found or found[0] != "ok":
                    raise StoreError(f"the file is damaged ({found[0] if found else 'no answer'})")
            db.execute(_upsert(db, schema.meta, ["name"]).values(name="checked_at", value=_now()))

    def reachable(self) -> str | None:
        try:
            with self.engine.connect() as db:
                db.execute(text("SELECT 1"))
        except (OSError, SQLAlchemyError) as problem:
            return _reason(problem)
        return None

    # --- feedback -----------------------------------------------------------------------

    def record_feedback(self, row: FeedbackRow) -> None:
        with self._writing() as db:
            db.execute(
                schema.feedback.insert().values(
                    recorded_at=_now(),
                    judgement=row.judgement,
                    verdict=row.verdict,
                    stage=row.stage,
                    cause=row.cause,
                    files=json.dumps(row.files),
                    source=row.source,
                    user_id=row.user_id,
                    team_id=row.team_id,
                    channel_id=row.channel_id,
                    message_ts=row.message_ts,
                )
            )

    def feedback_rows(self) -> list[FeedbackRow]:
        f = schema.feedback.c
        found = self._read(
            select(
                f.judgement,
                f.verdict,
                f.stage,
                f.cause,
                f.files,
                f.source,
                f.user_id,
                f.team_id,
                f.channel_id,
                f.message_ts,
            ).order_by(f.id)
        )
        return [FeedbackRow(*r[:4], json.loads(r[4]), *r[5:]) for r in found]

    def earlier_judgement(self, row: FeedbackRow) -> str | None:
        f = schema.feedback.c
        found = self._read(
            select(f.judgement)
            .where(
                f.user_id == row.user_id,
                f.channel_id == row.channel_id,
                f.message_ts == row.message_ts,
            )
            .order_by(f.id.desc())
            .limit(1)
        )
        return found[0][0] if found else None

    # --- work ---------------------------------------------------------------------------

    def add_work(self, work: WorkRecord) -> None:
        now = _now()
        with self._writing() as db:
            db.execute(
                schema.work.insert().values(
                    id=work.id,
                    file_key=work.file_key,
                    state=work.state,
                    attempts=work.attempts,
                    channel=work.channel,
                    thread_ts=work.thread_ts,
                    user_id=work.user_id,
                    description=work.description,
                    files=json.dumps(work.files),
                    progress_ts=work.progress_ts,
                    answer=json.dumps(work.answer) if work.answer is not None else None,
                    team_id=work.team_id,
                    owner=work.owner,
                    lease_until=work.lease_until,
                    created_at=now,
                    updated_at=now,
                )
            )

    def update_work(self, work_id: str, **changes) -> None:
        unknown = set(changes) - _UPDATABLE
        if unknown:
            raise ValueError(f"work has no updatable column {sorted(unknown)}")
        if "answer" in changes and changes["answer"] is not None:
            changes["answer"] = json.dumps(changes["answer"])
        with self._writing() as db:
            db.execute(
                update(schema.work).where(_W.id == work_id).values(**changes, updated_at=_now())
            )

    def work(self, work_id: str) -> WorkRecord | None:
        found = self._read(select(*_WORK_COLUMNS).where(_W.id == work_id))
        return _work_of(found[0]) if found else None

    def unfinished_work(self) -> list[WorkRecord]:
        found = self._read(
            select(*_WORK_COLUMNS).where(_W.state.in_(UNFINISHED)).order_by(_W.created_at)
        )
        return [_work_of(r) for r in found]

    def active_for(self, file_key: str) -> WorkRecord | None:
        found = self._read(
            select(*_WORK_COLUMNS)
            .where(_W.file_key == file_key, _W.state.in_(ACTIVE))
            .order_by(_W.created_at)
            .limit(1)
        )
        return _work_of(found[0]) if found else None

    def waiting_for(self, file_key: str) -> list[WorkRecord]:
        found = self._read(
            select(*_WORK_COLUMNS)
            .where(_W.file_key == file_key, _W.state == "waiting")
            .order_by(_W.created_at)
        )
        return [_work_of(r) for r in found]

    # --- leases: work shared by replicas ------------------------------------------------

    def start_work(self, work_id: str, owner: str, attempts: int, lease_seconds: float) -> bool:
        with self._writing() as db:
            started = db.execute(
                update(schema.work)
                .where(_W.id == work_id, _W.owner == owner, _W.state.in_(ACTIVE))
                .values(
                    state="running",
                    attempts=attempts,
                    lease_until=time.time() + lease_seconds,
                    updated_at=_now(),
                )
                .returning(_W.id)
            )
            return started.first() is not None

    def renew_leases(self, owner: str, lease_seconds: float) -> int:
        with self._writing() as db:
            renewed = db.execute(
                update(schema.work)
                .where(_W.owner == owner, _W.state.in_(ACTIVE))
                .values(lease_until=time.time() + lease_seconds)
                .returning(_W.id)
            )
            return len(renewed.all())

    def release_leases(self, owner: str) -> int:
        with self._writing() as db:
            released = db.execute(
                update(schema.work)
                .where(_W.owner == owner, _W.state.in_(ACTIVE))
                .values(lease_until=None)
                .returning(_W.id)
            )
            return len(released.all())

    def take_over(
        self, owner: str, lease_seconds: float, *, everything: bool = False
    ) -> list[WorkRecord]:
        now = time.time()
        lapsed = or_(_W.lease_until.is_(None), _W.lease_until < now)
        with self._writing() as db:
            held = select(*_WORK_COLUMNS).where(_W.state.in_(ACTIVE))
            if not everything:
                held = held.where(lapsed)
            # Another replica claiming the same rows skips them rather than waits.
            claimed = db.execute(
                held.order_by(_W.created_at).with_for_update(skip_locked=True)
            ).all()
            leader = schema.work.alias("leader")
            orphans = db.execute(
                select(*_WORK_COLUMNS)
                .where(
                    _W.state == "waiting",
                    ~exists().where(leader.c.file_key == _W.file_key, leader.c.state.in_(ACTIVE)),
                )
                .order_by(_W.created_at)
                .with_for_update(skip_locked=True)
            ).all()
            taken = [_work_of(r) for r in claimed]
            keys = {w.file_key for w in taken}
            for row in orphans:  # the first waiting record of a key leads it now
                if row.file_key not in keys:
                    keys.add(row.file_key)
                    taken.append(_work_of(row))
            until = now + lease_seconds
            for work in taken:
                work.owner, work.lease_until = owner, until
                if work.state == "waiting":
                    work.state = "queued"
                db.execute(
                    update(schema.work)
                    .where(_W.id == work.id)
                    .values(owner=owner, lease_until=until, state=work.state, updated_at=_now())
                )
            return taken

    # --- deliveries already handled (dedupe shared by replicas) -------------------------

    def first_time(self, key: str, ttl: float) -> bool:
        now = time.time()
        s = schema.seen.c
        with self._writing() as db:
            self._seen_calls += 1
            if self._seen_calls % _SEEN_PURGE_EVERY == 1:
                db.execute(delete(schema.seen).where(s.seen_at < now - ttl))
            else:
                db.execute(delete(schema.seen).where(s.key == key, s.seen_at < now - ttl))
            added = db.execute(
                _insert(db, schema.seen)
                .values(key=key, seen_at=now)
                .on_conflict_do_nothing()
                .returning(schema.seen.c.key)
            )
            return added.first() is not None

    def forget(self, key: str) -> None:
        with self._writing() as db:
            db.execute(delete(schema.seen).where(schema.seen.c.key == key))

    # --- diagnoses given (App Home) -------------------------------------------------------

    def record_diagnosis(self, record: DiagnosisRecord) -> None:
        with self._writing() as db:
            db.execute(
                schema.diagnoses.insert().values(
                    recorded_at=_now(),
                    user_id=record.user_id,
                    channel_id=record.channel_id,
                    what=record.what,
                    source=record.source,
                    verdict=record.verdict,
                    stage=record.stage,
                    headline=record.headline,
                )
            )

    def recent_diagnoses(self, user_id: str, limit: int) -> list[DiagnosisRecord]:
        d = schema.diagnoses.c
        found = self._read(
            select(
                d.user_id,
                d.channel_id,
                d.what,
                d.source,
                d.verdict,
                d.stage,
                d.headline,
                d.recorded_at,
            )
            .where(d.user_id == user_id)
            .order_by(d.id.desc())
            .limit(limit)
        )
        return [DiagnosisRecord(*row) for row in found]

    # --- where uploads are triaged (issue 16) ------------------------------------------

    def set_auto_triage(self, channel_id: str, enabled: bool, user_id: str | None) -> None:
        with self._writing() as db:
            db.execute(
                _upsert(db, schema.channel_triage, ["channel_id"]).values(
                    channel_id=channel_id, enabled=int(enabled), set_by=user_id, set_at=_now()
                )
            )

    def auto_triage(self, channel_id: str) -> bool | None:
        c = schema.channel_triage.c
        found = self._read(select(c.enabled).where(c.channel_id == channel_id))
        return bool(found[0][0]) if found else None

    def first_offer(self, channel_id: str, user_id: str) -> bool:
        with self._writing() as db:
            added = db.execute(
                _insert(db, schema.triage_offers)
                .values(channel_id=channel_id, user_id=user_id, offered_at=_now())
                .on_conflict_do_nothing()
                .returning(schema.triage_offers.c.user_id)
            )
            return added.first() is not None

    # --- plumbing -----------------------------------------------------------------------

    def _read(self, query) -> list[Row]:
        try:
            with self.engine.connect() as db:
                return list(db.execute(query).all())
        except (OSError, SQLAlchemyError) as problem:
            raise StoreError(_reason(problem)) from None

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        """One committed transaction (one writer at a time for SQLite); database errors
        become StoreError."""
        if self._lock is not None:
            self._lock.acquire()
        try:
            with self.engine.begin() as db:
                yield db
        except (OSError, SQLAlchemyError) as problem:
            raise StoreError(_reason(problem)) from None
        finally:
            if self._lock is not None:
                self._lock.release()


class SqliteStore(DatabaseStore):
    """The embedded default: one SQLite file at `path`."""

    def __init__(self, path: Path):
        self.path = path
        super().__init__(URL.create("sqlite", database=str(path)))


def _insert(db: Connection, table):
    """INSERT with the dialect's ON CONFLICT clause (SQLite and PostgreSQL share it)."""
    dialect = postgresql if db.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


class _Upsert:
    """INSERT ... ON CONFLICT (keys) DO UPDATE SET every other column."""

    def __init__(self, db: Connection, table, keys: list[str]):
        self.db, self.table, self.keys = db, table, keys

    def values(self, **row):
        insert = _insert(self.db, self.table).values(**row)
        changed = {k: insert.excluded[k] for k in row if k not in self.keys}
        return insert.on_conflict_do_update(index_elements=self.keys, set_=changed)


def _upsert(db: Connection, table, keys: list[str]) -> _Upsert:
    return _Upsert(db, table, keys)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (a new database gets every table)."""
    # Imported here: Alembic takes half a second to import, and only a store's opening
    # needs it (not the CLI, nor the analysis child processes).
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "bot:migrations")
    with engine.begin() as db:
        if db.dialect.name == "postgresql":
            db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        config.attributes["connection"] = db
        command.upgrade(config, "head")


def _reason(problem: BaseException) -> str:
    original = getattr(problem, "orig", None)
    text_ = str(original if original is not None else problem) or type(problem).__name__
    text_ = text_.strip().splitlines()[0] if text_.strip() else text_
    if "readonly" in text_ or "read-only" in text_:
        return f"it cannot be written ({text_}); give the app's user write access to it"
    if "not a database" in text_ or "malformed" in text_:
        return f"it is damaged ({text_}); move it aside and start again to create a new one"
    if "unable to open" in text_:
        return f"it cannot be opened ({text_}); check the folder exists and is writable"
    return text_
