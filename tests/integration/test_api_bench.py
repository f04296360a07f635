"""The API bench's open loop measures latency from each request's scheduled send time: a server stall counts
against every request that fell due during it (no coordinated omission), not only against the few in flight."""

from __future__ import annotations

import asyncio
import time

from tests.bench.api import hammer, open_loop


async def _stalling_server(stall: dict[str, float]) -> tuple[asyncio.Server, str]:
    """HTTP/1.1 keep-alive server answering "ok", except that it answers nothing until stall["until"]."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                if (wait := stall["until"] - time.perf_counter()) > 0:
                    await asyncio.sleep(wait)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"


async def test_a_stall_counts_against_every_request_due_during_it():
    stall = {"until": 0.0}
    server, base = await _stalling_server(stall)

    async def stall_once(at: float, seconds: float) -> None:
        await asyncio.sleep(at)
        stall["until"] = time.perf_counter() + seconds

    async with server:
        # The open loop warms up for 0.5 s, then measures 2 s at 200 req/s; the server stalls 0.3 s in the middle.
        staller = asyncio.create_task(stall_once(1.5, 0.3))
        r = await open_loop(base, "/", rate=200, duration=2, connections=4)
        await staller
        assert r["requests"] == 400 and r["errors"] == 0
        assert r["p50_ms"] < 100, r  # most requests never met the stall
        assert r["p99_ms"] >= 150, r  # ~60 requests fell due during it and waited for it
        # The same stall seen by a closed loop of 4 connections: only the 4 requests in flight wait.
        staller = asyncio.create_task(stall_once(0.5 + 0.5, 0.3))
        closed = await hammer(base, "/", duration=2, connections=4)
        await staller
        assert closed["requests"] > 1000 and closed["p99_ms"] < r["p99_ms"], (closed, r)
