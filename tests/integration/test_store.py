"""The store repository on real SQLite and real PostgreSQL: idempotent upserts, stories, filters, paging."""

from __future__ import annotations

import pytest

from services.db import stories as repo
from services.db.engine import make_engine, make_sessions
from services.settings import Settings
from tests.factories import enriched, raw

PUTIN = ("Q7747", "Vladimir Putin", "PERSON")
KYIV = ("Q1899", "Kyiv", "GPE")


@pytest.fixture
async def sessions(store_url):
    engine = make_engine(Settings(), url=store_url)
    yield make_sessions(engine)
    await engine.dispose()


async def _store(sessions, ev):
    async with sessions() as s, s.begin():
        return await repo.upsert_enriched(s, event=ev)


async def test_replay_creates_no_duplicates_and_updates_bump_version(sessions):
    art = raw(1, title="Truce agreed")
    ev = enriched(art, topics={"ceasefire": 0.9}, entities=[PUTIN], state="agreed")
    first = await _store(sessions, ev)
    assert (first.kind, first.article_kind, first.version) == ("created", "new", 1)
    for _ in range(3):
        again = await _store(sessions, ev)
        assert (again.kind, again.article_kind) == ("unchanged", "replay")
    async with sessions() as s:
        assert (await repo.counts(s))["articles"] == 1
    changed = enriched(art.model_copy(update={"title": "Truce collapses", "content_hash": "x"}),
                       topics={"ceasefire": 0.95}, entities=[PUTIN], state="collapsed")
    upd = await _store(sessions, changed)
    assert (upd.kind, upd.article_kind, upd.version) == ("updated", "update", 2)
    async with sessions() as s:
        story = await repo.get_story(s, story_id=art.id)
        assert story is not None and story.state == "collapsed" and story.headline == "Truce collapses"
        assert (await repo.counts(s)) == {"articles": 1, "stories": 1, "tagged_stories": 1}


async def test_articles_join_a_story_and_filters_match(sessions):
    a1, a2, a3 = raw(1), raw(2), raw(3)
    await _store(sessions, enriched(a1, topics={"ceasefire": 0.9}, entities=[PUTIN]))
    ch = await _store(sessions, enriched(a2, topics={"peace_talks": 0.7}, entities=[KYIV], story_id=a1.id))
    assert ch.kind == "updated" and ch.story_id == a1.id
    await _store(sessions, enriched(a3, topics={"sanctions": 0.8}))
    async with sessions() as s:
        story = await repo.get_story(s, story_id=a1.id)
        assert story.article_count == 2
        assert {t["name"] for t in story.topics} == {"ceasefire", "peace_talks"}
        f = repo.StoryFilter
        ids = lambda rows: [r.id for r in rows[0]]  # noqa: E731
        assert ids(await repo.list_stories(s, filter=f(topics=("ceasefire",)), limit=10)) == [a1.id]
        assert ids(await repo.list_stories(s, filter=f(entities=("kyiv",)), limit=10)) == [a1.id]
        assert ids(await repo.list_stories(s, filter=f(entities=("Q7747",)), limit=10)) == [a1.id]
        assert ids(await repo.list_stories(s, filter=f(topics=("ceasefire",), min_confidence=0.95), limit=10)) == []
        assert ids(await repo.list_stories(s, filter=f(), limit=10)) == [a3.id, a1.id]


async def test_cursor_pages_never_skip_or_repeat_while_stories_arrive(sessions):
    for n in range(1, 8):
        await _store(sessions, enriched(raw(n), topics={"ceasefire": 0.9}))
    seen: list[str] = []
    cursor = None
    async with sessions() as s:
        rows, cursor = await repo.list_stories(s, filter=repo.StoryFilter(), limit=3, cursor=cursor)
        seen += [r.id for r in rows]
    await _store(sessions, enriched(raw(50), topics={"ceasefire": 0.9}))  # newer story arrives mid-paging
    while cursor:
        async with sessions() as s:
            rows, cursor = await repo.list_stories(s, filter=repo.StoryFilter(), limit=3, cursor=cursor)
            seen += [r.id for r in rows]
    assert seen == [raw(n).id for n in range(7, 0, -1)]
    with pytest.raises(ValueError):
        repo.decode_cursor("not-a-cursor")
