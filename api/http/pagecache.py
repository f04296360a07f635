"""The response cache of /stories and its feeds: rendered pages valid for one store generation.

The process's StoreWatch (api.http.stream) bumps its ``generation`` whenever the store changed;
a page rendered under one generation is served again only while that generation lasts.
"""

from __future__ import annotations

from collections import OrderedDict


class PageCache:
    """Rendered responses keyed by request, valid for one store generation (bounded LRU)."""

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._gen = -1
        self._items: OrderedDict[str, tuple[bytes, str, str]] = OrderedDict()

    def get(self, gen: int, key: str) -> tuple[bytes, str, str] | None:
        if gen != self._gen:
            self._items.clear()
            self._gen = gen
            return None
        hit = self._items.get(key)
        if hit is not None:
            self._items.move_to_end(key)
        return hit

    def put(self, gen: int, key: str, value: tuple[bytes, str, str]) -> None:
        if gen == self._gen:
            self._items[key] = value
            if len(self._items) > self.size:
                self._items.popitem(last=False)
