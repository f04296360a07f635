"""The dashboard's chart history: one derived metrics point per sampling interval, kept for a day.

Why in the store: charts must show the last 24 h whoever opens the page, after a reload and after an
API restart (the API's in-memory ring starts empty). Written by the API's sampler, read by
/dashboard/data.json; migration 0007.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, MetaData, Table, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

metric_points = Table(
    "metric_points", MetaData(),
    Column("at", DateTime(timezone=True), primary_key=True),
    Column("data", JSON, nullable=False),
)


async def record(session: AsyncSession, *, at: datetime, data: dict[str, Any], keep_after: datetime) -> None:
    """Store one point and drop those older than ``keep_after``."""
    await session.execute(delete(metric_points).where(metric_points.c.at < keep_after))
    existing = await session.scalar(select(metric_points.c.at).where(metric_points.c.at == at))
    if existing is None:
        await session.execute(insert(metric_points).values(at=at, data=data))


async def since(session: AsyncSession, *, after: datetime) -> list[dict[str, Any]]:
    """The stored points after ``after``, oldest first."""
    rows = await session.execute(select(metric_points.c.data).where(metric_points.c.at > after)
                                 .order_by(metric_points.c.at))
    return [r[0] for r in rows]
