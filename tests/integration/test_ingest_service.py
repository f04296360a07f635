"""The ingest service against real Kafka: publishes each article once, survives re-polls, and shares
feeds between two ingesters through consumer-group assignment (no feed fetched by both at once)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import AIOKafkaConsumer

from ingest.opml import OutlineFeed
from ingest.service import Ingester, running_ingester
from services import bus
from services.db import feeds as repo
from services.db.engine import Sessions, make_engine, make_sessions
from services.db.migrate import upgrade_async
from services.events import RawArticle
from services.settings import Settings
from tests.farm import Farm

pytestmark = pytest.mark.kafka


async def read_all(settings: Settings, expect_at_least: int, idle_s: float = 1.5) -> list[RawArticle]:
    """Every record on topic_raw (waits until ``expect_at_least`` arrived and then ``idle_s`` of silence)."""
    consumer = AIOKafkaConsumer(settings.topic_raw, bootstrap_servers=settings.kafka_bootstrap,
                                auto_offset_reset="earliest", enable_auto_commit=False)
    out: list[RawArticle] = []
    async with bus.started(consumer):
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 20
        last = loop.time()
        while loop.time() < deadline:
            batch = await consumer.getmany(timeout_ms=300)
            got = [RawArticle.from_bytes(r.value) for recs in batch.values() for r in recs]
            out.extend(got)
            if got:
                last = loop.time()
            elif len(out) >= expect_at_least and loop.time() - last > idle_s:
                break
    return out


@contextlib.asynccontextmanager
async def store(settings: Settings) -> AsyncIterator[Sessions]:
    await upgrade_async(settings)
    engine = make_engine(settings)
    try:
        yield make_sessions(engine)
    finally:
        await engine.dispose()


async def add_farm_feeds(sessions: Sessions, farm: Farm, n: int, **kw: object) -> None:
    async with sessions() as session:
        await repo.import_opml(session, feeds=[OutlineFeed(farm.url(i), "", "", ["farm"]) for i in range(n)],
                               now=datetime.now(UTC))
        if kw:
            for f in await repo.list_feeds(session):
                await repo.update_feed(session, feed_id=f.id, **kw)


async def poll_all(ing: Ingester) -> None:
    await ing.tick()
    await asyncio.gather(*ing.inflight.values())


async def test_publishes_once_and_updates_on_change(kafka_bootstrap: str, make_settings: Callable[..., Settings],
                                                    unique_topics: dict[str, str]) -> None:
    s = make_settings(kafka_bootstrap=kafka_bootstrap, fetch_per_host_min_spacing_s=0, **unique_topics)
    await bus.ensure_topics(s)
    async with Farm(feeds=4) as farm, store(s) as sessions, running_ingester(s, sessions,
                                                                             use_assignment=False) as ing:
        await add_farm_feeds(sessions, farm, 4)
        await poll_all(ing)
        first = await read_all(s, 40)
        assert len(first) == 40 and len({a.id for a in first}) == 40
        assert all(a.feed_id and a.lang == "en" and not a.is_update for a in first)
        # A re-poll (304), an unconditional re-poll (same body) and a new item: exactly one more record.
        for fid in range(1, 5):
            await ing.poll_once(fid)
        async with sessions() as session:
            for f in await repo.list_feeds(session):
                await repo.update_feed(session, feed_id=f.id, next_check_at=None)
                assert f.consecutive_failures == 0 and f.items_total == 10 and f.etag
        farm.publish(0)
        await poll_all(ing)
        for fid in range(1, 5):
            report = await ing.poll_once(fid)
            assert report.error_class is None
        everything = await read_all(s, 41)
        assert len(everything) == 41 and len({a.id for a in everything}) == 41


async def test_failing_feeds_are_recorded_and_loop_survives(kafka_bootstrap: str,
                                                            make_settings: Callable[..., Settings],
                                                            unique_topics: dict[str, str]) -> None:
    s = make_settings(kafka_bootstrap=kafka_bootstrap, fetch_per_host_min_spacing_s=0, fetch_total_timeout_s=2,
                      scheduler_tick_s=0.1, **unique_topics)
    await bus.ensure_topics(s)
    async with Farm(feeds=1) as farm, store(s) as sessions, running_ingester(s, sessions,
                                                                             use_assignment=False) as ing:
        async with sessions() as session:
            for url in (farm.hostile("xxe"), farm.base + "/status/503", "http://127.0.0.1:1/x", farm.url(0)):
                await repo.add_feed(session, url=url, now=datetime.now(UTC))
        stop = asyncio.Event()
        runner = asyncio.create_task(ing.run(stop))
        await asyncio.sleep(1.5)
        stop.set()
        await runner
        async with sessions() as session:
            rows = {f.url: f for f in await repo.list_feeds(session)}
            failing = await repo.list_feeds(session, failing=True)
        assert rows[farm.hostile("xxe")].last_error_class == "parse"
        assert rows[farm.base + "/status/503"].last_error_class == "http"
        assert rows["http://127.0.0.1:1/x"].last_error_class == "tcp"
        assert rows[farm.url(0)].last_success_at is not None and rows[farm.url(0)].items_total == 10
        assert len(failing) == 3 and all(f.next_check_at > datetime.now(UTC) for f in failing)


async def test_feeds_on_a_schedule_are_polled_before_an_imports_first_polls(
        kafka_bootstrap: str, make_settings: Callable[..., Settings], unique_topics: dict[str, str]) -> None:
    """Ten feeds polled once and due again, then 40 imported: with room for 10 polls a tick, the ten go first
    (and one first poll per ten starts goes to the import, the floor share), not behind the import."""
    s = make_settings(kafka_bootstrap=kafka_bootstrap, fetch_per_host_min_spacing_s=0, fetch_global_concurrency=5,
                      fetch_per_host_concurrency=5, scheduler_first_poll_min_share=0.1, **unique_topics)
    await bus.ensure_topics(s)
    async with Farm(feeds=50, items=1) as farm, store(s) as sessions, running_ingester(s, sessions,
                                                                                       use_assignment=False) as ing:
        async with sessions() as session:
            await repo.import_opml(session, feeds=[OutlineFeed(farm.url(i), "", "", []) for i in range(10)],
                                   now=datetime.now(UTC))
        await poll_all(ing)
        async with sessions() as session:
            scheduled = {f.id for f in await repo.list_feeds(session)}
            assert len(scheduled) == 10
            for fid in scheduled:  # due again, and due later than the import below
                await repo.update_feed(session, feed_id=fid, next_check_at=datetime.now(UTC))
            await repo.import_opml(session, feeds=[OutlineFeed(farm.url(i), "", "", []) for i in range(10, 50)],
                                   now=datetime.now(UTC) - timedelta(hours=1))
        started = await ing.tick()
        picked = set(ing.inflight)
        await asyncio.gather(*ing.inflight.values())
        assert started == 10
        assert len(picked & scheduled) == 9 and len(picked - scheduled) == 1


async def test_a_full_table_drains_at_the_fetch_rate_not_a_room_per_tick(
        kafka_bootstrap: str, make_settings: Callable[..., Settings], unique_topics: dict[str, str]) -> None:
    """60 feeds due at once, room for 4 polls a tick, a 2 s tick: one room per tick would need 30 s; the
    scheduler goes on as soon as a poll ends, so all are polled in a few seconds."""
    s = make_settings(kafka_bootstrap=kafka_bootstrap, fetch_per_host_min_spacing_s=0, fetch_global_concurrency=2,
                      fetch_per_host_concurrency=2, scheduler_tick_s=2.0, **unique_topics)
    await bus.ensure_topics(s)
    async with Farm(feeds=60, items=1) as farm, store(s) as sessions, running_ingester(s, sessions,
                                                                                       use_assignment=False) as ing:
        await add_farm_feeds(sessions, farm, 60)
        stop = asyncio.Event()
        t0 = asyncio.get_running_loop().time()
        runner = asyncio.create_task(ing.run(stop))

        async def polled() -> int:
            async with sessions() as session:
                return sum(1 for f in await repo.list_feeds(session) if f.last_fetch_at is not None)

        while await polled() < 60 and asyncio.get_running_loop().time() - t0 < 20:
            await asyncio.sleep(0.2)
        took = asyncio.get_running_loop().time() - t0
        stop.set()
        await runner
        assert await polled() == 60
        assert took < 12, f"60 feeds took {took:.1f} s: the scheduler waited a whole tick per room"


async def test_two_ingesters_share_feeds_and_take_over(kafka_bootstrap: str, make_settings: Callable[..., Settings],
                                                       unique_topics: dict[str, str]) -> None:
    n_feeds = 200
    base = dict(kafka_bootstrap=kafka_bootstrap, fetch_per_host_min_spacing_s=0, fetch_per_host_concurrency=64,
                scheduler_tick_s=0.1, kafka_partitions=6, kafka_session_timeout_ms=6000,
                kafka_heartbeat_interval_ms=500, poll_min_interval_s=1, **unique_topics)
    sa = make_settings(user_agent="ingester-A", **base)
    sb = sa.model_copy(update={"user_agent": "ingester-B"})
    await bus.ensure_topics(sa)
    async with Farm(feeds=n_feeds, delay=0.01) as farm, store(sa) as sessions:
        await add_farm_feeds(sessions, farm, n_feeds, interval_override_s=2.0)
        stops = {"A": asyncio.Event(), "B": asyncio.Event()}
        ingesters: dict[str, Ingester] = {}

        async def run(name: str, settings: Settings) -> None:
            async with running_ingester(settings, sessions, name=f"ingest-{name}") as ing:
                ingesters[name] = ing
                assert ing.assignment is not None
                member = asyncio.create_task(ing.assignment.run(stops[name], name=f"ingest-{name}"))
                try:
                    await ing.run(stops[name])
                finally:
                    stops[name].set()
                    await member

        tasks = {k: asyncio.create_task(run(k, s)) for k, s in (("A", sa), ("B", sb))}

        async def until(cond: Callable[[], bool], timeout: float = 30) -> None:
            loop = asyncio.get_running_loop()
            end = loop.time() + timeout
            while not cond():
                assert loop.time() < end, "timed out"
                await asyncio.sleep(0.1)

        def owned(name: str) -> set[int]:
            ing = ingesters.get(name)
            return ing.assignment.owned if ing and ing.assignment else set()

        await until(lambda: owned("A") and owned("B") and owned("A") | owned("B") == set(range(6)))
        assert not owned("A") & owned("B")
        await asyncio.sleep(3)
        fetched_by = {ua: {i for i, u, _, _ in farm.fetch_log if u == ua} for ua in ("ingester-A", "ingester-B")}
        assert fetched_by["ingester-A"] and fetched_by["ingester-B"]

        stops["A"].set()
        await tasks["A"]
        await until(lambda: owned("B") == set(range(6)))
        mark = len(farm.fetch_log)
        await until(lambda: {i for i, u, _, _ in farm.fetch_log[mark:] if u == "ingester-B"} == set(range(n_feeds)),
                    timeout=25)
        stops["B"].set()
        await tasks["B"]
        assert max(farm.max_inflight.values()) == 1, "a feed was fetched by two ingesters at once"
        # Overlap check across instances on the full log, per feed.
        per_feed: dict[int, list[tuple[float, float, str]]] = {}
        for i, ua, start, end in farm.fetch_log:
            per_feed.setdefault(i, []).append((start, end, ua))
        for spans in per_feed.values():
            spans.sort()
            for (_s1, e1, u1), (s2, _e2, u2) in zip(spans, spans[1:], strict=False):
                assert u1 == u2 or s2 >= e1


async def test_ingest_heartbeats_and_serves_its_metrics(kafka_bootstrap: str, make_settings: Callable[..., Settings],
                                                        unique_topics: dict[str, str], tmp_path) -> None:
    """Like every worker, ingest writes a heartbeat (the dashboard lists it) and serves /readyz and /metrics."""
    import socket

    import httpx

    from ingest.service import main
    from services.db.engine import make_engine, make_sessions
    from services.db.heartbeats import list_heartbeats

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    opml = tmp_path / "none.opml"
    opml.write_text('<?xml version="1.0"?><opml version="2.0"><body/></opml>')
    s = make_settings(kafka_bootstrap=kafka_bootstrap, metrics_port=port, heartbeat_interval_s=0.5,
                      feeds_opml=opml, **unique_topics)
    stop = asyncio.Event()
    task = asyncio.create_task(main(s, stop))
    engine = make_engine(s)
    try:
        async with httpx.AsyncClient(timeout=2) as client:
            for _ in range(100):
                try:
                    ready = (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200
                except httpx.HTTPError:
                    ready = False
                beats = await list_heartbeats(make_sessions(engine)) if ready else []
                if any(b.service == "ingest" for b in beats):
                    break
                await asyncio.sleep(0.2)
            assert ready and any(b.service == "ingest" and b.metrics_url for b in beats)
            assert "wirewatch_ingest" in (await client.get(f"http://127.0.0.1:{port}/metrics")).text
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        await engine.dispose()
