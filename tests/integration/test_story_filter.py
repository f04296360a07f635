"""The SQL form of the story filter selects exactly what the in-memory rule selects, on both stores."""

from __future__ import annotations

import pytest

from services.db import stories as repo
from services.db.engine import make_engine, make_sessions
from services.matching import StoryFilter, matches
from services.settings import Settings
from tests.story_filter_cases import CASES, facts, stories


@pytest.fixture
async def sessions(store_url):
    engine = make_engine(Settings(), url=store_url)
    yield make_sessions(engine)
    await engine.dispose()


async def test_sql_agrees_with_the_in_memory_rule_on_every_case(sessions) -> None:
    evs = stories()
    async with sessions() as s, s.begin():
        await repo.upsert_batch(s, events=list(evs.values()))
    by_id = {ev.id: n for n, ev in evs.items()}
    for name, flt, expected in CASES:
        assert {n for n, ev in evs.items() if matches(flt, facts(ev))} == expected, name
        async with sessions() as s:
            rows, _ = await repo.list_stories(s, filter=flt, limit=50)
        assert {by_id[r.id] for r in rows} == expected, name


async def test_stored_stories_give_the_facts_the_cases_assume(sessions) -> None:
    """The table's facts are built from events; check they equal those built from the stored story."""
    evs = stories()
    async with sessions() as s, s.begin():
        await repo.upsert_batch(s, events=list(evs.values()))
    async with sessions() as s:
        for ev in evs.values():
            story = await repo.get_story(s, story_id=ev.id)
            assert story is not None
            expected = facts(ev)
            assert story.lang == expected.lang and story.state == expected.state
            assert {t["name"]: t["confidence"] for t in story.topics} == pytest.approx(dict(expected.topics))
            assert set(story.sources) == set(expected.sources)
            assert matches(StoryFilter(), expected)
