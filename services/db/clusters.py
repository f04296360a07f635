"""Story clustering index: which story a newly stored article joins.

Why: the same event reported by several outlets must become one story. The
store sink (the single writer of stories) calls :func:`assign_story` for every
article it has not stored before; the decision itself is the pure
``enrich.cluster.story_score``, this module only finds the candidates (articles
sharing a MinHash LSH band key, published inside the window) and records the
new article's bands and signature. Tables live in migration 0004.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Column, DateTime, MetaData, String, Table, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from enrich import cluster
from services.events import EnrichedArticle

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
MAX_CANDIDATES = 200  # articles scored per new article; band keys are selective, this only caps a pathology


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


async def assign_story(session: AsyncSession, *, event: EnrichedArticle, window_s: float, threshold: float) -> str:
    """The story a new article joins (else its own id); records its bands and signature under that story.

    Idempotent: an article already recorded keeps the story it was given.
    """
    known = await session.scalar(
        select(article_signatures.c.story_id).where(article_signatures.c.article_id == event.id))
    if known is not None:
        return str(known)
    minhash, bands = _signature(event)
    me = features(event, minhash)
    window = timedelta(seconds=window_s)
    story_id = event.id
    if bands:
        hits = (
            select(story_bands.c.article_id)
            .where(story_bands.c.band.in_(bands),
                   story_bands.c.published_at >= me.published_at - window,
                   story_bands.c.published_at <= me.published_at + window,
                   story_bands.c.article_id != event.id)
            .distinct()
            .limit(MAX_CANDIDATES)
        )
        rows = (await session.execute(
            select(article_signatures)
            .where(article_signatures.c.article_id.in_(hits))
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
