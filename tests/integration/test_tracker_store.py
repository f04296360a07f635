"""The tracker against a real store (SQLite and PostgreSQL): folding, replays, webhooks queued with the
change, the expiry check, the rebuild, and the /ceasefires API over what it stored."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.etree import ElementTree as ET

import httpx
import pytest
from sqlalchemy import func, select

from api.http.app import create_app
from api.tracker.merge import Record
from api.tracker.rebuild import rebuild
from api.tracker.service import expire_now, fold_batch
from api.webhooks import signing
from services.db import ceasefires as repo
from services.db import webhooks as hooks_repo
from services.db.engine import make_engine, make_sessions
from services.db.models import Ceasefire, CeasefireChange, Delivery
from services.db.stories import upsert_batch
from services.events import EnrichedArticle, RawArticle
from services.matching import CeasefireFacts, ceasefire_matches
from tests.eval.tracker import load, run_timeline
from tests.unit.test_ceasefire_merge import CASES

TIMELINE = next(t for t in load() if t["id"].startswith("tl01"))  # four Russia-Ukraine ceasefires (dev)


@pytest.fixture(scope="module")
def enricher():
    from enrich.pipeline import shared_enricher

    return shared_enricher()


def events_of(enricher: Any, timeline: dict[str, Any]) -> list[EnrichedArticle]:
    raws = [RawArticle(id=a["id"], title=a["title"], content=a["text"], lang=a["lang"], source=a["source"],
                       url=f"https://news.example.org/{a['id']}",
                       published_at=datetime.fromisoformat(a["published_at"].replace("Z", "+00:00")))
            for a in timeline["articles"]]
    return enricher.enrich(raws)


@pytest.fixture
async def env(store_url, make_settings):
    settings = make_settings(database_url=store_url)
    engine = make_engine(settings)
    sessions = make_sessions(engine)
    yield settings, sessions
    await engine.dispose()


async def stored(sessions: Any) -> dict[str, tuple[str, str, list[str]]]:
    async with sessions() as s:
        rows = (await s.scalars(select(Ceasefire))).all()
        return {r.id: (r.title, r.state, [c.state for c in await repo.history(s, ceasefire_id=r.id)]) for r in rows}


def expected(records: list[Record]) -> dict[str, tuple[str, str, list[str]]]:
    return {r.id: (r.title, r.state or "", [e.state for e in r.history]) for r in records}


async def put(sessions: Any, events: list[EnrichedArticle]) -> None:
    async with sessions() as s, s.begin():
        await upsert_batch(s, events=events)


async def test_folded_as_the_pure_merge_says_and_replays_add_nothing(env, enricher):
    settings, sessions = env
    events = events_of(enricher, TIMELINE)
    await put(sessions, events)
    stories = {e.id: e.id for e in events}
    for e in events:  # one batch per article, as a slow stream would bring them
        await fold_batch(settings, sessions, [e], stories)
    want = expected(run_timeline(TIMELINE, enricher))
    assert await stored(sessions) == want and len(want) == 4
    assert await fold_batch(settings, sessions, events, stories) == 0  # a replay of everything
    assert await stored(sessions) == want
    async with sessions() as s:
        (energy,) = [r for r in (await s.scalars(select(Ceasefire))).all() if r.scope == "energy_infrastructure"]
        assert (await repo.stories(s, ceasefire_ids=[energy.id]))[energy.id] == ["tl01-a6", "tl01-a5", "tl01-a4", "tl01-a3"]


async def hook(sessions: Any, **filters: Any) -> Any:
    async with sessions() as s, s.begin():
        return await hooks_repo.create_webhook(s, url="http://127.0.0.1:9/hook", filters=filters,
                                               secret=signing.new_secret())


async def test_one_delivery_per_state_change_for_subscriptions_that_ask(env, enricher):
    settings, sessions = env
    every = await hook(sessions, events=["ceasefire.created", "ceasefire.state_changed"])
    changes_only = await hook(sessions, events=["ceasefire.state_changed"], parties=["russia"])
    maritime = await hook(sessions, events=["ceasefire.created"], scopes=["maritime"])
    stories_only = await hook(sessions, topics=["ceasefire"])
    events = events_of(enricher, TIMELINE)
    await put(sessions, events)
    for e in events:
        await fold_batch(settings, sessions, [e], {x.id: x.id for x in events})
    await fold_batch(settings, sessions, events, {x.id: x.id for x in events})  # replayed: nothing more
    async with sessions() as s:
        n_changes = await s.scalar(select(func.count()).select_from(CeasefireChange))
        per_hook = dict((await s.execute(select(Delivery.webhook_id, func.count()).group_by(Delivery.webhook_id))).all())
        kinds = (await s.scalars(select(Delivery.event_type).where(Delivery.webhook_id == every.id))).all()
        payload = (await s.scalars(select(Delivery.payload).where(Delivery.webhook_id == maritime.id))).one()
    assert per_hook[every.id] == n_changes == 11
    assert sorted(set(kinds)) == ["ceasefire.created", "ceasefire.state_changed"] and kinds.count("ceasefire.created") == 4
    assert per_hook[changes_only.id] == n_changes - 4 and stories_only.id not in per_hook
    assert payload["type"] == "ceasefire.created" and payload["data"]["scope"] == "maritime"
    assert payload["data"]["schema"] == "wirewatch.ceasefire/1" and payload["data"]["link"].endswith(payload["data"]["id"])


async def test_the_expiry_check_moves_a_run_out_term_to_expired_with_an_event(env, enricher):
    settings, sessions = env
    every = await hook(sessions, events=["ceasefire.state_changed"])
    ev = enricher.enrich([RawArticle(
        id="pause", title="Russia and Ukraine agree 30-day pause on energy strikes", lang="en",
        content="Russia and Ukraine agreed to a 30-day pause on strikes against energy infrastructure.",
        url="https://news.example.org/pause", published_at=datetime.now(UTC) - timedelta(days=32))])[0]
    await put(sessions, [ev])
    await fold_batch(settings, sessions, [ev], {ev.id: ev.id})
    assert await expire_now(settings, sessions) == 1
    assert await expire_now(settings, sessions) == 0
    (title, state, history), = (await stored(sessions)).values()
    assert (state, history) == ("expired", ["agreed", "expired"])
    async with sessions() as s:
        (d,) = (await s.scalars(select(Delivery).where(Delivery.webhook_id == every.id))).all()
    assert d.payload["data"]["state"] == "expired" and d.payload["data"]["change"]["article_id"] is None


async def test_rebuild_gives_the_same_records(env, enricher):
    settings, sessions = env
    events = events_of(enricher, TIMELINE)
    await put(sessions, events)
    for e in events:
        await fold_batch(settings, sessions, [e], {x.id: x.id for x in events})
    before = await stored(sessions)
    assert await rebuild(settings) == 4
    assert await stored(sessions) == before


async def test_sql_filters_agree_with_the_pure_ones(env, enricher):
    settings, sessions = env
    events = events_of(enricher, TIMELINE)
    await put(sessions, events)
    await fold_batch(settings, sessions, events, {x.id: x.id for x in events})
    async with sessions() as s:
        rows = (await s.scalars(select(Ceasefire))).all()
        for f, _ in CASES:
            got = {r.id for r in (await repo.list_page(s, filter=f, limit=100))[0]}
            want = {r.id for r in rows if ceasefire_matches(f, CeasefireFacts.of(
                state=r.state, scope=r.scope, parties=r.parties, last_reported=r.last_reported, title=r.title))}
            assert got == want, f


async def test_the_api_serves_records_feeds_and_the_dashboard(env, enricher):
    settings, sessions = env
    events = events_of(enricher, TIMELINE)
    await put(sessions, events)
    await fold_batch(settings, sessions, events, {x.id: x.id for x in events})
    app = create_app(settings)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://wirewatch.test") as c:
        page = (await c.get("/ceasefires", params={"limit": 3})).json()
        assert len(page["items"]) == 3 and page["next_cursor"]
        rest = (await c.get("/ceasefires", params={"cursor": page["next_cursor"]})).json()["items"]
        assert len(rest) == 1 and rest[0]["id"] not in {i["id"] for i in page["items"]}
        active = (await c.get("/ceasefires", params={"active": "true", "party": "Ukraine"})).json()["items"]
        assert [i["scope"] for i in active] == ["maritime"]
        rejected = (await c.get("/ceasefires", params=[("state", "rejected"), ("state", "expired")])).json()["items"]
        assert sorted(i["scope"] for i in rejected) == ["energy_infrastructure", "full", "holiday"]
        for params, param in (({"state": "holding"}, "state"), ({"scope": "naval"}, "scope"),
                              ({"cursor": "nope"}, "cursor"), ({"limit": "0"}, "limit"), ({"party": "\x00"}, "party")):
            r = await c.get("/ceasefires", params=params)
            assert r.status_code == 422 and r.json()["detail"][0]["loc"][:2] == ["query", param], (params, r.text)
        one = (await c.get(f"/ceasefires/{rejected[0]['id']}")).json()
        assert one["history"] and one["stories"] and all(h["evidence"] for h in one["history"] if h["article_id"])
        assert (await c.get("/ceasefires/cf_nope")).status_code == 404
        rss = ET.fromstring((await c.get("/ceasefires.rss")).content)
        assert len(rss.findall("./channel/item")) == 11
        atom = ET.fromstring((await c.get("/ceasefires.atom", params={"scope": "maritime"})).content)
        assert len(atom.findall("{http://www.w3.org/2005/Atom}entry")) == 1
        feed = json.loads((await c.get("/ceasefires.json")).content)
        assert feed["version"] == "https://jsonfeed.org/version/1.1" and all(i["id"] and i["url"] for i in feed["items"])
        dash = await c.get("/dashboard/ceasefires")
        assert dash.status_code == 200 and dash.text.count('class="ceasefire"') == 4
        assert dash.text.index("maritime ceasefire") < dash.text.index("Easter truce")  # active ones first
        paths = (await c.get("/openapi.json")).json()["paths"]
        assert {"/ceasefires", "/ceasefires/{ceasefire_id}", "/ceasefires/stream", "/ceasefires.rss"} <= set(paths)


async def test_the_stream_resumes_after_last_event_id(env, enricher):
    from tests.integration.test_api_stream import Events
    from tests.integration.test_tracker_pipeline import served

    settings, sessions = env
    settings = settings.model_copy(update={"sse_poll_interval_s": 0.1, "sse_keepalive_s": 1})
    events = events_of(enricher, TIMELINE)
    await put(sessions, events)
    await fold_batch(settings, sessions, events, {x.id: x.id for x in events})
    async with served(settings) as base, httpx.AsyncClient(base_url=base, timeout=10) as c:
        async with c.stream("GET", "/ceasefires/stream", headers={"Last-Event-ID": "0"},
                            params={"scope": "energy_infrastructure"}) as r:
            stream = Events(r)
            assert (await stream.ready())["id"] == "0"
            got = [await stream.next() for _ in range(4)]
        assert [g["event"] for g in got] == ["ceasefire.created"] + ["ceasefire.state_changed"] * 3
        assert [json.loads(g["data"])["state"] for g in got] == ["agreed", "in_force", "violated", "expired"]
        async with c.stream("GET", "/ceasefires/stream", headers={"Last-Event-ID": got[1]["id"]},
                            params={"scope": "energy_infrastructure"}) as r:
            stream = Events(r)
            await stream.ready()
            assert [json.loads((await stream.next())["data"])["state"] for _ in range(2)] == ["violated", "expired"]
        bad = await c.get("/ceasefires/stream", headers={"Last-Event-ID": "x|y"})
        assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "Last-Event-ID"]
