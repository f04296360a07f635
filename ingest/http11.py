"""A small HTTP/1.1 client for feed fetching: a keep-alive pool and streamed, framed bodies.

Why it exists: profiling ``python -m tests.bench.ingest`` showed httpx spending most of a
conditional GET in its own layers — the client (~0.7 ms per request on the bench
machine, measured against a mock transport), httpcore's pool scan (quadratic in the
requests waiting) and a failed ``import sniffio`` per lock — so 304s topped out near
150-250/s. Feed polling needs very little of HTTP: GET (and a form POST for WebSub),
Content-Length / chunked / close-delimited bodies, keep-alive, TLS. This module does
exactly that on asyncio streams.

* ``Pool.request()`` opens (or reuses) a connection to ``connect_to`` (the address the
  SSRF guard approved, so DNS is not asked twice and cannot answer differently), sends
  the request and returns a ``Response`` once the head has arrived; its body is read
  with ``iter_raw()`` in chunks of at most ``CHUNK`` bytes; the caller enforces sizes.
* A connection goes back to the pool only when its response was read to the end and
  neither side asked to close; idle connections expire after ``keepalive_expiry`` s.
* ``max_connections`` bounds open connections (callers wait for a slot),
  ``max_keepalive`` bounds idle ones.
* A request on a reused connection that the server had already closed is retried once
  on a fresh connection (GET/HEAD only).
* Timeouts: ``connect_timeout`` for TCP+TLS, ``read_timeout`` for every read; the
  caller owns the total deadline. Failures raise ``TimeoutError``, ``OSError``,
  ``ssl.SSLError`` or ``ProtocolError`` (an ``OSError``).

``Http11Transport`` puts the same pool behind httpx's transport seam, so one
``httpx.AsyncClient`` serves the rare non-feed requests (WebSub subscriptions).
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

CHUNK = 64 * 1024
HEAD_LIMIT = 64 * 1024
_NO_BODY = frozenset({204, 304})


class ProtocolError(OSError):
    """The server spoke something that is not HTTP/1.x."""


@dataclass(eq=False)
class _Conn:
    key: tuple[str, str, int, str]
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    idle_since: float = 0.0

    def close(self) -> None:
        self.writer.close()


@dataclass(eq=False)
class Response:
    """Status and headers of one response; the body is still on the wire (``iter_raw``)."""

    status: int
    reason: str
    headers: list[tuple[str, str]]
    _pool: Pool
    _conn: _Conn | None
    _framing: str  # "none" | "length" | "chunked" | "close"
    _remaining: int = 0
    _keep: bool = True
    _done: bool = False
    _closed: bool = False
    _header_map: dict[str, str] = field(default_factory=dict)

    def header(self, name: str, default: str = "") -> str:
        """A header by lower-case name (repeated headers joined with ", ")."""
        if not self._header_map:
            for k, v in self.headers:
                self._header_map[k] = f"{self._header_map[k]}, {v}" if k in self._header_map else v
        return self._header_map.get(name, default)

    def header_dict(self) -> dict[str, str]:
        self.header("")
        return dict(self._header_map)

    async def iter_raw(self) -> AsyncIterator[bytes]:
        """The body as it arrives (still content-encoded), in chunks of at most CHUNK bytes."""
        conn = self._conn
        if self._done or conn is None:
            return
        reader, timeout = conn.reader, self._pool.read_timeout
        if self._framing == "length":
            while self._remaining > 0:
                async with asyncio.timeout(timeout):
                    data = await reader.read(min(self._remaining, CHUNK))
                if not data:
                    raise ProtocolError("connection closed before the end of the body")
                self._remaining -= len(data)
                yield data
        elif self._framing == "chunked":
            while True:
                async with asyncio.timeout(timeout):
                    line = await _readline(reader)
                try:
                    size = int(line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    raise ProtocolError(f"bad chunk size line {line[:40]!r}") from None
                if size == 0:
                    while True:  # trailers
                        async with asyncio.timeout(timeout):
                            if not (await _readline(reader)).strip():
                                break
                    break
                while size > 0:
                    async with asyncio.timeout(timeout):
                        data = await reader.read(min(size, CHUNK))
                    if not data:
                        raise ProtocolError("connection closed inside a chunk")
                    size -= len(data)
                    yield data
                async with asyncio.timeout(timeout):
                    if (await _readline(reader)).strip():
                        raise ProtocolError("chunk not followed by CRLF")
        elif self._framing == "close":
            while True:
                async with asyncio.timeout(timeout):
                    data = await reader.read(CHUNK)
                if not data:
                    break
                yield data
        self._done = True

    async def aread(self) -> bytes:
        return b"".join([c async for c in self.iter_raw()])

    def close(self) -> None:
        """Give the connection back (body fully read, keep-alive) or close it."""
        if self._closed:
            return
        self._closed = True
        self._pool._release(self._conn, reuse=self._done and self._keep)
        self._conn = None


async def _readline(reader: asyncio.StreamReader) -> bytes:
    try:
        return await reader.readuntil(b"\n")
    except asyncio.IncompleteReadError as exc:
        raise ProtocolError("connection closed mid-line") from exc
    except asyncio.LimitOverrunError as exc:
        raise ProtocolError("line too long") from exc


class Pool:
    """Keep-alive HTTP/1.1 connections keyed by (scheme, host, port, address)."""

    def __init__(self, *, max_connections: int, max_keepalive: int, connect_timeout: float, read_timeout: float,
                 keepalive_expiry: float = 5.0, ssl_context: ssl.SSLContext | None = None) -> None:
        self.max_keepalive = max_keepalive
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.keepalive_expiry = keepalive_expiry
        self._ssl = ssl_context
        self._slots = asyncio.Semaphore(max_connections)
        self._idle: dict[tuple[str, str, int, str], list[_Conn]] = {}
        self._n_idle = 0
        self._closed = False

    def _ssl_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            try:
                import certifi

                self._ssl = ssl.create_default_context(cafile=certifi.where())
            except ImportError:  # pragma: no cover - certifi comes with httpx
                self._ssl = ssl.create_default_context()
        return self._ssl

    async def _open(self, key: tuple[str, str, int, str]) -> _Conn:
        scheme, host, port, addr = key
        tls = self._ssl_context() if scheme == "https" else None
        async with asyncio.timeout(self.connect_timeout):
            reader, writer = await asyncio.open_connection(
                addr, port, ssl=tls, server_hostname=host if tls else None, limit=HEAD_LIMIT)
        return _Conn(key, reader, writer)

    def _take_idle(self, key: tuple[str, str, int, str]) -> _Conn | None:
        conns = self._idle.get(key)
        now = time.monotonic()
        while conns:
            conn = conns.pop()
            self._n_idle -= 1
            if now - conn.idle_since < self.keepalive_expiry and not conn.reader.at_eof():
                return conn
            conn.close()
        return None

    def _release(self, conn: _Conn | None, *, reuse: bool) -> None:
        if conn is None:
            return
        self._slots.release()
        if not reuse or self._closed or self._n_idle >= self.max_keepalive or conn.writer.is_closing():
            conn.close()
            return
        conn.idle_since = time.monotonic()
        self._idle.setdefault(conn.key, []).append(conn)
        self._n_idle += 1

    async def request(self, method: str, url: str, headers: list[tuple[str, str]], body: bytes = b"", *,
                      connect_to: str | None = None) -> Response:
        """Send one request; returns once the response head arrived (call ``close()`` when done)."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https") or not parts.hostname:
            raise ProtocolError(f"unsupported URL {url!r}")
        host = parts.hostname
        port = parts.port or (443 if scheme == "https" else 80)
        key = (scheme, host, port, connect_to or host)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        host_header = host if ":" not in host else f"[{host}]"
        if parts.port is not None:
            host_header += f":{port}"
        lines = [f"{method} {target} HTTP/1.1", f"Host: {host_header}"]
        lines.extend(f"{k}: {v}" for k, v in headers if k.lower() not in ("host", "content-length", "connection"))
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body)}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        await self._slots.acquire()
        try:
            conn = self._take_idle(key)
            reused = conn is not None
            if conn is None:
                conn = await self._open(key)
            try:
                return await self._exchange(conn, method, head, body)
            except BaseException as exc:
                conn.close()
                if not (reused and method in ("GET", "HEAD") and getattr(exc, "stale", False)):
                    raise
            conn = await self._open(key)  # the server had closed the idle connection: once more, fresh
            try:
                return await self._exchange(conn, method, head, body)
            except BaseException:
                conn.close()
                raise
        except BaseException:
            self._slots.release()
            raise

    async def _exchange(self, conn: _Conn, method: str, head: bytes, body: bytes) -> Response:
        try:
            conn.writer.write(head + body if len(body) < 16384 else head)
            if len(body) >= 16384:
                conn.writer.write(body)
            await conn.writer.drain()
        except ConnectionError as exc:
            exc.stale = True  # type: ignore[attr-defined]
            raise
        while True:
            try:
                async with asyncio.timeout(self.read_timeout):
                    raw = await conn.reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError as exc:
                err = ProtocolError("server closed the connection without a response")
                err.stale = not exc.partial  # type: ignore[attr-defined]
                raise err from exc
            except asyncio.LimitOverrunError as exc:
                raise ProtocolError(f"response head larger than {HEAD_LIMIT} bytes") from exc
            lines = raw[:-4].decode("latin-1").split("\r\n")
            status_line = lines[0].split(" ", 2)
            if len(status_line) < 2 or not status_line[0].startswith("HTTP/1.") or not status_line[1].isdigit():
                raise ProtocolError(f"not an HTTP/1.x response: {lines[0][:60]!r}")
            status = int(status_line[1])
            if 100 <= status < 200 and status != 101:
                continue  # 100 Continue, 103 Early Hints: the real head follows
            break
        headers: list[tuple[str, str]] = []
        for line in lines[1:]:
            if line[:1] in (" ", "\t") and headers:  # obsolete line folding
                headers[-1] = (headers[-1][0], headers[-1][1] + " " + line.strip())
                continue
            name, sep, value = line.partition(":")
            if sep:
                headers.append((name.strip().lower(), value.strip()))
        resp = Response(status, status_line[2] if len(status_line) > 2 else "", headers, self, conn, "none")
        connection = resp.header("connection").lower()
        resp._keep = status_line[0] == "HTTP/1.1" and "close" not in connection
        te = resp.header("transfer-encoding").lower()
        length = resp.header("content-length")
        if method == "HEAD" or status in _NO_BODY or status < 200:
            resp._done = True
        elif te:
            if te.split(",")[-1].strip() != "chunked":
                raise ProtocolError(f"unsupported transfer-encoding {te!r}")
            resp._framing = "chunked"
        elif length:
            if not length.isdigit():
                raise ProtocolError(f"bad Content-Length {length!r}")
            resp._framing, resp._remaining = "length", int(length)
            resp._done = resp._remaining == 0
        else:
            resp._framing, resp._keep = "close", False
        return resp

    async def aclose(self) -> None:
        self._closed = True
        for conns in self._idle.values():
            for conn in conns:
                conn.close()
        self._idle.clear()
        self._n_idle = 0


