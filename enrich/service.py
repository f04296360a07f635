"""The enrichment worker: ``articles.raw`` -> Enricher -> ``articles.enriched``, in a consumer group.

With ``WIREWATCH_KAFKA_TRANSACTIONAL`` (default) each batch is one Kafka
transaction: the enriched records and the consumed offsets commit together
(consume-transform-produce), and downstream consumers read_committed, so a
crash never duplicates or loses a record. Without it, offsets are committed only
after the produce is acknowledged (at-least-once; downstream upserts are idempotent).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.structs import ConsumerRecord
from pydantic import ValidationError

from services import bus, metrics
from services.clock import utcnow
from services.events import EnrichedArticle, RawArticle
from services.runtime import wait_or_stop
from services.settings import Settings
from services.worker import consumer_worker

log = logging.getLogger(__name__)


def decode(records: list[ConsumerRecord[bytes, bytes]]) -> list[RawArticle]:
    """Decode raw records; a record that is not a valid raw article is counted and dropped."""
    out: list[RawArticle] = []
    for rec in records:
        try:
            out.append(RawArticle.from_bytes(rec.value or b""))
        except ValidationError as exc:
            metrics.ENRICH_ERRORS.labels(reason="schema").inc()
            log.error("dropping undecodable raw record", extra={"offset": rec.offset, "error": str(exc)[:300]})
    return out


async def _enrich(enricher: object, articles: list[RawArticle]) -> list[EnrichedArticle]:
    started = time.perf_counter()
    # spaCy is CPU-bound: a worker thread keeps the consumer's heartbeats flowing meanwhile.
    result: list[EnrichedArticle] = await asyncio.to_thread(enricher.enrich, articles)  # type: ignore[attr-defined]
    metrics.ENRICH_LATENCY.observe(time.perf_counter() - started)
    return result


async def process_batch(
    settings: Settings,
    enricher: object,
    consumer: AIOKafkaConsumer,
    producer: AIOKafkaProducer,
    batches: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]],
) -> int:
    """Enrich and produce one poll's records, then commit their offsets (atomically when transactional)."""
    records = [r for recs in batches.values() for r in recs]
    enriched = await _enrich(enricher, decode(records))
    offsets = {tp: recs[-1].offset + 1 for tp, recs in batches.items()}

    async def _send_all() -> None:
        futures = [await producer.send(settings.topic_enriched, ev.to_bytes(), key=ev.id.encode())
                   for ev in enriched]
        for fut in futures:
            await fut

    if settings.kafka_transactional:
        async with producer.transaction():
            await _send_all()
            await producer.send_offsets_to_transaction(offsets, settings.group_enrich)
    else:
        await _send_all()
        await consumer.commit(offsets)
    for ev in enriched:
        metrics.ENRICHED.inc()
        metrics.FRESHNESS.labels(stage="enriched").observe(max((utcnow() - ev.article.fetched_at).total_seconds(), 0))
        log.info("enriched", extra={"article_id": ev.id, "topics": [t.name for t in ev.topics]})
    return len(enriched)


def new_producer(settings: Settings) -> AIOKafkaProducer:
    txn_id = f"{settings.group_enrich}-{uuid.uuid4().hex[:12]}" if settings.kafka_transactional else None
    return bus.producer(settings, name="enrich", transactional_id=txn_id)


async def fresh_producer(settings: Settings, failed: AIOKafkaProducer, stop: asyncio.Event) -> AIOKafkaProducer:
    """Drop a producer whose send or transaction failed and start a new one once Kafka answers."""
    with contextlib.suppress(KafkaError, OSError):
        await failed.stop()
    producer = new_producer(settings)
    while not stop.is_set():
        try:
            await producer.start()
            break
        except (KafkaError, OSError) as exc:
            log.warning("producer cannot start yet: %r", exc)
            await wait_or_stop(stop, 2.0)
    return producer


async def main(settings: Settings, stop: asyncio.Event) -> None:
    from enrich.pipeline import Enricher

    enricher = await asyncio.to_thread(Enricher, settings)
    warming = asyncio.create_task(asyncio.to_thread(enricher.warm))  # meanwhile the consumer joins its group
    producer = new_producer(settings)
    await producer.start()
    try:
        # The store is used only for the heartbeat row: enrichment itself never touches it.
        async with consumer_worker(settings, service="enrich", topic=settings.topic_raw,
                                   group=settings.group_enrich, stop=stop) as w:
            await warming
            log.info("enrich consuming %s as group %s", settings.topic_raw, settings.group_enrich)
            while not stop.is_set():
                batches = await w.consumer.getmany(timeout_ms=500, max_records=settings.enrich_poll_records)
                if not batches:
                    continue
                try:
                    await process_batch(settings, enricher, w.consumer, producer, batches)
                except KafkaError as exc:
                    # Broker gone or the transaction failed: nothing was committed, so rewind to the
                    # batch's first offsets and try again with a fresh producer.
                    log.warning("produce failed, retrying the batch: %r", exc)
                    for tp, recs in batches.items():
                        with contextlib.suppress(KafkaError):  # revoked meanwhile: its new owner re-reads it
                            w.consumer.seek(tp, recs[0].offset)
                    producer = await fresh_producer(settings, producer, stop)
    finally:
        with contextlib.suppress(KafkaError, OSError):
            await producer.stop()
