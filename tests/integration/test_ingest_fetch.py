"""Fetch against the local feed farm: every attack ends as a recorded error class within its limit
and with bounded memory; every real-world feed goes farm → fetch → parse → normalise without a crash."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import gzip
import ipaddress
import resource
import time
import zlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import brotli
import pytest
import pytest_asyncio

from ingest import service
from ingest.errors import Blocked, ConnectError, FetchError, HTTPStatusError, ParseError, TooLarge
from ingest.fetch import FetchResult, fetch, make_client
from ingest.normalise import normalise_feed
from ingest.parse import parse
from ingest.transport import _NoResolver, approved_target
from services import netguard
from services.db.models import Feed
from services.settings import Settings
from tests.farm import Farm

REALWORLD = Path(__file__).resolve().parents[2].parent / "shared" / "realworld-feeds"
MB = 1024 * 1024


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def farm() -> AsyncIterator[Farm]:
    static = REALWORLD if REALWORLD.is_dir() else None
    async with Farm(feeds=5, static=static) as f:
        yield f


@pytest.fixture
def limits(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(fetch_total_timeout_s=3.0, fetch_read_timeout_s=2.0, fetch_connect_timeout_s=2.0,
                         fetch_max_body_bytes=4 * MB, fetch_max_decompressed_bytes=8 * MB, fetch_max_redirects=4)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def fetch_and_parse(url: str, settings: Settings) -> int:
    client = make_client(settings)
    try:
        result = await fetch(client, url, settings)
        assert result.body is not None
        feed = parse(result.body, url=result.url, content_type=result.headers.get("content-type", ""))
        return len(normalise_feed(feed, feed_url=result.url, feed_id=1, now=datetime.now(UTC)))
    finally:
        await client.aclose()


@pytest.mark.parametrize("kind,error_class", [
    ("billion-laughs", "parse"),
    ("quadratic", "parse"),
    ("xxe", "parse"),
    ("path-body", "parse"),
    ("gzip-bomb", "too_large"),
    ("deflate-bomb", "too_large"),
    ("endless", "too_large"),
    ("huge-length", "too_large"),
    ("trickle", "timeout"),
    ("html", "parse"),
    ("junk", "parse"),
    ("empty", "empty"),
])
async def test_attack_ends_as_error_class(farm: Farm, limits: Settings, kind: str, error_class: str) -> None:
    before = rss_mb()
    started = time.monotonic()
    with pytest.raises(FetchError) as info:
        await fetch_and_parse(farm.hostile(kind), limits)
    assert info.value.error_class == error_class, str(info.value)
    assert time.monotonic() - started < limits.fetch_total_timeout_s + 1.5
    assert rss_mb() - before < 64, "memory grew beyond the configured limits"
    assert "root:" not in str(info.value)


@pytest.mark.parametrize("path,error_class", [
    ("/loop/a", "redirect"),
    ("/chain/10", "redirect"),
    ("/status/404", "http"),
    ("/status/503", "http"),
])
async def test_redirect_and_status_errors(farm: Farm, limits: Settings, path: str, error_class: str) -> None:
    with pytest.raises(FetchError) as info:
        await fetch_and_parse(farm.base + path, limits)
    assert info.value.error_class == error_class
    if path == "/status/503":
        assert info.value.retry_after == 120 and info.value.retriable


async def test_ssrf_guard_blocks_unlisted_hosts(farm: Farm, make_settings: Callable[..., Settings]) -> None:
    with pytest.raises(FetchError) as info:
        await fetch_and_parse(farm.url(0), make_settings(feed_allowed_hosts=[]))
    assert info.value.error_class == "blocked"


async def test_refused_connection_and_dns(limits: Settings) -> None:
    with pytest.raises(FetchError) as info:
        await fetch_and_parse("http://127.0.0.1:1/feed", limits)
    assert info.value.error_class == "tcp"
    with pytest.raises(FetchError) as info:
        await fetch_and_parse("http://no-such-host.invalid/feed", limits.model_copy(
            update={"feed_allowed_hosts": ["no-such-host.invalid"]}))
    assert info.value.error_class == "dns"


async def test_redirects_conditional_get_and_gzip(farm: Farm, limits: Settings) -> None:
    client = make_client(limits)
    try:
        moved = await fetch(client, f"{farm.base}/redirect/301/2", limits)
        assert moved.permanent_redirect == farm.url(2) and moved.url == farm.url(2)
        temp = await fetch(client, f"{farm.base}/redirect/302/2", limits)
        assert temp.permanent_redirect is None and temp.url == farm.url(2)
        first = await fetch(client, farm.url(2), limits)
        assert first.status == 200 and first.body and first.body.startswith(b"<?xml")  # gunzipped by us
        again = await fetch(client, farm.url(2), limits, etag=first.headers["etag"])
        assert again.status == 304 and again.body is None
        farm.publish(2)
        changed = await fetch(client, farm.url(2), limits, etag=first.headers["etag"])
        assert changed.status == 200
    finally:
        await client.aclose()


def _realworld() -> list[dict[str, str]]:
    if not (REALWORLD / "SOURCES.tsv").exists():
        return []
    with open(REALWORLD / "SOURCES.tsv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


# Item counts SOURCES.tsv states (or implies) for a file.
EXPECTED = {"guardian_us_2018.rss.xml": 55, "golem_rss20_iso8859-1.rss.xml": 40, "ibash_ru_windows-1251.rss.xml": 50,
            "heise_rss090_rdf.rdf.xml": 60, "washingtonpost_wellness.rss.xml": 29,
            "pcmag_dvorak_illegally_nested.rss.xml": 10, "fp_utf16le_bom.xml": 0,
            "kernelorg_nonurl_guid.rss.xml": 1, "daringfireball_jsonfeed_1.0.json": 2}


# Ill-formed documents that yield no item at all are recorded as parse errors, not as empty feeds.
TRUNCATED = {"reuters_mostread_invalid.rss.xml"}


@pytest.mark.parametrize("row", _realworld() or [None], ids=lambda r: r["file"] if r else "absent")
async def test_realworld_feed_via_farm(farm: Farm, limits: Settings, row: dict[str, str] | None) -> None:
    if row is None:
        pytest.skip(f"no real-world feed corpus at {REALWORLD}")
    name = row["file"]
    try:
        count = await fetch_and_parse(f"{farm.base}/{name}", limits)
    except FetchError as exc:
        # raw gzip bytes served as XML, and a document cut off before any item: clean parse errors
        assert name.endswith(".gz") or name in TRUNCATED, f"{name}: {exc}"
        assert exc.error_class == "parse"
        return
    if name in EXPECTED:
        assert count == EXPECTED[name]
    if name == "tpm_talkingpointsmemo.atom.xml":  # relative hrefs resolved against the feed URL
        client = make_client(limits)
        try:
            res = await fetch(client, f"{farm.base}/{name}", limits)
        finally:
            await client.aclose()
        assert res.body is not None
        arts = normalise_feed(parse(res.body, url=res.url), feed_url=res.url, feed_id=1, now=datetime.now(UTC))
        assert all(a.link.startswith(farm.base + "/livewire/") or a.link.startswith("http") for a in arts)
        assert any(a.link.startswith(farm.base + "/livewire/") for a in arts)


# --- the aiohttp transport: keep-alive, the approved address, our own decoding, errors by type -------


Reply = Callable[[bytes], bytes | None]


class RawServer:
    """127.0.0.1 server answering every request head with ``reply(head)`` bytes (None: hang up unanswered;
    ``close``: hang up after each answer); counts the connections it accepted and keeps every request head."""

    def __init__(self, reply: Reply, *, close: bool = False) -> None:
        self.reply = reply
        self.close = close
        self.connections = 0
        self.heads: list[bytes] = []
        self.server: asyncio.Server | None = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                self.heads.append(head)
                answer = self.reply(head)
                if answer is None:
                    return
                writer.write(answer)
                await writer.drain()
                if self.close:
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            writer.close()

    def url(self, path: str = "/feed.xml", host: str = "127.0.0.1") -> str:
        assert self.server is not None
        return f"http://{host}:{self.server.sockets[0].getsockname()[1]}{path}"

    async def __aenter__(self) -> RawServer:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()


FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item><title>a</title>' \
       b"<link>https://news.example/a</link></item></channel></rss>"


def response(status: int = 200, body: bytes = b"", **headers: str) -> bytes:
    hs = {"Content-Length": str(len(body)), **{k.replace("_", "-"): v for k, v in headers.items()}}
    return (f"HTTP/1.1 {status} X\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hs.items()) + "\r\n").encode() + body


async def fetch_once(url: str, settings: Settings, **kw: str) -> FetchResult:
    client = make_client(settings)
    try:
        return await fetch(client, url, settings, **kw)
    finally:
        await client.aclose()


async def test_keep_alive_reuses_one_connection(limits: Settings) -> None:
    def reply(head: bytes) -> bytes:
        if b'if-none-match: "v1"' in head.lower():
            return response(304, ETag='"v1"')
        return response(200, FEED, ETag='"v1"', Content_Type="application/rss+xml")

    async with RawServer(reply) as srv:
        client = make_client(limits)
        try:
            for _ in range(3):
                assert (await fetch(client, srv.url(), limits)).body == FEED
            for _ in range(3):
                assert (await fetch(client, srv.url(), limits, etag='"v1"')).status == 304
        finally:
            await client.aclose()
    assert len(srv.heads) == 6 and srv.connections == 1


async def test_a_connection_the_server_closed_is_not_reused(limits: Settings) -> None:
    async with RawServer(lambda head: response(200, FEED), close=True) as srv:
        client = make_client(limits)
        try:
            for _ in range(3):
                await asyncio.sleep(0.05)  # the hang-up arrives while the connection sits idle
                assert (await fetch(client, srv.url(), limits)).body == FEED
        finally:
            await client.aclose()
    assert srv.connections == 3


async def test_connects_to_the_approved_address_without_asking_dns_again(
        limits: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """The guard's answer is the connection's address: a name no DNS knows still reaches the server it approved."""
    asked: list[str] = []

    async def resolve(host: str, port: int) -> list[netguard.IPAddress]:
        asked.append(host)
        return [ipaddress.ip_address("127.0.0.1")]

    monkeypatch.setattr(netguard, "resolve", resolve)
    settings = limits.model_copy(update={"feed_allowed_hosts": ["feeds.invalid"]})
    async with RawServer(lambda head: response(200, FEED)) as srv:
        url = srv.url(host="feeds.invalid")
        result = await fetch_once(url, settings)
    assert result.body == FEED and result.url == url and asked == ["feeds.invalid"]
    assert f"host: feeds.invalid:{urlsplit(url).port}".encode() in srv.heads[0].lower()


def test_no_name_ever_reaches_aiohttp_resolution() -> None:
    target = approved_target("https://Feeds.Example:8443/a b/ü?q=%2F&x=y z#frag", "2001:db8::1")
    assert str(target.url) == "https://[2001:db8::1]:8443/a%20b/%C3%BC?q=%2F&x=y%20z"
    assert target.host_header == "feeds.example:8443" and target.server_hostname == "feeds.example"
    assert approved_target("http://bücher.example/", "192.0.2.1").host_header == "xn--bcher-kva.example"
    with pytest.raises(OSError, match="refusing to resolve"):
        asyncio.run(_NoResolver().resolve("feeds.example", 80))


async def test_redirect_to_another_name_is_checked_again(limits: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each hop is guarded on its own: an allowlisted name redirecting to a name that resolves inside is refused."""
    async def resolve(host: str, port: int) -> list[netguard.IPAddress]:
        return [ipaddress.ip_address("127.0.0.1" if host == "feeds.invalid" else "10.1.2.3")]

    monkeypatch.setattr(netguard, "resolve", resolve)
    settings = limits.model_copy(update={"feed_allowed_hosts": ["feeds.invalid"]})
    async with RawServer(lambda head: response(302, Location="http://inside.invalid/feed.xml")) as srv:
        with pytest.raises(Blocked):
            await fetch_once(srv.url(host="feeds.invalid"), settings)
    assert len(srv.heads) == 1


