"""Chart history lives in the store: it survives reloads and API restarts, and its times are now-ish."""

from __future__ import annotations

import asyncio
import time

import httpx

from api.http.app import create_app


async def _charts(app) -> dict:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        r = await c.get("/dashboard/data.json")
        assert r.status_code == 200, r.text
        return r.json()["charts"]


async def test_history_survives_an_api_restart(make_settings, tmp_path) -> None:
    settings = make_settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'w.db'}", dashboard_sample_interval_s=0.2,
                             dashboard_public=True)
    first = create_app(settings)
    async with first.router.lifespan_context(first):
        await asyncio.sleep(1.5)
        before = (await _charts(first))["throughput"]["t"]
    assert len(before) >= 3
    second = create_app(settings.model_copy(update={"dashboard_sample_interval_s": 0}))
    async with second.router.lifespan_context(second):
        after = (await _charts(second))["throughput"]["t"]
    assert set(before[:-1]) <= set(after)  # the first process's points, read back by the second
    now = time.time()
    assert all(now - 86400 - 60 <= t <= now + 60 for t in after), after  # epoch seconds, not ms or years off
