"""Apply Alembic migrations at start; every service calls this before touching the store.

Why the HEAD check: once the schema is current (the normal case: a migration job or the first
process already ran), a service skips Alembic entirely, so its long-lived process never pays
Alembic's ~10 MB of imports. A test keeps HEAD equal to the newest migration's revision.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from services.db.engine import ensure_sqlite_dir, make_engine, sqlite_file
from services.settings import Settings

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
HEAD = "0016"  # the newest revision under migrations/versions (tests/unit/test_migrate_head.py checks it)


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(settings: Settings, *, url: str | None = None) -> None:
    """Bring the store to the newest schema (idempotent; safe for several processes at once)."""
    from alembic import command

    url = url or settings.db_url
    ensure_sqlite_dir(url)
    _create_sqlite(url, settings)
    command.upgrade(alembic_config(url), "head")


def _create_sqlite(url: str, settings: Settings) -> None:
    """A SQLite store that does not exist yet is created with the engine's page size and WAL (Alembic's own
    engine would create it with SQLite's 4 KiB pages, which a store keeps)."""
    path = sqlite_file(url)
    if path is None or path.exists():
        return
    conn = sqlite3.connect(path)
    try:
        conn.execute(f"PRAGMA page_size={int(settings.database_sqlite_page_size)}")
        conn.execute("PRAGMA journal_mode=WAL")
    finally:
        conn.close()


async def current_revision(settings: Settings, *, url: str | None = None) -> str | None:
    """The store's schema revision, or None when it has none yet (or cannot be read)."""
    url = url or settings.db_url
    ensure_sqlite_dir(url)
    engine = make_engine(settings, url=url)
    try:
        async with engine.connect() as conn:
            return (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar_one_or_none()
    except SQLAlchemyError:
        return None
    finally:
        await engine.dispose()


async def upgrade_async(settings: Settings, *, url: str | None = None) -> None:
    """:func:`upgrade`, skipped without importing Alembic when the store is already at HEAD."""
    if await current_revision(settings, url=url) == HEAD:
        return
    await asyncio.to_thread(upgrade, settings, url=url)
