"""Webhook delivery against a real HTTP receiver and a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select
from standardwebhooks import Webhook as Verifier

from api.webhooks import dispatcher, signing
from services.db import stories as story_repo
from services.db import webhooks as repo
from services.db.engine import make_engine, make_sessions
from services.db.models import Delivery
from tests.factories import enriched, raw
from tests.receiver import Receiver


@pytest.fixture
async def env(store_url, make_settings):
    settings = make_settings(database_url=store_url, webhook_retry_schedule_s="0,0", webhook_timeout_s=2,
                             webhook_per_endpoint_concurrency=1)
    engine = make_engine(settings)
    sessions = make_sessions(engine)
    async with httpx.AsyncClient(timeout=2) as client:
        yield settings, sessions, dispatcher.Sender(settings, sessions, client)
    await engine.dispose()


async def _hook(sessions, url, **filters):
    async with sessions() as s, s.begin():
        return await repo.create_webhook(s, url=url, filters=filters, secret=signing.new_secret())


async def _story(sessions, n, **kw):
    ev = enriched(raw(n), **kw)
    async with sessions() as s, s.begin():
        await story_repo.upsert_enriched(s, event=ev)
    return ev


async def _drain(sender, rounds=40):
    for _ in range(rounds):
        await sender.tick()
        if sender.tasks:
            await asyncio.wait(sender.tasks)
        await asyncio.sleep(0.02)


async def test_created_once_signed_then_updated_on_change(env):
    settings, sessions, sender = env
    async with Receiver() as rx:
        hook = await _hook(sessions, rx.url(), topics=["ceasefire"])
        other = await _hook(sessions, rx.url("/sanctions"), topics=["sanctions"])
        ev = await _story(sessions, 1, topics={"ceasefire": 0.9})
        assert await dispatcher.enqueue_for(settings, sessions, ev) == 1
        assert await dispatcher.enqueue_for(settings, sessions, ev) == 0  # replay: nothing new
        await _drain(sender)
        (got,) = rx.on("/hook")
        payload = Verifier(hook.secret).verify(got.body, got.headers)
        assert payload["type"] == "story.created" and payload["data"]["id"] == ev.id
        assert payload["data"]["link"].endswith(f"/stories/{ev.id}") and len(got.body) < 20_000
        assert rx.on("/sanctions") == [] and other.id
        # the same story gains a topic -> exactly one story.updated
        upd = enriched(ev.article.model_copy(update={"content_hash": "v2"}),
                       topics={"ceasefire": 0.9, "peace_talks": 0.8})
        async with sessions() as s, s.begin():
            await story_repo.upsert_enriched(s, event=upd)
        assert await dispatcher.enqueue_for(settings, sessions, upd) == 1
        await _drain(sender)
        kinds = [json.loads(r.body)["type"] for r in rx.on("/hook")]
        assert kinds == ["story.created", "story.updated"]


async def test_failures_retry_with_same_id_then_dead_letter(env):
    settings, sessions, sender = env
    async with Receiver() as rx:
        rx.responses["/hook"] = [(500, {}, 0), (302, {"location": "http://127.0.0.1:1/"}, 0), (503, {}, 0)]
        await _hook(sessions, rx.url())
        ev = await _story(sessions, 2, topics={"ceasefire": 0.9})
        await dispatcher.enqueue_for(settings, sessions, ev)
        await _drain(sender)
        got = rx.on("/hook")
        assert len(got) == 3  # first try + 2 retries (schedule "0,0"), 3xx not followed
        assert len({r.headers["webhook-id"] for r in got}) == 1
        async with sessions() as s:
            (d,) = (await s.scalars(select(Delivery))).all()
            assert d.status == "dead" and d.attempts == 3 and d.last_status_code == 503


async def test_410_disables_subscription(env):
    settings, sessions, sender = env
    async with Receiver() as rx:
        rx.responses["/hook"] = [(410, {}, 0)]
        hook = await _hook(sessions, rx.url())
        await dispatcher.enqueue_for(settings, sessions, await _story(sessions, 3, topics={"ceasefire": 0.9}))
        await _drain(sender)
        async with sessions() as s:
            h = await repo.get_webhook(s, webhook_id=hook.id)
            assert h.enabled is False and "410" in (h.disabled_reason or "")


async def test_slow_endpoint_does_not_delay_others(env):
    settings, sessions, sender = env
    async with Receiver() as rx:
        rx.responses["/slow"] = [(200, {}, 1.5)] * 3
        await _hook(sessions, rx.url("/slow"))
        await _hook(sessions, rx.url("/fast"))
        for n in range(10, 13):
            await dispatcher.enqueue_for(settings, sessions, await _story(sessions, n, topics={"ceasefire": 0.9}))
        started = asyncio.get_running_loop().time()
        for _ in range(10):
            await sender.tick()
            await asyncio.sleep(0.05)
        fast = await rx.wait_for(3, "/fast", timeout=5)
        assert asyncio.get_running_loop().time() - started < 1.5, "fast endpoint waited behind the slow one"
        assert len(fast) == 3 and len(rx.on("/slow")) <= 1  # per-endpoint concurrency 1
        if sender.tasks:
            await asyncio.wait(sender.tasks)


async def test_blocked_target_is_refused_at_send_time(env, make_settings):
    settings, sessions, _ = env
    strict = make_settings(database_url=settings.database_url, webhook_allowed_hosts="",
                           webhook_retry_schedule_s="")
    async with Receiver() as rx, httpx.AsyncClient() as client:
        sender = dispatcher.Sender(strict, sessions, client)
        await _hook(sessions, rx.url())
        await dispatcher.enqueue_for(strict, sessions, await _story(sessions, 4, topics={"ceasefire": 0.9}))
        await _drain(sender, rounds=5)
        assert rx.requests == []
        async with sessions() as s:
            (d,) = (await s.scalars(select(Delivery))).all()
            assert d.status == "dead" and "blocked" in (d.last_error or "")
    assert datetime.now(UTC)
