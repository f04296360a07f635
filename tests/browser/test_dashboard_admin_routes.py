"""The dashboard's admin forms over HTTP without a browser (fast): add a feed by its web page, OPML in and
out, delete; create webhooks (the secret shown once) and alerts (the target masked), test and delete them;
a failing subscriber's last error, next retry and dead letters; the stories page's words search, subscribe
links and chips that keep the filter. Every form needs the admin cookie and our own Origin."""

from __future__ import annotations

import re
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
from services.db.models import Delivery, Feed, Webhook
from tests import factories
from tests.feedserver import FeedServer, rss

TOKEN = "test-admin-token-0123456789"
BASE = "http://dash.test"
SAME = {"Origin": BASE}
PAGE = b'<html><head><title>Wire</title><link rel="alternate" type="application/rss+xml" href="/feed.rss"></head></html>'


@pytest_asyncio.fixture
async def admin(make_settings) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    """A logged-in admin client on a real SQLite store with two stories."""
    settings = make_settings(kafka_bootstrap="127.0.0.1:1", opml_max_bytes=4096)
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    await upgrade_async(settings)
    app = create_app(settings, migrate=False)
    engine = make_engine(settings)
    app.state.ctx = build_context(settings, engine)
    sessions = app.state.ctx.sessions
    async with sessions() as s, s.begin():
        for n, title, topics, ents in ((1, "Ceasefire agreed in Geneva talks", {"ceasefire": 0.9}, [("Q1", "Geneva", "GPE")]),
                                       (2, "Sanctions widened on oil exports", {"sanctions": 0.8}, [("Q1", "Geneva", "GPE")])):
            art = factories.raw(n, title=title)
            await story_repo.upsert_enriched(s, event=factories.enriched(art, topics=topics, entities=ents))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)
    client.cookies.set("wirewatch_admin", TOKEN)
    try:
        yield client, sessions
    finally:
        await client.aclose()
        await engine.dispose()


async def test_add_a_feed_by_its_web_page_and_manage_it(admin):
    client, sessions = admin
    with FeedServer() as fs:
        fs.routes["/page.html"] = (200, "text/html", PAGE)
        fs.routes["/feed.rss"] = (200, "application/rss+xml", rss("Discovered Wire", []))
        r = await client.post("/dashboard/feeds", data={"url": fs.url("/page.html"), "tags": "news, wire"}, headers=SAME)
        assert r.status_code == 303, r.text[:500]
        assert r.headers["location"] == "/dashboard/feeds?" + httpx.QueryParams(
            {"q": fs.url("/feed.rss"), "notice": "added"}).__str__()
        page = (await client.get(r.headers["location"])).text
        assert "Feed added; its first fetch is due now." in page and "Discovered Wire" in page
        async with sessions() as s:
            feed = (await s.scalars(select(Feed))).one()
        assert (feed.url, feed.title, feed.tags) == (fs.url("/feed.rss"), "Discovered Wire", ["news", "wire"])

        again = await client.post("/dashboard/feeds", data={"url": fs.url("/page.html")}, headers=SAME)
        assert again.status_code == 422 and "already in the list" in again.text
        missing = await client.post("/dashboard/feeds", data={"url": fs.url("/nothing")}, headers=SAME)
        assert missing.status_code == 422 and "not a usable feed (http)" in missing.text
        assert f'value="{fs.url("/nothing")}"' in missing.text  # what was typed stays in the form
    blocked = await client.post("/dashboard/feeds", data={"url": "http://10.1.2.3/feed"}, headers=SAME)
    assert blocked.status_code == 422 and "URL refused" in blocked.text
    bad = await client.post("/dashboard/feeds", data={"url": "not a url"}, headers=SAME)
    assert bad.status_code == 422 and 'role="alert"' in bad.text

    r = await client.post(f"/dashboard/feeds/{feed.id}/disable", data={"next": "/dashboard/feeds"}, headers=SAME)
    assert r.headers["location"] == "/dashboard/feeds?notice=disabled"
    r = await client.post(f"/dashboard/feeds/{feed.id}/delete", data={"next": "/dashboard/feeds"}, headers=SAME)
    assert r.headers["location"] == "/dashboard/feeds?notice=deleted"
    assert "Feed deleted." in (await client.get(r.headers["location"])).text
    async with sessions() as s:
        assert (await s.scalars(select(Feed))).all() == []
    r = await client.post(f"/dashboard/feeds/{feed.id}/delete", headers=SAME)
    assert r.headers["location"].endswith("notice=missing")


