"""The story-grouping index: article profiles, their keys, and story aliases (reads and writes only).

Why: the store sink decides which story an article joins (``api/sink``); it needs, per batch, the
stored articles that share an index key with the batch's new ones inside the time window, their
profiles and current stories. This module reads and writes exactly that, and merges stories when the
sink says two are one event. Tables live in migration 0006.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Container, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    Text,
    TextClause,
    bindparam,
    case,
    cast,
    delete,
    insert,
    null,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from services.db import story_view
from services.db.models import Article, Story, StoryEntity, StoryTopic
from services.db.search import story_search

_meta = MetaData()
article_profiles = Table(
    "article_profiles", _meta,
    Column("article_id", String(64), primary_key=True),
    Column("published_at", DateTime(timezone=True), nullable=False),
    Column("profile", JSON, nullable=False),
)
profile_keys = Table(
    "profile_keys", _meta,
    Column("key", String(200), primary_key=True),
    Column("article_id", String(64), primary_key=True),
    Column("published_at", DateTime(timezone=True), nullable=False),
)
story_aliases = Table(
    "story_aliases", _meta,
    Column("old_id", String(64), primary_key=True),
    Column("story_id", String(64), nullable=False),
    Column("merged_at", DateTime(timezone=True), nullable=False),
)
MAX_KEY = 200


def utc(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def key_lock_ids(keys: Iterable[str]) -> list[int]:
    """Advisory-lock ids (signed 64-bit) for index keys, sorted so two sinks never deadlock."""
    return sorted({int.from_bytes(hashlib.blake2b(k.encode(), digest_size=8).digest(), "big", signed=True)
                   for k in keys})


async def lock_keys(session: AsyncSession, keys: Iterable[str]) -> None:
    """Make grouping race-free between sink instances: call it first in the batch's transaction.

    Two articles that may link share an index key, so a sink grouping related articles after another
    one waits for it and then sees its story. PostgreSQL: transaction-scoped advisory locks on the
    batch's keys; unrelated batches proceed in parallel. SQLite: the database write lock, taken up front
    by a no-op UPDATE, so every read of the batch sees what the previous writer committed.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        await session.execute(update(article_profiles).where(text("0")).values(
            published_at=article_profiles.c.published_at))
        return
    ids = key_lock_ids(keys)
    if dialect == "postgresql" and ids:
        await session.execute(text("SELECT pg_advisory_xact_lock(x) FROM unnest(CAST(:ids AS bigint[])) AS t(x)"),
                              {"ids": ids})


# The newest ``cap`` articles under each key in [lo, hi], every key in one statement: one index range scan per
# key on (key, published_at), so a key every report shares ("Russia") costs what any other does. Rows come
# per key newest first, ties newest stored first (what a per-key ORDER BY published_at DESC LIMIT read gives).
_BUCKETS_SQLITE = text("""
    SELECT k.value AS key, p.article_id, p.published_at FROM json_each(:keys) AS k, profile_keys AS p
    WHERE p.rowid IN (SELECT q.rowid FROM profile_keys AS q WHERE q.key = k.value AND q.published_at >= :lo
                      AND q.published_at <= :hi ORDER BY q.published_at DESC LIMIT :cap)
    ORDER BY p.published_at DESC, p.rowid DESC""")
_BUCKETS_POSTGRES = text("""
    SELECT k.key, p.article_id, p.published_at FROM unnest(CAST(:keys AS varchar[])) AS k(key)
    CROSS JOIN LATERAL (SELECT q.article_id, q.published_at FROM profile_keys AS q WHERE q.key = k.key
                        AND q.published_at >= :lo AND q.published_at <= :hi
                        ORDER BY q.published_at DESC LIMIT :cap) AS p""")


def _bucket_statement(dialect: str) -> TextClause:
    when = profile_keys.c.published_at.type
    stmt = _BUCKETS_SQLITE if dialect == "sqlite" else _BUCKETS_POSTGRES
    return stmt.bindparams(bindparam("lo", type_=when), bindparam("hi", type_=when),
                           bindparam("cap", type_=Integer))


class _Times(dict[str | datetime, datetime]):
    """Stored publication times as aware UTC, each converted once. SQLite hands the text statement the
    string SQLAlchemy's DateTime stores (naive UTC); PostgreSQL a datetime."""

    def __missing__(self, raw: str | datetime) -> datetime:
        self[raw] = found = utc(datetime.fromisoformat(raw) if isinstance(raw, str) else raw)
        return found


async def key_hits(session: AsyncSession, *, keys: Sequence[str], lo: datetime, hi: datetime,
                   cap: int) -> list[tuple[str, str, datetime]]:
    """(key, article id, published) of stored articles under ``keys`` in [lo, hi], newest ``cap`` per key."""
    keys = list(dict.fromkeys(keys))
    if not keys:
        return []
    dialect = session.get_bind().dialect.name
    params = {"keys": json.dumps(keys) if dialect == "sqlite" else keys, "lo": lo, "hi": hi, "cap": cap}
    rows = (await session.execute(_bucket_statement(dialect), params)).all()
    times = _Times()  # an article is under many keys: its time is converted once
    return [(k, a, times[w]) for k, a, w in rows]


