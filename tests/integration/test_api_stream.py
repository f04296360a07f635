"""GET /stories/stream over a real uvicorn server (SSE through ASGITransport would be buffered).

Connect, store stories, receive only the matching ones; reconnect with Last-Event-ID and get only
what was missed; keep-alives arrive; many listeners share the one poller.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import uvicorn

from api.http.app import create_app
from services.db import stories as repo
from tests.conftest import free_port
from tests.factories import enriched, raw


@asynccontextmanager
async def served(settings: Any) -> AsyncIterator[tuple[Any, str]]:
    """The app under uvicorn on a free port, in this event loop (so the test can write to its store)."""
    app = create_app(settings)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="on", log_level="warning",
                                           timeout_graceful_shutdown=2))
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started or task.done():
            break
        await asyncio.sleep(0.01)
    assert server.started, "uvicorn did not start"
    try:
        yield app, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


class Events:
    """Server-sent events read off a streaming httpx response (comments kept, for keep-alives)."""

    def __init__(self, response: httpx.Response) -> None:
        self._lines = response.aiter_lines()
        self.comments: list[str] = []

    async def keepalive(self, timeout: float = 5.0) -> str:
        """Read on until a comment line (sse-starlette's ping) arrives."""
        async def read() -> str:
            async for line in self._lines:
                if line.startswith(":"):
                    return line
            raise EOFError("stream ended")

        return await asyncio.wait_for(read(), timeout)

    async def ready(self) -> dict[str, str]:
        """The first event: the stream's starting position (the subscription is live from here)."""
        return await self.next(want_ready=True)

    async def next(self, timeout: float = 10.0, *, want_ready: bool = False) -> dict[str, str]:
        async def read() -> dict[str, str]:
            ev: dict[str, str] = {}
            async for line in self._lines:
                if not line:
                    if "data" in ev and (ev.get("event") == "ready") == want_ready:
                        return ev
                    ev = {}
                    continue
                if line.startswith(":"):
                    self.comments.append(line)
                    continue
                key, _, value = line.partition(":")
                ev[key] = value[1:] if value.startswith(" ") else value
            raise EOFError("stream ended")

        return await asyncio.wait_for(read(), timeout)


async def store(app: Any, n: int, title: str, topics: dict[str, float] | None = None,
                story_id: str | None = None) -> str:
    e = enriched(raw(n, title=title), topics=topics, story_id=story_id)
    async with app.state.ctx.sessions() as s, s.begin():
        change = await repo.upsert_enriched(s, event=e)
    return change.story_id


@pytest.fixture
def settings(store_url, make_settings):
    return make_settings(database_url=store_url, sse_poll_interval_s=0.1, sse_keepalive_s=0.3)


async def test_stream_pushes_matching_stories_and_resumes(settings):
    async with served(settings) as (app, base), httpx.AsyncClient(base_url=base, timeout=10) as client:
        await store(app, 1, "Old news before anyone listened", {"ceasefire": 0.9})
        await asyncio.sleep(0.3)  # the watch has read it: it is history, not news, for a new listener
        async with client.stream("GET", "/stories/stream", params={"topic": "ceasefire"}) as r:
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
            events = Events(r)
            ready = await events.ready()
            assert ready["id"].endswith("|" + raw(1).id)
            sanctions = await store(app, 2, "Sanctions widened", {"sanctions": 0.9})
            truce = await store(app, 3, "Truce agreed in Gaza", {"ceasefire": 0.9})
            ev = await events.next()
            assert ev["event"] == "created"
            data = json.loads(ev["data"])
            assert data["id"] == truce != sanctions and data["headline"] == "Truce agreed in Gaza"
            assert ev["id"].endswith("|" + truce)
            last_id = ev["id"]
            # A second article joins the story: it arrives as "updated", with a newer position.
            assert await store(app, 4, "Truce holds in Gaza", {"ceasefire": 0.95}, story_id=truce) == truce
            upd = await events.next()
            assert upd["event"] == "updated" and upd["id"] > last_id
            assert json.loads(upd["data"])["article_count"] == 2 and json.loads(upd["data"])["id"] == truce
            last_id = upd["id"]
            assert "ping" in await events.keepalive()  # keep-alives every sse_keepalive_s
        missed = await store(app, 5, "Ceasefire extended by a week", {"ceasefire": 0.8})
        await store(app, 6, "Unrelated weather")
        async with client.stream("GET", "/stories/stream", params={"topic": "ceasefire"},
                                 headers={"Last-Event-ID": last_id}) as r:
            events = Events(r)
            ev = await events.next()
            assert json.loads(ev["data"])["id"] == missed  # nothing older is replayed
            live = await store(app, 7, "Ceasefire talks resume", {"ceasefire": 0.7})
            ev = await events.next()
            assert json.loads(ev["data"])["id"] == live
        # The query-string form of the position works for clients that cannot set headers.
        async with client.stream("GET", "/stories/stream", params={"after": last_id, "q": "extended"}) as r:
            ev = await Events(r).next()
            assert json.loads(ev["data"])["id"] == missed


async def test_many_listeners_share_one_poller(settings):
    async with served(settings) as (app, base):
        watch = app.state.ctx.store_watch
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=0)
        async with (httpx.AsyncClient(base_url=base, timeout=20, limits=limits) as client,
                    contextlib_stack(client, 50) as streams):
            for _ in range(200):
                if watch.listeners == 50:
                    break
                await asyncio.sleep(0.02)
            assert watch.listeners == 50
            sid = await store(app, 1, "Ceasefire announced", {"ceasefire": 0.9})
            got = await asyncio.gather(*(Events(r).next() for r in streams))
            assert {json.loads(e["data"])["id"] for e in got} == {sid}
        for _ in range(200):
            if watch.listeners == 0:
                break
            await asyncio.sleep(0.02)
        assert watch.listeners == 0  # disconnected listeners are dropped


@asynccontextmanager
async def contextlib_stack(client: httpx.AsyncClient, n: int) -> AsyncIterator[list[httpx.Response]]:
    from contextlib import AsyncExitStack

    async with AsyncExitStack() as stack:
        streams = await asyncio.gather(*(
            stack.enter_async_context(client.stream("GET", "/stories/stream")) for _ in range(n)))
        yield list(streams)


async def test_stream_rejects_bad_positions_and_filters(settings):
    async with served(settings) as (_, base), httpx.AsyncClient(base_url=base, timeout=10) as client:
        for headers, params in [({"Last-Event-ID": "garbage"}, {}), ({}, {"after": "9999-99-99|x"}),
                                ({"Last-Event-ID": "9999-12-31T23:00:00-05:00|x"}, {}),
                                ({}, {"topic": "golf"}), ({}, {"feed": "-1"})]:
            async with client.stream("GET", "/stories/stream", headers=headers, params=params) as r:
                assert r.status_code == 422, (headers, params)


async def test_stream_needs_a_read_token_when_configured(store_url, make_settings):
    settings = make_settings(database_url=store_url, read_tokens=["reader-token-1"], sse_poll_interval_s=0.1)
    async with served(settings) as (app, base), httpx.AsyncClient(base_url=base, timeout=10) as client:
        assert (await client.get("/stories/stream")).status_code == 401
        async with client.stream("GET", "/stories/stream", params={"token": "reader-token-1"}) as r:
            assert r.status_code == 200
            events = Events(r)
            await events.ready()
            sid = await store(app, 1, "Ceasefire announced", {"ceasefire": 0.9})
            assert json.loads((await events.next())["data"])["id"] == sid
