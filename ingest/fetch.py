"""Fetch one feed URL over HTTP/1.1 with every limit enforced while the bytes arrive.

* conditional GET (ETag / Last-Modified) unless the caller asks for an unconditional one;
* connect/read timeouts from httpx, a total deadline around the whole redirect chain;
* the raw body is capped while streaming, and decompressed here (gzip, deflate, br)
  with its own cap, so a compression bomb costs at most the limit;
* redirects are followed by hand so the SSRF guard checks every hop; 301/308 chains
  from the start report a permanent new URL, loops and excess hops are errors.

Failures raise the ``ingest.errors`` tree. The client is the seam: ``make_client`` builds
a ``FeedClient`` (an ``httpx.AsyncClient``) on our own HTTP/1.1 pool (``ingest.http11``),
which ``fetch`` drives directly — httpx's own layers cost more than the whole 304 budget;
any other ``httpx.AsyncClient`` (tests pass one on a mock transport) is driven through
httpx. Both paths share every limit, the redirect rules and the error mapping.

The SSRF check's answer is cached per host for ``RESOLVE_TTL_S`` seconds on the client,
and the fast path connects to the very address that was checked.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
import zlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import brotli
import httpx

from ingest import caching
from ingest.errors import (
    Blocked,
    ConnectError,
    DNSError,
    FetchError,
    FetchTimeout,
    HTTPStatusError,
    RedirectError,
    TLSError,
    TooLarge,
)
from ingest.http11 import Http11Transport, Pool
from services import netguard
from services.settings import Settings

REDIRECTS = (301, 302, 303, 307, 308)
PERMANENT = (301, 308)
RESOLVE_TTL_S = 30.0
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


class FeedClient(httpx.AsyncClient):
    """The process's HTTP client; ``pool`` is set when it runs on ``ingest.http11`` (the fast path)."""

    def __init__(self, *, pool: Pool | None, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.pool = pool
        self.resolved: dict[tuple[str, tuple[str, ...]], tuple[float, str]] = {}

    async def check(self, url: str, allowed: list[str]) -> str:
        """The SSRF guard (netguard.check_url) with its answer cached per host for RESOLVE_TTL_S; returns the address."""
        parts = urlsplit(url)
        key = (f"{parts.scheme}://{parts.netloc}".lower(), tuple(allowed))
        hit = self.resolved.get(key)
        now = time.monotonic()
        if hit is not None and hit[0] > now:
            return hit[1]
        addrs = await netguard.check_url(url, allowed)
        if len(self.resolved) > 10_000:
            self.resolved.clear()
        self.resolved[key] = (now + RESOLVE_TTL_S, str(addrs[0]))
        return str(addrs[0])


def make_client(settings: Settings, transport: httpx.AsyncBaseTransport | None = None) -> FeedClient:
    """The one HTTP/1.1 client per process; limits sized from the global fetch concurrency.

    Without ``transport`` it runs on our keep-alive pool (at most 2 × global concurrency
    connections, global concurrency of them kept idle).
    """
    pool = None
    if transport is None:
        pool = Pool(max_connections=settings.fetch_global_concurrency * 2,
                    max_keepalive=settings.fetch_global_concurrency,
                    connect_timeout=settings.fetch_connect_timeout_s, read_timeout=settings.fetch_read_timeout_s)
        transport = Http11Transport(pool)
    return FeedClient(
        pool=pool,
        http1=True,
        http2=False,
        follow_redirects=False,
        trust_env=False,
        transport=transport,
        timeout=httpx.Timeout(connect=settings.fetch_connect_timeout_s, read=settings.fetch_read_timeout_s,
                              write=settings.fetch_read_timeout_s, pool=settings.fetch_total_timeout_s),
        limits=httpx.Limits(max_connections=settings.fetch_global_concurrency * 2,
                            max_keepalive_connections=settings.fetch_global_concurrency),
        headers={"User-Agent": settings.ua},
    )


DECOMPRESS_STEP = 1 << 20  # bytes inflated per zlib call


class _Decoder:
    """Content-Encoding decoder that refuses to produce more than ``limit`` bytes."""

    def __init__(self, encoding: str, limit: int) -> None:
        self.limit = limit
        self.produced = 0
        self.codings = [c.strip().lower() for c in encoding.split(",") if c.strip()]
        self.codings = [c for c in self.codings if c not in ("identity", "none")]
        if len(self.codings) > 1:
            raise ConnectError(f"stacked content-encodings {encoding!r} are not supported", retriable=False)
        self.kind = self.codings[0] if self.codings else ""
        if self.kind in ("gzip", "x-gzip"):
            self._z: zlib._Decompress | None = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif self.kind == "deflate":
            self._z = None  # decided on the first chunk: zlib-wrapped or raw
        elif self.kind == "br":
            self._br = brotli.Decompressor()
        elif self.kind:
            raise ConnectError(f"unsupported content-encoding {encoding!r}", retriable=False)

    def _account(self, out: bytes) -> bytes:
        self.produced += len(out)
        if self.produced > self.limit:
            raise TooLarge(f"decompressed body exceeds {self.limit} bytes")
        return out

    def feed(self, chunk: bytes) -> bytes:
        room = self.limit - self.produced + 1
        try:
            if not self.kind:
                return self._account(chunk)
            if self.kind == "br":
                out = self._br.process(chunk, output_buffer_limit=room)
                parts = [self._account(out)]
                while not self._br.can_accept_more_data():
                    parts.append(self._account(self._br.process(b"", output_buffer_limit=self.limit - self.produced + 1)))
                return b"".join(parts)
            if self._z is None:  # deflate: RFC says zlib-wrapped, many servers send raw
                wbits = zlib.MAX_WBITS if chunk[:1] and (chunk[0] & 0x0F) == 8 and int.from_bytes(chunk[:2], "big") % 31 == 0 else -zlib.MAX_WBITS
                self._z = zlib.decompressobj(wbits)
            # Inflate in small steps so a bomb is caught after at most one step past the limit.
            out = bytearray()
            data = chunk
            while True:
                piece = self._z.decompress(data, min(room, DECOMPRESS_STEP))
                out += self._account(piece)
                room = self.limit - self.produced + 1
                data = self._z.unconsumed_tail
                if not data:
                    return bytes(out)
        except (zlib.error, brotli.error) as exc:
            raise ConnectError(f"corrupt {self.kind} body: {exc}", retriable=False) from exc

    def flush(self) -> bytes:
        if self.kind in ("gzip", "x-gzip", "deflate") and self._z is not None:
            return self._account(self._z.flush())
        return b""


def classify(exc: BaseException) -> FetchError:
    """Map a transport exception to the ingest error tree."""
    if isinstance(exc, FetchError):
        return exc
    if isinstance(exc, netguard.BlockedTarget):
        return Blocked(str(exc))
    if isinstance(exc, httpx.TimeoutException | TimeoutError | asyncio.TimeoutError):
        return FetchTimeout(f"timed out ({type(exc).__name__})")
    text = str(exc) or type(exc).__name__
    if isinstance(exc, ssl.SSLError) or "ssl" in text.lower() or "certificate" in text.lower():
        return TLSError(f"TLS failure: {text}")
    if isinstance(exc, OSError) and "DNS lookup failed" in text:
        return DNSError(text)
    if isinstance(exc, httpx.ConnectError) and ("Name or service" in text or "getaddrinfo" in text
                                                or "nodename" in text or "resolution" in text):
        return DNSError(f"DNS failure: {text}")
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return Blocked(f"bad URL: {text}")
    return ConnectError(f"connection failed: {text}")


async def fetch(
    client: httpx.AsyncClient,
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
    except BaseException as exc:
        if isinstance(exc, asyncio.CancelledError):
            raise
        if isinstance(exc, Exception):
            raise classify(exc) from exc
        raise
    result.elapsed = time.monotonic() - started
    return result


@dataclass
class _Hop:
    """One response head, whichever client produced it; ``chunks`` yields the raw (encoded) body."""

    status: int
    reason: str
    headers: dict[str, str]
    chunks: Callable[[], AsyncIterator[bytes]]


@contextlib.asynccontextmanager
async def _request(client: httpx.AsyncClient, url: str, headers: dict[str, str], settings: Settings) -> AsyncIterator[_Hop]:
    if isinstance(client, FeedClient):
        address = await client.check(url, settings.feed_allowed_hosts)
        if client.pool is not None:
            fast = await client.pool.request("GET", url, [("User-Agent", settings.ua), *headers.items()],
                                             connect_to=address)
            try:
                yield _Hop(fast.status, fast.reason, fast.header_dict(), fast.iter_raw)
            finally:
                fast.close()
            return
    else:
        await netguard.check_url(url, settings.feed_allowed_hosts)
    async with client.stream("GET", url, headers=headers) as resp:
        yield _Hop(resp.status_code, resp.reason_phrase, {k.lower(): v for k, v in resp.headers.items()},
                   resp.aiter_raw)


async def _follow(client: httpx.AsyncClient, url: str, settings: Settings, *, etag: str | None,
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
        async with _request(client, current, headers, settings) as resp:
            status = resp.status
            resp_headers = resp.headers
            if status in REDIRECTS:
                location = resp_headers.get("location")
                if not location:
                    raise RedirectError(f"{status} without a Location header", status=status)
                target = urljoin(current, location.strip())
                if urlsplit(target).scheme not in ("http", "https"):
                    raise RedirectError(f"redirect to a non-http URL {target!r}", status=status)
                if target in seen:
                    raise RedirectError(f"redirect loop at {target}", status=status)
                seen.add(target)
                hops.append(target)
                if status in PERMANENT and still_permanent:
                    permanent = target
                else:
                    still_permanent = False
                current = target
                continue
            if status == 304:
                return FetchResult(304, None, resp_headers, current, permanent, redirects=hops)
            if status >= 400 or status < 200:
                raise HTTPStatusError(
                    f"HTTP {status} {resp.reason}".strip(), status=status,
                    retry_after=caching.retry_after(status, resp_headers, now()),
                    retriable=status in (408, 425, 429) or status >= 500,
                )
            body = await _read_body(resp, settings)
            return FetchResult(status, body, resp_headers, current, permanent, redirects=hops)
    raise RedirectError(f"more than {settings.fetch_max_redirects} redirects")


async def _read_body(resp: _Hop, settings: Settings) -> bytes:
    declared = resp.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > settings.fetch_max_body_bytes:
        raise TooLarge(f"Content-Length {declared} exceeds {settings.fetch_max_body_bytes} bytes")
    decoder = _Decoder(resp.headers.get("content-encoding", ""), settings.fetch_max_decompressed_bytes)
    raw = 0
    body = bytearray()  # grows in place: no list of parts joined into a second copy
    async for chunk in resp.chunks():
        raw += len(chunk)
        if raw > settings.fetch_max_body_bytes:
            raise TooLarge(f"body exceeds {settings.fetch_max_body_bytes} bytes")
        body += decoder.feed(chunk)
    body += decoder.flush()
    return bytes(body)
