"""A browser opening a story (headline, webhook link, feed item) gets the human page; API clients get JSON."""

from __future__ import annotations

import httpx

from api.http.app import create_app
from services.db import stories as repo
from tests.factories import enriched, raw

PUTIN = ("Q7747", "Vladimir Putin", "PERSON")


async def test_browsers_get_the_story_page_api_clients_json(make_settings, tmp_path) -> None:
    settings = make_settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'w.db'}")
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        ev = enriched(raw(1, title="Putin agrees energy truce", text="The Kremlin said the pause lasts 30 days.",
                          source="Atlantic Wire"), topics={"ceasefire": 0.9}, entities=[PUTIN], state="agreed")
        async with app.state.ctx.sessions() as s, s.begin():
            await repo.upsert_enriched(s, event=ev)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
            api = await c.get(f"/stories/{ev.id}")
            assert api.headers["content-type"].startswith("application/json") and api.json()["id"] == ev.id
            browser = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
            hop = await c.get(f"/stories/{ev.id}", headers=browser)
            assert hop.status_code == 303 and hop.headers["location"] == f"/dashboard/stories/{ev.id}"
            page = await c.get(hop.headers["location"], headers=browser)
            assert page.status_code == 200 and "text/html" in page.headers["content-type"]
            for text in ("Putin agrees energy truce", "agreed", "ceasefire", "Vladimir Putin", "Atlantic Wire",
                         "Putin agrees energy truce"):  # headline, state, topic + evidence, entity, source
                assert text in page.text
            assert (await c.get(f"/stories/{ev.id}?format=json", headers=browser)).json()["id"] == ev.id
            assert (await c.get("/dashboard/stories/nope", headers=browser)).status_code == 404
