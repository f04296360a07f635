"""Story clustering in the store sink, on real SQLite and PostgreSQL, over real enrichment output.

Spec: one event reported by three outlets in their own words is one story (an update, never a new
story, as articles join); an unrelated article and a report outside the time window are stories of
their own; replaying the topic changes nothing and moves no article.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka.structs import ConsumerRecord

from api.sink.assign import GroupingRules, group_batch
from api.sink.service import store_batch, store_until_written
from enrich.pipeline import Enricher, shared_enricher
from services.db import stories as repo
from services.db.engine import make_engine, make_sessions
from services.events import EnrichedArticle, RawArticle
from services.settings import Settings

T0 = datetime(2026, 4, 19, 9, 0, tzinfo=UTC)
REPORTS = [
    ("AP", "Russia and Ukraine agree Easter ceasefire after Turkish mediation",
     "Russia and Ukraine agreed on Saturday to a 30-hour Easter ceasefire along the whole front line, Turkish "
     "President Recep Tayyip Erdogan said after talks in Istanbul. The truce will begin at 18:00 Moscow time on "
     "Saturday and last until midnight on Sunday, the Kremlin said. Ukrainian President Volodymyr Zelensky said "
     "Kyiv would mirror Russia's actions and respond to any attack. Both sides also agreed to exchange 246 "
     "prisoners of war on Sunday."),
    ("Reuters", "Kremlin confirms 30-hour Easter truce with Ukraine",
     "The Kremlin confirmed a 30-hour Easter ceasefire along the whole front line, saying the truce will begin at "
     "18:00 Moscow time on Saturday and last until midnight on Sunday. Recep Tayyip Erdogan announced the deal "
     "after talks in Istanbul with delegations from both countries. Volodymyr Zelensky said Kyiv would mirror "
     "Russia's actions. Moscow and Kyiv will also exchange 246 prisoners of war on Sunday, officials said."),
    ("Kyiv Independent", "Zelensky: Kyiv will mirror Russia during Easter ceasefire",
     "Volodymyr Zelensky said Ukraine would mirror Russia's actions during a 30-hour Easter ceasefire along the "
     "whole front line that starts at 18:00 Moscow time on Saturday. The Ukrainian leader said the army would "
     "respond to any attack. The truce was announced by Recep Tayyip Erdogan after talks in Istanbul, and the two "
     "sides will exchange 246 prisoners of war on Sunday."),
]
UNRELATED = ("BBC", "Russian strikes knock out power in Kharkiv",
             "Russian missiles struck a thermal power plant in Kharkiv overnight, cutting electricity to 200,000 "
             "homes, the regional governor said. Ukrenergo said repairs would take several days.")


@pytest.fixture(scope="module")
def enricher() -> Enricher:
    return shared_enricher()


@pytest.fixture
async def sessions(store_url):
    engine = make_engine(Settings(), url=store_url)
    yield make_sessions(engine)
    await engine.dispose()


def _event(enricher: Enricher, n: int, source: str, title: str, text: str, published: datetime) -> EnrichedArticle:
    art = RawArticle(id=f"cl{n:04d}", source=source, url=f"https://{source.lower().replace(' ', '')}.example/{n}",
                     title=title, content=text, published_at=published)
    return enricher.enrich([art])[0]


def _records(events: list[EnrichedArticle]) -> list[ConsumerRecord[bytes, bytes]]:
    return [ConsumerRecord("articles.enriched", 0, i, 0, 0, ev.id.encode(), ev.to_bytes(), None, 0, 0, ())
            for i, ev in enumerate(events)]


async def test_three_outlets_one_story_unrelated_and_late_apart_replay_idempotent(sessions, enricher) -> None:
    events = [_event(enricher, i, src, title, text, T0 + timedelta(minutes=20 * i))
              for i, (src, title, text) in enumerate(REPORTS)]
    other = _event(enricher, 10, *UNRELATED, T0 + timedelta(minutes=30))
    late = _event(enricher, 11, "AFP", REPORTS[1][1], REPORTS[1][2], T0 + timedelta(days=10))

    first = await store_batch(sessions, _records([events[0], other]))
    assert [(c.kind, c.article_kind) for c in first] == [("created", "new"), ("created", "new")]
    joined = [(await store_batch(sessions, _records([ev])))[0] for ev in events[1:]]
    story_id = events[0].id
    assert [(c.story_id, c.kind, c.article_kind) for c in joined] == [(story_id, "updated", "new")] * 2
    assert [c.version for c in joined] == [2, 3]
    (apart,) = await store_batch(sessions, _records([late]))
    assert (apart.story_id, apart.kind) == (late.id, "created")

    async with sessions() as s:
        story = await repo.get_story(s, story_id=story_id)
        assert story is not None
        assert story.article_count == 3
        assert sorted(story.sources) == ["AP", "Kyiv Independent", "Reuters"]
        topics = {t["name"] for t in story.topics}
        assert topics == set().union(*({t.name for t in ev.topics} for ev in events))
        assert {"ceasefire", "prisoner_exchange"} <= topics
        ids = {e["id"] for e in story.entities}
        assert ids == set().union(*({e.id for e in ev.entities} for ev in events))
        assert {a.id for a in await repo.story_articles(s, story_id=story_id)} == {ev.id for ev in events}
        assert (await repo.get_story(s, story_id=other.id)).article_count == 1  # type: ignore[union-attr]
        before = (await repo.counts(s), story.version)

    # Replay everything, in another order, in one batch: no new story, no article moves.
    replay = await store_batch(sessions, _records([late, *reversed(events), other]))
    assert {(c.kind, c.article_kind) for c in replay} == {("unchanged", "replay")}
    assert [c.story_id for c in replay] == [late.id, story_id, story_id, story_id, other.id]
    async with sessions() as s:
        story = await repo.get_story(s, story_id=story_id)
        assert (await repo.counts(s), story.version) == before  # type: ignore[union-attr]


async def test_one_batch_clusters_too(sessions, enricher) -> None:
    events = [_event(enricher, 20 + i, src, title, text, T0 + timedelta(hours=i))
              for i, (src, title, text) in enumerate(REPORTS)]
    changes = await store_batch(sessions, _records(events))
    assert [c.story_id for c in changes] == [events[0].id] * 3
    # the story is folded once per batch: each article reports what the batch did to it
    assert [(c.kind, c.version, c.article_kind) for c in changes] == [("created", 1, "new")] * 3
    async with sessions() as s:
        story = await repo.get_story(s, story_id=events[0].id)
        assert story is not None and story.article_count == 3
        # the headline is the most representative report: it names most of the story's main entities
        assert story.headline in {ev.article.title for ev in events}
        assert sorted(story.sources) == ["AP", "Kyiv Independent", "Reuters"]


async def test_a_batch_folds_each_story_once(sessions, enricher, store_url) -> None:
    """A batch of k articles joining a story reads the story's articles once, not k times (that made a busy
    story quadratic: 2,000 syndicated copies of one report stored at 8 articles/s); the story it leaves is
    the one storing them one at a time leaves."""
    from sqlalchemy import event as sa_event

    events = [_event(enricher, 40 + i, f"Outlet {i}", REPORTS[i % 3][1], REPORTS[i % 3][2] + f" Update {i}.",
                     T0 + timedelta(minutes=i)) for i in range(9)]
    engine = make_engine(Settings(), url=store_url)
    folds: list[str] = []

    def count(_conn, _cursor, statement, *_a):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT") and "FROM articles" in statement \
                and "articles.story_id =" in statement and "articles.entities" in statement:
            folds.append(statement)

    sa_event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        batched = make_sessions(engine)
        await store_batch(batched, _records(events[:3]))
        folds.clear()
        changes = await store_batch(batched, _records(events[3:]))
        assert {c.story_id for c in changes} == {events[0].id}
        assert len(folds) == 1, f"story folded {len(folds)} times for one batch"
    finally:
        sa_event.remove(engine.sync_engine, "before_cursor_execute", count)
        await engine.dispose()
    async with sessions() as s:
        batched_view = await repo.get_story(s, story_id=events[0].id)
        assert batched_view is not None
        # the same articles one at a time, as new ids, into a fresh story
    singles = [_event(enricher, 60 + i, f"Outlet {i}", REPORTS[i % 3][1], REPORTS[i % 3][2] + f" Update {i}.",
                      T0 + timedelta(days=20, minutes=i)) for i in range(9)]
    for ev in singles:
        await store_batch(sessions, _records([ev]))
    async with sessions() as s:
        single_view = await repo.get_story(s, story_id=singles[0].id)
        assert single_view is not None
        assert single_view.version > batched_view.version  # one step per article against one per batch
        for key in ("headline", "article_count", "sources", "state", "lang"):
            assert getattr(single_view, key) == getattr(batched_view, key), key
        assert [(t["name"], t["confidence"]) for t in single_view.topics] == \
            [(t["name"], t["confidence"]) for t in batched_view.topics]
        assert [(e["id"], e["mentions"]) for e in single_view.entities] == \
            [(e["id"], e["mentions"]) for e in batched_view.entities]


async def test_two_sinks_clustering_at_once_make_one_story(sessions, enricher) -> None:
    """Two sink instances (one consumer group, two partitions) store two reports of one event at the same
    moment: the second waits for the first (PostgreSQL: advisory locks on the index keys; SQLite: the write lock, then a
    retry on its stale snapshot) and joins its story instead of creating a second one."""
    first = _event(enricher, 20, *REPORTS[0], T0)
    second = _event(enricher, 21, *REPORTS[1], T0 + timedelta(minutes=5))
    async with sessions() as session, session.begin():
        await group_batch(session, [first], GroupingRules())  # takes the index keys' locks first
        await repo.upsert_enriched(session, event=first)
        other = asyncio.create_task(store_until_written(sessions, _records([second]), retry_s=0.05))
        await asyncio.sleep(0.8)
        assert not other.done(), "the second sink grouped before the first one committed"
    changes = await asyncio.wait_for(other, 30)
    assert [(c.story_id, c.kind, c.article_kind) for c in changes] == [(first.id, "updated", "new")]


async def test_candidates_most_shared_keys_first_and_hot_buckets_capped(sessions) -> None:
    """A key shared by 300 articles (boilerplate, or a country every report names) reads only its newest
    ``bucket_cap`` articles, and the article sharing the most keys ranks first even though it is the oldest."""
    from collections import Counter

    from api.sink.grouping import rank
    from services.db.clusters import key_hits, profile_statements, write_profiles
    from tests.factories import index_articles

    hot = "e:Q159"
    mine = [hot] + [f"w:en:term{b}" for b in range(1, 6)]
    rows = [{"key": hot, "article_id": f"hot{i:03d}", "published_at": T0 + timedelta(minutes=i)} for i in range(300)]
    rows += [{"key": k, "article_id": "twin", "published_at": T0 - timedelta(hours=1)} for k in mine[1:]]
    rows += [{"key": mine[1], "article_id": "far", "published_at": T0 - timedelta(days=9)}]
    async with sessions() as s, s.begin():
        await write_profiles(s, profile_statements(s.get_bind().dialect, index_articles(rows)))
    me_at = T0 + timedelta(hours=5)
    async with sessions() as s:
        hits = await key_hits(s, keys=mine, lo=me_at - timedelta(hours=72), hi=me_at + timedelta(hours=72), cap=25)
    counts = Counter(aid for _key, aid, _when in hits)
    ids = rank(counts, 100)
    assert ids[0] == "twin"  # shares 5 keys
    assert "far" not in ids  # outside the window
    assert set(ids[1:]) == {f"hot{i:03d}" for i in range(275, 300)}  # the hot key's newest 25 only
    assert rank(counts, 3) == ["twin", "hot275", "hot276"]  # then ties by id
