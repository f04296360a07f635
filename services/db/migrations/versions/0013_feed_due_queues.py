"""Partial indexes for the scheduler's two queues: feeds already polled, and feeds never fetched

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 09:00:00

Why: the scheduler serves feeds on a schedule ahead of first polls (ingest.schedule.interleave), reading
each queue in due order. With one index on next_check_at, the "already polled and due" read would walk past
every never-fetched row of a fresh import (100,000 of them, all due first) on every tick. One partial index
per queue keeps each read to the rows it returns (both stores).
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX ix_feeds_due_polled ON feeds (next_check_at, id) WHERE last_fetch_at IS NOT NULL")
    op.execute("CREATE INDEX ix_feeds_due_first ON feeds (next_check_at, id) WHERE last_fetch_at IS NULL")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_feeds_due_first")
    op.execute("DROP INDEX IF EXISTS ix_feeds_due_polled")
