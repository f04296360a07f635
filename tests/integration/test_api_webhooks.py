"""/webhooks over a real store and a real receiver: CRUD, rotation (both signatures), log, replay, ping."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from standardwebhooks import Webhook as Verifier

from api.webhooks import dispatcher
from services.db import stories as story_repo
from tests.factories import enriched, raw
from tests.integration.test_api import ADMIN, client_for
from tests.receiver import Receiver


@pytest.fixture
async def stack(store_url, make_settings):
    settings = make_settings(database_url=store_url, webhook_retry_schedule_s="0")
    async with client_for(settings) as (app, client), Receiver() as rx, httpx.AsyncClient() as http:
        yield settings, app, client, rx, dispatcher.Sender(settings, app.state.ctx.sessions, http)


async def drain(sender: dispatcher.Sender) -> None:
    for _ in range(10):
        await sender.tick()
        if sender.tasks:
            await asyncio.wait(sender.tasks)


async def test_crud_validation_and_filters(stack):
    _, _, api, rx, _ = stack
    r = await api.post("/webhooks", headers=ADMIN, json={"url": rx.url(), "topics": ["ceasefire"],
                                                         "states": ["agreed"], "min_confidence": 0.7,
                                                         "description": "ops"})
    assert r.status_code == 201
    hook = r.json()
    assert hook["filters"] == {"topics": ["ceasefire"], "entities": [], "sources": [], "languages": [],
                               "min_confidence": 0.7, "states": ["agreed"]}
    bad = await api.post("/webhooks", headers=ADMIN, json={"url": rx.url(), "states": ["paused"]})
    assert bad.status_code == 422 and "states" in bad.text
    bad = await api.post("/webhooks", headers=ADMIN, json={"url": "ftp://example.org/x"})
    assert bad.status_code == 422
    bad = await api.post("/webhooks", headers=ADMIN, json={"url": rx.url(), "colour": "red"})
    assert bad.status_code == 422 and "colour" in bad.text
    r = await api.patch(f"/webhooks/{hook['id']}", headers=ADMIN, json={"enabled": False, "topics": ["sanctions"]})
    assert r.json()["enabled"] is False and r.json()["filters"]["topics"] == ["sanctions"]
    assert (await api.delete(f"/webhooks/{hook['id']}", headers=ADMIN)).status_code == 204
    assert (await api.get(f"/webhooks/{hook['id']}", headers=ADMIN)).status_code == 404


@pytest.mark.parametrize(("rules", "where", "says"), [
    ({"topics": ["weather"]}, "topics", "allowed: ceasefire, peace_talks"),
    ({"languages": ["English"]}, "languages", "pattern"),
    ({"q": "x" * 501}, "q", "at most 500"),
    ({"entities": ["a\x00b"]}, "entities", "NUL"),
    ({"digest": "weekly"}, "digest", "hourly"),
    ({"events": ["story.deleted"]}, "events", "story.created"),
])
async def test_rules_validated_as_stories_validates_them(stack, rules, where, says):
    """A rule /stories would refuse is a 422 naming the field, never a subscription that silently never fires."""
    _, _, api, rx, _ = stack
    bad = await api.post("/webhooks", headers=ADMIN, json={"url": rx.url(), **rules})
    assert bad.status_code == 422, bad.text
    (problem,) = bad.json()["detail"]
    assert where in problem["loc"] and says in problem["msg"], problem
    hook = (await api.post("/webhooks", headers=ADMIN, json={"url": rx.url()})).json()
    patched = await api.patch(f"/webhooks/{hook['id']}", headers=ADMIN, json=rules)
    assert patched.status_code == 422 and says in patched.text
    assert (await api.get("/webhooks", headers=ADMIN)).json()[0]["filters"] == hook["filters"]  # nothing stored


async def test_q_and_digest_rules_are_kept(stack):
    _, _, api, rx, _ = stack
    r = await api.post("/webhooks", headers=ADMIN, json={"url": rx.url(), "q": "Black Sea", "digest": "daily",
                                                         "languages": ["uk"], "topics": ["ceasefire"]})
    assert r.status_code == 201, r.text
    assert {k: r.json()["filters"][k] for k in ("q", "digest", "languages")} == {
        "q": "Black Sea", "digest": "daily", "languages": ["uk"]}
    r = await api.patch(f"/webhooks/{r.json()['id']}", headers=ADMIN, json={"q": "Odesa port", "digest": "hourly"})
    assert r.status_code == 200 and r.json()["filters"]["q"] == "Odesa port" and r.json()["filters"]["digest"] == "hourly"


async def test_rotation_log_replay_and_ping(stack):
    settings, app, api, rx, sender = stack
    created = (await api.post("/webhooks", headers=ADMIN, json={"url": rx.url()})).json()
    old_secret = created["secret"]
    rotated = (await api.post(f"/webhooks/{created['id']}/rotate-secret", headers=ADMIN)).json()
    assert rotated["secret"] != old_secret
    ev = enriched(raw(7), topics={"ceasefire": 0.9})
    async with app.state.ctx.sessions() as s, s.begin():
        await story_repo.upsert_enriched(s, event=ev)
    await dispatcher.enqueue_for(settings, app.state.ctx.sessions, ev)
    await drain(sender)
    (got,) = rx.on("/hook")
    assert len(got.headers["webhook-signature"].split()) == 2  # both secrets sign during the overlap
    Verifier(old_secret).verify(got.body, got.headers)
    Verifier(rotated["secret"]).verify(got.body, got.headers)

    log = (await api.get(f"/webhooks/{created['id']}/deliveries", headers=ADMIN)).json()
    assert log[0]["status"] == "succeeded" and log[0]["log"][0]["status_code"] == 200
    assert log[0]["log"][0]["latency_ms"] is not None and log[0]["response_excerpt"] == "ok"

    r = await api.post(f"/webhooks/{created['id']}/replay", headers=ADMIN, json={"delivery_id": log[0]["id"]})
    assert r.json() == {"queued": 1}
    await drain(sender)
    again = rx.on("/hook")
    assert len(again) == 2 and again[1].headers["webhook-id"] == again[0].headers["webhook-id"]
    assert (await api.post(f"/webhooks/{created['id']}/replay", headers=ADMIN, json={})).status_code == 422
    assert (await api.post(f"/webhooks/{created['id']}/replay", headers=ADMIN,
                           json={"delivery_id": "msg_nope"})).status_code == 404

    ping = (await api.post(f"/webhooks/{created['id']}/ping", headers=ADMIN)).json()
    await drain(sender)
    assert [r.headers["webhook-id"] for r in rx.on("/hook")][-1] == ping["delivery_id"]
    assert (await api.get("/webhooks", headers=ADMIN)).json()[0]["id"] == created["id"]