async def load_profiles(session: AsyncSession, *, article_ids: Iterable[str], parsed: Container[str] = frozenset()
                        ) -> dict[str, tuple[Mapping[str, Any] | None, str, datetime]]:
    """Article id -> (profile JSON, its current story id, that story's first publication) for stored articles.

    A profile never changes once stored, so the caller may hold it parsed: for ids in ``parsed`` the JSON is
    None, not even read (reading and decoding them was most of this read's cost)."""
    ids = list(dict.fromkeys(article_ids))
    if not ids:
        return {}
    unparsed = [a for a in ids if a not in parsed]
    rows = await session.execute(_profile_statement(), {"ids": ids, "unparsed": unparsed})
    return {aid: (None if prof is None else json.loads(prof), story, utc(began)) for aid, prof, story, began in rows}


@functools.cache
def _profile_statement() -> Select[Any]:
    profile = case((article_profiles.c.article_id.in_(bindparam("unparsed", expanding=True)),
                    cast(article_profiles.c.profile, Text)), else_=null())
    return (select(article_profiles.c.article_id, profile, Article.story_id, Story.published_at)
            .join(Article, Article.id == article_profiles.c.article_id)
            .join(Story, Story.id == Article.story_id)
            .where(article_profiles.c.article_id.in_(bindparam("ids", expanding=True))))


# PostgreSQL takes a batch's index rows as three arrays in one statement: executemany costs a server
# round of parse-bind-execute per row (15 ms for a batch's thousand keys, against 2).
_KEYS_POSTGRES = text("INSERT INTO profile_keys (key, article_id, published_at) SELECT * FROM unnest("
                      "CAST(:keys AS varchar[]), CAST(:ids AS varchar[]), CAST(:times AS timestamptz[]))")


async def save_profiles(session: AsyncSession, *, rows: Sequence[tuple[str, datetime, Mapping[str, Any], Sequence[str]]]
                        ) -> None:
    """Record (article id, published, profile JSON, keys) for newly grouped articles."""
    if not rows:
        return
    await session.execute(insert(article_profiles), [
        {"article_id": aid, "published_at": when, "profile": prof} for aid, when, prof, _ in rows])
    keyed = sorted((k, aid, when) for aid, when, _, ks in rows for k in dict.fromkeys(k[:MAX_KEY] for k in ks))
    if not keyed:
        return
    if session.get_bind().dialect.name == "postgresql":
        keys, ids, times = (list(c) for c in zip(*keyed, strict=True))
        await session.execute(_KEYS_POSTGRES, {"keys": keys, "ids": ids, "times": times})
    else:
        await session.execute(insert(profile_keys), [{"key": k, "article_id": a, "published_at": w} for k, a, w in keyed])


async def known_articles(session: AsyncSession, *, article_ids: Iterable[str]) -> set[str]:
    """The ids among ``article_ids`` that already have a profile (grouped before: they keep their story)."""
    ids = list(dict.fromkeys(article_ids))
    if not ids:
        return set()
    rows = await session.scalars(select(article_profiles.c.article_id).where(article_profiles.c.article_id.in_(ids)))
    return set(rows.all())


async def merge_stories(session: AsyncSession, *, into: str, merged: Sequence[str], now: datetime) -> None:
    """Move the articles of ``merged`` stories to ``into``; their ids become aliases of it. The stories' fold
    states are forgotten: ``into`` gained articles without a refresh (the batch's refresh refolds it)."""
    if not merged:
        return
    olds = list(merged)
    story_view.cache_for(session.get_bind().engine).forget([into, *olds])
    await session.execute(update(Article).where(Article.story_id.in_(olds)).values(story_id=into))
    await session.execute(update(story_aliases).where(story_aliases.c.story_id.in_(olds)).values(story_id=into))
    existing = set((await session.scalars(select(story_aliases.c.old_id).where(story_aliases.c.old_id.in_(olds)))).all())
    fresh = [o for o in olds if o not in existing and o != into]
    if fresh:
        await session.execute(insert(story_aliases), [{"old_id": o, "story_id": into, "merged_at": now} for o in fresh])
    for table_col in (StoryTopic.story_id, StoryEntity.story_id, story_search.c.story_id):
        await session.execute(delete(table_col.table).where(table_col.in_(olds)))
    await session.execute(delete(Story).where(Story.id.in_(olds)))


async def resolve(session: AsyncSession, *, story_id: str) -> str:
    """The surviving id of a story that may have merged into another (else ``story_id`` itself)."""
    found = await session.scalar(select(story_aliases.c.story_id).where(story_aliases.c.old_id == story_id))
    return str(found) if found is not None else story_id


async def aliases_of(session: AsyncSession, *, story_id: str) -> list[str]:
    """The ids that merged into ``story_id``."""
    rows = await session.scalars(select(story_aliases.c.old_id).where(story_aliases.c.story_id == story_id)
                                 .order_by(story_aliases.c.old_id))
    return list(rows.all())
