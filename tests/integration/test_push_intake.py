"""The WebSub push intake (ingest.push) on its own: a pushed body reaches articles.raw through the component,
which owns its producer: none before the first push, none left after stop, and a Kafka that is down costs
the push (the hub retries), never the API's start."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiokafka.errors import KafkaError

from ingest.push import IntakeClosed, PushIntake
from services import bus
from services.clock import utcnow
from services.db import feeds as repo
from services.settings import Settings
from tests.feedserver import rss
from tests.integration.test_ingest_service import read_all, store

ITEMS = [{"title": f"Truce talks, day {i}", "link": f"https://news.example.org/{i}", "description": "talks",
          "pubDate": "Mon, 02 Mar 2026 10:00:00 GMT"} for i in range(3)]


@pytest.mark.kafka
async def test_a_push_reaches_kafka_and_stop_stops_the_producer(
        kafka_bootstrap: str, make_settings: Callable[..., Settings], unique_topics: dict[str, str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    s = make_settings(kafka_bootstrap=kafka_bootstrap, **unique_topics)
    await bus.ensure_topics(s)
    async with store(s) as sessions:
        async with sessions() as session:
            feed = await repo.add_feed(session, url="https://news.example.org/rss", title="Example wire")
        intake = PushIntake(s, sessions)
        assert intake.producer is None  # nothing connects before the first push
        outcome = await intake.accept(rss("Example wire", ITEMS), feed_id=feed.id, feed_url=feed.url,
                                      source=feed.title, content_type="application/rss+xml", now=utcnow())
        assert outcome is not None and outcome.new == 3
        html = await intake.accept(b"<html><body>no feed here</body></html>", feed_id=feed.id, feed_url=feed.url,
                                   source=feed.title, content_type="text/html", now=utcnow())
        assert html is None  # not a feed: logged and dropped, nothing published
        records = await read_all(s, 3)  # accept returned: Kafka already has them
        assert len(records) == 3 and {(a.via, a.feed_id, a.source) for a in records} == {
            ("push", feed.id, "Example wire")}
        again = await intake.accept(rss("Example wire", ITEMS), feed_id=feed.id, feed_url=feed.url,
                                    source=feed.title, content_type="application/rss+xml", now=utcnow())
        assert again is not None and again.new == 0 and again.unchanged == 3  # deduplicated like a poll

        producer = intake.producer
        assert producer is not None
        stopped: list[Any] = []
        real_stop = producer.stop

        async def recording_stop() -> None:
            stopped.append(producer)
            await real_stop()

        monkeypatch.setattr(producer, "stop", recording_stop)
        async with intake:  # leaving the block stops it, as the app's lifespan does
            pass
        assert stopped == [producer] and intake.producer is None
        await intake.stop()  # idempotent
        assert stopped == [producer]
        with pytest.raises(IntakeClosed):
            await intake.accept(b"<rss/>", feed_id=feed.id, feed_url=feed.url, source="", content_type="",
                                now=utcnow())


async def test_kafka_down_fails_the_push_not_the_intake(make_settings: Callable[..., Settings]) -> None:
    s = make_settings(kafka_bootstrap="127.0.0.1:1", kafka_request_timeout_ms=2000)
    async with store(s) as sessions, PushIntake(s, sessions) as intake:
        for _ in range(2):  # each push tries to connect again; a failed start leaves no producer behind
            with pytest.raises((KafkaError, OSError)):
                await intake.accept(rss("x", ITEMS), feed_id=1, feed_url="https://x.example/", source="",
                                    content_type="application/rss+xml", now=utcnow())
            assert intake.producer is None
