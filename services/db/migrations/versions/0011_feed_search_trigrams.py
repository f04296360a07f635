"""Trigram indexes for the feed search on PostgreSQL

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 22:40:00

Why: the dashboard's and ``GET /feeds``' search is "URL or title contains q" (ILIKE '%q%'); no b-tree helps
a pattern that starts with a wildcard, so at 100,000 feeds every search read the whole table (221 ms on
PostgreSQL against a 50 ms goal). pg_trgm's GIN indexes answer ILIKE '%q%' from the trigrams of q. pg_trgm
ships with PostgreSQL and is a trusted extension (a database owner may create it); where it is missing or
may not be created, the search keeps working by scanning, and this step says so. SQLite needs nothing: its
scan of 100,000 feeds stays within the goal.
"""

from __future__ import annotations

import logging

from alembic import op
from sqlalchemy import text

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    installed = bind.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).scalar()
    creatable = bind.execute(text(
        "SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm' "
        "AND has_database_privilege(current_user, current_database(), 'CREATE')")).scalar()
    if not installed and not creatable:
        log.warning("pg_trgm is not available to this user: feed searches scan the feeds table "
                    "(CREATE EXTENSION pg_trgm as a superuser, then run `wirewatch migrate` again)")
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE INDEX IF NOT EXISTS ix_feeds_url_trgm ON feeds USING gin (url gin_trgm_ops)")
    op.execute("CREATE INDEX IF NOT EXISTS ix_feeds_title_trgm ON feeds USING gin (title gin_trgm_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_feeds_title_trgm")
    op.execute("DROP INDEX IF EXISTS ix_feeds_url_trgm")
