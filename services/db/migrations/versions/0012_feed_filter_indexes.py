"""Indexes for the GET /feeds filters: failing feeds, and feeds by tag (PostgreSQL)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 23:10:00

Why: ``GET /feeds?failing=true`` and ``?tag=`` page by id; without an index of their own the store walks the
primary key and tests every row until a page is full (55-57 ms on PostgreSQL at 100,000 feeds, against a
50 ms goal). A partial index holds the failing feeds' ids in order (both stores); a GIN index over the tags
as JSONB answers "has this tag" (PostgreSQL; SQLite's json_each cannot use an index, and its scan is within
the goal).
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX ix_feeds_failing ON feeds (id) WHERE consecutive_failures > 0")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE INDEX ix_feeds_tags ON feeds USING gin ((CAST(tags AS JSONB)))")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_feeds_tags")
    op.execute("DROP INDEX IF EXISTS ix_feeds_failing")