def _deflate(data: bytes, wbits: int) -> bytes:
    z = zlib.compressobj(9, zlib.DEFLATED, wbits)
    return z.compress(data) + z.flush()


@pytest.mark.parametrize("encoding,encode", [
    ("gzip", lambda b: gzip.compress(b)),
    ("deflate", lambda b: _deflate(b, zlib.MAX_WBITS)),  # zlib-wrapped, as the RFC says
    ("deflate", lambda b: _deflate(b, -zlib.MAX_WBITS)),  # raw, as many servers send
    ("br", lambda b: brotli.compress(b)),
    ("identity", lambda b: b),
])
async def test_bodies_are_decoded_by_us(limits: Settings, encoding: str, encode: Callable[[bytes], bytes]) -> None:
    async with RawServer(lambda head: response(200, encode(FEED), Content_Encoding=encoding)) as srv:
        assert (await fetch_once(srv.url(), limits)).body == FEED


@pytest.mark.parametrize("encoding,encode", [
    ("gzip", lambda b: gzip.compress(b, 9)),
    ("br", lambda b: brotli.compress(b, quality=5)),
])
async def test_decompression_cap_holds(limits: Settings, encoding: str, encode: Callable[[bytes], bytes]) -> None:
    bomb = encode(b"\0" * (limits.fetch_max_decompressed_bytes + MB))
    assert len(bomb) < limits.fetch_max_body_bytes
    async with RawServer(lambda head: response(200, bomb, Content_Encoding=encoding)) as srv:
        with pytest.raises(TooLarge) as info:
            await fetch_once(srv.url(), limits)
    assert "decompressed" in str(info.value) and not info.value.retriable


