"""Apply Alembic migrations at start; every service calls this before touching the store."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

from services.db.engine import ensure_sqlite_dir
from services.settings import Settings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(settings: Settings, *, url: str | None = None) -> None:
    """Bring the store to the newest schema (idempotent; safe for several processes at once)."""
    url = url or settings.db_url
    ensure_sqlite_dir(url)
    command.upgrade(alembic_config(url), "head")


async def upgrade_async(settings: Settings, *, url: str | None = None) -> None:
    await asyncio.to_thread(upgrade, settings, url=url)
