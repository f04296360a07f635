"""The /stories page cache drops exactly the pages a change concerns, and never stores a render that raced one."""

from __future__ import annotations

import asyncio
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


class Renders:
    """A render the test releases by hand, counting how often it ran."""

    def __init__(self) -> None:
        self.calls = 0
        self.gate = asyncio.Event()
        self.fail: Exception | None = None

    async def __call__(self) -> Page:
        self.calls += 1
        mine = self.calls
        await self.gate.wait()
        if self.fail is not None:
            raise self.fail
        return page(StoryFilter(topics=["ceasefire"]), f"s{mine}")


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_concurrent_misses_share_one_render() -> None:
    async def go() -> None:
        cache, render = PageCache(), Renders()
        waiting = [asyncio.create_task(cache.render_once("cf", render)) for _ in range(32)]
        await settle()
        render.gate.set()
        pages = await asyncio.gather(*waiting)
        assert render.calls == 1 and all(p is pages[0] for p in pages)
        assert cache.get("cf") is pages[0]

    asyncio.run(go())


def test_a_request_after_an_invalidation_does_not_join_an_older_render() -> None:
    async def go() -> None:
        cache, render = PageCache(), Renders()
        first = asyncio.create_task(cache.render_once("cf", render))
        await settle()
        cache.invalidate([("s", facts("ceasefire"))])  # a change seen while the first render runs
        second = asyncio.create_task(cache.render_once("cf", render))
        await settle()
        render.gate.set()
        a, b = await asyncio.gather(first, second)
        assert render.calls == 2 and a.story_ids == {"s1"} and b.story_ids == {"s2"}
        assert cache.get("cf") is b  # only the render under the current epoch is stored

    asyncio.run(go())


def test_a_failed_render_fails_its_waiters_and_is_not_kept() -> None:
    async def go() -> None:
        cache, render = PageCache(), Renders()
        render.fail = ValueError("bad cursor")
        waiting = [asyncio.create_task(cache.render_once("cf", render)) for _ in range(3)]
        await settle()
        render.gate.set()
        results = await asyncio.gather(*waiting, return_exceptions=True)
        assert render.calls == 1 and all(isinstance(r, ValueError) for r in results)
        render.fail = None
        assert (await cache.render_once("cf", render)).story_ids == {"s2"}  # the next miss renders again

    asyncio.run(go())


def test_when_the_rendering_request_is_cancelled_a_waiter_renders() -> None:
    async def go() -> None:
        cache, render = PageCache(), Renders()
        leader = asyncio.create_task(cache.render_once("cf", render))
        await settle()
        waiter = asyncio.create_task(cache.render_once("cf", render))
        await settle()
        leader.cancel()
        await settle()
        render.gate.set()
        assert (await waiter).story_ids == {"s2"} and render.calls == 2
        assert leader.cancelled()

    asyncio.run(go())
