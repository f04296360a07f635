"""The API process's state is one typed AppContext built in the lifespan (api.http.context): nothing else on
app.state, the API starts and serves with Kafka down (the push intake connects on the first push), and the
lifespan stops what it started."""

from __future__ import annotations

from api.http.app import create_app
from api.http.context import AppContext
from tests.integration.test_api import client_for


async def test_one_context_built_in_the_lifespan_with_kafka_down(store_url, make_settings):
    settings = make_settings(database_url=store_url, kafka_bootstrap="127.0.0.1:1", rate_limit_per_minute=0)
    async with client_for(settings) as (app, client):
        ctx = app.state.ctx
        assert isinstance(ctx, AppContext) and set(vars(app.state)["_state"]) == {"ctx"}
        assert ctx.settings is settings and ctx.rate_limiter is None and ctx.page_cache is not None
        assert ctx.store_watch.running and ctx.push.producer is None
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/stories")).status_code == 200
        ready = await client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"] == {"store": "ok", "kafka": "unreachable"}
    assert not ctx.store_watch.running


async def test_the_page_cache_can_be_turned_off(make_settings):
    """What the API bench's --no-cache runs: every /stories request renders."""
    app = create_app(make_settings(), page_cache=False)
    async with app.router.lifespan_context(app):
        assert app.state.ctx.page_cache is None
