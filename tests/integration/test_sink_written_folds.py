"""The sink's shortcuts on the store side of a batch give what the long way gives, on SQLite and PostgreSQL.

Spec: a story new to the store is folded from the rows its batch just wrote, and those rows are exactly what
reading them back gives (same columns, same values, same order), except a story whose articles tie on their
publication time, which is read back; a story a merge of the same transaction moved stored articles into is
read back (it holds more than the batch wrote); ``insert_rows`` (one unnest statement on PostgreSQL) stores
what ``insert`` stores, defaults included; ``lock_keys`` holds one advisory lock per distinct key on PostgreSQL
(the ids blake2b gives); the profile write that runs while a batch decides is done (or has failed the batch)
when grouping returns.
"""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, insert, select, text

from api.sink import assign
from api.sink.linking import LinkRules, keys, profile_of
from services.db import clusters, story_view
from services.db import stories as repo
from services.db.clusters import (
    insert_rows,
    key_lock_ids,
    lock_keys,
    merge_stories,
)
from services.db.engine import make_engine, make_sessions
from services.db.models import Article, Story
from services.events import EnrichedArticle
from services.settings import Settings
from tests.bench.sink import workload

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
_ARTICLES = Article.metadata.tables["articles"]


def _batch() -> list[EnrichedArticle]:
    """Distinct reports (a story each), copies of one report given one story, two reports tied in time, and
    two whose times are not in UTC (another zone, naive)."""
    out = workload("distinct", 6)
    copies = workload("syndicated", 60, first=100)
    for ev in copies:
        ev.story_id = copies[0].id
    tied = workload("distinct", 2, first=500)
    tied[1].story_id = tied[0].id
    when = tied[0].article.published_at
    tied[1].article = tied[1].article.model_copy(update={"published_at": when})
    late = workload("distinct", 1, first=700)[0]  # an aware time in another zone: stored as UTC
    late.article = late.article.model_copy(update={
        "published_at": late.article.published_at.astimezone(ZoneInfo("Asia/Tokyo"))})
    naive = workload("distinct", 1, first=800)[0]  # a naive time: UTC, as the column's type reads it
    naive.article = naive.article.model_copy(update={
        "published_at": naive.article.published_at.astimezone(UTC).replace(tzinfo=None)})
    return [*out, *copies, *tied, late, naive]


async def test_written_rows_are_what_reading_them_back_gives(store_url: str) -> None:
    engine = make_engine(Settings(), url=store_url)
    sessions = make_sessions(engine)
    events = _batch()
    try:
        async with sessions() as s, s.begin():
            plan = await repo._write_articles(s, events, None)
            new = set(plan.touched)
            written = repo._written_stories(plan.inserts, new)
            tied = events[-4].id
            assert tied not in written  # tied in time: the store's collation orders it, so it is read back
            assert set(written) == new - {tied}
            assert len(written[events[6].story_id]) == 60
            read: dict[str, list[tuple]] = {}
            for row in await repo._fold_rows(s, sorted(written), []):
                read.setdefault(row.story_id, []).append(tuple(row))
            assert read == {sid: [tuple(w) for w in arts] for sid, arts in written.items()}
            assert {w.published_at.utcoffset() for arts in written.values() for w in arts} == {timedelta(0)}
            await s.rollback()
    finally:
        await engine.dispose()


async def _story_as_refolded(s, story_id: str) -> tuple[dict, dict]:
    """The story row's view columns, and a fold of its articles read from the store."""
    row = (await s.execute(select(Story).where(Story.id == story_id))).scalar_one()
    arts = await repo._fold_rows(s, [story_id], [])
    view = story_view.fold(arts, repo._fold_entities).view()
    return {k: getattr(row, k) for k in view}, view


async def test_a_merge_survivor_new_to_the_store_is_read_back(store_url: str) -> None:
    """Story X is new in this transaction, and a merge moved a stored story's article into it first: its fold
    holds both articles (folding only what the batch wrote would count one)."""
    engine = make_engine(Settings(), url=store_url)
    sessions = make_sessions(engine)
    old, new = workload("distinct", 2, first=900)
    try:
        async with sessions() as s, s.begin():
            await repo.upsert_batch(s, events=[old], grown=())
        async with sessions() as s, s.begin():
            await merge_stories(s, into=new.id, merged=[old.story_id or old.id], now=T0)
            new.story_id = new.id
            changes = await repo.upsert_batch(s, events=[new], stored=set(), grown={new.id})
        assert [c.kind for c in changes] == ["created"]
        async with sessions() as s:
            stored, refolded = await _story_as_refolded(s, new.id)
            assert stored == refolded
            assert stored["article_count"] == 2
    finally:
        await engine.dispose()


