"""The fast /stories path keeps every promise: a cache hit still checks the read token and the rate limit,
is served only for the very query that rendered it, bad parameters still get 422, the query is still
documented in OpenAPI, and keyset pages seek the index instead of scanning from the newest story."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.dialects import sqlite

from api.http.app import create_app
from api.http.schemas import PageQuery, StreamQuery
from api.http.stream import StoreWatch
from services.db import stories as repo
from services.db.engine import make_engine, make_sessions
from services.db.migrate import upgrade_async
from services.db.models import Story
from services.settings import Settings
from tests.integration.test_api import client_for
from tests.integration.test_api_search_feeds import ev

READER = "reader-token-0123"
T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


async def _store(app, *events):
    async with app.state.ctx.sessions() as s, s.begin():
        for e in events:
            await repo.upsert_enriched(s, event=e)
    await app.state.ctx.store_watch.poll()  # what the poller does every sse_poll_interval_s


async def test_cache_hits_still_check_the_token_and_the_rate_limit(store_url, make_settings):
    settings = make_settings(database_url=store_url, read_tokens=[READER], rate_limit_per_minute=3)
    async with client_for(settings) as (app, client):
        await _store(app, ev(1, "Truce agreed", topics={"ceasefire": 0.9}))
        first = await client.get("/stories", params={"topic": "ceasefire", "token": READER})
        assert first.status_code == 200 and len(app.state.ctx.page_cache._items) == 1
        assert (await client.get("/stories", params={"topic": "ceasefire"})).status_code == 401
        assert (await client.get("/stories", params={"topic": "ceasefire", "token": "wrong"})).status_code == 401
        codes = [(await client.get("/stories", params={"topic": "ceasefire", "token": READER})).status_code
                 for _ in range(3)]
        assert codes == [200, 200, 429]  # three a minute: the cache hits spent the reader's budget


async def test_a_cached_page_serves_only_the_query_that_rendered_it(store_url, make_settings):
    async with client_for(make_settings(database_url=store_url)) as (app, client):
        await _store(app, ev(1, "Truce agreed", lang="en", published=T0),
                     ev(2, "Cessez-le-feu", lang="fr", published=T0 + timedelta(hours=1)))

        async def heads(qs: str) -> list[str]:
            r = await client.get(f"/stories?{qs}")
            assert r.status_code == 200, r.text
            return [s["headline"] for s in r.json()["items"]]

        # A repeated single-valued parameter keeps its last value, so the order of the pairs matters.
        assert await heads("lang=en&lang=fr") == ["Cessez-le-feu"]
        assert await heads("lang=fr&lang=en") == ["Truce agreed"]
        assert await heads("lang=en&token=x") == ["Truce agreed"]
        assert await heads("token=y&lang=en") == ["Truce agreed"]  # the same page: a token never changes it
        assert list(app.state.ctx.page_cache._items) == ["/stories?lang=en&lang=fr", "/stories?lang=fr&lang=en",
                                                     "/stories?lang=en"]


async def test_concurrent_misses_of_one_page_query_the_store_once(store_url, make_settings, monkeypatch):
    """A change drops the page while many clients poll it: they share one render, not one query each."""
    async with client_for(make_settings(database_url=store_url)) as (app, client):
        await _store(app, ev(1, "Truce agreed", topics={"ceasefire": 0.9}))
        queries = 0
        real = repo.list_stories

        async def counted(*args, **kwargs):
            nonlocal queries
            queries += 1
            return await real(*args, **kwargs)

        monkeypatch.setattr(repo, "list_stories", counted)
        for round_ in range(2):
            responses = await asyncio.gather(*(client.get("/stories?topic=ceasefire") for _ in range(16)))
            assert {r.status_code for r in responses} == {200}
            assert len({r.content for r in responses}) == 1
            assert queries == round_ + 1, "each miss of the same page ran its own store query"
            await _store(app, ev(2 + round_, f"Truce holds {round_}", topics={"ceasefire": 0.9}))  # drops it
        assert [s["headline"] for s in (await client.get("/stories?topic=ceasefire")).json()["items"]][0] \
            == "Truce holds 1"


@pytest.mark.parametrize("qs", ["topic=ceasefire&limit=0", "topic=golf", "topic=ceasefire&limit=ten",
                                "topic=ceasefire&q=%00", "topic=ceasefire&since=2026-13-45"])
async def test_bad_parameters_are_422_while_a_good_page_is_cached(store_url, make_settings, qs):
    async with client_for(make_settings(database_url=store_url)) as (app, client):
        await _store(app, ev(1, "Truce agreed", topics={"ceasefire": 0.9}))
        for path in ("/stories", "/stories.atom"):
            assert (await client.get(f"{path}?topic=ceasefire")).status_code == 200
            r = await client.get(f"{path}?{qs}")
            assert r.status_code == 422, (path, qs, r.text)
            assert r.json()["detail"][0]["loc"][0] == "query"


async def test_feed_links_name_the_host_that_asked(store_url, make_settings):
    async with client_for(make_settings(database_url=store_url, public_url="")) as (app, client):
        await _store(app, ev(1, "Truce agreed", topics={"ceasefire": 0.9}))
        for host in ("a.example", "b.example"):
            r = await client.get("/stories.atom?topic=ceasefire", headers={"Host": host})
            assert r.status_code == 200 and f"http://{host}/stories" in r.text, (host, r.text[:300])


async def test_the_story_query_is_documented(make_settings):
    app = create_app(make_settings())
    paths = app.openapi()["paths"]
    for path in ("/stories", "/stories.rss", "/stories.atom", "/stories.json"):
        op = paths[path]["get"]
        assert {p["name"] for p in op["parameters"]} == set(PageQuery.model_fields), path
        assert "422" in op["responses"] and op["security"] == [{"HTTPBearer": []}], path
    stream = paths["/stories/stream"]["get"]["parameters"]
    assert {(p["in"], p["name"]) for p in stream} == {("query", n) for n in StreamQuery.model_fields} | {
        ("header", "last-event-id")}
    assert paths["/stories"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/StoryPage"}


async def _plan(conn, stmt) -> str:
    """SQLite's plan for a statement with bound parameters (literal values can get a better plan)."""
    compiled = stmt.compile(dialect=sqlite.dialect())
    params = [compiled.params[k] for k in compiled.positiontup]
    params = [p.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(p, datetime) else p for p in params]
    rows = await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", tuple(params))
    return "\n".join(str(r[-1]) for r in rows)


