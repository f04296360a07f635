"""Reads for digests: the stories first seen in a period, and whether a period's digest was queued."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.db.models import Delivery, Story

MAX_STORIES = 500


async def stories_first_seen(session: AsyncSession, *, start: datetime, end: datetime,
                             limit: int = MAX_STORIES) -> list[Story]:
    """Stories that appeared in [start, end), newest first (at most ``limit``)."""
    rows = await session.scalars(select(Story).where(Story.first_seen >= start, Story.first_seen < end)
                                 .order_by(Story.first_seen.desc(), Story.id).limit(limit))
    return list(rows.all())


async def queued(session: AsyncSession, *, webhook_id: str, key: str) -> bool:
    found = await session.scalar(select(Delivery.id).where(Delivery.webhook_id == webhook_id,
                                                           Delivery.event_key == key))
    return found is not None