async def test_batches_of_new_stories_show_what_a_refold_shows(store_url: str) -> None:
    engine = make_engine(Settings(), url=store_url)
    sessions = make_sessions(engine)
    events = _batch()
    try:
        for k in range(0, len(events), 25):
            async with sessions() as s, s.begin():
                await repo.upsert_batch(s, events=events[k:k + 25], grown=())
        async with sessions() as s:
            for sid in (await s.scalars(select(Story.id))).all():
                stored, refolded = await _story_as_refolded(s, sid)
                assert stored == refolded, sid
    finally:
        await engine.dispose()


async def test_insert_rows_stores_what_insert_stores(store_url: str) -> None:
    engine = make_engine(Settings(), url=store_url)
    sessions = make_sessions(engine)
    a, b = workload("distinct", 2, first=1000)
    rows = [{"id": ev.id, **repo._article_values(ev, ev.id), "version": 1} for ev in (a, b)]
    rows[1]["state"], rows[1]["feed_id"] = None, 7
    rows[1]["published_at"] = rows[1]["published_at"].replace(tzinfo=None)  # naive: UTC, as the type says
    try:
        async with sessions() as s, s.begin():
            await insert_rows(s, _ARTICLES, [rows[0]])
            await s.execute(insert(_ARTICLES), [{**rows[1], "id": "x" + b.id}])
            await insert_rows(s, _ARTICLES, [rows[1]])
        async with sessions() as s:
            got = {r.id: r for r in (await s.scalars(select(Article))).all()}
        assert set(got) == {a.id, b.id, "x" + b.id}
        for row in rows:
            for key, value in row.items():
                want = value.replace(tzinfo=UTC) if isinstance(value, datetime) and value.tzinfo is None else value
                assert getattr(got[row["id"]], key) == want, key
        by_insert, by_rows = got["x" + b.id], got[b.id]
        columns = [c.key for c in _ARTICLES.c if c.key not in ("id", "stored_at")]
        assert [getattr(by_rows, c) for c in columns] == [getattr(by_insert, c) for c in columns]
        assert abs(by_rows.stored_at - by_insert.stored_at) < timedelta(minutes=1)  # the default, per row
    finally:
        await engine.dispose()


async def test_lock_keys_holds_a_lock_per_key(store_url: str) -> None:
    engine = make_engine(Settings(), url=store_url)
    sessions = make_sessions(engine)
    rules = LinkRules()
    every = [k for ev in workload("distinct", 20, first=2000)
             for k in keys(profile_of(ev, rules), ev.cluster_bands)]
    try:
        async with sessions() as s, s.begin():
            await lock_keys(s, every)
            assert key_lock_ids(every) == key_lock_ids(every)  # the kept ids are the computed ones
            assert key_lock_ids(["e:Q71"]) == [int.from_bytes(hashlib.blake2b(b"e:Q71", digest_size=8).digest(), "big", signed=True)]
            clusters._key_ids.clear()
            ids = key_lock_ids(every)
            assert ids == sorted(set(ids)) and len(ids) == len(set(every))
            assert ids == sorted({clusters.key_id(k) for k in every})  # the index's key ids (migration 0016)
            if store_url.startswith("postgresql"):
                held = await s.scalar(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                                           "AND pid = pg_backend_pid() AND granted"))
                assert held == len(ids)
    finally:
        await engine.dispose()


async def test_the_profile_write_is_done_when_grouping_returns(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The batch's profiles and index rows are written while it decides: by the time group_batch returns they
    are in the transaction, and a failed write fails the batch (after the decisions, not lost)."""
    engine = make_engine(Settings(), url=store_url)
    sessions = make_sessions(engine)
    events = workload("distinct", 40, first=3000)
    try:
        async with sessions() as s, s.begin():
            grouped = await assign.group_batch(s, events, assign.GroupingRules())
            assert len(grouped.story_of) == 40
            assert await s.scalar(select(func.count()).select_from(clusters.article_profiles)) == 40
            assert await s.scalar(select(func.count(func.distinct(clusters.profile_keys.c.ref)))) == 40

        async def broken(*_a: object, **_k: object) -> None:
            await asyncio.sleep(0)
            raise RuntimeError("store gone")

        monkeypatch.setattr(clusters, "write_profiles", broken)
        with pytest.raises(RuntimeError, match="store gone"):
            async with sessions() as s, s.begin():
                await assign.group_batch(s, workload("distinct", 40, first=4000), assign.GroupingRules())
    finally:
        await engine.dispose()