def chunked(body: bytes, **headers: str) -> bytes:
    hs = "".join(f"{k.replace('_', '-')}: {v}\r\n" for k, v in headers.items())
    frames = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 100]), body[i:i + 100]) for i in range(0, len(body), 100))
    return f"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n{hs}\r\n".encode() + frames + b"0\r\n\r\n"


async def test_chunked_gzip_body(limits: Settings) -> None:
    async with RawServer(lambda head: chunked(gzip.compress(FEED), Content_Encoding="gzip")) as srv:
        assert (await fetch_once(srv.url(), limits)).body == FEED


async def test_close_delimited_body_and_early_hints(limits: Settings) -> None:
    close_delimited = b"HTTP/1.0 200 OK\r\nContent-Type: application/rss+xml\r\n\r\n" + FEED
    async with RawServer(lambda head: close_delimited, close=True) as srv:
        assert (await fetch_once(srv.url(), limits)).body == FEED
    hints = b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
    async with RawServer(lambda head: hints + response(200, FEED)) as srv:
        result = await fetch_once(srv.url(), limits)
    assert result.status == 200 and result.body == FEED


@pytest.mark.parametrize("reply,error_class,retriable", [
    (lambda head: b"SSH-2.0-OpenSSH_9.6\r\n\r\n", "tcp", True),  # not HTTP at all
    (lambda head: None, "tcp", True),  # hung up without an answer
    (lambda head: response(200, FEED)[:-10], "timeout", True),  # the rest of the body never comes
    (lambda head: response(200, FEED, Content_Encoding="gzip, br"), "tcp", False),
    (lambda head: response(200, FEED, Content_Encoding="compress"), "tcp", False),
    (lambda head: response(200, b"\x1f\x8b not gzip", Content_Encoding="gzip"), "tcp", False),
    (lambda head: response(404, b"gone"), "http", False),
    (lambda head: response(429, b"slow down", Retry_After="30"), "http", True),
])
async def test_errors_are_classified_by_type(limits: Settings, reply: Reply, error_class: str,
                                             retriable: bool) -> None:
    settings = limits.model_copy(update={"fetch_read_timeout_s": 0.5})
    async with RawServer(reply) as srv:
        with pytest.raises(FetchError) as info:
            await fetch_once(srv.url(), settings)
    assert (info.value.error_class, info.value.retriable) == (error_class, retriable), str(info.value)


