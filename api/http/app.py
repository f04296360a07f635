"""The FastAPI application: built by create_app(settings); its state is one AppContext built in the lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.exc import SQLAlchemyError

from api.http import (
    routes_alerts,
    routes_ceasefires,
    routes_dashboard,
    routes_dashboard_ceasefires,
    routes_dashboard_feeds,
    routes_dashboard_hooks,
    routes_digests,
    routes_docs,
    routes_feeds,
    routes_stories,
    routes_story_page,
    routes_webhooks,
)
from api.http.context import CtxDep, running_context
from api.http.schemas import Problem
from services import bus
from services.db.migrate import upgrade_async
from services.db.observe import store_error
from services.runtime import trim_memory_every
from services.settings import Settings

# What any operation may answer besides its own responses, documented once for all of them.
COMMON_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "the request body is not valid JSON"},
    401: {"model": Problem, "description": "admin routes: missing or wrong admin token; with "
                                          "WIREWATCH_READ_TOKENS set, public routes: missing or wrong read token"},
    404: {"model": Problem, "description": "no such resource (or route)"},
    429: {"model": Problem, "description": "over WIREWATCH_RATE_LIMIT_PER_MINUTE; see Retry-After"},
    503: {"model": Problem, "description": "the store is unavailable; see Retry-After"},
}


def create_app(settings: Settings, *, migrate: bool = True, page_cache: bool = True) -> FastAPI:
    """The API over the store ``settings`` names; ``page_cache=False`` renders every /stories request."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if migrate:
            await upgrade_async(settings)
        async with running_context(settings, page_cache=page_cache) as ctx:
            app.state.ctx = ctx
            stop = asyncio.Event()
            trimmer = asyncio.create_task(trim_memory_every(settings.memory_trim_interval_s, stop))
            try:
                yield
            finally:
                stop.set()
                trimmer.cancel()

    app = FastAPI(
        title="Wirewatch",
        version="0.1.0",
        description="Ceasefire and conflict de-escalation news, tagged and pushed within seconds.",
        lifespan=lifespan, docs_url=None, redoc_url=None,  # served offline by routes_docs
        responses=COMMON_ERRORS,
    )
    app.add_middleware(GZipMiddleware, minimum_size=settings.api_gzip_min_bytes)  # never SSE (excluded)

    _handle_errors(app)

    @app.get("/healthz", tags=["ops"], summary="Alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["ops"], summary="Kafka and the store reachable")
    async def readyz(ctx: CtxDep) -> JSONResponse:
        store = await store_error(ctx.sessions)
        checks = {"store": "ok" if store is None else f"error: {store}",
                  "kafka": "ok" if await bus.ping(settings, timeout=3) else "unreachable"}
        ok = all(v == "ok" for v in checks.values())
        return JSONResponse({"status": "ready" if ok else "not ready", "checks": checks},
                            status_code=200 if ok else 503)

    @app.get("/metrics", tags=["ops"], summary="Prometheus metrics of the API process",
             response_class=PlainTextResponse)
    async def metrics_() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    app.include_router(routes_stories.router)
    app.include_router(routes_feeds.router)
    app.include_router(routes_webhooks.router)
    app.include_router(routes_alerts.router)
    app.include_router(routes_digests.router)
    app.include_router(routes_ceasefires.router)
    app.include_router(routes_dashboard_ceasefires.router)
    app.include_router(routes_dashboard.router)
    app.include_router(routes_dashboard_feeds.router)
    app.include_router(routes_dashboard_hooks.router)
    app.include_router(routes_story_page.router)
    app.include_router(routes_docs.router)
    return app


def _handle_errors(app: FastAPI) -> None:
    """422s in one shape; a store outage is a 503 with Retry-After, never a 500."""

    @app.exception_handler(RequestValidationError)
    async def _422(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
                  for e in exc.errors()]
        return JSONResponse({"detail": errors}, status_code=422)

    @app.exception_handler(SQLAlchemyError)
    async def _store_down(_: Request, exc: SQLAlchemyError) -> JSONResponse:
        return JSONResponse({"detail": "the store is unavailable; retry shortly"}, status_code=503,
                            headers={"Retry-After": "5"})


def serve(settings: Settings) -> None:
    """Run the API under uvicorn on WIREWATCH_API_HOST:WIREWATCH_API_PORT."""
    import uvicorn

    from services.runtime import setup_logging

    setup_logging(settings, "api")
    uvicorn.run(create_app(settings), host=settings.api_host, port=settings.api_port, log_config=None,
                access_log=False, lifespan="on")
