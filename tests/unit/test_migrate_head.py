"""The schema HEAD constant and the skip-Alembic-when-current start-up path.

Why: services skip Alembic when the store is at ``migrate.HEAD``; a new migration that forgot to move
HEAD would leave every service running on an old schema without noticing.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from services.db import migrate
from services.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_head_is_alembics_head() -> None:
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(migrate.alembic_config("sqlite://")).get_heads()
    assert heads == [migrate.HEAD], f"move services.db.migrate.HEAD to the new head {heads}"


async def test_upgrade_async_migrates_then_skips(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'w.db'}"
    settings = Settings(database_url=url)
    assert await migrate.current_revision(settings) is None
    await migrate.upgrade_async(settings)
    assert await migrate.current_revision(settings) == migrate.HEAD


def test_a_current_store_starts_without_importing_alembic(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'w.db'}"
    code = ("import asyncio, sys; from services.db import migrate; from services.settings import Settings; "
            f"asyncio.run(migrate.upgrade_async(Settings(database_url={url!r}))); "
            "print('alembic' in sys.modules)")
    run = [sys.executable, "-c", code]
    first = subprocess.run(run, capture_output=True, text=True, check=True, cwd=ROOT)
    again = subprocess.run(run, capture_output=True, text=True, check=True, cwd=ROOT)
    assert first.stdout.strip() == "True" and again.stdout.strip() == "False", (first.stdout, again.stdout)
