"""The store as the first SQLite file kept it: feedback, work, diagnoses, channel settings.

A file made before migrations existed already has these tables (and no alembic_version):
only what is missing is created, so that file is adopted as it is.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _tables() -> list[sa.Table]:
    kept = sa.MetaData()
    return [
        sa.Table(
            "feedback",
            kept,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("recorded_at", sa.Text, nullable=False),
            sa.Column(
                "judgement",
                sa.Text,
                sa.CheckConstraint("judgement IN ('right', 'wrong')"),
                nullable=False,
            ),
            sa.Column("verdict", sa.Text),
            sa.Column("stage", sa.Text),
            sa.Column("cause", sa.Text),
            sa.Column("files", sa.Text, nullable=False, server_default="[]"),
            sa.Column("source", sa.Text),
            sa.Column("user_id", sa.Text),
            sa.Column("team_id", sa.Text),
            sa.Column("channel_id", sa.Text),
            sa.Column("message_ts", sa.Text),
        ),
        sa.Table(
            "work",
            kept,
            sa.Column("id", sa.Text, primary_key=True),
            sa.Column("file_key", sa.Text, nullable=False),
            sa.Column("state", sa.Text, nullable=False),
            sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
            sa.Column("channel", sa.Text, nullable=False),
            sa.Column("thread_ts", sa.Text),
            sa.Column("user_id", sa.Text),
            sa.Column("description", sa.Text),
            sa.Column("files", sa.Text, nullable=False),
            sa.Column("progress_ts", sa.Text),
            sa.Column("answer", sa.Text),
            sa.Column("created_at", sa.Text, nullable=False),
            sa.Column("updated_at", sa.Text, nullable=False),
            sa.Index("work_by_key", "file_key", "state"),
            sa.Index("work_by_state", "state"),
        ),
        sa.Table(
            "meta", kept, sa.Column("name", sa.Text, primary_key=True), sa.Column("value", sa.Text)
        ),
        sa.Table(
            "diagnoses",
            kept,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("recorded_at", sa.Text, nullable=False),
            sa.Column("user_id", sa.Text, nullable=False),
            sa.Column("channel_id", sa.Text),
            sa.Column("what", sa.Text, nullable=False),
            sa.Column("source", sa.Text, nullable=False),
            sa.Column("verdict", sa.Text, nullable=False),
            sa.Column("stage", sa.Text),
            sa.Column("headline", sa.Text, nullable=False),
            sa.Index("diagnoses_by_user", "user_id", "id"),
        ),
        sa.Table(
            "channel_triage",
            kept,
            sa.Column("channel_id", sa.Text, primary_key=True),
            sa.Column("enabled", sa.Integer, nullable=False),
            sa.Column("set_by", sa.Text),
            sa.Column("set_at", sa.Text, nullable=False),
        ),
        sa.Table(
            "triage_offers",
            kept,
            sa.Column("channel_id", sa.Text, nullable=False),
            sa.Column("user_id", sa.Text, nullable=False),
            sa.Column("offered_at", sa.Text, nullable=False),
            sa.PrimaryKeyConstraint("channel_id", "user_id"),
        ),
    ]


def upgrade() -> None:
    bind = op.get_bind()
    existing = set(sa.inspect(bind).get_table_names())
    for table in _tables():
        if table.name not in existing:
            table.create(bind)


def downgrade() -> None:
    for table in reversed(_tables()):
        op.drop_table(table.name)
