"""The freshness bench's background stream (tests/bench/freshness.py) really is load: its producer process
puts the asked-for rate of decodable articles on the topic, none of which the measured subscription
(``q=feed``) could match. A correctness check of the tool, not a timed benchmark."""

from __future__ import annotations

import asyncio
import random
import time

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from services import bus
from services.events import EnrichedArticle, RawArticle
from services.matching import fold, search_terms
from tests.bench.freshness import HOOK, Background, background_event

pytestmark = pytest.mark.kafka


def test_background_events_decode_and_never_match_the_measured_subscription():
    rnd = random.Random(1)
    raws = [RawArticle.from_bytes(background_event(n, rnd, "raw", "r1")[1]) for n in range(200)]
    enr = [EnrichedArticle.from_bytes(background_event(n, rnd, "enriched", "r1")[1]) for n in range(200)]
    assert len({a.id for a in raws}) == 200 and {e.id for e in enr} == {a.id for a in raws}
    assert all(e.story_id == e.id and not e.ceasefires for e in enr)  # distinct stories, nothing to track
    words = {fold(t) for t in search_terms(HOOK["q"])}
    for a in raws:
        assert not words & {fold(t) for t in search_terms(f"{a.title} {a.summary}")}, a.title


async def test_the_background_process_sends_the_rate_it_was_asked_for(kafka_bootstrap, make_settings, unique_topics):
    settings = make_settings(kafka_bootstrap=kafka_bootstrap, **unique_topics)
    await bus.ensure_topics(settings)
    rate = 80.0
    with Background(kafka_bootstrap, settings.topic_raw, rate, "raw") as bg:
        deadline = time.monotonic() + 60
        while bg.sent()["sent"] < 3 * rate:  # three seconds' worth, after the process started
            assert time.monotonic() < deadline and bg.proc is not None and bg.proc.poll() is None, bg.sent()
            await asyncio.sleep(0.2)
        figures = bg.sent()
    assert 0.8 * rate <= figures["rps"] <= 1.2 * rate, figures

    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = [TopicPartition(settings.topic_raw, p) for p in range(settings.kafka_partitions)]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        ends = await consumer.end_offsets(parts)
        got: list[RawArticle] = []
        while len(got) < sum(ends.values()):
            batch = await consumer.getmany(timeout_ms=5000)
            assert batch, f"no records within 5 s; have {len(got)} of {sum(ends.values())}"
            got += [RawArticle.from_bytes(r.value or b"") for recs in batch.values() for r in recs]
    finally:
        await consumer.stop()
    assert len(got) >= figures["sent"] and len({a.id for a in got}) == len(got)
