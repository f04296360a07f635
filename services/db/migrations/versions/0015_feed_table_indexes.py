"""The dashboard's feed table: an index in the "feed" (name) sort's order (both stores), and one of
(url, title) for the search (SQLite)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 14:40:00

Why, at 100,000 feeds against the 50 ms page goal:

- sorting by name (``sort=feed``: ``lower(coalesce(nullif(title, ''), url))`` then id) had no index: every
  page sorted every feed (SQLite 42-75 ms for page 500 in the query alone). ``ix_feeds_name_order`` holds
  that expression and the id, so a page walks it (1.6 ms). services.db.feeds renders the expression with a
  literal '' so it is the index's expression (a bound parameter would not match it). Descending walks it
  backwards and sorts ties by id per name (a deep page 24 ms on SQLite, the first 0.1 ms). PostgreSQL
  fetches the heap row of each entry a deep page skips (page 500: 95 ms at load 11, against a sort of
  every feed before); INCLUDE (title, url) made that an index-only scan (77 ms) but also a cheap
  whole-index bitmap for a small table's search, where tests/integration/test_feed_table.py wants the
  trigram indexes, so it is left out.
- SQLite: "URL or title contains q" scans every feed (PostgreSQL has the trigram indexes of migration
  0011); scanning ``ix_feeds_url_title`` reads the two columns it tests instead of whole rows: 22 -> 16 ms.

Writes: a feed's URL and title change on import, on an edit and on the first good fetch of an untitled
feed, not per poll.
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX ix_feeds_name_order ON feeds (lower(coalesce(nullif(title, ''), url)), id)")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("CREATE INDEX ix_feeds_url_title ON feeds (url, title)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP INDEX IF EXISTS ix_feeds_url_title")
    op.execute("DROP INDEX IF EXISTS ix_feeds_name_order")
