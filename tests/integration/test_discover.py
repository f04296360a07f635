"""Feed discovery (ingest.discover) over a real HTTP server: a feed URL is itself, a page leads to the feed it
advertises, and what is no feed is refused, by discover_feed and by POST /feeds with the messages it gives."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from ingest.discover import DiscoveredFeed, discover_feed
from ingest.errors import HTTPStatusError, ParseError
from services.settings import Settings
from tests.feedserver import FeedServer, rss
from tests.integration.test_api import ADMIN, client_for

HTML = "text/html; charset=utf-8"


def page(*links: str) -> bytes:
    alternates = "".join(f'<link rel="alternate" type="application/rss+xml" href="{href}">' for href in links)
    return f"<!doctype html><html><head><title>Wire</title>{alternates}</head><body>news</body></html>".encode()


@pytest.fixture
def site() -> Iterator[FeedServer]:
    with FeedServer() as srv:
        srv.routes["/feed.xml"] = (200, "application/rss+xml", rss("Example wire", []))
        srv.routes["/"] = (200, HTML, page("/feed.xml"))
        srv.routes["/plain"] = (200, HTML, page())
        srv.routes["/no-feed-link"] = (200, HTML, page("/plain"))  # advertises a page that is no feed either
        srv.routes["/hop"] = (200, HTML, page("/"))  # advertises a page that advertises the feed: one hop too many
        yield srv


async def test_a_feed_url_is_itself_and_a_page_leads_to_its_feed(site, make_settings):
    settings = make_settings()
    assert await discover_feed(site.url("/feed.xml"), settings) == DiscoveredFeed(site.url("/feed.xml"),
                                                                                   "Example wire")
    assert await discover_feed(site.url("/"), settings) == DiscoveredFeed(site.url("/feed.xml"), "Example wire")


@pytest.mark.parametrize(("path", "error", "message"), [
    ("/missing", HTTPStatusError, "HTTP 404 Not Found"),
    ("/plain", ParseError, "an HTML page, not a feed"),
    ("/no-feed-link", ParseError, "an HTML page, not a feed"),
    ("/hop", ParseError, "the page advertises no usable feed"),
])
async def test_what_is_no_feed_is_refused(site, make_settings, path, error, message):
    with pytest.raises(error) as info:
        await discover_feed(site.url(path), make_settings())
    assert str(info.value) == message


@pytest.mark.parametrize(("path", "detail"), [
    ("/missing", "not a usable feed (http): HTTP 404 Not Found"),
    ("/plain", "not a usable feed (parse): an HTML page, not a feed"),
    ("/hop", "not a usable feed (parse): the page advertises no usable feed"),
])
async def test_post_feeds_discovers_and_refuses_with_the_same_messages(
        site: FeedServer, make_settings: Callable[..., Settings], store_url: str, path: str, detail: str) -> None:
    async with client_for(make_settings(database_url=store_url)) as (_, client):
        r = await client.post("/feeds", json={"url": site.url(path)}, headers=ADMIN)
        assert r.status_code == 422 and r.json()["detail"][0]["msg"] == detail, r.text
        r = await client.post("/feeds", json={"url": site.url("/"), "tags": ["wire"]}, headers=ADMIN)
        assert r.status_code == 201, r.text
        assert (r.json()["url"], r.json()["title"], r.json()["tags"]) == (site.url("/feed.xml"), "Example wire",
                                                                         ["wire"])
