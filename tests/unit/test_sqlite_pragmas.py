"""Every SQLite connection the engine opens gets the store's pragmas (services/db/engine.py).

Spec: WAL, synchronous NORMAL, foreign keys, and the WAL auto-checkpoint size of
``database_sqlite_wal_autocheckpoint_pages`` (10,000 by default, SQLite's own 1,000 otherwise).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from services.db.engine import make_engine
from services.settings import Settings


@pytest.mark.parametrize("pages", [None, 2_500])
async def test_each_connection_gets_the_pragmas(tmp_path: Path, pages: int | None) -> None:
    settings = Settings() if pages is None else Settings(database_sqlite_wal_autocheckpoint_pages=pages)
    engine = make_engine(settings, url=f"sqlite+aiosqlite:///{tmp_path}/p.db")
    try:
        async with engine.connect() as conn:
            got = {name: (await conn.execute(text(f"PRAGMA {name}"))).scalar_one()
                   for name in ("journal_mode", "synchronous", "foreign_keys", "wal_autocheckpoint")}
    finally:
        await engine.dispose()
    assert got == {"journal_mode": "wal", "synchronous": 1, "foreign_keys": 1,
                   "wal_autocheckpoint": pages if pages is not None else 10_000}