async def test_opml_import_and_export(admin):
    client, _ = admin
    opml = ('<?xml version="1.0"?><opml version="2.0"><body><outline text="Wires">'
            '<outline type="rss" text="A" xmlUrl="https://a.example.org/rss"/>'
            '<outline type="rss" text="B" xmlUrl="https://b.example.org/rss"/>'
            '<outline type="rss" text="inside" xmlUrl="http://10.0.0.1/rss"/></outline></body></opml>')
    files = {"opml": ("feeds.opml", opml.encode(), "text/x-opml")}
    r = await client.post("/dashboard/feeds/import", files=files, headers=SAME)
    assert r.status_code == 303 and r.headers["location"] == \
        "/dashboard/feeds?notice=imported&added=2&existing=0&refused=1"
    page = (await client.get(r.headers["location"])).text
    assert "OPML imported: 2 new feeds, 0 already present, 1 refused." in page
    r = await client.post("/dashboard/feeds/import", files=files, headers=SAME)
    assert r.headers["location"].endswith("added=0&existing=2&refused=1")

    bad = await client.post("/dashboard/feeds/import", files={"opml": ("x.opml", b"<html/>", "text/xml")}, headers=SAME)
    assert bad.status_code == 422 and "x.opml: not OPML" in bad.text
    big = opml.replace("</body>", "<!--" + "x" * 5000 + "--></body>").encode()
    huge = await client.post("/dashboard/feeds/import", files={"opml": ("big.opml", big, "text/x-opml")}, headers=SAME)
    assert huge.status_code == 422 and "WIREWATCH_OPML_MAX_BYTES" in huge.text
    api = await client.post("/feeds/import", content=big, headers={"Authorization": f"Bearer {TOKEN}"})
    assert api.status_code == 413 and "WIREWATCH_OPML_MAX_BYTES" in api.text
    fits = await client.post("/feeds/import", content=opml.encode(), headers={"Authorization": f"Bearer {TOKEN}"})
    assert fits.status_code == 200 and fits.json() == {"added": 0, "existing": 2}

    out = await client.get("/dashboard/feeds/export.opml")
    assert out.status_code == 200 and out.headers["content-type"].startswith("text/x-opml")
    assert "attachment" in out.headers["content-disposition"]
    assert out.text.count('type="rss"') == 2 and "https://b.example.org/rss" in out.text

    # The notice shows our text with digits only: anything else in the URL becomes 0, never markup.
    forged = (await client.get("/dashboard/feeds?notice=imported&added=<b>x</b>&existing=3")).text
    assert "OPML imported: 0 new feeds, 3 already present, 0 refused." in forged and "<b>x</b>" not in forged


