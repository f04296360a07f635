"""The tag filter of GET /feeds on SQLite: feed_tags (migration 0014) agrees with the feeds' own tags.

Why: on SQLite ``?tag=`` reads feed_tags, rows that triggers on ``feeds`` keep in step with ``feeds.tags``
(a tag page used to parse every feed's JSON). ``feeds.tags`` stays the truth, so every way a feed's tags
change must show in the filter at once: a feed added with tags, tags changed or removed, an OPML import,
a feed deleted, an ORM flush or a plain UPDATE outside the repository; and a store migrated from 0013
gets its existing tags backfilled. Also: the tag, deep id, name-sorted and search pages read the indexes of
migrations 0014-0015 (plans).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ingest.opml import OutlineFeed
from services.db import feeds as repo
from services.db import migrate
from services.db.engine import make_engine, make_sessions
from services.db.models import Feed, FeedTag
from services.settings import Settings

T0 = datetime(2026, 12, 7, tzinfo=UTC)


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'tags.db'}"
    await migrate.upgrade_async(Settings(database_url=url), url=url)
    engine = make_engine(Settings(database_url=url), url=url)
    yield make_sessions(engine)
    await engine.dispose()


async def _check(s: AsyncSession, tags: tuple[str, ...] = ("ua", "ru", "wire", "gone", "5")) -> None:
    """Every tag's filter (whole list and pages) equals filtering the feeds' JSON in Python, and feed_tags
    holds exactly the feeds' tags."""
    s.expire_all()
    feeds = list((await s.execute(select(Feed).order_by(Feed.id))).scalars())
    rows = set((await s.execute(select(FeedTag.tag, FeedTag.feed_id))).tuples())
    assert rows == {(t, f.id) for f in feeds for t in set(f.tags) if t is not None}
    for tag in tags:
        want = [f.id for f in feeds if tag in f.tags]
        assert [f.id for f in await repo.list_feeds(s, tag=tag)] == want, tag
        assert [f.id for f in await repo.list_feeds(s, tag=tag, limit=2, offset=1)] == want[1:3], tag
        assert [f.id for f in await repo.list_feeds(s, tag=tag, limit=500)] == want, tag
        on = [f.id for f in feeds if tag in f.tags and f.enabled]
        assert [f.id for f in await repo.list_feeds(s, tag=tag, enabled=True, limit=500)] == on, tag
        failing = [f.id for f in feeds if tag in f.tags and f.consecutive_failures]
        assert [f.id for f in await repo.list_feeds(s, tag=tag, failing=True, limit=500)] == failing, tag
        found = (await s.execute(select(Feed.id).where(repo._has_tag(s, tag)).order_by(Feed.id))).scalars()
        assert list(found) == want, tag


async def test_tags_added_changed_removed_and_deleted(sessions: Any) -> None:
    async with sessions() as s:
        a = await repo.add_feed(s, url="https://a.example/feed", tags=["ua", "wire"], now=T0)
        b = await repo.add_feed(s, url="https://b.example/feed", tags=["ru"], now=T0)
        c = await repo.add_feed(s, url="https://c.example/feed", tags=["ua", "ua"], enabled=False, now=T0)
        d = await repo.add_feed(s, url="https://d.example/feed", now=T0)
        await _check(s)
        await repo.update_feed(s, feed_id=a.id, tags=["ru", "gone"])  # changed
        await _check(s)
        await repo.update_feed(s, feed_id=b.id, tags=[])  # removed
        await repo.update_feed(s, feed_id=d.id, tags=["wire"])  # added to a feed that had none
        await _check(s)
        await repo.update_feed(s, feed_id=d.id, title="renamed", enabled=False)  # no tag change
        await _check(s)
        assert await repo.delete_feed(s, feed_id=c.id)
        assert await repo.delete_feed(s, feed_id=a.id)
        await _check(s)
        assert [f.id for f in await repo.list_feeds(s, tag="ua")] == []


