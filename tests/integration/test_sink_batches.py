"""The sink's bulk path (issue 16) stores what one article at a time stores, on SQLite and PostgreSQL.

Spec: a batch of 32 in a shuffled order leaves the stories that one article at a time in order leaves (the
same groups, each showing the same), both the pure grouping's; replaying it all changes nothing; a bucket
read keeps ``bucket_cap`` articles per key even when more tie at the cut, the same ones on both stores;
a batch's profiles are held parsed only once it committed; migration 0009 keeps the index rows both ways.
"""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiokafka.structs import ConsumerRecord
from sqlalchemy import select, text

from api.sink import assign, service
from api.sink.grouping import Grouping
from api.sink.linking import LinkRules, keys, profile_of
from api.sink.service import store_batch
from services.db.clusters import key_hits, key_rows, profile_statements, write_profiles
from services.db.engine import make_engine, make_sessions
from services.db.migrate import alembic_config, upgrade_async
from services.db.models import Article, Story
from services.events import EnrichedArticle
from services.settings import Settings
from tests.bench.sink import workload
from tests.conftest import _create_pg_database
from tests.factories import index_articles

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
VIEW = (Story.article_count, Story.headline, Story.sources, Story.topics, Story.entities, Story.state, Story.lang,
        Story.published_at, Story.languages)


async def _sibling(store_url: str, tmp_path: Path, name: str) -> str:
    """A second empty store on the same backend (not migrated)."""
    if store_url.startswith("sqlite"):
        return f"sqlite+aiosqlite:///{tmp_path / name}.db"
    return await _create_pg_database(store_url.rsplit("/", 1)[0])


def _records(events: list[EnrichedArticle]) -> list[ConsumerRecord[bytes, bytes]]:
    return [ConsumerRecord("articles.enriched", 0, i, 0, 0, e.id.encode(), e.to_bytes(), None, 0, 0, ())
            for i, e in enumerate(events)]


def _oracle(events: list[EnrichedArticle]) -> set[frozenset[str]]:
    g = Grouping(LinkRules())
    for ev in events:
        p = profile_of(ev, g.rules)
        g.add(p, keys(p, ev.cluster_bands))
    return {frozenset(arts) for arts in g.groups().values()}


async def _store(url: str, events: list[EnrichedArticle], batch: int) -> dict[frozenset[str], tuple]:
    """Store ``events`` in batches of ``batch``; each story's articles -> what it shows."""
    engine = make_engine(Settings(), url=url)
    sessions = make_sessions(engine)
    try:
        for k in range(0, len(events), batch):
            await store_batch(sessions, _records(events[k:k + batch]))
        async with sessions() as s:
            groups: dict[str, set[str]] = {}
            for aid, sid in (await s.execute(select(Article.id, Article.story_id))).all():
                groups.setdefault(sid, set()).add(aid)
            views = {r[0]: tuple(r[1:]) for r in (await s.execute(select(Story.id, *VIEW))).all()}
        assert set(groups) == set(views)
        return {frozenset(arts): views[sid] for sid, arts in groups.items()}
    finally:
        await engine.dispose()


async def test_a_shuffled_batch_stores_what_one_at_a_time_stores(store_url: str, tmp_path: Path) -> None:
    events = workload("syndicated", 96) + workload("distinct", 48, first=1_000)
    events.sort(key=lambda e: e.article.published_at)
    shuffled = events[:]
    random.Random(16).shuffle(shuffled)
    single_url = await _sibling(store_url, tmp_path, "single")
    await upgrade_async(Settings(), url=single_url)

    batched = await _store(store_url, [e.model_copy(deep=True) for e in shuffled], 32)
    singles = await _store(single_url, [e.model_copy(deep=True) for e in events], 1)
    assert set(batched) == set(singles) == _oracle(events)
    assert len(batched) == 1 + 48  # the copies are one story, each distinct report its own
    for group, shown in singles.items():
        assert batched[group] == shown

    engine = make_engine(Settings(), url=store_url)
    try:
        replay = [c for k in range(0, len(events), 32)
                  for c in await store_batch(make_sessions(engine), _records(events[k:k + 32]))]
    finally:
        await engine.dispose()
    assert {(c.kind, c.article_kind) for c in replay} == {("unchanged", "replay")}
    assert await _store(store_url, [], 32) == batched


