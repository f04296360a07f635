"""The store sink's batch taking (api/sink/service.py ``take``): a backlog waits for a fuller batch, a fresh
article never does.

Spec: a poll of fresh articles is the batch, as it was; a poll whose newest article was fetched longer ago
than ``sink_backlog_age_s`` keeps polling for up to ``sink_backlog_linger_ms`` until ``sink_max_batch``
records, and stops as soon as a poll brings a fresh one; each partition's records keep their order, the
partitions in order, the events those of the records (an undecodable record is skipped, as before);
``sink_backlog_linger_ms = 0`` never waits.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from aiokafka import TopicPartition
from aiokafka.structs import ConsumerRecord

from api.sink import service
from services.clock import utcnow
from services.events import EnrichedArticle, RawArticle
from services.settings import Settings

TOPIC = "articles.enriched"


def _record(partition: int, offset: int, age_s: float) -> ConsumerRecord[bytes, bytes]:
    link = f"https://example.org/{partition}/{offset}"
    when = utcnow() - timedelta(seconds=age_s)
    ev = EnrichedArticle(article=RawArticle(id=f"p{partition}o{offset}", url=link, title=f"t {offset}",
                                            published_at=when, fetched_at=when),
                         lang="en", taxonomy_version="t")
    return ConsumerRecord(TOPIC, partition, offset, 0, 0, ev.id.encode(), ev.to_bytes(), None, 0, 0, ())


class FakeConsumer:
    """Hands out the queued polls one per getmany (at most ``max_records``), then nothing after the timeout."""

    def __init__(self, polls: list[dict[int, list[ConsumerRecord[bytes, bytes]]]]) -> None:
        self.polls = polls
        self.calls: list[int] = []

    async def getmany(self, *, timeout_ms: int, max_records: int) -> dict[TopicPartition, list]:
        self.calls.append(max_records)
        if not self.polls:
            await asyncio.sleep(timeout_ms / 1000)
            return {}
        poll = self.polls.pop(0)
        return {TopicPartition(TOPIC, p): recs[:max_records] for p, recs in poll.items()}


def _settings(**kw: object) -> Settings:
    return Settings(**{"sink_max_batch": 10, "sink_backlog_age_s": 5.0, "sink_backlog_linger_ms": 300, **kw})


async def test_a_fresh_poll_is_the_batch() -> None:
    consumer = FakeConsumer([{0: [_record(0, 0, 0.1)]}, {0: [_record(0, 1, 0.1)]}])
    records, events = (await service.take(_settings(), consumer)).batch()  # type: ignore[arg-type]
    assert [r.offset for r in records] == [0] and [e.id for e in events] == ["p0o0"]
    assert len(consumer.calls) == 1


async def test_a_backlog_waits_for_a_fuller_batch_in_partition_order() -> None:
    consumer = FakeConsumer([{1: [_record(1, 0, 60)], 0: [_record(0, 0, 60)]},
                             {0: [_record(0, 1, 60), _record(0, 2, 60)]},
                             {1: [_record(1, 1, 60)]}])
    records, events = (await service.take(_settings(), consumer)).batch()  # type: ignore[arg-type]
    assert [(r.partition, r.offset) for r in records] == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1)]
    assert [e.id for e in events] == ["p0o0", "p0o1", "p0o2", "p1o0", "p1o1"]
    assert consumer.calls[:3] == [10, 8, 6]  # never more than sink_max_batch in all


async def test_a_backlog_batch_stops_at_the_cap_and_at_a_fresh_article() -> None:
    full = FakeConsumer([{0: [_record(0, k, 60) for k in range(6)]}, {0: [_record(0, k, 60) for k in range(6, 12)]},
                         {0: [_record(0, 12, 60)]}])
    records, _ = (await service.take(_settings(), full)).batch()  # type: ignore[arg-type]
    assert len(records) == 10 and len(full.calls) == 2
    fresh = FakeConsumer([{0: [_record(0, 0, 60)]}, {0: [_record(0, 1, 0.1)]}, {0: [_record(0, 2, 60)]}])
    records, _ = (await service.take(_settings(), fresh)).batch()  # type: ignore[arg-type]
    assert [r.offset for r in records] == [0, 1] and len(fresh.calls) == 2


async def test_no_linger_and_undecodable_records() -> None:
    bad = ConsumerRecord(TOPIC, 0, 1, 0, 0, b"x", b"not json", None, 0, 0, ())
    consumer = FakeConsumer([{0: [_record(0, 0, 60), bad]}, {0: [_record(0, 2, 60)]}])
    records, events = (await service.take(_settings(sink_backlog_linger_ms=0), consumer)).batch()  # type: ignore[arg-type]
    assert [r.offset for r in records] == [0, 1] and [e.id for e in events] == ["p0o0"]
    assert len(consumer.calls) == 1


async def test_an_empty_poll_waits_no_longer() -> None:
    consumer = FakeConsumer([{0: [_record(0, 0, 60)]}])
    loop = asyncio.get_running_loop()
    started = loop.time()
    records, _ = (await service.take(_settings(sink_backlog_linger_ms=200), consumer)).batch()  # type: ignore[arg-type]
    assert len(records) == 1 and 0.15 <= loop.time() - started < 1.0
