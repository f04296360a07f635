"""The one story-matching rule in memory: the shared table of cases, and subscriptions' filters."""

from __future__ import annotations

import pytest

from services.matching import StoryFacts, StoryFilter, matches
from tests.story_filter_cases import CASES, facts, stories

STORIES = stories()


@pytest.mark.parametrize(("name", "flt", "expected"), CASES, ids=[c[0] for c in CASES])
def test_table(name: str, flt: StoryFilter, expected: set[int]) -> None:
    assert {n for n, ev in STORIES.items() if matches(flt, facts(ev))} == expected


STORY = StoryFacts.of(topics=[{"name": "ceasefire", "confidence": 0.9}],
                      entities=[{"id": "Q7747", "name": "Vladimir Putin"}], sources=["BBC"], lang="en",
                      state="agreed", published_at=STORIES[1].article.published_at)


@pytest.mark.parametrize(("filters", "expected"), [
    ({}, True),
    ({"topics": ["ceasefire"]}, True),
    ({"topics": ["sanctions"]}, False),
    ({"topics": ["ceasefire"], "min_confidence": 0.95}, False),
    ({"entities": ["vladimir putin"]}, True),
    ({"entities": ["Q7747"]}, True),
    ({"entities": ["Q1"]}, False),
    ({"sources": ["BBC"]}, True),
    ({"languages": ["fr"]}, False),
    ({"states": ["agreed", "extended"]}, True),
    ({"states": ["collapsed"]}, False),
])
def test_subscription_filters(filters, expected):
    assert matches(StoryFilter.from_subscription(filters), STORY) is expected
