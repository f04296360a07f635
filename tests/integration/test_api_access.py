"""Read tokens and rate limits on every public endpoint, the page cache's freshness, and odd inputs (never a 500)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import delete

from api.http.ratelimit import RateLimiter
from services.db import stories as repo
from tests.factories import enriched, raw
from tests.integration.test_api import client_for

PUBLIC = ["/stories", "/stories.rss", "/stories.atom", "/stories.json", "/stories/nope", "/entities", "/topics"]
READER = "reader-token-0123"


async def test_read_tokens_guard_every_public_endpoint(store_url, make_settings):
    settings = make_settings(database_url=store_url, read_tokens=[READER, "second-token"])
    async with client_for(settings) as (_, client):
        for path in PUBLIC:
            assert (await client.get(path)).status_code == 401, path
            assert (await client.get(path, params={"token": "wrong"})).status_code == 401, path
            ok = {200, 404}
            assert (await client.get(path, headers={"Authorization": f"Bearer {READER}"})).status_code in ok
            assert (await client.get(path, params={"token": "second-token"})).status_code in ok, path
            admin = {"Authorization": "Bearer test-admin-token-0123456789"}
            assert (await client.get(path, headers=admin)).status_code in ok, path
        assert (await client.get("/healthz")).status_code == 200  # ops endpoints stay open


async def test_open_without_read_tokens(store_url, make_settings):
    async with client_for(make_settings(database_url=store_url)) as (_, client):
        for path in PUBLIC:
            assert (await client.get(path)).status_code in (200, 404), path


def test_token_bucket_maths():
    lim = RateLimiter(60)  # one a second, bursts of 60
    assert all(lim.take("a", 100.0) == 0 for _ in range(60))
    assert lim.take("a", 100.0) == pytest.approx(1.0)
    assert lim.take("b", 100.0) == 0  # buckets are per client
    assert lim.take("a", 101.0) == 0  # refilled one token
    assert lim.take("a", 101.0) > 0


async def test_rate_limit_per_client_with_retry_after(store_url, make_settings):
    settings = make_settings(database_url=store_url, rate_limit_per_minute=5, read_tokens=[READER, "other-token"])
    async with client_for(settings) as (_, client):
        auth = {"token": READER}
        codes = [(await client.get("/stories", params=auth)).status_code for _ in range(5)]
        assert codes == [200] * 5
        r = await client.get("/stories.rss", params=auth)  # feeds share the client's budget
        assert r.status_code == 429 and 1 <= int(r.headers["Retry-After"]) <= 12
        # Another reader token is another client; unknown tokens count against the IP.
        assert (await client.get("/stories", params={"token": "other-token"})).status_code == 200
        codes = [(await client.get("/topics", params={"token": f"made-up-{i}"})).status_code for i in range(6)]
        assert codes[:5] == [401] * 5 and codes[5] == 429


async def test_rate_limit_off_by_default(store_url, make_settings):
    async with client_for(make_settings(database_url=store_url)) as (_, client):
        assert {(await client.get("/topics")).status_code for _ in range(30)} == {200}


async def test_cached_pages_follow_the_store(store_url, make_settings):
    settings = make_settings(database_url=store_url, sse_poll_interval_s=0.05)
    async with client_for(settings) as (app, client):
        first = await client.get("/stories", params={"topic": "ceasefire"})
        assert first.json()["items"] == []
        async with app.state.ctx.sessions() as s, s.begin():
            await repo.upsert_enriched(s, event=enriched(raw(1, title="Truce"), topics={"ceasefire": 0.9}))
        watch = app.state.ctx.store_watch
        gen = watch.generation
        await watch.poll()  # what the poller does every sse_poll_interval_s
        assert watch.generation > gen
        again = await client.get("/stories", params={"topic": "ceasefire"})
        assert [s["headline"] for s in again.json()["items"]] == ["Truce"]
        assert again.headers["etag"] != first.headers["etag"]



async def test_a_change_drops_only_the_pages_it_concerns(store_url, make_settings):
    """A new ceasefire story drops the ceasefire pages and the unfiltered one; the sanctions page and the
    Arabic page stay cached; a story merged away drops the pages that listed it."""
    from sqlalchemy import insert

    from services.db.clusters import story_aliases
    from services.db.models import Story

    settings = make_settings(database_url=store_url, sse_poll_interval_s=60)  # polled by hand below
    async with client_for(settings) as (app, client):
        ctx = app.state.ctx
        async with ctx.sessions() as s, s.begin():
            await repo.upsert_enriched(s, event=enriched(raw(1, title="Sanctions widened"), topics={"sanctions": 0.9}))
            await repo.upsert_enriched(s, event=enriched(raw(2, title="Old truce"), topics={"ceasefire": 0.8}))
        await ctx.store_watch.poll()
        queries = {"ceasefire": "/stories?topic=ceasefire", "sanctions": "/stories?topic=sanctions",
                   "all": "/stories?", "ar": "/stories?lang=ar", "feed": "/stories.rss?topic=ceasefire"}
        for q in queries.values():
            assert (await client.get(q)).status_code == 200
        cache = ctx.page_cache
        kept = {name: cache.get(next(k for k in cache._items if k.endswith(q.removeprefix("/"))))
                for name, q in queries.items()}
        assert all(kept.values()) and len(cache) == 5

        async with ctx.sessions() as s, s.begin():
            await repo.upsert_enriched(s, event=enriched(raw(3, title="New truce"), topics={"ceasefire": 0.9}))
        await ctx.store_watch.poll()
        left = set(cache._items)
        assert {k.split("?")[1] for k in left} == {"topic=sanctions", "lang=ar"}, left
        assert [x["headline"] for x in (await client.get(queries["ceasefire"])).json()["items"]] == [
            "New truce", "Old truce"]
        assert (await client.get(queries["sanctions"])).status_code == 200

        sanctions_page = cache.get(next(k for k in cache._items if k.endswith("topic=sanctions")))
        assert sanctions_page is kept["sanctions"]  # served from the cache all along
        (old,) = sanctions_page.story_ids
        async with ctx.sessions() as s, s.begin():  # the sanctions story is merged away into another story
            await s.execute(insert(story_aliases).values(old_id=old, story_id="st_survivor",
                                                         merged_at=datetime.now(UTC)))
            await s.execute(delete(Story).where(Story.id == old))
        await ctx.store_watch.poll()
        assert not any(k.endswith("topic=sanctions") for k in cache._items)
        assert (await client.get(queries["sanctions"])).json()["items"] == []


ODD = [
    {"q": "x" * 10_000},
    {"q": "\x00"},
    {"topic": "\x00"},
    {"entity": "'; DROP TABLE stories; --"},
    {"entity": "%"},
    {"entity": "x" * 5000},
    {"entity": [f"e{i}" for i in range(50)]},
    {"topic": ["ceasefire"] * 200},
    {"source": "Ω" * 600},
    {"source": "\" OR 1=1 --"},
    {"lang": "en", "lang_": "fr"},
    {"limit": "99999999999999999999999"},
    {"limit": "-1"},
    {"limit": "1e3"},
    {"feed": "-5"},
    {"feed": "0"},
    {"feed": "99999999999999999999"},
    {"since": "9999-12-31T23:59:59-05:00"},
    {"until": "0001-01-01T00:00:00+05:00"},
    {"since": "2026-13-45"},
    {"min_confidence": "nan"},
    {"min_confidence": "inf"},
    {"min_confidence": "-0.1"},
    {"state": ["agreed"] * 100},
    {"cursor": "x" * 600},
    {"cursor": "WyI5OTk5LTEyLTMxVDIzOjU5OjU5LTA1OjAwIiwieCJd"},  # ["9999-12-31T23:59:59-05:00","x"]
    {"cursor": "WzEsMl0"},  # [1,2]
    {"cursor": "bnVsbA"},  # null
    {"q": "停火 🕊️ وقف", "entity": "Zelenskyy", "lang": "uk"},
]


@pytest.mark.parametrize("path", ["/stories", "/stories.atom", "/stories.json"])
async def test_odd_inputs_never_500(store_url, make_settings, path):
    async with client_for(make_settings(database_url=store_url)) as (app, client):
        async with app.state.ctx.sessions() as s, s.begin():
            await repo.upsert_enriched(s, event=enriched(raw(1, title="Truce"), topics={"ceasefire": 0.9}))
        for params in ODD:
            r = await client.get(path, params=params)
            assert r.status_code in (200, 422), (params, r.status_code, r.text[:300])
        raw_qs = ["topic=ceasefire&topic=ceasefire&lang=en&lang=fr", "q=%ff%fe", "q=%", "limit=&cursor=",
                  "since=&until=", "entity=", "feed=1&feed=2", "%00=1", "q=a&q=b"]
        for qs in raw_qs:
            r = await client.get(f"{path}?{qs}")
            assert r.status_code in (200, 422), (qs, r.status_code, r.text[:300])
        for sid in ["x" * 5000, "%00", "..%2F..%2Fetc", "' OR 1=1", "stream.json"]:
            assert (await client.get(f"/stories/{sid}")).status_code in (404, 422), sid
        for q in ["\x00", "%", "_", "x" * 100]:
            assert (await client.get("/entities", params={"q": q})).status_code in (200, 422), q