async def test_opml_import_and_writes_outside_the_repository(sessions: Any) -> None:
    async with sessions() as s:
        outlines = [OutlineFeed(url=f"https://farm-{i}.example/feed", title=f"Farm {i}",
                                tags=[["ua", "wire"], ["ru"], []][i % 3]) for i in range(30)]
        assert await repo.import_opml(s, feeds=outlines, now=T0) == (30, 0)
        again = [OutlineFeed(url="https://farm-1.example/feed", tags=["gone"]),  # already there: kept as is
                 OutlineFeed(url="https://new.example/feed", tags=["gone", "ua"])]
        assert await repo.import_opml(s, feeds=again, now=T0) == (1, 1)
        await _check(s)
        s.add(Feed(url="https://orm.example/feed", tags=["wire", "5"], items_total=0))  # an ORM flush
        await s.commit()
        await s.execute(update(Feed).where(Feed.id % 4 == 0).values(tags=["gone"]))  # a plain UPDATE
        await s.execute(update(Feed).where(Feed.id % 5 == 0).values(consecutive_failures=2))
        await s.commit()
        await _check(s)
        await s.execute(text("UPDATE feeds SET tags = '[5, null, \"ru\"]' WHERE id = 2"))  # not strings
        await s.commit()
        await _check(s)  # the number 5 is not the tag "5" (as json_each compared before)
        assert 2 not in [f.id for f in await repo.list_feeds(s, tag="5")]


async def test_feed_pages_read_their_indexes(sessions: Any) -> None:
    async with sessions() as s:
        await repo.import_opml(s, feeds=[OutlineFeed(url=f"https://p{i}.example/f", tags=["ua"]) for i in range(5)],
                               now=T0)
        ids = (select(Feed.id).join(FeedTag, FeedTag.feed_id == Feed.id).where(FeedTag.tag == "ua")
               .order_by(FeedTag.feed_id).limit(500))
        sql = str(ids.compile(s.get_bind(), compile_kwargs={"literal_binds": True}))
        plan = " | ".join(str(r[3]) for r in (await s.execute(text("EXPLAIN QUERY PLAN " + sql))).all())
        assert "SEARCH feed_tags USING PRIMARY KEY (tag=?)" in plan and "TEMP B-TREE" not in plan, plan
        deep = str(select(Feed.id).order_by(Feed.id).offset(3).limit(2).compile(
            s.get_bind(), compile_kwargs={"literal_binds": True}))
        plan = " | ".join(str(r[3]) for r in (await s.execute(text("EXPLAIN QUERY PLAN " + deep))).all())
        assert "ix_feeds_id" in plan, plan  # a deep page skips entries of the small id index, not table rows
        for sort, index in (("feed", "ix_feeds_name_order"), ("status", "ix_feeds_status_order")):
            by = str(select(Feed.id).order_by(*repo._order(sort, False)).limit(100).compile(
                s.get_bind(), compile_kwargs={"literal_binds": True}))
            plan = " | ".join(str(r[3]) for r in (await s.execute(text("EXPLAIN QUERY PLAN " + by))).all())
            assert index in plan and "TEMP B-TREE" not in plan, (sort, plan)  # a page walks the sort's index
        found = select(Feed.id).where(repo._contains(s, "p3")).limit(10)
        sql = str(found.compile(s.get_bind(), compile_kwargs={"literal_binds": True}))
        plan = " | ".join(str(r[3]) for r in (await s.execute(text("EXPLAIN QUERY PLAN " + sql))).all())
        assert "COVERING INDEX ix_feeds_url_title" in plan, plan  # the search scans the narrow index


async def test_migrating_from_0013_backfills_existing_tags(tmp_path: Path) -> None:
    from alembic import command

    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    await asyncio.to_thread(command.upgrade, migrate.alembic_config(url), "0013")
    engine = make_engine(Settings(database_url=url), url=url)
    try:
        async with make_sessions(engine)() as s:
            await repo.import_opml(s, feeds=[OutlineFeed(url=f"https://o{i}.example/f", tags=[["ua", "ru"], ["wire"]][i % 2])
                                            for i in range(6)], now=T0)
            await s.execute(text("UPDATE feeds SET tags = 'not json' WHERE id = 6"))  # must not stop the migration
            await s.commit()
        await asyncio.to_thread(command.upgrade, migrate.alembic_config(url), "head")
        async with make_sessions(engine)() as s:
            assert [f.id for f in await repo.list_feeds(s, tag="ua", limit=10)] == [1, 3, 5]
            assert [f.id for f in await repo.list_feeds(s, tag="wire", limit=10)] == [2, 4]
            await repo.add_feed(s, url="https://after.example/f", tags=["wire"], now=T0)  # the triggers run
            assert [f.id for f in await repo.list_feeds(s, tag="wire", limit=10)] == [2, 4, 7]
        await asyncio.to_thread(command.downgrade, migrate.alembic_config(url), "0013")
        async with make_sessions(engine)() as s:
            names = set((await s.execute(text("SELECT name FROM sqlite_master WHERE name LIKE '%tags%' "
                                              "OR name IN ('ix_feeds_id', 'ix_feeds_url_title', 'ix_feeds_name_order')"))).scalars())
            assert names == set(), names
    finally:
        await engine.dispose()