async def test_keyset_positions_seek_the_index_on_sqlite(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'plan.db'}"
    await upgrade_async(Settings(database_url=url), url=url)
    engine = make_engine(Settings(database_url=url), url=url)
    cursor = repo.encode_cursor(type("Row", (), {"published_at": T0, "id": "f" * 32})())
    try:
        async with engine.connect() as conn:
            page = await _plan(conn, repo._page_statement(repo.StoryFilter(topics=("ceasefire",)), 20, cursor,
                                                          "sqlite", True))
            assert "SEARCH stories USING INDEX ix_stories_published_at_id (published_at<?)" in page, page
            async with make_sessions(engine)() as s:
                changed = await _plan(await s.connection(), select(Story).where(*repo._seen_after(T0, "x"))
                                      .order_by(Story.last_seen, Story.id))
            assert "SEARCH stories USING INDEX ix_stories_last_seen_id (last_seen>?)" in changed, changed
    finally:
        await engine.dispose()


async def test_the_store_watch_starts_at_the_newest_change(store_url):
    engine = make_engine(Settings(database_url=store_url), url=store_url)
    sessions = make_sessions(engine)
    try:
        async with sessions() as s, s.begin():
            for n in range(1, 4):
                await repo.upsert_enriched(s, event=ev(n, f"Story {n}", published=T0 + timedelta(minutes=n)))
        async with sessions() as s:
            newest = (await repo.changed_after(s, after=(datetime(1970, 1, 1, tzinfo=UTC), ""), limit=10))[-1]
        watch = StoreWatch(sessions, interval_s=60)
        await watch.start()
        try:
            assert watch.position == f"{newest.last_seen.isoformat()}|{newest.id}"
            assert await watch.poll() == 0  # nothing new: what was there at start is never re-announced
        finally:
            await watch.stop()
    finally:
        await engine.dispose()
