"""Service heartbeats: each process says it is alive so /readyz and the dashboard can tell who runs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import SQLAlchemyError

from services.db.engine import Sessions
from services.db.models import Heartbeat

log = logging.getLogger(__name__)


async def beat(sessions: Sessions, *, service: str, instance: str, metrics_url: str | None,
               info: dict[str, Any]) -> None:
    """Insert or refresh this instance's row."""
    now = datetime.now(UTC)
    async with sessions() as s, s.begin():
        row = await s.get(Heartbeat, (service, instance))
        if row is None:
            s.add(Heartbeat(service=service, instance=instance, pid=os.getpid(), started_at=now, last_seen=now,
                            metrics_url=metrics_url, info=info))
        else:
            row.last_seen, row.info, row.metrics_url = now, info, metrics_url


async def heartbeat_loop(sessions: Sessions, *, service: str, instance: str, metrics_url: str | None,
                         interval: float, info: dict[str, Any], stop: asyncio.Event) -> None:
    """Beat every ``interval`` seconds until stop; a store outage only delays the next beat."""
    while not stop.is_set():
        try:
            await beat(sessions, service=service, instance=instance, metrics_url=metrics_url, info=dict(info))
        except (SQLAlchemyError, OSError) as exc:
            log.warning("heartbeat failed: %s", exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)
    async with sessions() as s, s.begin():
        await s.execute(delete(Heartbeat).where(Heartbeat.service == service, Heartbeat.instance == instance))


@asynccontextmanager
async def heartbeating(sessions: Sessions, *, service: str, instance: str, metrics_url: str | None,
                      interval: float, stop: asyncio.Event) -> AsyncIterator[None]:
    """Run heartbeat_loop for the duration of the block; the row is removed when the block ends."""
    task = asyncio.create_task(heartbeat_loop(sessions, service=service, instance=instance, metrics_url=metrics_url,
                                              interval=interval, info={}, stop=stop))
    try:
        yield
    finally:
        stop.set()
        try:
            await asyncio.wait_for(task, 10)
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            log.warning("heartbeat cleanup failed: %s", exc)


async def list_heartbeats(sessions: Sessions, *, max_age_s: float = 3600) -> list[Heartbeat]:
    """Recent heartbeats, newest first."""
    cutoff = datetime.now(UTC) - timedelta(seconds=max_age_s)
    async with sessions() as s:
        rows = await s.scalars(select(Heartbeat).where(Heartbeat.last_seen >= cutoff)
                               .order_by(Heartbeat.service, Heartbeat.instance))
        return list(rows.all())
