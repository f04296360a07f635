"""Full-text search over stories: the search document table and the query condition, per dialect.

SQLite indexes ``story_search`` with an FTS5 table kept by triggers, PostgreSQL with a generated
tsvector column (migration 0003). Query words come from ``services.matching.search_terms``, so no
FTS5 or tsquery operator can be smuggled in.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import (
    Column,
    ColumnElement,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    false,
    literal_column,
    select,
    text,
)

from services.db.models import Story
from services.matching import search_terms

# The search document of each story (migration 0003); not an ORM model because only this module
# reads or writes it, and its index (FTS5 / tsvector) is dialect-specific.
story_search = Table(
    "story_search", MetaData(),
    Column("id", Integer),  # SQLite only: the FTS5 content rowid
    Column("story_id", String(64), primary_key=True),
    Column("headline", Text), Column("summary", Text), Column("titles", Text),
)


def fts5_query(terms: Sequence[str]) -> str:
    """An FTS5 MATCH expression: each term a quoted string, implicitly AND-ed."""
    return " ".join('"' + t.replace('"', '""') + '"' for t in terms)


def search_condition(q: str, dialect: str) -> ColumnElement[bool]:
    terms = search_terms(q)
    if not terms:
        return false()
    if dialect == "sqlite":
        hits = select(story_search.c.story_id).where(story_search.c.id.in_(
            select(literal_column("rowid")).select_from(text("story_fts"))
            .where(text("story_fts MATCH :fts").bindparams(fts=fts5_query(terms)))
        ))
    else:
        hits = select(story_search.c.story_id).where(
            text("story_search.tsv @@ plainto_tsquery('simple', :tsq)").bindparams(tsq=" ".join(terms)))
    return Story.id.in_(hits)