async def test_webhook_secret_is_shown_once_and_alert_targets_are_masked(admin):
    client, sessions = admin
    r = await client.post("/dashboard/webhooks", headers=SAME,
                          data={"url": "http://127.0.0.1:9/hook", "description": "ops", "topics": ["ceasefire"],
                                "entities": "Q1, Geneva", "min_confidence": "0.5"})
    assert r.status_code == 200, r.text[:500]
    secret = re.search(r'id="new-secret"[^>]*value="(whsec_[^"]+)"', r.text)
    assert secret and r.headers["cache-control"] == "no-store"
    async with sessions() as s:
        hook = (await s.scalars(select(Webhook))).one()
    assert hook.secret == secret.group(1)
    assert {k: hook.filters[k] for k in ("topics", "entities", "min_confidence")} == {
        "topics": ["ceasefire"], "entities": ["Q1", "Geneva"], "min_confidence": 0.5}  # as POST /webhooks stores
    assert secret.group(1) not in (await client.get("/dashboard/webhooks")).text  # once

    for data, msg in (({"url": "ftp://x.example/"}, "url"), ({"url": "http://10.9.9.9/h"}, "refused"),
                      ({"url": "http://127.0.0.1:9/h", "topics": ["weather"]}, "unknown topic")):
        bad = await client.post("/dashboard/webhooks", data=data, headers=SAME)
        assert bad.status_code == 422 and msg in bad.text and 'id="webhook-error"' in bad.text, data

    r = await client.post("/dashboard/alerts", headers=SAME,
                          data={"target": "json://127.0.0.1:9/secret-path?token=abc", "topics": ["sanctions"],
                                "q": "oil"})
    assert r.status_code == 303 and r.headers["location"] == "/dashboard/webhooks?notice=alert-added"
    page = (await client.get(r.headers["location"])).text
    assert "json://127.0.0.1:9/…" in page and "secret-path" not in page and "token=abc" not in page
    for target, msg in (("https://hooks.example.org/x", "is a webhook"), ("nosuch://x", "not an Apprise URL"),
                        ("json://10.1.1.1/x", "refused")):
        bad = await client.post("/dashboard/alerts", data={"target": target}, headers=SAME)
        assert bad.status_code == 422 and msg in bad.text and 'id="alert-error"' in bad.text, target
        assert target not in bad.text  # a refused target's credentials are not echoed back either

    r = await client.post(f"/dashboard/webhooks/{hook.id}/test", headers=SAME)
    assert r.headers["location"] == "/dashboard/webhooks?notice=tested"
    async with sessions() as s:
        (ping,) = (await s.scalars(select(Delivery).where(Delivery.webhook_id == hook.id))).all()
    assert (ping.event_type, ping.status) == ("webhook.ping", "pending")
    r = await client.post(f"/dashboard/webhooks/{hook.id}/delete", headers=SAME)
    assert r.headers["location"] == "/dashboard/webhooks?notice=unsubscribed"
    async with sessions() as s:
        assert await s.get(Webhook, hook.id) is None
        assert (await s.scalars(select(Delivery))).all() == []  # its deliveries went with it
    assert (await client.post(f"/dashboard/webhooks/{hook.id}/test", headers=SAME)).headers["location"].endswith(
        "notice=missing")


async def test_a_failing_subscriber_shows_its_last_error_next_retry_and_dead_letters(admin):
    client, sessions = admin
    now = datetime.now(UTC)
    async with sessions() as s, s.begin():
        hook = await hook_repo.create_webhook(s, url="http://127.0.0.1:9/down", filters={}, secret="whsec_x")
        ok = await hook_repo.create_webhook(s, url="http://127.0.0.1:9/up", filters={}, secret="whsec_y")
        dead = await hook_repo.enqueue(s, webhook_id=hook.id, story_id="s1", event_type="story.created", version=1,
                                       payload={})
        retrying = await hook_repo.enqueue(s, webhook_id=hook.id, story_id="s2", event_type="story.created",
                                           version=1, payload={})
        fine = await hook_repo.enqueue(s, webhook_id=ok.id, story_id="s1", event_type="story.created", version=1,
                                       payload={})
        assert dead and retrying and fine
        await hook_repo.record_attempt(s, delivery_id=dead.id, status_code=500, latency_ms=3, error=None, excerpt="x",
                                       outcome="dead", next_at=None, now=now - timedelta(minutes=5))
        await hook_repo.record_attempt(s, delivery_id=retrying.id, status_code=None, latency_ms=None,
                                       error="connection refused", excerpt=None, outcome="retry",
                                       next_at=now + timedelta(minutes=10), now=now - timedelta(minutes=1))
        await hook_repo.record_attempt(s, delivery_id=fine.id, status_code=204, latency_ms=3, error=None, excerpt="",
                                       outcome="success", next_at=None, now=now)
    status = await _status(sessions)
    assert status[hook.id]["failing"] and status[hook.id]["last_error"] == "connection refused"
    assert status[hook.id]["next_retry_at"] == now + timedelta(minutes=10)
    assert ok.id not in status

    page = (await client.get("/dashboard/webhooks")).text
    row = re.search(rf'<tr data-webhook-id="{hook.id}".*?</tr>', page, re.S)
    assert row, page[:2000]
    cells = row.group(0)
    assert 'data-failing="true"' in cells and "failing" in cells
    assert "connection refused" in cells and "no response" in cells
    assert re.search(r'data-col="next-retry"><time [^>]*>in (9|10) min</time>', cells), cells
    assert re.search(r'data-col="dead"><a href="#dead">1</a>', cells), cells
    good = re.search(rf'<tr data-webhook-id="{ok.id}".*?</tr>', page, re.S)
    assert good and 'data-col="last-error">—' in good.group(0) and "badge ok" in good.group(0)
    assert f'data-delivery-id="{dead.id}"' in page