async def test_a_bucket_read_keeps_the_cap_when_articles_tie_at_the_cut(store_url: str) -> None:
    rows = [{"key": "e:tie", "article_id": f"t{i:02d}", "published_at": T0} for i in range(40)]
    rows += [{"key": "e:tie", "article_id": f"old{i}", "published_at": T0 - timedelta(hours=1)} for i in range(5)]
    rows += [{"key": "e:few", "article_id": f"f{i}", "published_at": T0 - timedelta(minutes=i)} for i in range(3)]
    engine = make_engine(Settings(), url=store_url)
    try:
        async with make_sessions(engine)() as s, s.begin():
            await write_profiles(s, profile_statements(s.get_bind().dialect, index_articles(rows)))
        async with make_sessions(engine)() as s:
            hits = await key_hits(s, keys=["e:tie", "e:few", "e:none"], lo=T0 - timedelta(days=3),
                                  hi=T0 + timedelta(days=3), cap=25)
            raw = await key_rows(s, keys=["e:tie"], lo=T0 - timedelta(days=3), hi=T0 + timedelta(days=3), cap=25)
    finally:
        await engine.dispose()
    tie = [(a, w) for k, a, w in hits if k == "e:tie"]
    assert tie == [(f"t{i:02d}", T0) for i in range(39, 14, -1)]  # newest first, ties by id, highest first
    assert [a for k, a, _ in hits if k == "e:few"] == ["f0", "f1", "f2"]
    assert len(raw) == 25


async def test_profiles_are_held_parsed_only_once_the_batch_committed(store_url: str, monkeypatch) -> None:
    first, second = workload("distinct", 2, first=2_000)
    engine = make_engine(Settings(), url=store_url)
    sessions = make_sessions(engine)

    async def outage(*_a, **_k):  # type: ignore[no-untyped-def]
        raise OSError("store went away")

    try:
        await store_batch(sessions, _records([first]))
        async with sessions() as s:
            parsed = assign._parsed_profiles(s)
        assert first.id in parsed
        with monkeypatch.context() as m:
            m.setattr(service, "upsert_batch", outage)
            with pytest.raises(OSError):
                await store_batch(sessions, _records([second]))
        assert second.id not in parsed  # rolled back: nothing stored, nothing held
        await store_batch(sessions, _records([second]))
        assert second.id in parsed
    finally:
        await engine.dispose()


async def test_migration_0009_keeps_the_index_rows_both_ways(store_url: str, tmp_path: Path) -> None:
    from alembic import command

    url = await _sibling(store_url, tmp_path, "migrated")
    cfg = alembic_config(url)
    await asyncio.to_thread(command.upgrade, cfg, "0008")
    engine = make_engine(Settings(), url=url)
    when = T0.replace(tzinfo=None) if url.startswith("sqlite") else T0
    try:
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO profile_keys (key, article_id, published_at) VALUES "
                                    "('e:Q1', 'a1', :w), ('e:Q1', 'a2', :w), ('w:en:truce', 'a1', :w)"), {"w": when})
        await asyncio.to_thread(command.upgrade, cfg, "0009")
        async with engine.connect() as conn:  # the schema of 0009 (the code reads 0016's: see below)
            hits = (await conn.execute(text("SELECT key, article_id FROM profile_keys WHERE key IN ('e:Q1', "
                                            "'w:en:truce') AND published_at = :w"), {"w": when})).all()
        assert sorted((k, a) for k, a in hits) == [("e:Q1", "a1"), ("e:Q1", "a2"), ("w:en:truce", "a1")]
        await asyncio.to_thread(command.downgrade, cfg, "0008")
        async with engine.connect() as conn:
            n = (await conn.execute(text("SELECT count(*) FROM profile_keys"))).scalar_one()
        assert n == 3
    finally:
        await engine.dispose()


