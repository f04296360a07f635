"""Story clustering index: which story a newly stored article joins.

Why: the same event reported by several outlets must become one story. The
store sink (the single writer of stories) calls :func:`assign_story` for every
article it has not stored before; the decision itself is the pure
``enrich.cluster.story_score``, this module only finds the candidates (articles
sharing a MinHash LSH band key, published inside the window) and records the
new article's bands and signature. Tables live in migration 0004.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
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
    insert,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from enrich import cluster
from services.events import EnrichedArticle
from services.settings import Settings

_meta = MetaData()
story_bands = Table(
    "story_bands", _meta,
    Column("band", String(32), primary_key=True),
    Column("article_id", String(64), primary_key=True),
    Column("story_id", String(64), nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=False),
)
article_signatures = Table(
    "article_signatures", _meta,
    Column("article_id", String(64), primary_key=True),
    Column("story_id", String(64), nullable=False),
    Column("minhash", JSON, nullable=False),
    Column("entities", JSON, nullable=False),
    Column("topics", JSON, nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=False),
)

_DEFAULTS = Settings.model_fields


def _utc(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _signature(event: EnrichedArticle) -> tuple[list[int], list[str]]:
    """The event's MinHash and band keys; computed here for events enriched before they were carried."""
    if event.minhash and event.cluster_bands:
        return list(event.minhash), list(event.cluster_bands)
    sig = cluster.signature(event.article.title, event.article.text)
    return list(sig.minhash), list(sig.bands)


def band_lock_ids(bands: Iterable[str]) -> list[int]:
    """Advisory-lock ids for band keys ``"<band>:<12 hex>"`` (band number in the high bits), sorted."""
    ids = set()
    for key in bands:
        band, _, digest = key.partition(":")
        ids.add((int(band) << 48) | int(digest[:12], 16))
    return sorted(ids)


async def lock_bands(session: AsyncSession, events: Iterable[EnrichedArticle]) -> None:
    """Make clustering race-free between sink instances (one consumer group, several partitions): call it
    first in the batch's transaction, so a sink that clusters related articles after another one sees
    that one's story instead of creating its own.

    PostgreSQL: transaction-scoped advisory locks on the batch's band keys, taken in ascending order (so
    two sinks never deadlock); unrelated batches proceed in parallel. SQLite: the database write lock,
    taken up front by a no-op UPDATE (the driver opens the transaction before it), so every read of the
    batch sees what the previous writer committed.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        await session.execute(update(article_signatures).where(text("0")).values(
            story_id=article_signatures.c.story_id))
        return
    if dialect != "postgresql":
        return
    ids = band_lock_ids(b for ev in events for b in _signature(ev)[1])
    if ids:
        await session.execute(text("SELECT pg_advisory_xact_lock(x) FROM unnest(CAST(:ids AS bigint[])) AS t(x)"),
                              {"ids": ids})


def features(event: EnrichedArticle, minhash: list[int]) -> cluster.StoryFeatures:
    """What :func:`enrich.cluster.story_score` compares, for one event."""
    return cluster.StoryFeatures(
        minhash=minhash,
        published_at=_utc(event.article.published_at),
        entities=frozenset(e.id for e in event.entities),
        topics=frozenset(t.name for t in event.topics),
    )


def _row_features(row: Any) -> cluster.StoryFeatures:
    return cluster.StoryFeatures(minhash=list(row.minhash), published_at=_utc(row.published_at),
                                 entities=frozenset(row.entities or ()), topics=frozenset(row.topics or ()))


@functools.cache
def _bucket_reads(n: int) -> CompoundSelect:
    """``n`` bucket reads in one statement, built once per key count so its compiled form is reused."""
    lo = bindparam("lo", type_=story_bands.c.published_at.type)
    hi = bindparam("hi", type_=story_bands.c.published_at.type)
    per_band = [
        select(story_bands.c.article_id)
        .where(story_bands.c.band == bindparam(f"b{i}"), story_bands.c.published_at >= lo,
               story_bands.c.published_at <= hi)
        .order_by(story_bands.c.published_at.desc())
        .limit(bindparam("cap", type_=Integer))
        .subquery()
        for i in range(n)
    ]
    return union_all(*(select(q.c.article_id) for q in per_band))


async def candidate_ids(session: AsyncSession, *, article_id: str, bands: Sequence[str], published_at: datetime,
                        window_s: float, max_candidates: int, bucket_cap: int) -> list[str]:
    """Articles sharing band keys with a new one inside the window, those sharing the most keys first.

    Each key reads at most its ``bucket_cap`` newest articles (one index range scan on (band,
    published_at)), so a bucket filled by boilerplate or a report syndicated to hundreds of outlets costs
    the same as any other; such an article's story still shows up through its newest members.
    """
    keys = list(dict.fromkeys(bands))
    if not keys:
        return []
    window = timedelta(seconds=window_s)
    params: dict[str, Any] = {f"b{i}": key for i, key in enumerate(keys)}
    params.update(lo=published_at - window, hi=published_at + window, cap=bucket_cap)
    shared = Counter(row[0] for row in await session.execute(_bucket_reads(len(keys)), params))
    shared.pop(article_id, None)
    return sorted(shared, key=lambda a: (-shared[a], a))[:max_candidates]


async def assign_story(session: AsyncSession, *, event: EnrichedArticle, window_s: float, threshold: float,
                       max_candidates: int = _DEFAULTS["cluster_max_candidates"].default,
                       bucket_cap: int = _DEFAULTS["cluster_bucket_cap"].default) -> str:
    """The story a new article joins (else its own id); records its bands and signature under that story.

    Idempotent: an article already recorded keeps the story it was given.
    """
    known = await session.scalar(
        select(article_signatures.c.story_id).where(article_signatures.c.article_id == event.id))
    if known is not None:
        return str(known)
    minhash, bands = _signature(event)
    me = features(event, minhash)
    story_id = event.id
    ids = await candidate_ids(session, article_id=event.id, bands=bands, published_at=me.published_at,
                              window_s=window_s, max_candidates=max_candidates, bucket_cap=bucket_cap)
    if ids:
        rows = (await session.execute(
            select(article_signatures)
            .where(article_signatures.c.article_id.in_(ids))
            .order_by(article_signatures.c.published_at, article_signatures.c.article_id)
        )).all()
        story_id = cluster.best_story(event.id, ((r.story_id, _row_features(r)) for r in rows), me,
                                      threshold=threshold, window_s=window_s)
    await session.execute(insert(article_signatures).values(
        article_id=event.id, story_id=story_id, minhash=minhash, entities=sorted(me.entities),
        topics=sorted(me.topics), published_at=me.published_at))
    if bands:
        await session.execute(insert(story_bands), [
            {"band": b, "article_id": event.id, "story_id": story_id, "published_at": me.published_at}
            for b in dict.fromkeys(bands)])
    return story_id


async def refresh_signature(session: AsyncSession, *, event: EnrichedArticle) -> None:
    """After a re-tag: keep a recorded article's entities and topics current (its story never changes)."""
    await session.execute(
        update(article_signatures).where(article_signatures.c.article_id == event.id).values(
            entities=sorted({e.id for e in event.entities}), topics=sorted({t.name for t in event.topics})))
