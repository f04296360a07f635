"""Fixtures for the security suite: an in-process API over a migrated SQLite store with a few stories."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api.http.app import create_app
from services.db import stories as repo
from services.settings import Settings
from tests.factories import enriched, raw

ADMIN_TOKEN = "test-admin-token-0123456789"


@asynccontextmanager
async def api_client(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The real app with its lifespan (migrations, engine) behind an in-process transport."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://wirewatch.test") as client:
            yield app, client


async def seed_stories(app: FastAPI, n: int = 3) -> None:
    async with app.state.ctx.sessions() as s, s.begin():
        for i in range(1, n + 1):
            await repo.upsert_enriched(s, event=enriched(raw(i, title=f"Truce talks round {i}"),
                                                         topics={"ceasefire": 0.9},
                                                         entities=[("Q7747", "Vladimir Putin", "PERSON")]))


@pytest.fixture
def api_for(make_settings: Callable[..., Settings]) -> Callable[..., Any]:
    """``async with api_for(**overrides) as (app, client)``: an app over a fresh SQLite store."""

    def _open(**overrides: Any) -> Any:
        return api_client(make_settings(**overrides))

    return _open
