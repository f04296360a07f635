"""A local feed farm on 127.0.0.1 for tests, benchmarks and the demo.

Serves N synthetic RSS/Atom feeds that grow over time, with ETag/Last-Modified
(304s), optional slowness, plus every hostile case ingest must survive and a
small WebSub hub. A plain asyncio HTTP/1.1 server (keep-alive) so the hostile
cases can misbehave at the byte level.

    python -m tests.farm --port 8900 --feeds 100
    python -m tests.farm --static deploy/demo --port 8765      # serves /demo.rss

    async with Farm(feeds=10) as farm: farm.url(3)

Paths
    /feed/{i}.xml          feed i (even: RSS 2.0, odd: Atom); ``?status=503`` etc. forces a status
    /hostile/{kind}        billion-laughs, quadratic, xxe, gzip-bomb, endless, trickle, html, junk, empty,
                           huge-length, slow
    /redirect/{code}/{i}   a 301/302/307/308 to feed i;  /loop/a ↔ /loop/b;  /chain/{n}
    /status/{code}         that status (429/503 carry Retry-After: 120)
    /static/...            files of the ``static`` directory (also served at the root)
    /hub                   WebSub hub (subscribe with verification, publish with X-Hub-Signature sha256)
    /_control/publish/{i}  append one item to feed i now (and push it to its WebSub subscribers)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import hashlib
import hmac
import mimetypes
import secrets
import threading
import time
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

ITEMS_SHOWN = 20
REASONS = {200: "OK", 202: "Accepted", 204: "No Content", 301: "Moved Permanently", 302: "Found",
           304: "Not Modified", 307: "Temporary Redirect", 308: "Permanent Redirect", 400: "Bad Request",
           404: "Not Found", 410: "Gone", 429: "Too Many Requests", 500: "Internal Server Error",
           503: "Service Unavailable"}
WORDS = ["ceasefire", "talks", "resume", "as", "envoys", "meet", "in", "Geneva", "to", "discuss", "a", "humanitarian", "pause", "and", "prisoner", "exchange", "while", "shelling", "continues", "near", "the", "front", "line", "and", "aid", "convoys", "wait", "at", "the", "border", "crossing"]

BILLION_LAUGHS = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
                  + b"".join(b' <!ENTITY lol%d "%s">\n' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                             for i in range(1, 10))
                  + b']>\n<rss version="2.0"><channel><title>&lol9;</title><item><title>&lol9;</title>'
                    b'<link>http://example.org/a</link></item></channel></rss>')
HTML_TAIL = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item><title>Ceasefire</title>'
             b"<link>https://news.example/html-tail</link><description>&lt;p&gt;Talks resume&lt;/p&gt;&lt;a "
             + b"x=&lt;y " * 40_000 + b"</description></item></channel></rss>")
QUADRATIC = (b'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY a "' + b"x" * 50_000 + b'">]>\n'
             b'<rss version="2.0"><channel><title>q</title><item><title>' + b"&a;" * 50_000
             + b'</title><link>http://example.org/q</link></item></channel></rss>')
XXE = (b'<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
       b'<rss version="2.0"><channel><title>xxe</title><item><title>&xxe;</title>'
       b'<link>http://example.org/xxe</link><description>&xxe;</description></item></channel></rss>')
HTML_PAGE = (b'<!DOCTYPE html><html><head><title>News</title>'
             b'<link rel="alternate" type="application/rss+xml" href="/feed/0.xml" title="RSS">'
             b'</head><body><h1>Not a feed</h1></body></html>')


@dataclass
class FeedState:
    base_items: int = 10
    extra: list[float] = field(default_factory=list)  # creation times of items published since start


@dataclass
class Subscription:
    callback: str
    secret: str | None
    expires: float


class Farm:
    """The farm; run it in a thread (``async with`` / ``with``) or in the foreground (``serve_forever``)."""

    def __init__(self, feeds: int = 10, *, host: str = "127.0.0.1", port: int = 0, rate: float = 0.0,
                 delay: float = 0.0, static: str | Path | None = None, items: int = 10) -> None:
        self.n = feeds
        self.host = host
        self.port = port
        self.rate = rate  # new items per second per feed
        self.delay = delay  # seconds before answering a /feed/ request
        self.static = Path(static).resolve() if static else None
        self.started = time.time()
        self.feeds: dict[int, FeedState] = defaultdict(lambda: FeedState(items))
        self.requests: dict[str, int] = defaultdict(int)
        self.inflight: dict[int, int] = defaultdict(int)
        self.max_inflight: dict[int, int] = defaultdict(int)
        self.fetch_log: list[tuple[int, str, float, float]] = []  # (feed, user-agent, start, end)
        self.subscriptions: dict[str, dict[str, Subscription]] = defaultdict(dict)
        self._cache: dict[tuple[int, int], tuple[bytes, str, str]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._client: Any = None

    # --- addresses ---------------------------------------------------------
    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, i: int) -> str:
        return f"{self.base}/feed/{i}.xml"

    def hostile(self, kind: str) -> str:
        return f"{self.base}/hostile/{kind}"

    @property
    def hub_url(self) -> str:
        return f"{self.base}/hub"

    # --- feed content ------------------------------------------------------
    def _count(self, i: int, now: float) -> int:
        st = self.feeds[i]
        timed = int((now - self.started) * self.rate) if self.rate else 0
        return st.base_items + timed + len(st.extra)

    def _item_time(self, i: int, j: int) -> float:
        st = self.feeds[i]
        if j < st.base_items:
            return self.started - (st.base_items - j) * 3600.0
        k = j - st.base_items
        timed = int((time.time() - self.started) * self.rate) if self.rate else 0
        if k < timed:
            return self.started + (k + 1) / self.rate
        return st.extra[k - timed] if k - timed < len(st.extra) else time.time()

    def publish(self, i: int) -> None:
        """Append one item to feed i now and push it to the hub's subscribers (thread-safe)."""
        self.feeds[i].extra.append(time.time())
        if self._loop is not None and self.subscriptions.get(self.url(i)):
            asyncio.run_coroutine_threadsafe(self._push(i), self._loop)

    def shown(self, i: int, n: int) -> range:
        """The item numbers feed i shows when it holds ``n`` items, newest first (the newest ITEMS_SHOWN)."""
        return range(n - 1, max(-1, n - 1 - ITEMS_SHOWN), -1)

    def entry(self, i: int, j: int, t: float) -> tuple[str, str, str]:
        """(title, link, HTML body) of item j of feed i, published at ``t``; subclasses write other items."""
        words = " ".join(WORDS[(j + k) % len(WORDS)] for k in range(24))
        return (f"Feed {i} item {j}: {' '.join(WORDS[(i + j) % 20:(i + j) % 20 + 5])}",
                f"{self.base}/articles/{i}/{j}?t={t:.3f}", f"<p>{words}.</p><p>Item {j} of feed {i}.</p>")

    def entry_time(self, i: int, j: int, n: int) -> float:
        """When item j of feed i (of ``n`` so far) was published."""
        return self._item_time(i, j)

    def updated(self, items: list[tuple[int, float, str, str, str]]) -> float:
        """When the feed last changed: its newest item's time."""
        return max((it[1] for it in items), default=self.started)

    def validators(self, i: int, n: int, body: bytes, last: float) -> tuple[str, str]:
        """(ETag, Last-Modified) of feed i's body as it is now."""
        return '"' + hashlib.md5(body).hexdigest()[:16] + '"', formatdate(last, usegmt=True)

    def render(self, i: int) -> tuple[bytes, str, str]:
        """(body, etag, last-modified) of feed i as it is now (cached per item count)."""
        n = self._count(i, time.time())
        cached = self._cache.get((i, n))
        if cached:
            return cached
        items = []
        for j in self.shown(i, n):
            t = self.entry_time(i, j, n)
            items.append((j, t, *self.entry(i, j, t)))
        last = self.updated(items)
        body = self._rss(i, items) if i % 2 == 0 else self._atom(i, items, last)
        out = (body, *self.validators(i, n, body, last))
        if len(self._cache) > 20_000:
            self._cache.clear()
        self._cache[(i, n)] = out
        return out

    def _rss(self, i: int, items: list[tuple[int, float, str, str, str]]) -> bytes:
        parts = [f'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">'
                 f"<channel><title>Farm feed {i}</title><link>{self.base}/site/{i}</link>"
                 f'<atom:link rel="self" href="{self.url(i)}"/><atom:link rel="hub" href="{self.hub_url}"/>'
                 f"<description>synthetic</description><language>en</language>"]
        for j, t, title, link, html in items:
            parts.append(f"<item><title>{title}</title><link>{link.replace('&', '&amp;')}</link>"
                         f"<guid isPermaLink=\"false\">farm-{i}-{j}</guid><pubDate>{formatdate(t, usegmt=True)}</pubDate>"
                         f"<description><![CDATA[{html}]]></description></item>")
        parts.append("</channel></rss>")
        return "".join(parts).encode()

    def _atom(self, i: int, items: list[tuple[int, float, str, str, str]], last: float) -> bytes:
        iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(last))
        parts = [f'<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">'
                 f"<title>Farm feed {i}</title><id>urn:farm:{i}</id><updated>{iso}</updated>"
                 f'<link rel="alternate" href="{self.base}/site/{i}"/><link rel="self" href="{self.url(i)}"/>'
                 f'<link rel="hub" href="{self.hub_url}"/>']
        for j, t, title, link, html in items:
            ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int((t % 1) * 1000):03d}Z"
            esc = html.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            parts.append(f"<entry><title>{title}</title><id>urn:farm:{i}:{j}</id>"
                         f'<link href="{link.replace("&", "&amp;")}"/><updated>{ts}</updated><published>{ts}</published>'
                         f'<summary type="html">{esc}</summary></entry>')
        parts.append("</feed>")
        return "".join(parts).encode()

    # --- HTTP plumbing -----------------------------------------------------
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                try:
                    method, target, _version = line.decode("latin-1").split(" ", 2)
                except ValueError:
                    return
                headers: dict[str, str] = {}
                while True:
                    h = await reader.readline()
                    if h in (b"\r\n", b"\n", b""):
                        break
                    k, _, v = h.decode("latin-1").partition(":")
                    headers[k.strip().lower()] = v.strip()
                length = int(headers.get("content-length", "0") or 0)
                body = await reader.readexactly(length) if length else b""
                keep = await self._route(method, target, headers, body, writer)
                if not keep or headers.get("connection", "").lower() == "close":
                    return
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            return
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    @staticmethod
    async def _send(writer: asyncio.StreamWriter, status: int, body: bytes = b"",
                    headers: dict[str, str] | None = None) -> bool:
        hs = {"Content-Length": str(len(body)), "Server": "wirewatch-farm"}
        hs.update(headers or {})
        head = f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in hs.items()) + "\r\n"
        writer.write(head.encode("latin-1") + body)
        await writer.drain()
        return True

    async def _route(self, method: str, target: str, headers: dict[str, str], body: bytes,
                     writer: asyncio.StreamWriter) -> bool:
        parts = urlsplit(target)
        path = parts.path
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        self.requests[path] += 1
        seg = [p for p in path.split("/") if p]
        if seg[:1] == ["feed"] and len(seg) == 2:
            return await self._feed(int(seg[1].split(".")[0]), headers, query, writer)
        if seg[:1] == ["hostile"] and len(seg) == 2:
            return await self._hostile(seg[1], writer)
        if seg[:1] == ["redirect"] and len(seg) == 3:
            return await self._send(writer, int(seg[1]), headers={"Location": f"/feed/{seg[2]}.xml"})
        if seg[:1] == ["loop"] and len(seg) == 2:
            return await self._send(writer, 302, headers={"Location": "/loop/b" if seg[1] == "a" else "/loop/a"})
        if seg[:1] == ["chain"] and len(seg) == 2:
            n = int(seg[1])
            return await self._send(writer, 302, headers={"Location": f"/chain/{n - 1}" if n > 0 else "/feed/0.xml"})
        if seg[:1] == ["status"] and len(seg) == 2:
            code = int(seg[1])
            extra = {"Retry-After": "120"} if code in (429, 503) else {}
            return await self._send(writer, code, b"error", extra)
        if seg == ["hub"] and method == "POST":
            return await self._hub(body, writer)
        if seg[:2] == ["_control", "publish"] and len(seg) == 3:
            self.publish(int(seg[2]))
            return await self._send(writer, 204)
        if self.static is not None:
            rel = "/".join(seg[1:] if seg[:1] == ["static"] else seg)
            return await self._static(rel, writer)
        return await self._send(writer, 404, b"not found")

    async def _feed(self, i: int, headers: dict[str, str], query: dict[str, str],
                    writer: asyncio.StreamWriter) -> bool:
        if "status" in query:
            return await self._send(writer, int(query["status"]), b"forced")
        ua = headers.get("user-agent", "")
        start = time.time()
        self.inflight[i] += 1
        self.max_inflight[i] = max(self.max_inflight[i], self.inflight[i])
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            body, etag, modified = self.render(i)
            if headers.get("if-none-match") == etag or (
                    "if-none-match" not in headers and headers.get("if-modified-since") == modified):
                return await self._send(writer, 304, headers={"ETag": etag, "Last-Modified": modified})
            ctype = "application/rss+xml; charset=utf-8" if i % 2 == 0 else "application/atom+xml; charset=utf-8"
            extra = {"Content-Type": ctype, "ETag": etag, "Last-Modified": modified,
                     "Link": f'<{self.hub_url}>; rel="hub", <{self.url(i)}>; rel="self"'}
            if "gzip" in headers.get("accept-encoding", "") and len(body) > 1024:
                body = gzip.compress(body, 1)
                extra["Content-Encoding"] = "gzip"
            return await self._send(writer, 200, body, extra)
        finally:
            self.inflight[i] -= 1
            self.fetch_log.append((i, ua, start, time.time()))

    async def _hostile(self, kind: str, writer: asyncio.StreamWriter) -> bool:
        xml = {"Content-Type": "application/rss+xml"}
        if kind == "billion-laughs":
            return await self._send(writer, 200, BILLION_LAUGHS, xml)
        if kind == "quadratic":
            return await self._send(writer, 200, QUADRATIC, xml)
        if kind == "xxe":
            return await self._send(writer, 200, XXE, xml)
        if kind == "html-tail":  # one item whose HTML ends in ~240 KB of "<"s that never close
            return await self._send(writer, 200, HTML_TAIL, xml)
        if kind == "path-body":  # a body that is a local path: must never be opened
            return await self._send(writer, 200, b"/etc/passwd", xml)
        if kind == "gzip-bomb":
            bomb = await asyncio.get_running_loop().run_in_executor(None, _bomb, "gzip")
            return await self._send(writer, 200, bomb, {**xml, "Content-Encoding": "gzip"})
        if kind == "deflate-bomb":
            bomb = await asyncio.get_running_loop().run_in_executor(None, _bomb, "deflate")
            return await self._send(writer, 200, bomb, {**xml, "Content-Encoding": "deflate"})
        if kind == "html":
            return await self._send(writer, 200, HTML_PAGE, {"Content-Type": "text/html"})
        if kind == "junk":
            return await self._send(writer, 200, bytes(range(256)) * 64, {"Content-Type": "application/octet-stream"})
        if kind == "empty":
            return await self._send(writer, 200, b"", xml)
        if kind == "huge-length":
            return await self._send(writer, 200, b"<rss/>", {**xml, "Content-Length": str(10 ** 12)})
        if kind == "endless":
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nTransfer-Encoding: chunked\r\n\r\n")
            chunk = b"<item><title>more</title></item>" * 2000
            frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
            while True:
                writer.write(frame)
                await writer.drain()
        if kind in ("trickle", "slow"):
            payload = self.render(0)[0]
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n"
                         + f"Content-Length: {len(payload)}\r\n\r\n".encode())
            for b in payload:
                writer.write(bytes([b]))
                await writer.drain()
                await asyncio.sleep(1.0 if kind == "trickle" else 0.2)
            return False
        return await self._send(writer, 404, b"unknown hostile kind")

    async def _static(self, rel: str, writer: asyncio.StreamWriter) -> bool:
        assert self.static is not None
        target = (self.static / rel).resolve()
        if not target.is_relative_to(self.static) or not target.is_file():
            return await self._send(writer, 404, b"not found")
        ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if target.suffix in (".rss", ".xml", ".atom", ".rdf"):
            ctype = "application/xml"
        elif target.suffix == ".json":
            ctype = "application/feed+json"
        data = target.read_bytes()
        etag = '"' + hashlib.md5(data).hexdigest()[:16] + '"'
        return await self._send(writer, 200, data, {"Content-Type": ctype, "ETag": etag})

    # --- WebSub hub --------------------------------------------------------
    async def _hub(self, body: bytes, writer: asyncio.StreamWriter) -> bool:
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        mode, topic, callback = form.get("hub.mode"), form.get("hub.topic"), form.get("hub.callback")
        if mode == "publish":
            url = form.get("hub.url") or topic or ""
            seg = urlsplit(url).path.split("/")[-1].split(".")[0]
            if seg.isdigit():
                self.publish(int(seg))
            return await self._send(writer, 204)
        if mode not in ("subscribe", "unsubscribe") or not topic or not callback:
            return await self._send(writer, 400, b"hub.mode, hub.topic and hub.callback are required")
        await self._send(writer, 202)
        asyncio.ensure_future(self._verify(mode, topic, callback, form.get("hub.secret"),
                                           int(form.get("hub.lease_seconds") or 3600)))
        return True

    async def _http(self) -> Any:
        if self._client is None:
            import httpx

            self._client = httpx.AsyncClient(timeout=10, trust_env=False)
        return self._client

    async def _verify(self, mode: str, topic: str, callback: str, secret: str | None, lease: int) -> None:
        challenge = secrets.token_hex(8)
        sep = "&" if "?" in callback else "?"
        query = urlencode({"hub.mode": mode, "hub.topic": topic, "hub.challenge": challenge,
                           "hub.lease_seconds": lease})
        client = await self._http()
        try:
            resp = await client.get(callback + sep + query)
        except Exception:  # noqa: BLE001 - a failed verification simply leaves no subscription
            return
        if resp.status_code // 100 == 2 and resp.text == challenge:
            if mode == "subscribe":
                self.subscriptions[topic][callback] = Subscription(callback, secret, time.time() + lease)
            else:
                self.subscriptions[topic].pop(callback, None)

    async def _push(self, i: int) -> None:
        topic = self.url(i)
        body, _, _ = self.render(i)
        client = await self._http()
        for sub in list(self.subscriptions.get(topic, {}).values()):
            headers = {"Content-Type": "application/rss+xml" if i % 2 == 0 else "application/atom+xml",
                       "Link": f'<{self.hub_url}>; rel="hub", <{topic}>; rel="self"'}
            if sub.secret:
                headers["X-Hub-Signature"] = "sha256=" + hmac.new(sub.secret.encode(), body, hashlib.sha256).hexdigest()
            with contextlib.suppress(Exception):
                await client.post(sub.callback, content=body, headers=headers)

    # --- lifecycle ---------------------------------------------------------
    async def start(self) -> None:
        """Start serving on the running loop (foreground use)."""
        self._loop = asyncio.get_running_loop()
        self._server = await asyncio.start_server(self._handle, self.host, self.port, backlog=4096, limit=1 << 16)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        if self._client is not None:
            await self._client.aclose()

    def _thread_main(self) -> None:
        async def runner() -> None:
            await self.start()
            self._stop_event = asyncio.Event()
            self._ready.set()
            await self._stop_event.wait()
            await self.stop()

        try:
            import uvloop

            uvloop.run(runner())
        except ImportError:
            asyncio.run(runner())

    def start_thread(self) -> Farm:
        self._thread = threading.Thread(target=self._thread_main, name="feed-farm", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("feed farm did not start")
        return self

    def stop_thread(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._stop_event.set)
            self._thread.join(5)

    def __enter__(self) -> Farm:
        return self.start_thread()

    def __exit__(self, *exc: object) -> None:
        self.stop_thread()

    async def __aenter__(self) -> Farm:
        return await asyncio.to_thread(self.start_thread)

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self.stop_thread)


