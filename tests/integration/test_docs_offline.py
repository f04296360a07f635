"""/docs and /redoc work offline (their assets are ours), / leads to the dashboard, big responses are gzipped."""

from __future__ import annotations

import re

import httpx

from api.http.app import create_app


async def _client(make_settings, tmp_path):
    settings = make_settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'w.db'}")
    app = create_app(settings)
    return app, httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_docs_pages_load_only_local_assets(make_settings, tmp_path) -> None:
    app, client = await _client(make_settings, tmp_path)
    async with app.router.lifespan_context(app), client:
        for page in ("/docs", "/redoc"):
            html = (await client.get(page)).text
            urls = re.findall(r"""(?:src|href)=["']([^"']+)["']|url:\\s*['"]([^'"]+)['"]""", html)
            assets = [u for pair in urls for u in pair if u]
            assert assets and all(u.startswith("/") for u in assets), (page, assets)
            assert "cdn" not in html and "fonts.googleapis" not in html
            for u in assets:
                if u.startswith("/static/"):
                    r = await client.get(u)
                    assert r.status_code == 200 and len(r.content) > 1000 or u.endswith(".svg"), u
        front = await client.get("/", follow_redirects=False)
        assert front.status_code == 307 and front.headers["location"] == "/dashboard"


async def test_large_responses_are_gzipped_for_clients_that_accept_it(make_settings, tmp_path) -> None:
    app, client = await _client(make_settings, tmp_path)
    async with app.router.lifespan_context(app), client:
        zipped = await client.get("/openapi.json", headers={"accept-encoding": "gzip"})
        plain = await client.get("/openapi.json", headers={"accept-encoding": "identity"})
        assert zipped.headers.get("content-encoding") == "gzip" and "content-encoding" not in plain.headers
        assert zipped.json() == plain.json()
