"""The tables of the bot's store, as SQLAlchemy Core objects (`bot.store` queries them).

The migrations in `bot/migrations` create and change them; this module says what the
newest migration leaves behind, so the store's queries are written once for SQLite and
PostgreSQL alike. Times the app compares (leases, dedupe) are seconds since the epoch;
times a person reads are ISO 8601 text in UTC, as the first SQLite file kept them.
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
)

metadata = MetaData()

feedback = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("recorded_at", Text, nullable=False),
    Column("judgement", Text, CheckConstraint("judgement IN ('right', 'wrong')"), nullable=False),
    Column("verdict", Text),
    Column("stage", Text),
    Column("cause", Text),
    Column("files", Text, nullable=False, server_default="[]"),  # JSON list of file names
    Column("source", Text),
    Column("user_id", Text),
    Column("team_id", Text),
    Column("channel_id", Text),
    Column("message_ts", Text),
)

work = Table(
    "work",
    metadata,
    Column("id", Text, primary_key=True),
    Column("file_key", Text, nullable=False),  # the files' ids: the same upload shared twice
    Column("state", Text, nullable=False),  # queued / running / waiting / done / failed
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("channel", Text, nullable=False),
    Column("thread_ts", Text),
    Column("user_id", Text),
    Column("description", Text),
    Column("files", Text, nullable=False),  # JSON: the Slack file objects (no contents)
    Column("progress_ts", Text),  # the "reading ..." message being edited
    Column("answer", Text),  # JSON: the final message (text and blocks)
    Column("created_at", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
    # added for replicas (migration 0002)
    Column("team_id", Text),  # the workspace: whose token answers it
    Column("owner", Text),  # the replica holding the lease
    Column("lease_until", Float),  # epoch seconds; past it another replica may take over
)
Index("work_by_key", work.c.file_key, work.c.state)
Index("work_by_state", work.c.state)

meta = Table("meta", metadata, Column("name", Text, primary_key=True), Column("value", Text))

diagnoses = Table(
    "diagnoses",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("recorded_at", Text, nullable=False),
    Column("user_id", Text, nullable=False),  # who asked: their App Home lists it
    Column("channel_id", Text),
    Column("what", Text, nullable=False),  # the upload's label or the symptom typed
    Column("source", Text, nullable=False),  # logs / symptom
    Column("verdict", Text, nullable=False),
    Column("stage", Text),
    Column("headline", Text, nullable=False),  # the cause or stage title, for a person
)
Index("diagnoses_by_user", diagnoses.c.user_id, diagnoses.c.id)

channel_triage = Table(
    "channel_triage",
    metadata,
    Column("channel_id", Text, primary_key=True),
    Column("enabled", Integer, nullable=False),  # 1: uploads here are triaged unasked
    Column("set_by", Text),  # who typed /sccm auto on|off
    Column("set_at", Text, nullable=False),
)

triage_offers = Table(
    "triage_offers",
    metadata,
    Column("channel_id", Text, nullable=False),
    Column("user_id", Text, nullable=False),  # told once where the shortcut is
    Column("offered_at", Text, nullable=False),
    PrimaryKeyConstraint("channel_id", "user_id"),
)

# Deliveries and uploads already handled, shared by the replicas (migration 0002): Slack
# retries an event to whichever replica the load balancer picks.
seen = Table(
    "seen",
    metadata,
    Column("key", Text, primary_key=True),
    Column("seen_at", Float, nullable=False),  # epoch seconds
)
Index("seen_by_time", seen.c.seen_at)