async def test_body_cut_short_is_tcp(limits: Settings) -> None:
    async with RawServer(lambda head: response(200, FEED)[:-10], close=True) as srv:
        with pytest.raises(FetchError) as info:
            await fetch_once(srv.url(), limits)
    assert (info.value.error_class, info.value.retriable) == ("tcp", True), str(info.value)


async def test_tls_failure_is_tls(limits: Settings) -> None:
    """https:// to a server that speaks plain HTTP fails in the handshake: ``tls``, from the exception's type."""
    async def plain(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(512)  # the ClientHello
        writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(plain, "127.0.0.1", 0)
    try:
        with pytest.raises(FetchError) as info:
            await fetch_once(f"https://127.0.0.1:{server.sockets[0].getsockname()[1]}/feed.xml", limits)
    finally:
        server.close()
    assert info.value.error_class == "tls", str(info.value)


async def test_websub_post_is_guarded_too(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(feed_allowed_hosts=[])
    client = make_client(settings)
    try:
        async with RawServer(lambda head: response(202)) as srv:
            with pytest.raises(Blocked):
                await client.post_form(srv.url("/hub"), {"hub.mode": "subscribe"}, allowed=[], timeout_s=2)
            assert srv.connections == 0
            status = await client.post_form(srv.url("/hub"), {"hub.mode": "subscribe"}, allowed=["127.0.0.1"],
                                            timeout_s=2)
        assert status == 202 and b"content-type: application/x-www-form-urlencoded" in srv.heads[0].lower()
    finally:
        await client.aclose()


class _Sessions:
    """Stands in for the session factory: _record_failure only opens one to hand to the repo."""

    @contextlib.asynccontextmanager
    async def __call__(self) -> AsyncIterator[None]:
        yield None


@pytest.mark.parametrize("error,delay_s", [
    (ConnectError("refused"), 900.0),  # retriable: backs off from the feed's interval
    (HTTPStatusError("HTTP 503", status=503, retriable=True), 900.0),
    (HTTPStatusError("HTTP 404", status=404, retriable=False), 3 * 3600.0),  # permanent: the ceiling at once
    (ParseError("not a feed"), 3 * 3600.0),
    (TooLarge("too big"), 3 * 3600.0),
])
async def test_scheduler_branches_on_retriable(make_settings: Callable[..., Settings],
                                               monkeypatch: pytest.MonkeyPatch, error: FetchError,
                                               delay_s: float) -> None:
    recorded: dict[str, object] = {}

    async def record_failure(session: object, **kw: object) -> None:
        recorded.update(kw)

    monkeypatch.setattr(service.repo, "record_failure", record_failure)
    s = make_settings(poll_default_interval_s=900, poll_error_max_interval_s=3 * 3600, poll_jitter_fraction=0)
    ing = service.Ingester(s, _Sessions(), make_client(s), producer=None)  # type: ignore[arg-type]
    now = datetime.now(UTC)
    await ing._record_failure(Feed(id=1, url="https://news.example/rss", consecutive_failures=0), error, now)
    assert recorded["next_check_at"] == now + timedelta(seconds=delay_s)
    assert recorded["error_class"] == error.error_class
