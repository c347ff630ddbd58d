"""Replicas and many workspaces (issue 18): work leases, shared dedupe, Slack installs.

`work` gets the workspace it belongs to and a lease (which replica runs it, until when);
`seen` remembers handled deliveries for every replica; the installation and OAuth state
tables are slack_sdk's own (`SQLAlchemyInstallationStore`, `SQLAlchemyOAuthStateStore`),
built by its functions so they match what it queries.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _slack_tables() -> list[sa.Table]:
    kept = sa.MetaData()
    installs = SQLAlchemyInstallationStore
    return [
        installs.build_bots_table(kept, installs.default_bots_table_name),
        installs.build_installations_table(kept, installs.default_installations_table_name),
        SQLAlchemyOAuthStateStore.build_oauth_states_table(
            kept, SQLAlchemyOAuthStateStore.default_table_name
        ),
    ]


def upgrade() -> None:
    with op.batch_alter_table("work") as work:
        work.add_column(sa.Column("team_id", sa.Text))
        work.add_column(sa.Column("owner", sa.Text))
        work.add_column(sa.Column("lease_until", sa.Float))
    op.create_table(
        "seen",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("seen_at", sa.Float, nullable=False),
    )
    op.create_index("seen_by_time", "seen", ["seen_at"])
    for table in _slack_tables():
        table.create(op.get_bind())


def downgrade() -> None:
    for table in reversed(_slack_tables()):
        op.drop_table(table.name)
    op.drop_index("seen_by_time", "seen")
    op.drop_table("seen")
    with op.batch_alter_table("work") as work:
        work.drop_column("lease_until")
        work.drop_column("owner")
        work.drop_column("team_id")