async def _status(sessions: Any) -> dict[str, Any]:
    async with sessions() as s:
        return await hook_repo.retry_status(s)


async def test_stories_search_subscribe_links_and_chips_keep_the_filter(admin):
    client, _ = admin
    page = (await client.get("/dashboard/stories", params={"q": "ceasefire", "entity": "Q1"})).text
    assert "Ceasefire agreed in Geneva talks" in page and "Sanctions widened" not in page
    assert 'value="ceasefire"' in page  # the search box keeps the words
    assert 'href="http://dash.test/stories.rss?entity=Q1&amp;q=ceasefire"' in page
    assert 'href="http://dash.test/stories.atom?entity=Q1&amp;q=ceasefire"' in page
    assert 'href="http://dash.test/stories.json?entity=Q1&amp;q=ceasefire"' in page
    assert 'href="http://dash.test/digests/daily.rss?entity=Q1&amp;q=ceasefire"' in page  # the digest, same filter
    assert '<link rel="alternate" type="application/rss+xml"' in page
    assert 'class="chip topic" href="?entity=Q1&amp;q=ceasefire&amp;topic=ceasefire"' in page  # topic chip keeps q
    assert 'class="chip" href="?entity=Q1&amp;q=ceasefire" title="GPE"' in page  # entity chip keeps q
    topic_page = (await client.get("/dashboard/stories", params={"topic": "sanctions"})).text
    assert 'class="chip" href="?topic=sanctions&amp;entity=Q1" title="GPE"' in topic_page
    every = (await client.get("/dashboard/stories")).text
    assert 'href="http://dash.test/stories.rss"' in every and "Subscribe to all stories" in every
    nothing = await client.get("/dashboard/stories", params={"q": "zzzz-nowhere"})
    assert nothing.status_code == 200 and "No story matches these filters" in nothing.text
    assert (await client.get("/dashboard/stories", params={"q": "x" * 501})).status_code == 422
    assert (await client.get("/stories.rss", params={"entity": "Q1", "q": "ceasefire"})).text.count("<item>") == 1


@pytest.mark.parametrize("path", ["/dashboard/feeds", "/dashboard/feeds/import", "/dashboard/webhooks",
                                  "/dashboard/alerts", "/dashboard/webhooks/wh_x/test", "/dashboard/webhooks/wh_x/delete",
                                  "/dashboard/feeds/1/delete"])
async def test_admin_forms_need_the_cookie_and_our_origin(admin, path):
    client, _ = admin
    assert (await client.post(path, headers={"Origin": "http://evil.example"})).status_code == 403
    assert (await client.post(path)).status_code == 403  # no Origin, no Referer
    client.cookies.clear()
    assert (await client.post(path, headers=SAME)).status_code == 403
