"""The /stories page cache drops exactly the pages a change concerns, and never stores a render that raced one."""

from __future__ import annotations

from datetime import UTC, datetime

from api.http.pagecache import Page, PageCache
from services.matching import StoryFacts, StoryFilter

AT = datetime(2026, 3, 18, tzinfo=UTC)


def facts(topic: str, lang: str = "en") -> StoryFacts:
    return StoryFacts.of(topics=[{"name": topic, "confidence": 0.9}], entities=[], lang=lang, state=None,
                         sources=["Wire"], published_at=AT, text="truce")


def page(f: StoryFilter, *ids: str) -> Page:
    return Page(b"{}", "t", "application/json", f, frozenset(ids))


def test_only_concerned_pages_go() -> None:
    cache = PageCache()
    cache.put(0, "cf", page(StoryFilter(topics=["ceasefire"]), "a"))
    cache.put(0, "sa", page(StoryFilter(topics=["sanctions"]), "b"))
    cache.put(0, "fr", page(StoryFilter(langs=["fr"])))
    assert cache.invalidate([("new", facts("ceasefire"))]) == 1
    assert cache.get("cf") is None and cache.get("sa") is not None and cache.get("fr") is not None
    assert cache.invalidate([("b", facts("ceasefire"))]) == 1  # b's row on the sanctions page is stale
    assert cache.get("sa") is None
    assert cache.invalidate([], removed=["x"]) == 0 and cache.get("fr") is not None


def test_a_story_merged_away_drops_the_pages_listing_it() -> None:
    cache = PageCache()
    cache.put(0, "p", page(StoryFilter(topics=["sanctions"]), "old"))
    assert cache.invalidate([], removed=["old"]) == 1 and len(cache) == 0


def test_a_render_that_raced_an_invalidation_is_not_stored() -> None:
    cache = PageCache()
    started = cache.epoch
    cache.invalidate([("s", facts("ceasefire"))])  # the store changed while the page rendered
    cache.put(started, "cf", page(StoryFilter(topics=["ceasefire"])))
    assert cache.get("cf") is None
    cache.put(cache.epoch, "cf", page(StoryFilter(topics=["ceasefire"])))
    assert cache.get("cf") is not None


def test_bounded_lru() -> None:
    cache = PageCache(size=2)
    for k in "abc":
        cache.put(0, k, page(StoryFilter()))
    assert cache.get("a") is None and len(cache) == 2