async def test_migration_0016_keeps_every_bucket_read(store_url: str, tmp_path: Path) -> None:
    """A store of 0015 with index rows, migrated to 0016, reads the same candidates (same articles, order
    and times, ties at the cap cut by article id, the window's edges), and its new articles join the index
    after the old ones; the downgrade keeps the profiles (the index rows cannot come back: ids are hashes)."""
    from alembic import command

    url = await _sibling(store_url, tmp_path, "compact")
    cfg = alembic_config(url)
    await asyncio.to_thread(command.upgrade, cfg, "0015")
    sqlite = url.startswith("sqlite")
    stored = {f"a{i:02d}": T0 + timedelta(minutes=i % 5, microseconds=7 * i) for i in range(20)}
    stored |= {f"tie{i}": T0 + timedelta(hours=1) for i in range(4)} | {"edge": T0 - timedelta(hours=2)}
    index = [(f"e:Q{i % 3}", aid) for i, aid in enumerate(stored)] + [("w:en:truce", aid) for aid in stored]
    index += [("e:tie", f"tie{i}") for i in range(4)] + [("x" * 230, "a01")]  # a key longer than MAX_KEY

    def at(aid: str) -> object:  # as SQLAlchemy's DateTime stores it (SQLite: naive UTC with µs)
        return stored[aid].strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else stored[aid]

    engine = make_engine(Settings(), url=url)
    lo, hi, cap = T0 - timedelta(hours=2), T0 + timedelta(hours=1), 3
    keys = ["e:Q0", "e:Q1", "e:Q2", "w:en:truce", "e:tie", "e:none"]
    try:
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO article_profiles (article_id, published_at, profile) "
                                    "VALUES (:a, :w, '{}')"), [{"a": a, "w": at(a)} for a in stored])
            await conn.execute(text("INSERT INTO profile_keys (key, article_id, published_at) VALUES (:k, :a, :w)"),
                               [{"k": k[:200], "a": a, "w": at(a)} for k, a in index])
        await asyncio.to_thread(command.upgrade, cfg, "0016")
        async with make_sessions(engine)() as s:
            hits = await key_hits(s, keys=keys, lo=lo, hi=hi, cap=cap)
        for key in keys:  # what 0015's bucket read returned: newest first, ties by id (highest first), ``cap``
            inside = [a for k, a in index if k == key and lo <= stored[a] <= hi]
            want = sorted(inside, key=lambda a: (stored[a], a), reverse=True)[:cap]
            assert [(a, w) for k, a, w in hits if k == key] == [(a, stored[a]) for a in want], key
        assert {k for k, _, _ in hits} == {"e:Q0", "e:Q1", "e:Q2", "w:en:truce", "e:tie"}

        later = T0 + timedelta(hours=1, seconds=1)
        async with make_sessions(engine)() as s, s.begin():
            await write_profiles(s, profile_statements(s.get_bind().dialect, [("new", later, {}, ["e:tie"])]))
        async with make_sessions(engine)() as s:
            hits = await key_hits(s, keys=["e:tie"], lo=lo, hi=later, cap=cap)
        assert [a for _, a, _ in hits] == ["new", "tie3", "tie2"]

        await asyncio.to_thread(command.downgrade, cfg, "0015")
        async with engine.connect() as conn:
            profiles, rows = (await conn.execute(text(
                "SELECT (SELECT count(*) FROM article_profiles), (SELECT count(*) FROM profile_keys)"))).one()
        assert (profiles, rows) == (len(stored) + 1, 0)
    finally:
        await engine.dispose()


async def test_an_article_twice_in_one_batch_joins_its_story_once(store_url: str) -> None:
    """Kafka may hand a batch the same article twice (a producer's retry): both copies are one article, in
    the story the article's links put it in, not a story of its own."""
    first, second = workload("syndicated", 2, first=3_000)
    engine = make_engine(Settings(), url=store_url)
    try:
        sessions = make_sessions(engine)
        await store_batch(sessions, _records([first]))
        changes = await store_batch(sessions, _records([second, second.model_copy(deep=True)]))
        assert [c.story_id for c in changes] == [first.id, first.id]
        async with sessions() as s:
            stories = (await s.execute(select(Story.id, Story.article_count))).all()
        assert stories == [(first.id, 2)]
    finally:
        await engine.dispose()


async def test_one_poll_of_every_partition_is_stored_in_one_transaction(store_url: str, kafka_bootstrap: str,
                                                                       unique_topics, make_settings,
                                                                       monkeypatch) -> None:
    """Real broker, three partitions, the sink's own loop: a poll's records of all partitions go to one
    ``store_until_written`` (one transaction, one commit), not one per partition."""
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

    from services import bus

    settings = make_settings(database_url=store_url, kafka_bootstrap=kafka_bootstrap, **unique_topics,
                             kafka_partitions=3, sink_max_batch=500)
    await bus.ensure_topics(settings)
    events = workload("distinct", 90, first=3_000)
    calls: list[set[int]] = []
    real = service.store_until_written

    async def spy(sessions, records, **kw):  # type: ignore[no-untyped-def]
        calls.append({r.partition for r in records})
        return await real(sessions, records, **kw)

    monkeypatch.setattr(service, "store_until_written", spy)
    engine = make_engine(settings)
    sessions = make_sessions(engine)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    consumer = AIOKafkaConsumer(settings.topic_enriched, bootstrap_servers=kafka_bootstrap,
                                group_id=settings.group_sink, enable_auto_commit=False, auto_offset_reset="earliest")
    await producer.start()
    stop = asyncio.Event()
    try:
        for i, e in enumerate(events):
            await producer.send_and_wait(settings.topic_enriched, e.to_bytes(), key=e.id.encode(), partition=i % 3)
        await consumer.start()
        sink = asyncio.create_task(service.consume(settings, sessions, consumer, stop))
        for _ in range(300):
            async with sessions() as s:
                if len((await s.scalars(select(Article.id))).all()) == len(events):
                    break
            await asyncio.sleep(0.1)
        stop.set()
        await asyncio.wait_for(sink, 10)
        async with sessions() as s:
            assert len((await s.scalars(select(Article.id))).all()) == len(events)
        assert any(len(parts) > 1 for parts in calls), calls
        assert len(calls) <= 3, calls
    finally:
        await consumer.stop()
        await producer.stop()
        await engine.dispose()
