"""Alembic's entry point for the bot's store. `bot.store.migrate` runs it in-process on
a connection it has opened (and, on PostgreSQL, locked), so replicas starting together
upgrade the schema once."""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
