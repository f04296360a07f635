"""Reads of story merges for the API's store watch: which story ids stopped existing, and when."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.db.clusters import story_aliases


async def merged_since(session: AsyncSession, *, after: datetime, limit: int = 5000) -> list[tuple[str, datetime]]:
    """(old id, merged at) of the stories merged into another after ``after``, oldest first."""
    rows = await session.execute(select(story_aliases.c.old_id, story_aliases.c.merged_at)
                                 .where(story_aliases.c.merged_at > after)
                                 .order_by(story_aliases.c.merged_at).limit(limit))
    return [(old, _utc(at)) for old, at in rows.all()]


async def last_merge(session: AsyncSession) -> datetime | None:
    """When the newest merge happened (None before the first)."""
    at = await session.scalar(select(func.max(story_aliases.c.merged_at)))
    return None if at is None else _utc(at)


def _utc(at: datetime) -> datetime:
    """SQLite hands timestamps back without their zone; every one stored here is UTC."""
    return at if at.tzinfo else at.replace(tzinfo=UTC)
