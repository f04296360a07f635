"""feeds.status_rank: the dashboard's status as a generated, indexed column

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 19:10:00

Why: the feed table's default order (the worst first: failing, pending, ok, disabled; then the most
consecutive failures, then by URL), its status filters and its status counts were a CASE over every row:
at 100,000 feeds each page sorted the whole table (40-70 ms on SQLite, 0.5 s on a deep page). As a column
the store computes from the row (virtual on SQLite, stored on PostgreSQL), with one index in exactly that
order, a page is a walk of the index and a count a scan of it. No writer has to remember it.
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# FEED_STATUSES order: 0 failing, 1 pending, 2 ok, 3 disabled (services/db/feeds.py)
RANK = ("CASE WHEN enabled IS {false} THEN 3 WHEN consecutive_failures > 0 THEN 0 "
        "WHEN last_success_at IS NULL THEN 1 ELSE 2 END")


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    expr = RANK.format(false="FALSE" if postgres else "0")
    op.execute(f"ALTER TABLE feeds ADD COLUMN status_rank INTEGER GENERATED ALWAYS AS ({expr}) "
               f"{'STORED' if postgres else 'VIRTUAL'}")
    # SQLite's index entries end with the rowid (the id); PostgreSQL's get it as a payload, so a page's ids
    # come from the index alone
    op.execute("CREATE INDEX ix_feeds_status_order ON feeds (status_rank, consecutive_failures DESC, url)"
               + (" INCLUDE (id)" if postgres else ""))


def downgrade() -> None:
    op.execute("DROP INDEX ix_feeds_status_order")
    op.execute("ALTER TABLE feeds DROP COLUMN status_rank")
