"""The feed repository on both stores, ``ingest.service.main`` as a whole, and ``wirewatch feeds …``."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ingest.opml import OutlineFeed
from ingest.service import main
from services import bus
from services.db import feeds as repo
from services.db.engine import make_engine, make_sessions
from services.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2025, 3, 18, 12, 0, tzinfo=UTC)


async def test_due_feeds_two_queues_polled_most_overdue_and_first_polls(
        store_url: str, make_settings: Callable[..., Settings]) -> None:
    engine = make_engine(make_settings(database_url=store_url))
    try:
        async with make_sessions(engine)() as s:
            outlines = [OutlineFeed(f"https://d{i}.example.org/rss", f"D{i}", "", []) for i in range(12)]
            await repo.import_opml(s, feeds=outlines, now=NOW)
            # feeds 1-8 were fetched once (here: failed once, which schedules them too); 9-12 never were
            polled = {1: None, 2: -60, 3: -600, 4: +60, 5: None, 6: -600, 7: -5, 8: +3600}  # s from NOW
            for fid, delta in polled.items():
                await repo.record_failure(s, feed_id=fid, now=NOW - timedelta(hours=1), error="x",
                                          error_class="tcp", next_check_at=NOW + timedelta(seconds=delta or 0))
                if delta is None:  # cleared: "as soon as possible"
                    await repo.update_feed(s, feed_id=fid, next_check_at=None)
            for fid, delta in {9: -30, 10: 0, 11: +60, 12: -90}.items():  # an import's rows, due at NOW
                await repo.update_feed(s, feed_id=fid, next_check_at=NOW + timedelta(seconds=delta))
            await repo.update_feed(s, feed_id=7, enabled=False)
            due = await repo.due_feeds(s, now=NOW, limit=100)
            assert [f.id for f in due.polled] == [1, 5, 3, 6, 2]  # cleared to "now" (by id), then most overdue
            assert [f.id for f in due.first] == [12, 9, 10]  # never fetched, by due time; not due yet: out
            due = await repo.due_feeds(s, now=NOW, limit=3)
            assert [f.id for f in due.polled] == [1, 5, 3] and [f.id for f in due.first] == [12, 9, 10]
            due = await repo.due_feeds(s, now=NOW, limit=3, exclude=[5, 3, 9])
            assert [f.id for f in due.polled] == [1, 6, 2] and [f.id for f in due.first] == [12, 10]
            due = await repo.due_feeds(s, now=NOW, limit=9, shard=(2, {0}))
            assert [f.id for f in due.polled] == [6, 2] and [f.id for f in due.first] == [12, 10]
    finally:
        await engine.dispose()


async def test_repository_round_trip(store_url: str, make_settings: Callable[..., Settings]) -> None:
    engine = make_engine(make_settings(database_url=store_url))
    sessions = make_sessions(engine)
    try:
        async with sessions() as s:
            outlines = [OutlineFeed(f"https://f{i}.example.org/rss", f"F{i}", "", ["a"]) for i in range(7)]
            assert await repo.import_opml(s, feeds=outlines, now=NOW) == (7, 0)
            assert await repo.import_opml(s, feeds=outlines[:2], now=NOW) == (0, 2)  # idempotent (ON CONFLICT)
            with pytest.raises(repo.DuplicateFeed):
                await repo.add_feed(s, url=outlines[0].url, now=NOW)
            due = await repo.due_feeds(s, now=NOW, limit=100, shard=(3, {1}), exclude=[4])
            assert [f.id for f in due.first] == [1, 7] and due.polled == []  # id % 3 == 1, minus the excluded 4
            await repo.record_failure(s, feed_id=2, now=NOW, error="boom", error_class="tcp",
                                      next_check_at=NOW + timedelta(hours=1))
            await repo.record_success(s, repo.FeedSuccess(
                feed_id=3, now=NOW, status=200, next_check_at=NOW + timedelta(minutes=5), interval_s=300,
                etag='"e"', new_items=4, url=outlines[0].url))  # URL taken
            assert await repo.count_failing(s) == 1
            f3 = await repo.get_feed(s, feed_id=3)
            assert f3 is not None and f3.items_total == 4 and f3.etag == '"e"' and f3.url == outlines[2].url
            # Many polls in one transaction: each row gets its own values, 304s keep their validators, a
            # failing feed is healthy again, items_total adds up.
            later = NOW + timedelta(minutes=1)
            await repo.record_successes(s, [
                repo.FeedSuccess(feed_id=2, now=later, status=200, next_check_at=later + timedelta(minutes=7),
                                 interval_s=420, etag='"x"', body_hash="b2", new_items=2, title="Two"),
                repo.FeedSuccess(feed_id=3, now=later, status=304, next_check_at=later + timedelta(minutes=9),
                                 interval_s=540, new_items=0),
                repo.FeedSuccess(feed_id=5, now=later, status=200, next_check_at=later + timedelta(minutes=3),
                                 interval_s=180, new_items=3, unconditional=True)])
            assert await repo.count_failing(s) == 0
            f2, f3, f5 = [await repo.get_feed(s, feed_id=i) for i in (2, 3, 5)]
            assert f2 is not None and f2.items_total == 2 and f2.etag == '"x"' and f2.title == "Two"
            assert f2.current_interval_s == 420 and f2.consecutive_failures == 0 and f2.last_error is None
            assert f3 is not None and f3.items_total == 4 and f3.etag == '"e"' and f3.last_status == 304
            assert f3.current_interval_s == 540
            assert f5 is not None and f5.items_total == 3 and f5.last_unconditional_at is not None
            with pytest.raises(ValueError):
                await repo.record_successes(s, [repo.FeedSuccess(feed_id=5, now=later, status=200, url="https://x.example.org/",
                                                                 next_check_at=later, interval_s=60)])
            rows = [("a1", 1, "k1", "h1"), ("a2", 1, "k2", "h2")]
            assert await repo.mark_seen(s, rows=rows, now=NOW) == 2
            await repo.mark_seen(s, rows=[("a1", 1, "k1", "h1b")], now=NOW + timedelta(seconds=1))  # upsert
            seen = await repo.seen_by_ids(s, ids=["a1", "a2", "zz"])
            assert seen["a1"].content_hash == "h1b" and set(seen) == {"a1", "a2"}
            assert set(await repo.seen_by_title_keys(s, keys=["k2", ""], since=NOW - timedelta(hours=1))) == {"k2"}
            await repo.set_websub(s, feed_id=5, hub_url="https://hub.example.org/", state="subscribed",
                                  secret="x", lease_until=NOW + timedelta(hours=2))
            await repo.set_websub(s, feed_id=6, hub_url="https://hub.example.org/", state="subscribed",
                                  secret="x", lease_until=NOW + timedelta(minutes=30))
            assert [f.id for f in await repo.websub_due(s, now=NOW, renew_before_s=3600)] == [6]
            assert await repo.prune_seen(s, older_than=NOW + timedelta(seconds=1)) == 1
            assert await repo.delete_feed(s, feed_id=7) and await repo.count_feeds(s) == 6
    finally:
        await engine.dispose()


@pytest.mark.kafka
async def test_service_main_seeds_once_and_creates_topics(
        kafka_bootstrap: str, make_settings: Callable[..., Settings], unique_topics: dict[str, str],
        tmp_path: Path) -> None:
    opml = tmp_path / "seed.opml"
    opml.write_text('<?xml version="1.0"?><opml version="2.0"><body>'
                    '<outline type="rss" xmlUrl="http://127.0.0.1:1/a.xml" text="A"/>'
                    '<outline type="rss" xmlUrl="http://127.0.0.1:1/b.xml" text="B"/></body></opml>')
    s = make_settings(kafka_bootstrap=kafka_bootstrap, feeds_opml=opml, scheduler_tick_s=0.1, **unique_topics)
    for run in range(2):
        stop = asyncio.Event()
        task = asyncio.create_task(main(s, stop))
        await asyncio.sleep(1.0)
        stop.set()
        await asyncio.wait_for(task, 30)
        engine = make_engine(s)
        async with make_sessions(engine)() as session:
            feeds = await repo.list_feeds(session)
            if run == 0:
                await repo.delete_feed(session, feed_id=feeds[0].id)  # a deleted seed must stay deleted
        await engine.dispose()
        assert len(feeds) == (2 if run == 0 else 1)
    assert set(unique_topics[k] for k in ("topic_raw", "topic_feeds")) <= set(await bus.ensure_topics(s)) | {
        unique_topics["topic_raw"], unique_topics["topic_feeds"]}
    assert await bus.ensure_topics(s) == []  # main created them all already


def wirewatch(*args: str, var: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WIREWATCH_VAR_DIR": str(var), "WIREWATCH_DATABASE_URL": "",
           "WIREWATCH_FEED_ALLOWED_HOSTS": "", "WIREWATCH_LOG_JSON": "false"}
    return subprocess.run([sys.executable, "-m", "services.cli", "feeds", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=60, input=stdin)


def test_feeds_cli(tmp_path: Path) -> None:
    var = tmp_path / "var"
    opml = tmp_path / "in.opml"
    opml.write_text('<?xml version="1.0"?><opml version="2.0"><body><outline text="News">'
                    '<outline type="rss" xmlUrl="https://a.example.org/rss" text="A"/>'
                    '<outline type="rss" xmlUrl="https://b.example.org/atom" text="B"/></outline></body></opml>')
    add = wirewatch("add", "https://c.example.org/feed", "--tag", "x", "--offline", var=var)
    assert add.returncode == 0 and "added feed 1" in add.stdout, add.stderr
    assert wirewatch("add", "https://c.example.org/feed", "--offline", var=var).returncode == 1
    assert wirewatch("add", "http://127.0.0.1/feed", var=var).returncode == 2  # SSRF guard
    imp = wirewatch("import", str(opml), var=var)
    assert imp.returncode == 0 and "imported 2 new feeds (0 already present)" in imp.stdout
    assert "imported 0 new feeds (2 already present)" in wirewatch("import", str(opml), var=var).stdout
    listed = json.loads(wirewatch("list", "--json", var=var).stdout)
    assert [f["url"] for f in listed] == ["https://c.example.org/feed", "https://a.example.org/rss",
                                          "https://b.example.org/atom"]
    assert listed[0]["tags"] == ["x"] and listed[1]["tags"] == ["News"]
    out = tmp_path / "out.opml"
    assert wirewatch("export", str(out), var=var).returncode == 0
    assert out.read_text().count('type="rss"') == 3
    assert "https://b.example.org/atom" in wirewatch("export", var=var).stdout


def test_feeds_cli_discovers_refuses_and_manages_like_the_api(tmp_path: Path) -> None:
    """`feeds add` on a web page adds the feed it advertises; a 404 and a page without a feed are refused
    with the API's messages; remove/disable/enable change the stored feed; the table has headers and shows
    titles with their HTML entities decoded."""
    from tests.feedserver import FeedServer, rss

    var = tmp_path / "var"
    env_extra = {"WIREWATCH_FEED_ALLOWED_HOSTS": "127.0.0.1"}

    def ww(*args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "WIREWATCH_VAR_DIR": str(var), "WIREWATCH_DATABASE_URL": "", **env_extra}
        return subprocess.run([sys.executable, "-m", "services.cli", "feeds", *args], env=env, cwd=ROOT,
                              capture_output=True, text=True, timeout=60)

    with FeedServer() as srv:
        srv.routes["/feed.xml"] = (200, "application/rss+xml", rss("Blog &#8211; Ceasefire desk", []))
        srv.routes["/page"] = (200, "text/html", f'<html><head><link rel="alternate" type="application/rss+xml" '
                                                 f'href="{srv.url("/feed.xml")}"></head><body>hi</body></html>'.encode())
        srv.routes["/plain"] = (200, "text/html", b"<html><body>no feed here</body></html>")
        added = ww("add", srv.url("/page"))
        assert added.returncode == 0 and srv.url("/feed.xml") in added.stdout, added.stderr
        missing = ww("add", srv.url("/gone"))
        assert missing.returncode == 2 and "not a usable feed" in missing.stderr and "404" in missing.stderr
        plain = ww("add", srv.url("/plain"))
        assert plain.returncode == 2 and "not a usable feed" in plain.stderr
    table = ww("list").stdout.splitlines()
    assert table[0].split()[:3] == ["ID", "STATUS", "ITEMS"] and "Blog – Ceasefire desk" in table[1]
    assert ww("disable", "1").returncode == 0 and "disabled" in ww("list").stdout
    assert ww("enable", "1").returncode == 0 and "ok" in ww("list").stdout.splitlines()[1]
    assert ww("remove", "1").returncode == 0 and len(ww("list").stdout.splitlines()) == 1
    assert ww("remove", "1").returncode == 1
