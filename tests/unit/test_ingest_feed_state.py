"""The feed-state writer: polls that finish together share one transaction, each waits for its own row,
a refused batch fails every poll in it (none is marked polled), and a feed move is stored on its own."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ingest.feed_state import FeedStateWriter
from ingest.opml import OutlineFeed
from services.db import feeds as repo
from services.db.engine import Sessions, make_engine, make_sessions
from services.db.migrate import upgrade_async
from services.settings import Settings

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[Sessions]:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'store.db'}", database_busy_timeout_s=0.1)
    await upgrade_async(settings)
    engine = make_engine(settings)
    made = make_sessions(engine)
    async with made() as s:
        feeds = [OutlineFeed(f"https://f{i}.example.org/rss", f"F{i}", "", []) for i in range(40)]
        await repo.import_opml(s, feeds=feeds, now=NOW)
    yield made
    await engine.dispose()


def success(feed_id: int, **kw: Any) -> repo.FeedSuccess:
    return repo.FeedSuccess(feed_id=feed_id, now=NOW, status=kw.pop("status", 304),
                            next_check_at=NOW + timedelta(seconds=60 + feed_id), interval_s=60 + feed_id, **kw)


def counting(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    sizes: list[int] = []
    real = repo.record_successes

    async def record(session: Any, rows: Any) -> None:
        sizes.append(len(rows))
        await real(session, rows)

    monkeypatch.setattr(repo, "record_successes", record)
    return sizes


async def test_concurrent_polls_share_a_transaction_and_each_waits_for_its_row(
        sessions: Sessions, monkeypatch: pytest.MonkeyPatch) -> None:
    sizes = counting(monkeypatch)
    writer = FeedStateWriter(sessions, linger_s=0.05, max_rows=16, attempts=2)
    rows = [success(i, status=200 if i % 3 else 304, new_items=i % 4, etag=f'"{i}"') for i in range(1, 41)]
    await asyncio.gather(*(writer.record(r) for r in rows))
    assert sum(sizes) == 40 and max(sizes) <= 16 and len(sizes) <= 4  # 40 polls in 3 transactions, not 40
    async with sessions() as s:
        for r in rows:
            feed = await repo.get_feed(s, feed_id=r.feed_id)
            assert feed is not None and feed.current_interval_s == r.interval_s
            assert feed.items_total == r.new_items and feed.last_status == r.status
            assert feed.etag == (r.etag if r.status == 200 else None)


async def test_a_refused_batch_fails_every_poll_in_it(sessions: Sessions, tmp_path: Path) -> None:
    writer = FeedStateWriter(sessions, linger_s=0.01, max_rows=100, attempts=2)
    lock = sqlite3.connect(tmp_path / "store.db", isolation_level=None)
    lock.execute("BEGIN EXCLUSIVE")
    try:
        results = await asyncio.gather(*(writer.record(success(i)) for i in (1, 2, 3)), return_exceptions=True)
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    assert all(isinstance(r, Exception) and "locked" in str(r) for r in results)
    async with sessions() as s:
        for i in (1, 2, 3):
            feed = await repo.get_feed(s, feed_id=i)
            assert feed is not None and feed.last_success_at is None  # nothing claims they were polled
    await writer.record(success(2))  # the store is free again: the next poll lands
    async with sessions() as s:
        feed = await repo.get_feed(s, feed_id=2)
        assert feed is not None and feed.last_success_at is not None


async def test_a_feed_move_is_stored_alone_and_keeps_its_url_when_taken(
        sessions: Sessions, monkeypatch: pytest.MonkeyPatch) -> None:
    sizes = counting(monkeypatch)
    writer = FeedStateWriter(sessions, linger_s=0.01, max_rows=100, attempts=2)
    taken = "https://f0.example.org/rss"  # feed 1's URL
    await asyncio.gather(writer.record(success(5, status=200, url=taken, new_items=2)), writer.record(success(6)))
    assert sizes == [1]  # feed 6 was batched; feed 5's move went on its own
    async with sessions() as s:
        moved = await repo.get_feed(s, feed_id=5)
        assert moved is not None and moved.url == "https://f4.example.org/rss" and moved.items_total == 2


async def test_close_stores_what_waits(sessions: Sessions) -> None:
    writer = FeedStateWriter(sessions, linger_s=10.0, max_rows=100, attempts=2)
    poll = asyncio.create_task(writer.record(success(7)))
    await asyncio.sleep(0.01)
    await writer.close()  # does not wait out the 10 s linger
    await asyncio.wait_for(poll, 1.0)
    async with sessions() as s:
        feed = await repo.get_feed(s, feed_id=7)
        assert feed is not None and feed.current_interval_s == 67
