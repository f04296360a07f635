"""Reads for digests: the stories first seen and the ceasefire changes recorded in a period, and whether a
period's digest was queued."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.db.models import Ceasefire, CeasefireChange, Delivery, Story

MAX_STORIES = 500
MAX_CHANGES = 500


async def stories_first_seen(session: AsyncSession, *, start: datetime, end: datetime,
                             limit: int = MAX_STORIES) -> list[Story]:
    """Stories that appeared in [start, end), newest first (at most ``limit``)."""
    rows = await session.scalars(select(Story).where(Story.first_seen >= start, Story.first_seen < end)
                                 .order_by(Story.first_seen.desc(), Story.id).limit(limit))
    return list(rows.all())


async def changes_recorded(session: AsyncSession, *, start: datetime, end: datetime,
                           limit: int = MAX_CHANGES) -> list[tuple[CeasefireChange, Ceasefire]]:
    """Ceasefire state changes recorded in [start, end), oldest first, with their records."""
    rows = await session.execute(select(CeasefireChange, Ceasefire).join(Ceasefire, Ceasefire.id == CeasefireChange.ceasefire_id)
                                 .where(CeasefireChange.recorded_at >= start, CeasefireChange.recorded_at < end)
                                 .order_by(CeasefireChange.id).limit(limit))
    return [(c, r) for c, r in rows.all()]


async def queued(session: AsyncSession, *, webhook_id: str, key: str) -> bool:
    found = await session.scalar(select(Delivery.id).where(Delivery.webhook_id == webhook_id,
                                                           Delivery.event_key == key))
    return found is not None
