"""The API process's state, typed: one ``AppContext`` built in create_app's lifespan, kept as ``app.state.ctx``.

Everything a route needs beyond its request lives here, built once from the process's settings:
the store (engine, sessions), the store watch behind /stories/stream and the page cache, the rate
limiter (None when WIREWATCH_RATE_LIMIT_PER_MINUTE is 0), the dashboard's observer and the WebSub
push intake (ingest.push). Routes take it as ``ctx: CtxDep``; hot paths call ``context_of(request)``
directly (a dependency costs FastAPI work on every request).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from api.http.observe import Observer
from api.http.pagecache import PageCache
from api.http.ratelimit import RateLimiter
from api.http.stream import StoreWatch
from ingest.push import PushIntake
from services.db import metric_history as history
from services.db.engine import Sessions, make_engine, make_sessions
from services.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AppContext:
    settings: Settings
    engine: AsyncEngine
    sessions: Sessions
    store_watch: StoreWatch
    page_cache: PageCache | None  # None: every /stories request renders (the bench's --no-cache)
    rate_limiter: RateLimiter | None  # None: no rate limit configured
    observer: Observer
    push: PushIntake


def build_context(settings: Settings, engine: AsyncEngine, *, page_cache: bool = True) -> AppContext:
    """The context over an engine, nothing started yet (``running_context`` starts and stops it)."""
    sessions = make_sessions(engine)
    per_minute = settings.rate_limit_per_minute
    watch, cache = StoreWatch(sessions, interval_s=settings.sse_poll_interval_s), PageCache() if page_cache else None
    if cache is not None:
        watch.on_change.append(cache.invalidate)  # each poll's changes drop the pages they concern
    return AppContext(
        settings=settings, engine=engine, sessions=sessions,
        store_watch=watch,
        page_cache=cache,
        rate_limiter=RateLimiter(per_minute) if per_minute > 0 else None,
        observer=Observer(settings, min_spacing_s=min(4.0, settings.dashboard_sample_interval_s or 4.0)),
        push=PushIntake(settings, sessions),
    )


@asynccontextmanager
async def running_context(settings: Settings, *, page_cache: bool = True) -> AsyncIterator[AppContext]:
    """Build the context, start the store watch, and stop everything (push producer, engine) on the way out.

    Nothing here needs Kafka: the push intake connects on the first push.
    """
    engine = make_engine(settings)
    ctx = build_context(settings, engine, page_cache=page_cache)
    stop = asyncio.Event()
    sampler = asyncio.create_task(keep_history(ctx, stop), name="wirewatch-dashboard-history")
    try:
        await ctx.store_watch.start()
        try:
            yield ctx
        finally:
            await ctx.store_watch.stop()
    finally:
        stop.set()
        sampler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampler
        await ctx.push.stop()
        await engine.dispose()


async def keep_history(ctx: AppContext, stop: asyncio.Event) -> None:
    """Sample every service's metrics every ``dashboard_sample_interval_s`` and keep the points a day
    (``dashboard_history_s``) in the store, so the charts have history whoever opens the page, whenever."""
    s = ctx.settings
    if s.dashboard_sample_interval_s <= 0:
        return
    while not stop.is_set():
        try:
            point = await ctx.observer.sample(ctx.sessions)
            if point is not None:
                at = datetime.fromtimestamp(point.at, UTC)
                async with ctx.sessions() as session, session.begin():
                    await history.record(session, at=at, data=dataclasses.asdict(point),
                                         keep_after=at - timedelta(seconds=s.dashboard_history_s))
        except (SQLAlchemyError, OSError) as exc:
            log.warning("dashboard history: sample not stored: %s", exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), s.dashboard_sample_interval_s)


def context_of(request: Request) -> AppContext:
    """The context of the app serving ``request`` (set by the lifespan)."""
    ctx: AppContext = request.app.state.ctx
    return ctx


async def _ctx(request: Request) -> AppContext:  # async: FastAPI runs sync dependencies in a thread
    return context_of(request)


CtxDep = Annotated[AppContext, Depends(_ctx)]
