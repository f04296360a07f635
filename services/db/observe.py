"""The store queries of the ops dashboard (api.http.observe): is the store up, and what was tagged when."""

from __future__ import annotations

import asyncio
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from services.db.engine import Sessions
from services.db.models import Story, StoryTopic


async def store_error(sessions: Sessions, *, timeout_s: float = 5) -> str | None:
    """None when the store answers SELECT 1 within ``timeout_s``, else the error's class name."""
    try:
        async with sessions() as s:
            await asyncio.wait_for(s.execute(text("SELECT 1")), timeout_s)
        return None
    except (SQLAlchemyError, OSError, TimeoutError) as exc:
        return type(exc).__name__


async def topics_first_seen(session: AsyncSession, *, since: datetime) -> list[tuple[str, datetime]]:
    """(topic, story first seen) for every topic of every story first seen at or after ``since``."""
    rows = await session.execute(
        select(StoryTopic.topic, Story.first_seen).join(Story, Story.id == StoryTopic.story_id)
        .where(Story.first_seen >= since))
    return [(str(topic), seen) for topic, seen in rows.all()]