BOMB_SIZE = 64 * 1024 * 1024
_BOMBS: dict[str, bytes] = {}
_BOMB_LOCK = threading.Lock()


def _bomb(kind: str) -> bytes:
    """~64 KB of gzip/zlib that inflates to 64 MB of zeros (built once per process, off the event loop)."""
    with _BOMB_LOCK:
        if kind not in _BOMBS:
            z = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS if kind == "gzip" else zlib.MAX_WBITS)
            block = b"\0" * (1 << 20)
            _BOMBS[kind] = b"".join([z.compress(block) for _ in range(BOMB_SIZE >> 20)] + [z.flush()])
        return _BOMBS[kind]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m tests.farm", description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8900)
    ap.add_argument("--feeds", type=int, default=100)
    ap.add_argument("--rate", type=float, default=0.0, help="new items per second per feed")
    ap.add_argument("--delay", type=float, default=0.0, help="seconds before each feed response")
    ap.add_argument("--static", help="also serve the files of this directory (e.g. deploy/demo)")
    args = ap.parse_args(argv)
    farm = Farm(args.feeds, host=args.host, port=args.port, rate=args.rate, delay=args.delay, static=args.static)

    async def run() -> None:
        await farm.start()
        print(f"feed farm on {farm.base}: {farm.n} feeds at /feed/0.xml … /feed/{farm.n - 1}.xml"
              + (f"; static files from {farm.static} at /" if farm.static else ""), flush=True)
        await asyncio.Event().wait()

    try:
        import uvloop

        uvloop.run(run())
    except ImportError:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

__all__ = ["Farm", "quote"]
