"""Fetch one feed URL with every limit enforced while the bytes arrive.

* conditional GET (ETag / Last-Modified) unless the caller asks for an unconditional one;
* connect/read timeouts from the client, a total deadline around the whole redirect chain;
* the raw body is capped while streaming, and decompressed here (gzip, deflate, br)
  with its own cap (``ingest.decoding``), so a compression bomb costs at most the limit;
* redirects are followed by hand so the SSRF guard checks every hop; 301/308 chains
  from the start report a permanent new URL, loops and excess hops are errors.

The client is ``ingest.transport.FeedClient`` (aiohttp, connecting only to the address the
guard approved for each hop). Failures raise the ``ingest.errors`` tree, classified by the
exception's type (``ingest.transport.classify``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import aiohttp

from ingest import caching
from ingest.decoding import BoundedDecoder
from ingest.errors import FetchError, HTTPStatusError, RedirectError, TooLarge
from ingest.transport import FeedClient, classify, make_client
from services.settings import Settings

__all__ = ["FeedClient", "FetchResult", "fetch", "make_client"]

REDIRECTS = (301, 302, 303, 307, 308)
PERMANENT = (301, 308)
CHUNK = 64 * 1024
ACCEPT = ("application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, "
          "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5")


@dataclass
class FetchResult:
    """One completed fetch: body is None on 304 Not Modified."""

    status: int
    body: bytes | None
    headers: dict[str, str]
    url: str
    permanent_redirect: str | None = None
    elapsed: float = 0.0
    redirects: list[str] = field(default_factory=list)

    @property
    def not_modified(self) -> bool:
        return self.status == 304


async def fetch(
    client: FeedClient,
    url: str,
    settings: Settings,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> FetchResult:
    """GET a feed, following redirects by hand; raises FetchError (see ingest.errors)."""
    started = time.monotonic()
    try:
        async with asyncio.timeout(settings.fetch_total_timeout_s):
            result = await _follow(client, url, settings, etag=etag, last_modified=last_modified, now=now)
    except FetchError:
        raise
    except Exception as exc:  # CancelledError is not an Exception: it goes through untouched
        raise classify(exc) from exc
    result.elapsed = time.monotonic() - started
    return result


def _header_dict(headers: Mapping[str, str]) -> dict[str, str]:
    """Response headers by lower-case name; a repeated header's values joined with ", "."""
    out: dict[str, str] = {}
    for k, v in headers.items():
        k = k.lower()
        out[k] = f"{out[k]}, {v}" if k in out else v
    return out


async def _follow(client: FeedClient, url: str, settings: Settings, *, etag: str | None,
                  last_modified: str | None, now: Callable[[], datetime]) -> FetchResult:
    seen = {url}
    hops: list[str] = []
    permanent: str | None = None
    still_permanent = True
    current = url
    headers = {"Accept": ACCEPT, "Accept-Encoding": "gzip, deflate, br"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    for _ in range(settings.fetch_max_redirects + 1):
        async with client.open("GET", current, allowed=settings.feed_allowed_hosts, headers=headers) as resp:
            status = resp.status
            resp_headers = _header_dict(resp.headers)
            if status in REDIRECTS:
                current = _next_hop(current, status, resp_headers.get("location"), seen)
                hops.append(current)
                if status in PERMANENT and still_permanent:
                    permanent = current
                else:
                    still_permanent = False
                continue
            if status == 304:
                return FetchResult(304, None, resp_headers, current, permanent, redirects=hops)
            if status >= 400 or status < 200:
                raise HTTPStatusError(
                    f"HTTP {status} {resp.reason or ''}".strip(), status=status,
                    retry_after=caching.retry_after(status, resp_headers, now()),
                    retriable=status in (408, 425, 429) or status >= 500,
                )
            body = await _read_body(resp, resp_headers, settings)
            return FetchResult(status, body, resp_headers, current, permanent, redirects=hops)
    raise RedirectError(f"more than {settings.fetch_max_redirects} redirects")


def _next_hop(current: str, status: int, location: str | None, seen: set[str]) -> str:
    """The absolute URL a redirect points to (recorded in ``seen``); the SSRF guard checks it on the next request."""
    if not location:
        raise RedirectError(f"{status} without a Location header", status=status)
    target = urljoin(current, location.strip())
    if urlsplit(target).scheme not in ("http", "https"):
        raise RedirectError(f"redirect to a non-http URL {target!r}", status=status)
    if target in seen:
        raise RedirectError(f"redirect loop at {target}", status=status)
    seen.add(target)
    return target


async def _read_body(resp: aiohttp.ClientResponse, headers: Mapping[str, str], settings: Settings) -> bytes:
    """The decoded body, refused as soon as the raw or the decoded size passes its limit."""
    declared = headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > settings.fetch_max_body_bytes:
        raise TooLarge(f"Content-Length {declared} exceeds {settings.fetch_max_body_bytes} bytes")
    decoder = BoundedDecoder(headers.get("content-encoding", ""), settings.fetch_max_decompressed_bytes)
    raw = 0
    body = bytearray()  # grows in place: no list of parts joined into a second copy
    async for chunk in resp.content.iter_chunked(CHUNK):
        raw += len(chunk)
        if raw > settings.fetch_max_body_bytes:
            raise TooLarge(f"body exceeds {settings.fetch_max_body_bytes} bytes")
        body += decoder.feed(chunk)
    body += decoder.flush()
    return bytes(body)
