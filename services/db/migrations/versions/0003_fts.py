"""full-text search over stories, and the keyset index behind /stories

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-26 10:00:00

``story_search`` holds one row per story (headline, summary, the titles of its
articles), kept current by services.db.stories on every upsert. SQLite indexes
it with an external-content FTS5 table maintained by triggers; PostgreSQL with
a generated ``tsvector`` column and a GIN index. Both use the language-neutral
tokenisation ('simple' / unicode61): the corpus is multilingual.
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None

SQLITE_UP = [
    """CREATE TABLE story_search (
        id INTEGER PRIMARY KEY,
        story_id VARCHAR(64) NOT NULL UNIQUE REFERENCES stories(id) ON DELETE CASCADE,
        headline TEXT NOT NULL DEFAULT '',
        summary TEXT NOT NULL DEFAULT '',
        titles TEXT NOT NULL DEFAULT ''
    )""",
    """CREATE VIRTUAL TABLE story_fts USING fts5(
        headline, summary, titles,
        content='story_search', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
    )""",
    """CREATE TRIGGER story_search_ai AFTER INSERT ON story_search BEGIN
        INSERT INTO story_fts(rowid, headline, summary, titles)
        VALUES (new.id, new.headline, new.summary, new.titles);
    END""",
    """CREATE TRIGGER story_search_ad AFTER DELETE ON story_search BEGIN
        INSERT INTO story_fts(story_fts, rowid, headline, summary, titles)
        VALUES ('delete', old.id, old.headline, old.summary, old.titles);
    END""",
    """CREATE TRIGGER story_search_au AFTER UPDATE ON story_search BEGIN
        INSERT INTO story_fts(story_fts, rowid, headline, summary, titles)
        VALUES ('delete', old.id, old.headline, old.summary, old.titles);
        INSERT INTO story_fts(rowid, headline, summary, titles)
        VALUES (new.id, new.headline, new.summary, new.titles);
    END""",
    """INSERT INTO story_search (story_id, headline, summary, titles)
       SELECT s.id, s.headline, s.summary,
              COALESCE((SELECT group_concat(a.title, ' ') FROM articles a WHERE a.story_id = s.id), '')
       FROM stories s""",
]

SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS story_search_au",
    "DROP TRIGGER IF EXISTS story_search_ad",
    "DROP TRIGGER IF EXISTS story_search_ai",
    "DROP TABLE IF EXISTS story_fts",
    "DROP TABLE IF EXISTS story_search",
]

POSTGRES_UP = [
    """CREATE TABLE story_search (
        story_id VARCHAR(64) PRIMARY KEY REFERENCES stories(id) ON DELETE CASCADE,
        headline TEXT NOT NULL DEFAULT '',
        summary TEXT NOT NULL DEFAULT '',
        titles TEXT NOT NULL DEFAULT '',
        tsv tsvector GENERATED ALWAYS AS (
            setweight(to_tsvector('simple', headline), 'A')
            || setweight(to_tsvector('simple', titles), 'B')
            || setweight(to_tsvector('simple', summary), 'C')
        ) STORED
    )""",
    "CREATE INDEX ix_story_search_tsv ON story_search USING gin (tsv)",
    """INSERT INTO story_search (story_id, headline, summary, titles)
       SELECT s.id, s.headline, s.summary,
              COALESCE((SELECT string_agg(a.title, ' ') FROM articles a WHERE a.story_id = s.id), '')
       FROM stories s""",
]

POSTGRES_DOWN = ["DROP TABLE IF EXISTS story_search"]


def upgrade() -> None:
    # Newest-first keyset pages order by (published_at, id): one index serves ORDER BY and the cursor.
    op.create_index("ix_stories_published_at_id", "stories", ["published_at", "id"])
    op.create_index("ix_stories_last_seen_id", "stories", ["last_seen", "id"])
    op.create_index("ix_story_topics_topic_story", "story_topics", ["topic", "story_id", "confidence"])
    op.create_index("ix_articles_story_source", "articles", ["story_id", "source"])
    dialect = op.get_bind().dialect.name
    for stmt in SQLITE_UP if dialect == "sqlite" else POSTGRES_UP:
        op.execute(stmt)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for stmt in SQLITE_DOWN if dialect == "sqlite" else POSTGRES_DOWN:
        op.execute(stmt)
    op.drop_index("ix_articles_story_source", table_name="articles")
    op.drop_index("ix_story_topics_topic_story", table_name="story_topics")
    op.drop_index("ix_stories_last_seen_id", table_name="stories")
    op.drop_index("ix_stories_published_at_id", table_name="stories")
