"""The story-grouping index: article profiles, their keys, and story aliases (reads and writes only).

Why: the store sink decides which story an article joins (``api/sink``); it needs, per batch, the
stored articles that share an index key with the batch's new ones inside the time window, their
profiles and current stories. This module reads and writes exactly that, and merges stories when the
sink says two are one event. Tables live in migration 0006.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    CompoundSelect,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    delete,
    insert,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

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
KEYS_PER_STATEMENT = 250


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


@functools.cache
def _bucket_reads(n: int) -> CompoundSelect:
    """``n`` capped bucket reads in one statement, built once per key count so its compiled form is reused."""
    lo = bindparam("lo", type_=profile_keys.c.published_at.type)
    hi = bindparam("hi", type_=profile_keys.c.published_at.type)
    per_key = [
        select(profile_keys.c.key, profile_keys.c.article_id, profile_keys.c.published_at)
        .where(profile_keys.c.key == bindparam(f"k{i}"), profile_keys.c.published_at >= lo,
               profile_keys.c.published_at <= hi)
        .order_by(profile_keys.c.published_at.desc())
        .limit(bindparam("cap", type_=Integer))
        .subquery()
        for i in range(n)
    ]
    return union_all(*(select(q.c.key, q.c.article_id, q.c.published_at) for q in per_key))


async def key_hits(session: AsyncSession, *, keys: Sequence[str], lo: datetime, hi: datetime,
                   cap: int) -> list[tuple[str, str, datetime]]:
    """(key, article id, published) of stored articles under ``keys`` in [lo, hi], newest ``cap`` per key.

    Each key is one index range scan on (key, published_at), so a key every report shares ("Russia")
    costs the same as any other.
    """
    keys = list(dict.fromkeys(keys))
    out: list[tuple[str, str, datetime]] = []
    for start in range(0, len(keys), KEYS_PER_STATEMENT):  # SQLite allows 500 terms in one compound SELECT
        chunk = keys[start:start + KEYS_PER_STATEMENT]
        params: dict[str, Any] = {f"k{i}": k for i, k in enumerate(chunk)}
        params.update(lo=lo, hi=hi, cap=cap)
        out += [(r[0], r[1], utc(r[2])) for r in await session.execute(_bucket_reads(len(chunk)), params)]
    return out


async def load_profiles(session: AsyncSession, *, article_ids: Iterable[str]
                        ) -> dict[str, tuple[Mapping[str, Any], str, datetime]]:
    """Article id -> (profile JSON, its current story id, that story's first publication) for stored articles."""
    ids = list(dict.fromkeys(article_ids))
    if not ids:
        return {}
    rows = await session.execute(
        select(article_profiles.c.article_id, article_profiles.c.profile, Article.story_id, Story.published_at)
        .join(Article, Article.id == article_profiles.c.article_id)
        .join(Story, Story.id == Article.story_id)
        .where(article_profiles.c.article_id.in_(ids)))
    return {r[0]: (r[1], r[2], utc(r[3])) for r in rows}


async def save_profiles(session: AsyncSession, *, rows: Sequence[tuple[str, datetime, Mapping[str, Any], Sequence[str]]]
                        ) -> None:
    """Record (article id, published, profile JSON, keys) for newly grouped articles."""
    if not rows:
        return
    await session.execute(insert(article_profiles), [
        {"article_id": aid, "published_at": when, "profile": prof} for aid, when, prof, _ in rows])
    keyed = [{"key": k[:MAX_KEY], "article_id": aid, "published_at": when}
             for aid, when, _, ks in rows for k in dict.fromkeys(ks)]
    if keyed:
        await session.execute(insert(profile_keys), keyed)


async def known_articles(session: AsyncSession, *, article_ids: Iterable[str]) -> set[str]:
    """The ids among ``article_ids`` that already have a profile (grouped before: they keep their story)."""
    ids = list(dict.fromkeys(article_ids))
    if not ids:
        return set()
    rows = await session.scalars(select(article_profiles.c.article_id).where(article_profiles.c.article_id.in_(ids)))
    return set(rows.all())


async def merge_stories(session: AsyncSession, *, into: str, merged: Sequence[str], now: datetime) -> None:
    """Move the articles of ``merged`` stories to ``into``; their ids become aliases of it."""
    if not merged:
        return
    olds = list(merged)
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
