"""The async engine and sessions, built per process from Settings (never at import time)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from services.settings import Settings

Sessions = async_sessionmaker[AsyncSession]


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names (query string dropped), or None for another store or an in-memory one."""
    if not url.startswith("sqlite"):
        return None
    path = url.split(":///", 1)[-1].split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None


def ensure_sqlite_dir(url: str) -> None:
    """SQLite creates the file but not its folder: make var/ on first use."""
    if (path := sqlite_file(url)) is not None:
        path.parent.mkdir(parents=True, exist_ok=True)


def make_engine(settings: Settings, *, url: str | None = None) -> AsyncEngine:
    """An engine for the configured store; SQLite gets WAL and a busy timeout so processes share it."""
    url = url or settings.db_url
    if url.startswith("sqlite"):
        ensure_sqlite_dir(url)
        engine = create_async_engine(url, connect_args={"timeout": settings.database_busy_timeout_s})

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute(f"PRAGMA page_size={int(settings.database_sqlite_page_size)}")  # a new file only
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute(f"PRAGMA busy_timeout={int(settings.database_busy_timeout_s * 1000)}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA page_size")
            page = cur.fetchone()[0]
            cur.execute(f"PRAGMA wal_autocheckpoint={settings.database_sqlite_wal_autocheckpoint_kib * 1024 // page}")
            cur.close()

        return engine
    return create_async_engine(url, pool_size=settings.database_pool_size, pool_pre_ping=True)


def make_sessions(engine: AsyncEngine) -> Sessions:
    return async_sessionmaker(engine, expire_on_commit=False)
