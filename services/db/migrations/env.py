"""Alembic environment: runs migrations on the async engine of the configured store."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from services.db.models import Base

config = context.config
target_metadata = Base.metadata


def _include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Autogenerate must not propose dropping tables the migrations own outside the ORM (search, clusters)."""
    return not (type_ == "table" and reflected and compare_to is None)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=_include_object,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    url = config.get_main_option("sqlalchemy.url") or ""
    engine = create_async_engine(url, poolclass=pool.NullPool)
    async with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            # Serialise concurrent starters: only one process migrates at a time.
            from sqlalchemy import text

            await conn.execute(text("SELECT pg_advisory_lock(727274)"))
        await conn.run_sync(_run)
        await conn.commit()
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_async())
