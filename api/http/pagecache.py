"""The response cache of /stories and its feeds: rendered pages dropped only when a change concerns them.

Why per page: while articles flow the store changes every second, and a cache cleared on every change
serves almost nothing — the uncached path then is the real one. Each page remembers the filter it was
rendered for and the stories on it. When the process's StoreWatch (api.http.stream) reads what changed,
it hands over each changed story's facts and the ids that merges removed; a page is dropped when a
changed story matches its filter (it may enter or move on the page) or is on it (its row is stale), or
when a removed id is on it. Pages of other topics, entities and languages keep being served.

A render that overlaps an invalidation is not stored (its rows may predate the change): the cache
counts invalidations, and a page is put only under the count it started with.

Concurrent misses of one page share one render (:meth:`PageCache.render_once`). Why: each invalidation
otherwise turns every request in flight for that page into its own store query — with 32 clients polling
one page while articles flow, 32 renders per change instead of one (a cache stampede). A request joins a
render only if no invalidation came between that render's start and its own arrival, so nobody is served
rows older than a change the process had already seen when the request came in.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from services.matching import StoryFacts, StoryFilter, matches


@dataclass(frozen=True)
class Page:
    """One rendered response and what it depends on."""

    body: bytes
    tag: str
    media_type: str
    filter: StoryFilter
    story_ids: frozenset[str]

    def concerned_by(self, changed: Iterable[tuple[str, StoryFacts]], removed: frozenset[str]) -> bool:
        if removed & self.story_ids:
            return True
        return any(sid in self.story_ids or matches(self.filter, facts) for sid, facts in changed)


class PageCache:
    """Rendered pages keyed by request (bounded LRU), invalidated page by page."""

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self.epoch = 0  # invalidations so far: a render started under an older epoch is not stored
        self._items: OrderedDict[str, Page] = OrderedDict()
        # renders under way: key -> (the epoch it started under, its outcome: (page, None) or (None, error))
        self._flights: dict[str, tuple[int, asyncio.Future[tuple[Page | None, BaseException | None]]]] = {}

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: str) -> Page | None:
        hit = self._items.get(key)
        if hit is not None:
            self._items.move_to_end(key)
        return hit

    def put(self, epoch: int, key: str, page: Page) -> None:
        if epoch != self.epoch:
            return
        self._items[key] = page
        if len(self._items) > self.size:
            self._items.popitem(last=False)

    async def render_once(self, key: str, render: Callable[[], Awaitable[Page]]) -> Page:
        """The page of ``key``: a render already under way since the last invalidation is awaited, else this
        call renders (and stores it, see :meth:`put`). A render's error reaches every request that waited
        for it (equal keys are equal queries: they would have failed alike); a render cancelled with its
        request leaves the waiters to render for themselves."""
        epoch = self.epoch
        flight = self._flights.get(key)
        if flight is not None and flight[0] == epoch:
            page, error = await asyncio.shield(flight[1])
            if error is not None:
                raise error
            if page is not None:
                return page
            return await self.render_once(key, render)  # its render was cancelled: start one
        outcome: asyncio.Future[tuple[Page | None, BaseException | None]] = \
            asyncio.get_running_loop().create_future()
        self._flights[key] = (epoch, outcome)
        try:
            page = await render()
        except asyncio.CancelledError:
            outcome.set_result((None, None))
            raise
        except Exception as exc:
            outcome.set_result((None, exc))
            raise
        finally:
            if self._flights.get(key, (None, None))[1] is outcome:
                del self._flights[key]
        outcome.set_result((page, None))
        self.put(epoch, key, page)
        return page

    def invalidate(self, changed: list[tuple[str, StoryFacts]], removed: Iterable[str] = ()) -> int:
        """Drop the pages a change concerns; how many were dropped."""
        self.epoch += 1
        gone = frozenset(removed)
        stale = [k for k, page in self._items.items() if page.concerned_by(changed, gone)]
        for k in stale:
            del self._items[k]
        return len(stale)

    def clear(self) -> None:
        self.epoch += 1
        self._items.clear()
