"""A timeline through real Kafka into each store (SQLite and PostgreSQL): the sink's and the tracker's own
consume loops, the dispatcher's sender to a real receiver, the API under uvicorn for the live stream.

Checks: the records and their state changes are what the pure merge gives; every change arrives once on
the stream and as exactly one signed webhook (Standard Webhooks, verified); a subscriber that did not ask
for ceasefire events gets none; the whole topic consumed again by a fresh group adds nothing.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy import func, select
from standardwebhooks import Webhook as Verifier

from api.http.app import create_app
from api.sink.service import consume as sink_consume
from api.tracker.service import consume as tracker_consume
from api.webhooks import dispatcher
from services import bus
from services.db.engine import make_engine, make_sessions
from services.db.models import CeasefireChange, Delivery, TrackedArticle
from tests.conftest import free_port
from tests.eval.tracker import run_timeline
from tests.integration.test_api_stream import Events
from tests.integration.test_tracker_store import TIMELINE, events_of, expected, stored
from tests.receiver import Receiver
from tests.waiting import poll

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def enricher():
    from enrich.pipeline import shared_enricher

    return shared_enricher()


@asynccontextmanager
async def served(settings: Any) -> AsyncIterator[str]:
    """The app under uvicorn on a free port, in this event loop."""
    app = create_app(settings)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="on", log_level="warning",
                                           timeout_graceful_shutdown=2))
    task = asyncio.create_task(server.serve())
    await poll(lambda: asyncio.sleep(0, server.started or task.done()), 20, "uvicorn to start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


def group_consumer(settings: Any, group: str) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(settings.topic_enriched, bootstrap_servers=settings.kafka_bootstrap, group_id=group,
                            enable_auto_commit=False, auto_offset_reset="earliest", isolation_level="read_committed")


async def count(sessions: Any, model: Any) -> int:
    async with sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_timeline_through_kafka_and_the_store_to_stream_and_webhooks(
        enricher, store_url, kafka_bootstrap, unique_topics, make_settings):
    tag = uuid.uuid4().hex[:8]
    settings = make_settings(database_url=store_url, kafka_bootstrap=kafka_bootstrap, **unique_topics,
                             kafka_partitions=1, kafka_max_batch=3,
                             sse_poll_interval_s=0.1, sse_keepalive_s=1, tracker_store_wait_s=0.05,
                             webhook_poll_interval_s=0.1)
    await bus.ensure_topics(settings)
    events = events_of(enricher, TIMELINE)
    want = expected(run_timeline(TIMELINE, enricher))
    n_changes = sum(len(h) for _, _, h in want.values())
    engine = make_engine(settings)
    sessions = make_sessions(engine)
    stop = asyncio.Event()
    admin = {"Authorization": f"Bearer {settings.admin_token}"}
    sink_c, tracker_c = group_consumer(settings, settings.group_sink), group_consumer(settings, settings.group_tracker)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, enable_idempotence=True)
    async with served(settings) as base, Receiver() as rx, httpx.AsyncClient(base_url=base, timeout=10) as api, \
            bus.started(producer), bus.started(sink_c), bus.started(tracker_c):
        hook = (await api.post("/webhooks", headers=admin, json={
            "url": rx.url("/ceasefires"), "events": ["ceasefire.created", "ceasefire.state_changed"]})).json()
        assert hook["events"] == ["ceasefire.created", "ceasefire.state_changed"], hook
        await api.post("/webhooks", headers=admin, json={"url": rx.url("/stories"), "topics": ["ceasefire"]})
        bad = await api.post("/webhooks", headers=admin, json={"url": rx.url(), "events": ["ceasefire.signed"]})
        assert bad.status_code == 422 and "ceasefire.state_changed" in bad.text
        async with api.stream("GET", "/ceasefires/stream") as sse:
            stream = Events(sse)
            await stream.ready()
            for e in events:
                await producer.send_and_wait(settings.topic_enriched, e.to_bytes(), key=e.id.encode())
            async with httpx.AsyncClient(timeout=5) as client:
                sender = dispatcher.Sender(settings, sessions, client)
                tasks = [asyncio.create_task(sink_consume(settings, sessions, sink_c, stop)),
                         asyncio.create_task(tracker_consume(settings, sessions, tracker_c, stop)),
                         asyncio.create_task(dispatcher.send_loop(settings, sender, stop, asyncio.Event()))]
                got = [await stream.next(timeout=60) for _ in range(n_changes)]
                await rx.wait_for(n_changes, "/ceasefires", timeout=60)
                await asyncio.sleep(1)  # nothing more may come
                stop.set()
                await asyncio.gather(*tasks)
        assert await stored(sessions) == want
        assert [g["event"] for g in got].count("ceasefire.created") == len(want) == 4
        assert {json.loads(g["data"])["id"] for g in got} == set(want)
        hits = rx.on("/ceasefires")
        assert len(hits) == n_changes and len({h.headers["webhook-id"] for h in hits}) == n_changes
        bodies = [Verifier(hook["secret"]).verify(h.body, h.headers) for h in hits]
        assert sorted((b["data"]["id"], b["data"]["change"]["seq"]) for b in bodies) == sorted(
            (cid, seq) for cid, (_, _, h) in want.items() for seq in range(1, len(h) + 1))
        assert all(h.path != "/stories" or json.loads(h.body)["type"].startswith("story.") for h in rx.requests)
        listed = (await api.get("/ceasefires")).json()["items"]
        assert {i["id"] for i in listed} == set(want) and all(i["stories"] for i in listed)

    # Everything consumed again by a new group (a replay from the start): nothing is added anywhere.
    replay, again = group_consumer(settings, f"g{tag}-replay"), asyncio.Event()
    async with bus.started(replay):
        task = asyncio.create_task(tracker_consume(settings, sessions, replay, again))
        await poll(lambda: _caught_up(replay), 60, "the replay to reach the end of the topic")
        again.set()
        await task
    assert await stored(sessions) == want
    assert await count(sessions, CeasefireChange) == n_changes
    assert await count(sessions, Delivery) == n_changes  # story events are the dispatcher's (not running here)
    assert await count(sessions, TrackedArticle) == len([e for e in events if e.ceasefires])
    await engine.dispose()


async def _caught_up(consumer: AIOKafkaConsumer) -> bool:
    parts = consumer.assignment()
    if not parts:
        return False
    ends = await consumer.end_offsets(list(parts))
    for tp, end in ends.items():
        if await consumer.committed(tp) != end:
            return False
    return True
