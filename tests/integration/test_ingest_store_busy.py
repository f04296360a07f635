"""A busy store does not lose a poll: a feed-state write that meets a locked SQLite database is tried
again (and lands), and a store that stays locked ends the poll with a "store" report, never an unread
task exception; the next poll records the feed and nothing is published twice."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ingest import service
from ingest.service import running_ingester
from services import bus
from services.db import feeds as repo
from services.settings import Settings
from tests.farm import Farm
from tests.integration.test_ingest_service import add_farm_feeds, read_all, store

pytestmark = pytest.mark.kafka


def lock_database(path: Path, release_after_s: float | None) -> sqlite3.Connection:
    """Hold SQLite's write lock from another connection, as a long writer would (released after a while)."""
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("BEGIN EXCLUSIVE")
    if release_after_s is not None:
        asyncio.get_running_loop().call_later(release_after_s, con.execute, "ROLLBACK")
    return con


def busy_settings(make_settings: Callable[..., Settings], db: Path, kafka_bootstrap: str,
                  topics: dict[str, str], **kw: Any) -> Settings:
    return make_settings(kafka_bootstrap=kafka_bootstrap, fetch_per_host_min_spacing_s=0,
                         database_url=f"sqlite+aiosqlite:///{db}", database_busy_timeout_s=0.2, **topics, **kw)


async def test_a_locked_database_is_waited_out(kafka_bootstrap: str, make_settings: Callable[..., Settings],
                                               unique_topics: dict[str, str], tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
                                               ) -> None:
    db = tmp_path / "busy.db"
    s = busy_settings(make_settings, db, kafka_bootstrap, unique_topics, database_write_attempts=10)
    await bus.ensure_topics(s)
    real = repo.record_successes
    locks: list[sqlite3.Connection] = []

    async def locked_then_record(session: Any, rows: Any) -> None:
        if not locks:  # another writer takes the lock just before the feed's state is written
            locks.append(lock_database(db, release_after_s=0.6))
        await real(session, rows)

    monkeypatch.setattr(service.repo, "record_successes", locked_then_record)
    caplog.set_level(logging.WARNING, logger="services.db.retrying")
    async with Farm(feeds=1) as farm, store(s) as sessions, running_ingester(s, sessions,
                                                                             use_assignment=False) as ing:
        await add_farm_feeds(sessions, farm, 1)
        report = await ing.poll_once(1)
        assert report.error_class is None and report.new == 10
        assert any("the store was busy" in r.getMessage() for r in caplog.records), "the write was not retried"
        async with sessions() as session:
            feed = await repo.get_feed(session, feed_id=1)
        assert feed is not None and feed.last_success_at is not None and feed.items_total == 10
    locks[0].close()


async def test_a_store_that_stays_locked_ends_the_poll_with_a_report(
        kafka_bootstrap: str, make_settings: Callable[..., Settings], unique_topics: dict[str, str],
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "busy.db"
    s = busy_settings(make_settings, db, kafka_bootstrap, unique_topics, database_write_attempts=2,
                      poll_store_error_pause_s=0.0)
    await bus.ensure_topics(s)
    real = repo.record_successes
    locks: list[sqlite3.Connection] = []

    async def locked_then_record(session: Any, rows: Any) -> None:
        if not locks:
            locks.append(lock_database(db, release_after_s=None))
        await real(session, rows)

    monkeypatch.setattr(service.repo, "record_successes", locked_then_record)
    async with Farm(feeds=1) as farm, store(s) as sessions, running_ingester(s, sessions,
                                                                             use_assignment=False) as ing:
        await add_farm_feeds(sessions, farm, 1)
        report = await ing.poll_once(1)
        assert report.error_class == "store" and "locked" in (report.error or "")
        async with sessions() as session:
            feed = await repo.get_feed(session, feed_id=1)
        assert feed is not None and feed.last_success_at is None  # nothing claimed the poll succeeded
        locks[0].execute("ROLLBACK")
        again = await ing.poll_once(1)
        assert again.error_class is None
        async with sessions() as session:
            feed = await repo.get_feed(session, feed_id=1)
        assert feed is not None and feed.last_success_at is not None
        published = await read_all(s, 10)
        assert len(published) == 10 and len({a.id for a in published}) == 10
    locks[0].close()
