"""Every SQLite connection the engine opens gets the store's pragmas (services/db/engine.py).

Spec: WAL, synchronous NORMAL, foreign keys, the WAL auto-checkpoint at
``database_sqlite_wal_autocheckpoint_kib`` (40 MB by default) in pages of the store's size, and a new store's
page size from ``database_sqlite_page_size`` (16 KiB by default); a store created before keeps its own.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import text

from services.db.engine import make_engine
from services.settings import Settings


async def _pragmas(settings: Settings, url: str) -> dict[str, object]:
    engine = make_engine(settings, url=url)
    try:
        async with engine.connect() as conn:
            return {name: (await conn.execute(text(f"PRAGMA {name}"))).scalar_one()
                    for name in ("journal_mode", "synchronous", "foreign_keys", "wal_autocheckpoint", "page_size")}
    finally:
        await engine.dispose()


async def test_each_connection_gets_the_pragmas(tmp_path: Path) -> None:
    got = await _pragmas(Settings(), f"sqlite+aiosqlite:///{tmp_path}/p.db")
    assert got == {"journal_mode": "wal", "synchronous": 1, "foreign_keys": 1, "wal_autocheckpoint": 2_560,
                   "page_size": 16_384}


async def test_an_existing_store_keeps_its_page_size(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/old.db"
    small = Settings(database_sqlite_page_size=4_096, database_sqlite_wal_autocheckpoint_kib=8_192)
    assert (await _pragmas(small, url))["page_size"] == 4_096
    got = await _pragmas(Settings(), url)
    assert (got["page_size"], got["wal_autocheckpoint"]) == (4_096, 10_240)


def test_a_store_alembic_creates_gets_the_page_size(tmp_path: Path) -> None:
    import sqlite3

    from services.db.migrate import _create_sqlite

    path = tmp_path / "migrated.db"
    _create_sqlite(f"sqlite+aiosqlite:///{path}", Settings())
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA page_size").fetchone()[0] == 16_384
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()


@pytest.mark.parametrize("size", [0, 1_000, 4_095, 131_072])
def test_a_page_size_sqlite_would_ignore_is_refused(size: int) -> None:
    with pytest.raises(ValidationError, match="power of two"):
        Settings(database_sqlite_page_size=size)
