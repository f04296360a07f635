"""The feed table the dashboard and GET /feeds page through, on real SQLite and PostgreSQL.

Spec: status, search, sort and paging happen in the store (with 10,000 feeds the dashboard used to load
every feed as an object per request: +9 MB of API RSS per view), and give what sorting every feed in
Python gives: the worst feeds first by default, missing values sorting as documented, ties by id.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.db import feeds as repo
from services.db.engine import make_engine, make_sessions
from services.db.feeds import feed_status
from services.db.models import Feed
from services.settings import Settings

T0 = datetime(2026, 11, 1, tzinfo=UTC)
RANK = {"failing": 0, "pending": 1, "ok": 2, "disabled": 3}


status = feed_status  # the badge the page shows for a feed: the SQL status must agree with it


def reference(feeds: list[Feed], *, st: str | None, q: str, sort: str, descending: bool) -> list[int]:
    """The table sorted in Python, as the dashboard did before it paged in SQL."""
    needle = q.lower()
    rows = sorted((f for f in feeds if (st is None or status(f) == st)
                   and (not needle or needle in f.url.lower() or needle in (f.title or "").lower())),
                  key=lambda f: f.id)
    keys: dict[str, Any] = {
        "feed": lambda f: (f.title or f.url).lower(),
        "last_success": lambda f: f.last_success_at or datetime.min.replace(tzinfo=UTC),
        "failures": lambda f: f.consecutive_failures or 0,
        "interval": lambda f: f.current_interval_s or 0.0,
        "next_check": lambda f: f.next_check_at or datetime.max.replace(tzinfo=UTC),
        "items": lambda f: f.items_per_day or 0.0,
    }
    if sort == "status":
        rows.sort(key=lambda f: (RANK[status(f)], -(f.consecutive_failures or 0), f.url), reverse=not descending)
    else:
        rows.sort(key=keys[sort], reverse=descending)
    return [f.id for f in rows]


@pytest.fixture
async def sessions(store_url):
    engine = make_engine(Settings(), url=store_url)
    yield make_sessions(engine)
    await engine.dispose()


async def _seed(sessions: Any, n: int = 120) -> list[Feed]:
    rng = random.Random(5)
    feeds = []
    for i in range(n):
        feeds.append(Feed(
            url=f"https://{rng.choice(['wire', 'news', 'Agency'])}{i:03d}.example/{'rss' if i % 3 else 'atom'}",
            title=rng.choice(["", f"Wire {i % 17}", f"ÉCHO {i % 5}", f"100%_sure {i % 4}"]),
            enabled=rng.random() > 0.15, consecutive_failures=rng.choice([0, 0, 0, 1, 3]),
            last_success_at=rng.choice([None, T0 + timedelta(minutes=rng.randrange(10**4))]),
            current_interval_s=rng.choice([None, 60.0, 300.0, 900.0]),
            next_check_at=rng.choice([None, T0 + timedelta(minutes=rng.randrange(10**4))]),
            items_per_day=rng.choice([None, 0.5, 3.0, 12.0]),
            tags=rng.sample(["ua", "ru", "mideast", "wire"], rng.randrange(3)),
            items_total=0))
    async with sessions() as s, s.begin():
        s.add_all(feeds)
    return feeds


@pytest.mark.parametrize("sort", repo.FEED_SORTS)
@pytest.mark.parametrize("descending", [True, False])
@pytest.mark.parametrize("in_memory", [repo.SEARCH_SORT_IN_MEMORY, 3])  # few search matches sorted as ids, or many
async def test_feed_table_pages_match_sorting_everything(sessions, sort: str, descending: bool, in_memory: int,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(repo, "SEARCH_SORT_IN_MEMORY", in_memory)
    feeds = await _seed(sessions)
    for st, q in [(None, ""), ("failing", ""), ("ok", ""), ("pending", ""), ("disabled", ""), (None, "wire0"),
                  (None, "100%_"), (None, "ATOM"), ("ok", "news")]:
        want = reference(feeds, st=st, q=q, sort=sort, descending=descending)
        got: list[int] = []
        async with sessions() as s:
            for page in range(0, len(feeds) + 1, 25):
                rows, matching = await repo.feed_table(s, status=st, q=q, sort=sort, descending=descending,
                                                       limit=25, offset=page)
                assert matching == len(want), (st, q)
                got += [f.id for f in rows]
        assert got == want, (st, q, sort, descending)


async def test_status_counts_and_tag_filter_in_sql(sessions) -> None:
    feeds = await _seed(sessions)
    async with sessions() as s:
        counts = await repo.status_counts(s)
        assert counts == {k: sum(status(f) == k for f in feeds) for k in RANK}
        assert list(counts) == ["failing", "pending", "ok", "disabled"]
        for tag in ("ua", "wire", "nope", 'x"; DROP TABLE feeds; --'):
            want = [f.id for f in sorted(feeds, key=lambda f: f.id) if tag in f.tags]
            assert [f.id for f in await repo.list_feeds(s, tag=tag)] == want
            assert [f.id for f in await repo.list_feeds(s, tag=tag, limit=3, offset=2)] == want[2:5]
        enabled_failing = [f.id for f in sorted(feeds, key=lambda f: f.id) if f.enabled and f.consecutive_failures]
        assert [f.id for f in await repo.list_feeds(s, enabled=True, failing=True, limit=1000)] == enabled_failing


async def test_status_counts_are_reused_until_this_process_changes_a_feed(sessions) -> None:
    """The dashboard reuses its counts for a few seconds (a scan of every feed), but never across its own
    changes: a feed added or failing through this repository shows at once; another process's write shows
    once the counts are older than asked."""
    from sqlalchemy import update

    feeds = await _seed(sessions)
    ok = next(f for f in feeds if status(f) == "ok")
    async with sessions() as s:
        first = await repo.status_counts(s, max_age_s=60)
        await s.execute(update(Feed).where(Feed.id == ok.id).values(enabled=False))  # as another process would
        await s.commit()
        assert await repo.status_counts(s, max_age_s=60) == first  # reused
        fresh = await repo.status_counts(s)  # max_age_s=0: counted now
        assert fresh["disabled"] == first["disabled"] + 1 and fresh["ok"] == first["ok"] - 1
        await repo.add_feed(s, url="https://counts.example.org/feed.xml", now=T0)
        again = await repo.status_counts(s, max_age_s=60)
        assert again["pending"] == fresh["pending"] + 1  # this process's own write dropped the reuse
        target = next(f for f in feeds if status(f) == "ok" and f.id != ok.id)
        await repo.record_failure(s, feed_id=target.id, now=T0, error="boom", error_class="http", next_check_at=T0)
        assert (await repo.status_counts(s, max_age_s=60))["failing"] == again["failing"] + 1


async def test_a_search_reads_the_trigram_indexes_on_postgresql(sessions) -> None:
    """Migration 0011: on PostgreSQL "URL or title contains q" is answered from pg_trgm's GIN indexes (a
    whole-table scan took 221 ms at 100,000 feeds); on SQLite the scan stays (within the page goal)."""
    from sqlalchemy import select, text

    await _seed(sessions)
    async with sessions() as s:
        if s.get_bind().dialect.name != "postgresql":
            pytest.skip("trigram indexes are a PostgreSQL feature; SQLite scans")
        indexes = set((await s.execute(text("SELECT indexname FROM pg_indexes WHERE tablename = 'feeds'"))).scalars())
        assert {"ix_feeds_url_trgm", "ix_feeds_title_trgm"} <= indexes
        await s.execute(text("SET LOCAL enable_seqscan = off"))  # 120 rows: the planner would scan them anyway
        stmt = select(Feed.id).where(repo._contains(s, "wire0"))
        plan = "\n".join((await s.execute(text("EXPLAIN " + str(stmt.compile(
            s.get_bind(), compile_kwargs={"literal_binds": True}))))).scalars())
        assert "ix_feeds_url_trgm" in plan and "ix_feeds_title_trgm" in plan, plan


async def test_failing_and_tag_pages_read_their_indexes(sessions) -> None:
    """Migration 0012: ``GET /feeds?failing=true`` walks the partial index of failing feeds (both stores),
    ``?tag=`` the GIN index of the tags (PostgreSQL), instead of testing every row in id order."""
    from sqlalchemy import select, text

    await _seed(sessions)
    async with sessions() as s:
        postgres = s.get_bind().dialect.name == "postgresql"
        failing = select(Feed.id).where(Feed.consecutive_failures > repo.literal_column("0")).order_by(Feed.id)
        tagged = select(Feed.id).where(repo._has_tag(s, "ua")).order_by(Feed.id)

        async def plan(stmt: Any) -> str:
            sql = str(stmt.compile(s.get_bind(), compile_kwargs={"literal_binds": True}))
            if postgres:
                await s.execute(text("SET LOCAL enable_seqscan = off"))
                return "\n".join((await s.execute(text("EXPLAIN " + sql))).scalars())
            return "\n".join(str(r) for r in (await s.execute(text("EXPLAIN QUERY PLAN " + sql))).all())

        assert "ix_feeds_failing" in await plan(failing)
        if postgres:
            assert "ix_feeds_tags" in await plan(tagged)


async def test_the_api_page_of_plain_values_is_the_page_of_feeds(sessions) -> None:
    """GET /feeds renders list_feed_values (plain column values, no ORM objects): the same feeds, in the
    same order, with the same JSON as FeedOut made from the ORM rows, for every filter and page."""
    from api.http.routes_feeds import FEED_COLUMNS, FEED_LIST

    await _seed(sessions)
    filters: list[dict[str, Any]] = [{}, {"tag": "ua"}, {"enabled": False}, {"failing": True},
                                     {"enabled": True, "failing": False, "tag": "wire"}, {"tag": "nope"}]
    async with sessions() as s:
        for kw in filters:
            for limit, offset in ((500, 0), (7, 3), (5, 10_000)):
                feeds = await repo.list_feeds(s, limit=limit, offset=offset, **kw)
                values = await repo.list_feed_values(s, columns=FEED_COLUMNS, limit=limit, offset=offset, **kw)
                assert [v["id"] for v in values] == [f.id for f in feeds]
                assert FEED_LIST.dump_json(FEED_LIST.validate_python(values)) == FEED_LIST.dump_json(
                    FEED_LIST.validate_python(feeds, from_attributes=True))
        assert len(await repo.list_feed_values(s, columns=FEED_COLUMNS, limit=500)) == 120
