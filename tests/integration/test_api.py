"""The HTTP API over a real store (SQLite and PostgreSQL): filters, paging, 422/404, ETags, admin guard."""

from __future__ import annotations

from contextlib import asynccontextmanager

import httpx
import pytest

from api.http.app import create_app
from services.db import stories as repo
from tests.factories import enriched, raw

ADMIN = {"Authorization": "Bearer test-admin-token-0123456789"}
PUTIN = ("Q7747", "Vladimir Putin", "PERSON")


@asynccontextmanager
async def client_for(settings):
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://wirewatch.test") as client:
            yield app, client


@pytest.fixture
async def api(store_url, make_settings):
    settings = make_settings(database_url=store_url, stories_max_limit=50)
    async with client_for(settings) as (app, client):
        async with app.state.ctx.sessions() as s, s.begin():
            await repo.upsert_enriched(s, event=enriched(raw(1, title="Truce agreed in Gaza"),
                                                         topics={"ceasefire": 0.93}, entities=[PUTIN],
                                                         state="agreed"))
            await repo.upsert_enriched(s, event=enriched(raw(2, title="New sanctions"), topics={"sanctions": 0.8}))
            await repo.upsert_enriched(s, event=enriched(raw(3, title="Weather")))
        yield client


async def test_stories_filters_and_detail(api):
    r = await api.get("/stories", params={"topic": "ceasefire"})
    assert r.status_code == 200
    (story,) = r.json()["items"]
    assert story["headline"] == "Truce agreed in Gaza" and story["state"] == "agreed"
    assert story["topics"][0]["name"] == "ceasefire" and story["topics"][0]["evidence"]
    assert [e["name"] for e in story["entities"]] == ["Vladimir Putin"]
    r = await api.get("/stories", params={"entity": "vladimir putin"})
    assert [s["id"] for s in r.json()["items"]] == [story["id"]]
    r = await api.get("/stories", params={"state": "agreed"})
    assert len(r.json()["items"]) == 1
    assert len((await api.get("/stories")).json()["items"]) == 3
    detail = (await api.get(f"/stories/{story['id']}")).json()
    assert detail["articles"][0]["title"] == "Truce agreed in Gaza"
    assert (await api.get("/topics")).json()["topics"]
    assert (await api.get("/entities", params={"q": "vlad"})).json()[0]["stories"] == 1


async def test_paging_and_etag(api):
    page1 = (await api.get("/stories", params={"limit": 2})).json()
    assert len(page1["items"]) == 2 and page1["next_cursor"]
    page2 = (await api.get("/stories", params={"limit": 2, "cursor": page1["next_cursor"]})).json()
    assert len(page2["items"]) == 1 and page2["next_cursor"] is None
    r = await api.get("/stories")
    assert (await api.get("/stories", headers={"If-None-Match": r.headers["etag"]})).status_code == 304


@pytest.mark.parametrize(("params", "param"), [
    ({"topic": "golf"}, "topic"),
    ({"limit": "0"}, "limit"),
    ({"limit": "51"}, "limit"),
    ({"limit": "ten"}, "limit"),
    ({"state": "paused"}, "state"),
    ({"since": "yesterday"}, "since"),
    ({"min_confidence": "2"}, "min_confidence"),
    ({"cursor": "garbage"}, "cursor"),
    ({"lang": "english"}, "lang"),
])
async def test_bad_parameters_get_422_naming_the_parameter(api, params, param):
    r = await api.get("/stories", params=params)
    assert r.status_code == 422, r.text
    assert any(param in d["loc"] for d in r.json()["detail"]), r.json()
    if param == "topic":
        assert "allowed: ceasefire" in r.text


async def test_unknown_ids_are_404(api):
    assert (await api.get("/stories/nope")).status_code == 404
    assert (await api.get("/webhooks/nope", headers=ADMIN)).status_code == 404


async def test_admin_endpoints_refuse_missing_or_wrong_token(api):
    body = {"url": "http://127.0.0.1:9/hook", "topics": ["ceasefire"]}
    assert (await api.post("/webhooks", json=body)).status_code == 401
    assert (await api.post("/webhooks", json=body, headers={"Authorization": "Bearer wrong"})).status_code == 401
    r = await api.post("/webhooks", json=body, headers=ADMIN)
    assert r.status_code == 201 and r.json()["secret"].startswith("whsec_")
    listed = (await api.get("/webhooks", headers=ADMIN)).json()
    assert "secret" not in listed[0]
    r = await api.post("/webhooks", json={"url": "http://169.254.169.254/x"}, headers=ADMIN)
    assert r.status_code == 422 and "non-public" in r.text


async def test_admin_disabled_without_token(make_settings, tmp_path):
    settings = make_settings(admin_token="")
    async with client_for(settings) as (_, client):
        r = await client.post("/webhooks", json={"url": "http://127.0.0.1:9/h"}, headers=ADMIN)
        assert r.status_code == 403 and "WIREWATCH_ADMIN_TOKEN" in r.text
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        assert "wirewatch_" in (await client.get("/metrics")).text or (await client.get("/metrics")).status_code == 200
