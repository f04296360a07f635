"""A tiny HTTP endpoint for worker processes: /healthz, /readyz and /metrics on WIREWATCH_METRICS_PORT.

Workers have no web framework; this serves the three probes Kubernetes and the
dashboard need, straight from asyncio.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest


def metrics_url(host: str, port: int) -> str | None:
    """Where others can scrape this process: loopback when bound there, else this host's name."""
    if not port:
        return None
    reach = "127.0.0.1" if host in ("127.0.0.1", "localhost") else socket.gethostname()
    return f"http://{reach}:{port}/metrics"


class HealthServer:
    """Serve liveness, readiness (a callable) and the process's Prometheus registry."""

    def __init__(self, port: int, ready: Callable[[], bool], host: str = "127.0.0.1") -> None:
        self.port, self.host, self.ready = port, host, ready
        self._server: asyncio.base_events.Server | None = None

    async def __aenter__(self) -> HealthServer:
        if self.port:
            self._server = await asyncio.start_server(self._handle, self.host, self.port)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await asyncio.wait_for(reader.readline(), 5)
            path = line.decode("latin-1").split(" ")[1] if line.count(b" ") >= 2 else "/"
            while (await asyncio.wait_for(reader.readline(), 5)) not in (b"\r\n", b"\n", b""):
                pass
            if path == "/healthz":
                status, body, ctype = 200, b'{"status":"ok"}', "application/json"
            elif path == "/readyz":
                ok = self.ready()
                status, ctype = (200 if ok else 503), "application/json"
                body = b'{"status":"ready"}' if ok else b'{"status":"not ready"}'
            elif path == "/metrics":
                status, body, ctype = 200, generate_latest(), CONTENT_TYPE_LATEST
            else:
                status, body, ctype = 404, b"not found", "text/plain"
            writer.write(
                f"HTTP/1.1 {status} X\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
                "Connection: close\r\n\r\n".encode() + body
            )
            await writer.drain()
        except (TimeoutError, ConnectionError, IndexError):
            pass
        finally:
            writer.close()
