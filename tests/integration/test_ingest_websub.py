"""WebSub push end to end: the farm's hub, the real API app under uvicorn, the ingester and real Kafka.

A polled feed advertises its hub → the ingester subscribes with callback public_url/websub/{id} →
the hub verifies the intent through the API → a published item is pushed, signed, and reaches
articles.raw through the same path as polled ones; a bad signature publishes nothing; the lease is
renewed before it lapses; a failing hub leaves the feed on polling.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

import httpx
import pytest
import uvicorn

from api.http.app import create_app
from ingest.service import running_ingester
from services import bus
from services.db import feeds as repo
from services.db.engine import Sessions
from services.settings import Settings
from tests.conftest import free_port
from tests.farm import Farm
from tests.integration.test_ingest_service import add_farm_feeds, read_all, store

pytestmark = pytest.mark.kafka


@contextlib.asynccontextmanager
async def running_api(settings: Settings) -> AsyncIterator[None]:
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=settings.api_port, log_level="warning",
                                           lifespan="on"))
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            assert not task.done(), "the API did not start"
            await asyncio.sleep(0.02)
        yield
    finally:
        await app.state.ctx.push.stop()
        server.should_exit = True
        await task


async def until(cond: Callable[[], Awaitable[bool]], timeout: float = 10) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not await cond():
        assert loop.time() < end, "timed out"
        await asyncio.sleep(0.05)


def feed_subscribed(sessions: Sessions, feed_id: int) -> Callable[[], Awaitable[bool]]:
    """A condition for :func:`until`: the feed's WebSub subscription was verified by its hub."""
    async def check() -> bool:
        async with sessions() as session:
            f = await repo.get_feed(session, feed_id=feed_id)
        return f is not None and f.websub_state == "subscribed"

    return check


async def test_push_subscribe_verify_publish_renew_and_fallback(
        kafka_bootstrap: str, make_settings: Callable[..., Settings], unique_topics: dict[str, str]) -> None:
    port = free_port()
    s = make_settings(kafka_bootstrap=kafka_bootstrap, fetch_per_host_min_spacing_s=0, api_port=port,
                      public_url=f"http://127.0.0.1:{port}", websub_lease_s=600, websub_renew_before_s=60,
                      **unique_topics)
    await bus.ensure_topics(s)
    async with (Farm(feeds=2) as farm, store(s) as sessions, running_api(s),
                running_ingester(s, sessions, use_assignment=False) as ing):
        await add_farm_feeds(sessions, farm, 2)
        for fid in (1, 2):
            assert (await ing.poll_once(fid)).new == 10
        async with sessions() as session:
            feed = await repo.get_feed(session, feed_id=1)
        assert feed is not None and feed.hub_url == farm.hub_url  # discovered from Link / atom:link rel=hub

        # Feed 2's hub is broken: the subscription fails and the feed stays on polling.
        async with sessions() as session:
            await repo.update_feed(session, feed_id=2, hub_url=farm.base + "/status/503")
        await ing.maintain_websub()

        subscribed = feed_subscribed(sessions, 1)
        await until(subscribed)
        callback = f"http://127.0.0.1:{port}/websub/1"
        assert set(farm.subscriptions[farm.url(0)]) == {callback}
        async with sessions() as session:
            f1, f2 = await repo.get_feed(session, feed_id=1), await repo.get_feed(session, feed_id=2)
        assert f1 is not None and f2 is not None and f1.websub_lease_until is not None
        assert f2.websub_state == "failed" and f2.enabled
        assert (await ing.poll_once(2)).error_class is None  # polling continues

        # A published item is pushed (signed sha256) and published via the shared path.
        polled_before = farm.requests["/feed/0.xml"]
        farm.publish(0)
        records = await read_all(s, 21)
        pushed = [a for a in records if a.via == "push"]
        assert len(records) == 21 and len(pushed) == 1 and pushed[0].feed_id == 1
        assert farm.requests["/feed/0.xml"] == polled_before  # it came by push, not by a poll

        # A forged push (wrong secret) is acknowledged but nothing is published.
        farm.feeds[0].extra.append(farm.started + 1)
        body = farm.render(0)[0]
        forged = "sha256=" + hmac.new(b"not-the-secret", body, hashlib.sha256).hexdigest()
        async with httpx.AsyncClient(trust_env=False) as http:
            resp = await http.post(callback, content=body, headers={"X-Hub-Signature": forged,
                                                                    "Content-Type": "application/rss+xml"})
            unsigned = await http.post(callback, content=body, headers={"Content-Type": "application/rss+xml"})
        assert resp.status_code == 202 and unsigned.status_code == 202
        assert len(await read_all(s, 21, idle_s=1.0)) == 21

        # Renewal: nothing is due while the lease runs; inside the renew window it re-subscribes.
        hub_posts = farm.requests["/hub"]
        await ing.maintain_websub(now=f1.websub_lease_until - timedelta(seconds=s.websub_renew_before_s + 30))
        assert farm.requests["/hub"] == hub_posts
        await ing.maintain_websub(now=f1.websub_lease_until - timedelta(seconds=s.websub_renew_before_s - 1))
        assert farm.requests["/hub"] == hub_posts + 1
        await until(subscribed)
