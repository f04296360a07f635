"""The dashboard over HTTP without a browser (fast): every page renders from a real SQLite store with
its CSP, read access follows dashboard_public, and admin actions need the cookie and our own Origin."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select

from api.http.app import create_app
from api.http.context import build_context
from services.db import stories as story_repo
from services.db import webhooks as hook_repo
from services.db.engine import make_engine
from services.db.migrate import upgrade_async
from services.db.models import Delivery, Feed
from tests import factories

TOKEN = "test-admin-token-0123456789"
BASE = "http://dash.test"
SAME = {"Origin": BASE}
PAGES = ["/dashboard", "/dashboard/feeds", "/dashboard/feeds?status=failing", "/dashboard/stories",
         "/dashboard/stories?topic=ceasefire", "/dashboard/webhooks", "/dashboard/login"]


async def seed(sessions: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    async with sessions() as s, s.begin():
        s.add_all([Feed(url="https://ok.example/rss", title="OK wire", last_success_at=now, items_per_day=3.0),
                   Feed(url="https://down.example/rss", title="Down wire", consecutive_failures=3,
                        last_error="HTTP 503", last_error_class="http", next_check_at=now + timedelta(minutes=5))])
        art = factories.raw(1, title="Ceasefire agreed in the north")
        await story_repo.upsert_enriched(s, event=factories.enriched(
            art, topics={"ceasefire": 0.9}, entities=[("Q1", "Geneva", "GPE")]))
        hook = await hook_repo.create_webhook(s, url="http://127.0.0.1:9/hook", filters={}, secret="whsec_x")
        d = await hook_repo.enqueue(s, webhook_id=hook.id, story_id=art.id, event_type="story.created", version=1,
                                    payload={})
        assert d is not None
        d.status, d.attempts = "dead", 2
        down = (await s.scalars(select(Feed).where(Feed.url == "https://down.example/rss"))).one()
    return {"hook": hook.id, "delivery": d.id, "down": down.id}


@pytest_asyncio.fixture
async def dash(make_settings) -> AsyncIterator[Any]:
    async def _make(**overrides: Any) -> tuple[httpx.AsyncClient, dict[str, Any], Any]:
        settings = make_settings(kafka_bootstrap="127.0.0.1:1", **overrides)
        settings.var_dir.mkdir(parents=True, exist_ok=True)
        await upgrade_async(settings)
        app = create_app(settings, migrate=False)
        engine = make_engine(settings)
        app.state.ctx = build_context(settings, engine)
        engines.append(engine)
        ids = await seed(app.state.ctx.sessions)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)
        clients.append(client)
        return client, ids, app.state.ctx.sessions

    engines: list[Any] = []
    clients: list[httpx.AsyncClient] = []
    yield _make
    for c in clients:
        await c.aclose()
    for e in engines:
        await e.dispose()


async def test_every_page_renders_with_csp_and_real_rows(dash):
    client, ids, _ = await dash()
    for path in PAGES:
        r = await client.get(path)
        assert r.status_code == 200, (path, r.text[:300])
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "<script>" not in r.text
    assert "Down wire" in (await client.get("/dashboard/feeds?status=failing")).text
    assert "OK wire" not in (await client.get("/dashboard/feeds?status=failing")).text
    assert "Ceasefire agreed in the north" in (await client.get("/dashboard/stories?topic=ceasefire")).text
    assert ids["delivery"] in (await client.get("/dashboard/webhooks")).text
    data = (await client.get("/dashboard/data.json")).json()
    assert data["counts"]["tagged_stories"] == 1 and data["feeds"]["failing"] == 1
    assert data["lag"]["error"] and data["health"]["kafka"] is False  # no broker: an error state, not a 500
    assert set(data["charts"]) == {"throughput", "errors", "freshness", "lag", "topics"}
    assert data["charts"]["topics"]["series"]["ceasefire"][-1] == 1


async def test_feed_table_is_paged_by_the_store(dash):
    """One page of dashboard_page_size feeds at a time, the worst first, with previous/next links."""
    client, _, _ = await dash(dashboard_page_size=1)
    first = (await client.get("/dashboard/feeds")).text
    assert "Down wire" in first and "OK wire" not in first
    assert "1–1 of 2 matching feeds (2 in all), page 1 of 2" in first
    assert 'rel="next" href="?status=all&amp;q=&amp;sort=status&amp;dir=desc&amp;page=2"' in first
    assert 'rel="prev"' not in first
    second = (await client.get("/dashboard/feeds?page=2")).text
    assert "OK wire" in second and "Down wire" not in second and 'rel="prev"' in second and 'rel="next"' not in second
    reversed_ = (await client.get("/dashboard/feeds?sort=status&dir=asc")).text
    assert "OK wire" in reversed_ and "Down wire" not in reversed_
    beyond = (await client.get("/dashboard/feeds?page=9")).text
    assert "Page 9 is past the last page" in beyond and "page=2" in beyond
    assert "No feed matches" in (await client.get("/dashboard/feeds?q=nothing-like-this")).text
    assert (await client.get("/dashboard/feeds?page=x")).status_code == 422
    # GET /feeds pages in SQL too: an offset beyond what the store takes is a 422, not a 500 (found by fuzzing)
    assert [f["title"] for f in (await client.get("/feeds?offset=1")).json()] == ["Down wire"]
    r = await client.get("/feeds?offset=21808136260314348040224768")
    assert r.status_code == 422 and "offset" in r.text


async def test_static_files_are_served_and_contained(dash):
    client, _, _ = await dash()
    r = await client.get("/static/dashboard.js")
    assert r.status_code == 200 and "javascript" in r.headers["content-type"]
    assert (await client.get("/static/%2e%2e/app.py")).status_code == 404
    assert (await client.get("/static/..%2fapp.py")).status_code == 404


async def test_private_dashboard_needs_a_token(dash):
    client, _, _ = await dash(dashboard_public=False, read_tokens=["reader-token-0123456789"])
    r = await client.get("/dashboard/feeds?status=failing")
    assert r.status_code == 303 and r.headers["location"].startswith("/dashboard/login?next=")
    assert (await client.get("/dashboard/data.json")).status_code == 401
    r = await client.post("/dashboard/login", data={"token": "reader-token-0123456789"}, headers=SAME)
    assert r.status_code == 303
    assert (await client.get("/dashboard/feeds")).status_code == 200
    assert (await client.post("/dashboard/feeds/1/disable", headers=SAME)).status_code == 403  # reader only


@pytest.mark.parametrize("origin", [None, "http://evil.example", "null"])
async def test_posts_from_elsewhere_are_refused(dash, origin):
    client, ids, _ = await dash()
    client.cookies.set("wirewatch_admin", TOKEN)
    headers = {"Origin": origin} if origin else {}
    assert (await client.post(f"/dashboard/feeds/{ids['down']}/fetch", headers=headers)).status_code == 403
    assert (await client.post("/dashboard/login", data={"token": TOKEN}, headers=headers)).status_code == 403


async def test_login_actions_and_replay(dash):
    client, ids, sessions = await dash()
    assert (await client.post(f"/dashboard/feeds/{ids['down']}/fetch", headers=SAME)).status_code == 403
    r = await client.post("/dashboard/login", data={"token": "wrong"}, headers=SAME)
    assert r.status_code == 401 and "not valid" in r.text
    r = await client.post("/dashboard/login", data={"token": TOKEN, "next": "https://evil.example/"}, headers=SAME)
    cookie = r.headers["set-cookie"].lower()
    assert r.status_code == 303 and r.headers["location"] == "/dashboard?notice=login"
    assert "httponly" in cookie and "samesite=strict" in cookie

    r = await client.post(f"/dashboard/feeds/{ids['down']}/disable", headers=SAME,
                          data={"next": "/dashboard/feeds?status=failing"})
    assert r.headers["location"] == "/dashboard/feeds?status=failing&notice=disabled"
    r = await client.post(f"/dashboard/feeds/{ids['down']}/fetch", headers=SAME)
    assert r.headers["location"].endswith("notice=fetch")
    async with sessions() as s:
        feed = await s.get(Feed, ids["down"])
        assert feed is not None and not feed.enabled
        assert feed.next_check_at is not None and feed.next_check_at <= datetime.now(UTC)

    r = await client.post(f"/dashboard/webhooks/{ids['hook']}/deliveries/{ids['delivery']}/replay", headers=SAME)
    assert r.headers["location"].endswith("notice=replayed")
    async with sessions() as s:
        d = await s.get(Delivery, ids["delivery"])
        assert d is not None and (d.status, d.attempts) == ("pending", 0)
    assert "Delivery queued for replay." in (await client.get(r.headers["location"])).text

    r = await client.post("/dashboard/logout", headers=SAME)
    assert r.status_code == 303 and 'wirewatch_admin=""' in r.headers["set-cookie"]