class _BodyStream(httpx.AsyncByteStream):
    def __init__(self, resp: Response) -> None:
        self._resp = resp

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._resp.iter_raw():
                yield chunk
        except TimeoutError as exc:
            raise httpx.ReadTimeout(str(exc) or "read timed out") from exc
        except ssl.SSLError:
            raise
        except OSError as exc:
            raise httpx.ReadError(str(exc) or type(exc).__name__) from exc

    async def aclose(self) -> None:
        self._resp.close()


class Http11Transport(httpx.AsyncBaseTransport):
    """``Pool`` behind httpx's transport seam (requests through an httpx client take this path)."""

    def __init__(self, pool: Pool) -> None:
        self.pool = pool

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = b"".join([part async for part in request.stream])  # type: ignore[union-attr]
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw]
        try:
            resp = await self.pool.request(request.method, str(request.url), headers, body)
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(str(exc) or "timed out", request=request) from exc
        except ssl.SSLError:
            raise
        except OSError as exc:
            raise httpx.ConnectError(str(exc) or type(exc).__name__, request=request) from exc
        return httpx.Response(resp.status, headers=resp.headers, stream=_BodyStream(resp),
                              extensions={"http_version": b"HTTP/1.1", "reason_phrase": resp.reason.encode()})

    async def aclose(self) -> None:
        await self.pool.aclose()
