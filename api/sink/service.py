"""The store sink: consumes ``articles.enriched`` in its own group and upserts into the store.

Offsets are committed only after the database transaction commits, and the
upsert is idempotent, so a crash between the two replays harmlessly.

Story clustering happens here because the sink is the single writer of stories:
an article not stored before joins the best-matching recent story
(services.db.clusters); an article already stored keeps its story, so a replay
never creates a duplicate story or moves an article.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import ConsumerRecord
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, OperationalError

from services import metrics
from services.clock import utcnow
from services.db.clusters import assign_story, lock_bands
from services.db.engine import Sessions
from services.db.models import Article
from services.db.stories import StoryChange, upsert_batch
from services.events import EnrichedArticle
from services.settings import Settings
from services.worker import consumer_worker

log = logging.getLogger(__name__)


_DEFAULTS = Settings.model_fields


async def store_batch(
    sessions: Sessions,
    records: list[ConsumerRecord[bytes, bytes]],
    *,
    window_s: float = _DEFAULTS["cluster_window_s"].default,
    threshold: float = _DEFAULTS["cluster_similarity"].default,
    max_candidates: int = _DEFAULTS["cluster_max_candidates"].default,
    bucket_cap: int = _DEFAULTS["cluster_bucket_cap"].default,
) -> list[StoryChange]:
    """Cluster and upsert a batch in one transaction; undecodable records are logged and skipped (never block)."""
    started = time.perf_counter()
    events: list[EnrichedArticle] = []
    for rec in records:
        try:
            events.append(EnrichedArticle.from_bytes(rec.value or b""))
        except ValidationError as exc:
            log.error("skipping undecodable record", extra={"offset": rec.offset, "error": str(exc)[:300]})
    async with sessions() as session, session.begin():
        await lock_bands(session, events)
        stored = set((await session.scalars(select(Article.id).where(Article.id.in_([e.id for e in events])))).all())
        for event in events:
            if event.id not in stored:
                event.story_id = await assign_story(session, event=event, window_s=window_s, threshold=threshold,
                                                    max_candidates=max_candidates, bucket_cap=bucket_cap)
        changes = await upsert_batch(session, events=events)
    for event, change in zip(events, changes, strict=True):
        metrics.STORED.labels(kind=change.article_kind).inc()
        if change.article_kind != "replay":
            lag = (utcnow() - event.article.fetched_at).total_seconds()
            metrics.FRESHNESS.labels(stage="stored").observe(max(lag, 0.0))
            log.info("stored", extra={"article_id": event.id, "story_id": change.story_id, "change": change.kind})
    metrics.SINK_LATENCY.observe(time.perf_counter() - started)
    return changes


async def store_until_written(sessions: Sessions, records: list[ConsumerRecord[bytes, bytes]], *,
                              retry_s: float = 1.0, **rules: Any) -> list[StoryChange]:
    """:func:`store_batch` until it is written: a store outage, or a race lost to another sink (SQLite's
    stale snapshot), retries the whole batch, which is idempotent."""
    while True:
        try:
            return await store_batch(sessions, records, **rules)
        except (OperationalError, DBAPIError, OSError) as exc:
            log.warning("store unavailable, retrying batch: %s", exc)
            await asyncio.sleep(retry_s)


async def consume(settings: Settings, sessions: Sessions, consumer: AIOKafkaConsumer, stop: asyncio.Event) -> None:
    """Poll, store, commit; on a store outage keep the batch and retry until it is written."""
    while not stop.is_set():
        batches = await consumer.getmany(timeout_ms=500, max_records=settings.kafka_max_batch)
        for _tp, records in batches.items():
            await store_until_written(sessions, records, window_s=settings.cluster_window_s,
                                      threshold=settings.cluster_similarity,
                                      max_candidates=settings.cluster_max_candidates,
                                      bucket_cap=settings.cluster_bucket_cap)
        if batches:
            await consumer.commit()


async def main(settings: Settings, stop: asyncio.Event) -> None:
    async with consumer_worker(settings, service="sink", topic=settings.topic_enriched, group=settings.group_sink,
                               stop=stop) as w:
        log.info("sink consuming %s as group %s", settings.topic_enriched, settings.group_sink)
        await consume(settings, w.sessions, w.consumer, stop)
