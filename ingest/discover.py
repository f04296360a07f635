"""Feed discovery: from a URL someone wants to follow to the feed URL to poll and its title.

The URL may serve a feed itself, or be an HTML page that advertises feeds with
``<link rel="alternate">`` (found by ``ingest.parse``); then the first advertised feed is fetched
and checked. A permanent redirect is followed into the stored URL. Every failure is an
``ingest.errors.FetchError`` (a ``ParseError`` when nothing usable is advertised), so the caller
(the feeds API's ``POST /feeds``) reports the error class and message as it does for polling.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from ingest.errors import ParseError
from ingest.fetch import fetch, make_client
from ingest.parse import parse
from services.settings import Settings

MAX_HOPS = 2  # the URL itself, then the first feed its page advertises


@dataclass(frozen=True)
class DiscoveredFeed:
    url: str  # what to store and poll: the feed's URL after permanent redirects
    title: str  # the feed's own title ("" when it has none)


async def discover_feed(url: str, settings: Settings) -> DiscoveredFeed:
    """The feed behind ``url``: the URL itself when it serves a feed, else the first feed its page advertises.

    Raises FetchError (HTTPStatusError for a 404, ParseError for a page that advertises no usable feed).
    """
    client = make_client(settings)
    try:
        for _ in range(MAX_HOPS):
            result = await fetch(client, url, settings)
            try:
                parsed = await asyncio.to_thread(parse, result.body or b"", url=result.url,
                                                 content_type=result.headers.get("content-type", ""))
                return DiscoveredFeed(url=result.permanent_redirect or url, title=parsed.title)
            except ParseError as exc:
                if not exc.feed_links:
                    raise
                url = exc.feed_links[0]
        raise ParseError("the page advertises no usable feed")
    finally:
        await client.aclose()
