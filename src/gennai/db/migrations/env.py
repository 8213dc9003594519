"""Alembic environment: migrations always run on a connection handed over by gennai.migrate."""

from __future__ import annotations

from alembic import context

from gennai.db.base import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `gennai migrate`, which supplies the database connection")

context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
