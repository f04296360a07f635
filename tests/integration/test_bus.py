"""aiokafka against the real Kafka 4.x broker: the calls Wirewatch relies on."""

from __future__ import annotations

import pytest

from services import bus

pytestmark = pytest.mark.kafka


async def test_topics_idempotent_producer_transactions_and_commits(kafka_bootstrap, make_settings, unique_topics):
    settings = make_settings(kafka_bootstrap=kafka_bootstrap, kafka_partitions=2, **unique_topics)
    created = await bus.ensure_topics(settings)
    assert set(created) == {settings.topic_raw, settings.topic_enriched, settings.topic_feeds}
    assert await bus.ensure_topics(settings) == []  # idempotent

    producer = bus.producer(settings, name="t-txn", transactional_id=f"{unique_topics['group_sink']}-txn")
    async with bus.started(producer):
        async with producer.transaction():
            await producer.send_and_wait(settings.topic_raw, b"committed", key=b"k1")
        await producer.begin_transaction()
        await producer.send_and_wait(settings.topic_raw, b"aborted", key=b"k2")
        await producer.abort_transaction()
        async with producer.transaction():
            await producer.send_and_wait(settings.topic_raw, b"committed-2", key=b"k1")

    consumer = bus.consumer(settings, settings.topic_raw, group=settings.group_sink, name="t-consumer")
    seen: list[bytes] = []
    async with bus.started(consumer):
        while len(seen) < 2:
            batches = await consumer.getmany(timeout_ms=5000)
            assert batches, "no records within 5 s"
            for recs in batches.values():
                seen.extend(r.value for r in recs)
        await consumer.commit()
        tp = next(iter(consumer.assignment()))
        assert await consumer.committed(tp) is not None
    assert seen == [b"committed", b"committed-2"]  # same key -> same partition, in order; abort invisible
    assert await bus.ping(settings)


async def test_ping_fails_cleanly_without_broker(make_settings):
    from tests.conftest import free_port

    settings = make_settings(kafka_bootstrap=f"127.0.0.1:{free_port()}")
    assert await bus.ping(settings, timeout=2) is False
