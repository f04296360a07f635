"""The feed and seen-article repository: every query ingest and the feeds API run, nowhere else.

Keyword-only async functions over an ``AsyncSession``; writes commit their own
unit of work. Works on SQLite and PostgreSQL (dialect-specific upserts).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Select,
    Table,
    bindparam,
    cast,
    delete,
    func,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.util import identity_key

from services.db.models import Feed, FeedTag, SeenArticle

EDITABLE = frozenset({"title", "site_url", "enabled", "tags", "interval_override_s", "url", "next_check_at",
                      "hub_url", "websub_topic", "websub_secret", "websub_lease_until", "websub_state"})


class DuplicateFeed(Exception):
    """A feed with this URL already exists."""


class OutlineLike(Protocol):
    url: str
    title: str
    site_url: str
    tags: list[str]


def _rows(result: object) -> int:
    """Rows a DML statement touched (CursorResult.rowcount; typed as a plain Result by SQLAlchemy)."""
    return int(result.rowcount or 0) if isinstance(result, CursorResult) else 0


def _insert(session: AsyncSession, table: Any) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


async def add_feed(session: AsyncSession, *, url: str, title: str = "", site_url: str = "",
                   tags: Sequence[str] = (), interval_override_s: float | None = None, enabled: bool = True,
                   now: datetime | None = None) -> Feed:
    """Create a feed due immediately; raises DuplicateFeed when the URL is already known."""
    feed = Feed(url=url, title=title, site_url=site_url, tags=list(tags), interval_override_s=interval_override_s,
                enabled=enabled, next_check_at=now, consecutive_failures=0, items_total=0)
    session.add(feed)
    try:
        await session.commit()
        _feeds_changed(session)
    except IntegrityError as exc:
        await session.rollback()
        raise DuplicateFeed(url) from exc
    return feed


async def get_feed(session: AsyncSession, *, feed_id: int) -> Feed | None:
    """One feed by id."""
    return await session.get(Feed, feed_id, populate_existing=True)


async def get_feed_by_url(session: AsyncSession, *, url: str) -> Feed | None:
    """One feed by its exact URL."""
    return (await session.execute(select(Feed).where(Feed.url == url))).scalar_one_or_none()


async def count_feeds(session: AsyncSession) -> int:
    """How many feeds are stored."""
    return int((await session.execute(select(func.count()).select_from(Feed))).scalar_one())


async def count_failing(session: AsyncSession) -> int:
    """How many enabled feeds failed their last fetch."""
    q = select(func.count()).select_from(Feed).where(Feed.enabled.is_(True), Feed.consecutive_failures > 0)
    return int((await session.execute(q)).scalar_one())


def _has_tag(session: AsyncSession, tag: str) -> ColumnElement[bool]:
    """``tag`` is one of the feed's tags (a JSON array), matched by the store so paging happens there too."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(Feed.tags, JSONB).has_key(tag)  # the ? operator: ix_feeds_tags (migration 0012) answers it
    return Feed.id.in_(select(FeedTag.feed_id).where(FeedTag.tag == tag))  # the triggers' rows (migration 0014)


async def list_feeds(session: AsyncSession, *, enabled: bool | None = None, failing: bool | None = None,
                     tag: str | None = None, limit: int | None = None, offset: int = 0) -> list[Feed]:
    """Feeds by id, optionally only enabled/disabled, failing/healthy, or carrying a tag (paged in SQL)."""
    if limit is None and not offset:  # every feed (the OPML export)
        q = select(Feed).where(*_filters(session, enabled, failing, tag, by_tag=False)).order_by(Feed.id)
        return list((await session.execute(q)).scalars())
    ids = list((await session.execute(_page_ids(session, enabled, failing, tag, limit, offset))).scalars())
    return await _rows_in_order(session, ids)


async def _rows_in_order(session: AsyncSession, ids: list[int]) -> list[Feed]:
    if not ids:
        return []
    rows = {f.id: f for f in (await session.execute(select(Feed).where(Feed.id.in_(ids)))).scalars()}
    return [rows[i] for i in ids if i in rows]


async def list_feed_values(session: AsyncSession, *, columns: Sequence[str], enabled: bool | None = None,
                           failing: bool | None = None, tag: str | None = None, limit: int,
                           offset: int = 0) -> list[dict[str, Any]]:
    """The page :func:`list_feeds` gives, as plain values of ``columns``.

    Why: the API's page of 500 feeds spent about half its CPU building ORM objects (identity map, state
    tracking) only to read their attributes once."""
    ids = list((await session.execute(_page_ids(session, enabled, failing, tag, limit, offset))).scalars())
    if not ids:
        return []
    wanted = [getattr(Feed, name) for name in dict.fromkeys(["id", *columns])]
    rows = {r["id"]: dict(r) for r in (await session.execute(select(*wanted).where(Feed.id.in_(ids)))).mappings()}
    return [rows[i] for i in ids if i in rows]


def _filters(session: AsyncSession, enabled: bool | None, failing: bool | None, tag: str | None, *,
             by_tag: bool) -> list[ColumnElement[bool]]:
    cond: list[ColumnElement[bool]] = []
    if enabled is not None:
        cond.append(Feed.enabled.is_(enabled))
    if failing is not None:
        # a literal 0, so the planner sees the partial index ix_feeds_failing's condition (migration 0012)
        cond.append(Feed.consecutive_failures > literal_column("0") if failing else Feed.consecutive_failures == 0)
    if tag is not None and not by_tag:
        cond.append(_has_tag(session, tag))
    return cond


def _page_ids(session: AsyncSession, enabled: bool | None, failing: bool | None, tag: str | None,
              limit: int | None, offset: int) -> Select[Any]:
    """A page's ids, from an index alone: a deep page skips ids, not rows."""
    by_tag = tag is not None and session.get_bind().dialect.name != "postgresql"
    cond = _filters(session, enabled, failing, tag, by_tag=by_tag)
    if by_tag:  # SQLite: walk the tag's range of feed_tags' key, in feed id order, and stop at the page's end
        return (select(Feed.id).join(FeedTag, FeedTag.feed_id == Feed.id).where(FeedTag.tag == tag, *cond)
                .order_by(FeedTag.feed_id).offset(offset).limit(limit))
    return select(Feed.id).where(*cond).order_by(Feed.id).offset(offset).limit(limit)


# --- the dashboard's feed table: status, search, sort and paging in SQL (10,000 feeds never load at once) ---

FEED_STATUSES = ("failing", "pending", "ok", "disabled")  # worst first


def feed_status(feed: Feed) -> str:
    """A loaded feed's status (the dashboard's badge); ``Feed.status_rank`` is the same rule in SQL, and
    tests/integration/test_feed_table.py checks that the two agree on both stores."""
    if not feed.enabled:
        return "disabled"
    if feed.consecutive_failures:
        return "failing"
    return "ok" if feed.last_success_at else "pending"


def status_rank(status: str) -> int:
    """``Feed.status_rank`` of a status name: its place in FEED_STATUSES, the worst first."""
    return FEED_STATUSES.index(status)


_rank = Feed.status_rank  # computed by the store from the row (migration 0010), indexed in the table's order
_PLAIN_SORTS: dict[str, Any] = {
    # a literal '', so this is the expression ix_feeds_name_order holds (migration 0015)
    "feed": func.lower(func.coalesce(func.nullif(Feed.title, literal_column("''")), Feed.url)),
    "failures": Feed.consecutive_failures,
    "interval": func.coalesce(Feed.current_interval_s, 0.0),
    "items": func.coalesce(Feed.items_per_day, 0.0),
}
FEED_SORTS = ("feed", "status", "last_success", "failures", "interval", "next_check", "items")


def _order(sort: str, descending: bool) -> list[Any]:
    """ORDER BY for a sort key; ties keep feed id order. ``status`` descending is "worst first": failing,
    pending, ok, disabled, the most consecutive failures first, then by URL."""
    if sort == "status":  # the index's order, forwards or backwards (URLs are unique: no id needed)
        return [_rank.asc(), Feed.consecutive_failures.desc(), Feed.url.asc()] if descending else \
            [_rank.desc(), Feed.consecutive_failures.asc(), Feed.url.desc()]
    elif sort == "last_success":  # never succeeded counts as the oldest
        keys = [Feed.last_success_at.desc().nulls_last() if descending else Feed.last_success_at.asc().nulls_first()]
    elif sort == "next_check":  # not scheduled counts as the latest
        keys = [Feed.next_check_at.desc().nulls_first() if descending else Feed.next_check_at.asc().nulls_last()]
    else:
        expr = _PLAIN_SORTS[sort]
        keys = [expr.desc() if descending else expr.asc()]
    return [*keys, Feed.id.asc()]


SEARCH_SORT_IN_MEMORY = 5_000
"""Up to this many search matches are sorted as a set of ids; more (a search for "feed") page through the
sort's order, where matches are dense."""


def _contains(session: AsyncSession, needle: str) -> ColumnElement[bool]:
    """URL or title contains ``needle`` (lower-case), case-insensitively. SQLite's LIKE already ignores ASCII
    case (and its lower() folds nothing more), so it gets no lower() per row (a third of the scan's cost);
    on PostgreSQL this is ILIKE, which folds every script and which the trigram indexes of migration 0011
    answer without a scan."""
    if session.get_bind().dialect.name == "postgresql":
        return or_(Feed.url.icontains(needle, autoescape=True), Feed.title.icontains(needle, autoescape=True))
    return or_(Feed.url.contains(needle, autoescape=True), Feed.title.contains(needle, autoescape=True))


async def feed_table(session: AsyncSession, *, status: str | None = None, q: str = "", sort: str = "status",
                     descending: bool = True, limit: int = 100, offset: int = 0,
                     matching: int | None = None) -> tuple[list[Feed], int]:
    """One page of feeds with a status (None = any), whose URL or title contains ``q`` (case-insensitive),
    sorted by a FEED_SORTS key; and how many feeds match in all (``matching`` when the caller knows it
    already, from :func:`status_counts`)."""
    cond: list[ColumnElement[bool]] = []
    if status:
        cond.append(_rank == status_rank(status))
    needle = q.strip().lower()
    if needle:
        cond.append(_contains(session, needle))
        # a search scans every feed once for its matches; when they are few, the page is sorted from them
        # (walking the sort's index and testing each row would visit every row to find a handful)
        found = list((await session.execute(select(Feed.id).where(*cond).limit(SEARCH_SORT_IN_MEMORY + 1))).scalars())
        if len(found) <= SEARCH_SORT_IN_MEMORY:
            matching, cond = len(found), [Feed.id.in_(found)] if found else [Feed.id.is_(None)]
    if matching is None:
        matching = int((await session.execute(select(func.count()).select_from(Feed).where(*cond))).scalar_one())
    # ids first, then their rows: a deep page skips index entries (the status index holds the row id)
    # instead of whole rows
    ids = list((await session.execute(
        select(Feed.id).where(*cond).order_by(*_order(sort, descending)).offset(offset).limit(limit))).scalars())
    return await _rows_in_order(session, ids), matching


# store URL -> (monotonic time, counts): the dashboard's status counts cost a scan of every feed (~70 ms at
# 100,000 on SQLite), so each page reuses them for a few seconds; this module's own writes drop them at once
_counts_memo: dict[str, tuple[float, dict[str, int]]] = {}


def _store_key(session: AsyncSession) -> str:
    bind = session.get_bind()
    return str(bind.engine.url)  # an Engine's .engine is itself; a Connection's is its engine


def _feeds_changed(session: AsyncSession) -> None:
    _counts_memo.pop(_store_key(session), None)


async def status_counts(session: AsyncSession, *, max_age_s: float = 0.0) -> dict[str, int]:
    """How many feeds are in each status (every status present, 0 when none).

    ``max_age_s`` > 0 accepts counts that old, unless this process changed a feed since: ingest's fetch
    results from other processes show within that delay.
    """
    key = _store_key(session)
    hit = _counts_memo.get(key)
    if max_age_s > 0 and hit is not None and time.monotonic() - hit[0] < max_age_s:
        return dict(hit[1])
    rows = (await session.execute(select(_rank, func.count()).group_by(_rank))).all()
    got = {FEED_STATUSES[int(rank)]: int(n) for rank, n in rows}
    counts = {name: got.get(name, 0) for name in FEED_STATUSES}
    _counts_memo[key] = (time.monotonic(), counts)
    return dict(counts)


async def update_feed(session: AsyncSession, *, feed_id: int, **changes: Any) -> Feed | None:
    """Change editable fields of a feed; None when it does not exist."""
    unknown = set(changes) - EDITABLE
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    feed = await session.get(Feed, feed_id)
    if feed is None:
        return None
    for key, value in changes.items():
        setattr(feed, key, list(value) if key == "tags" else value)
    try:
        await session.commit()
        _feeds_changed(session)
    except IntegrityError as exc:
        await session.rollback()
        raise DuplicateFeed(changes.get("url", "")) from exc
    return feed


async def delete_feed(session: AsyncSession, *, feed_id: int) -> bool:
    """Delete a feed; False when it did not exist."""
    result = await session.execute(delete(Feed).where(Feed.id == feed_id))
    await session.commit()
    _feeds_changed(session)
    return bool(_rows(result))


async def schedule_now(session: AsyncSession, *, feed_id: int, now: datetime) -> bool:
    """Make a feed due now ("fetch now"); False when it does not exist."""
    result = await session.execute(update(Feed).where(Feed.id == feed_id).values(next_check_at=now))
    await session.commit()
    return bool(_rows(result))


IMPORT_CHUNK = 1000  # feeds per INSERT: a 100,000-feed OPML is 100 statements, not 100,000


async def import_opml(session: AsyncSession, *, feeds: Iterable[OutlineLike], now: datetime) -> tuple[int, int]:
    """Insert feeds whose URL is new (idempotent, also against a concurrent import); returns (added,
    already_present). A URL listed twice in the file counts once as added and then as present."""
    rows: dict[str, dict[str, Any]] = {}
    listed = 0
    for f in feeds:
        listed += 1
        rows.setdefault(f.url, {"url": f.url, "title": f.title or "", "site_url": f.site_url or "",
                                "tags": list(f.tags), "enabled": True, "next_check_at": now,
                                "consecutive_failures": 0, "items_total": 0, "created_at": now, "updated_at": now})
    added = 0
    batch = list(rows.values())
    for lo in range(0, len(batch), IMPORT_CHUNK):
        stmt = _insert(session, Feed).on_conflict_do_nothing(index_elements=["url"]).returning(Feed.id)
        result = await session.execute(stmt, batch[lo:lo + IMPORT_CHUNK])
        added += len(result.all())
    await session.commit()
    _feeds_changed(session)
    return added, listed - added


@dataclass
class DueFeeds:
    """Due feeds in the two queues the scheduler serves (ingest.schedule.interleave merges them).

    ``polled``: feeds already on a schedule, most overdue first (a row whose next check was cleared to NULL,
    an explicit "as soon as possible", leads); ``first``: feeds never fetched, by due time then id."""

    polled: list[Feed]
    first: list[Feed]


async def due_feeds(session: AsyncSession, *, now: datetime, limit: int, feed_ids: Iterable[int] | None = None,
                    shard: tuple[int, Iterable[int]] | None = None,
                    exclude: Iterable[int] = ()) -> DueFeeds:
    """Enabled feeds whose next check is due, each queue up to ``limit``; ``shard`` = (modulus, owned
    remainders).

    Why two queues: after an import of 100,000 feeds every row is due at once, and one queue ordered by due
    time puts every first poll ahead of the feeds already polled, which then come due again behind the
    whole import and are late. Each read walks a partial index of its own queue in its order and stops at
    ``limit`` (migration 0013), so neither wades through the other's rows."""
    def due(q: Select[Any]) -> Select[Any]:
        q = q.where(Feed.enabled.is_(True))
        if feed_ids is not None:
            q = q.where(Feed.id.in_(list(feed_ids)))
        if shard is not None:
            q = q.where((Feed.id % shard[0]).in_(owned))
        if excluded:
            q = q.where(Feed.id.not_in(excluded))
        return q

    owned = list(shard[1]) if shard is not None else []
    if shard is not None and not owned:
        return DueFeeds([], [])
    excluded = list(exclude)
    polled = list((await session.execute(due(select(Feed).where(Feed.next_check_at.is_(None)))
                                         .order_by(Feed.id).limit(limit))).scalars())
    if len(polled) < limit:
        polled += (await session.execute(
            due(select(Feed).where(Feed.last_fetch_at.is_not(None), Feed.next_check_at <= now))
            .order_by(Feed.next_check_at, Feed.id).limit(limit - len(polled)))).scalars()
    first = list((await session.execute(
        due(select(Feed).where(Feed.last_fetch_at.is_(None), Feed.next_check_at <= now))
        .order_by(Feed.next_check_at, Feed.id).limit(limit))).scalars())
    return DueFeeds(polled, first)


def _sync(session: AsyncSession, feed_id: int) -> Literal["evaluate", False]:
    """Bring a loaded Feed up to date with an UPDATE only when this session holds one: the ingester's write
    sessions never do, and evaluating the UPDATE in Python cost a tenth of a first poll's CPU."""
    return "evaluate" if session.identity_map.get(identity_key(Feed, feed_id)) is not None else False


@dataclass(frozen=True)
class FeedSuccess:
    """One good fetch to store: the error state cleared, validators kept, the next check scheduled."""

    feed_id: int
    now: datetime
    status: int
    next_check_at: datetime
    interval_s: float
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    unconditional: bool = False
    new_items: int = 0
    url: str | None = None
    title: str | None = None
    site_url: str | None = None
    hub_url: str | None = None
    websub_topic: str | None = None
    items_per_day: float | None = None

    def columns(self) -> dict[str, Any]:
        """The feed columns this fetch sets (``items_total`` is added to, by ``new_items``)."""
        now = self.now
        values: dict[str, Any] = dict(
            last_fetch_at=now, last_success_at=now, last_status=self.status, last_error=None,
            last_error_class=None, consecutive_failures=0, next_check_at=self.next_check_at,
            current_interval_s=self.interval_s, updated_at=now)
        if self.status != 304:
            values.update(etag=self.etag, last_modified=self.last_modified, body_hash=self.body_hash)
        if self.unconditional:
            values["last_unconditional_at"] = now
        for key in ("url", "title", "site_url", "hub_url", "websub_topic"):
            if getattr(self, key):
                values[key] = getattr(self, key)
        if self.items_per_day is not None:
            values["items_per_day"] = self.items_per_day
        return values


async def record_success(session: AsyncSession, done: FeedSuccess) -> None:
    """Store one good fetch in its own transaction; a permanent-redirect target that is already another
    feed keeps our URL (the rest is stored)."""
    values = done.columns()
    values["items_total"] = Feed.items_total + done.new_items
    opts = {"synchronize_session": _sync(session, done.feed_id)}
    try:
        await session.execute(update(Feed).where(Feed.id == done.feed_id).values(**values), execution_options=opts)
        await session.commit()
    except IntegrityError:
        await session.rollback()
        values.pop("url", None)
        await session.execute(update(Feed).where(Feed.id == done.feed_id).values(**values), execution_options=opts)
        await session.commit()
    _feeds_changed(session)


async def record_successes(session: AsyncSession, fetches: Sequence[FeedSuccess]) -> None:
    """Store many good fetches in one transaction: one executemany UPDATE per set of columns set.

    Why: at 100,000 feeds ingest stores over a hundred polls a second, and a session, transaction and
    statement per poll took a quarter of its CPU. A fetch that moves the feed (``url``) may hit another
    feed's URL: give those to :func:`record_success`, which keeps the old URL then; here it would undo
    the whole batch. Plain Core statements: the ORM's bulk UPDATE cannot add to ``items_total``."""
    if any(f.url for f in fetches):
        raise ValueError("a fetch that changes the feed's URL is stored by record_success")
    table = Feed.__table__
    assert isinstance(table, Table)
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for done in fetches:
        values = done.columns()
        row = {f"p_{k}": v for k, v in values.items()}
        row.update(p_id=done.feed_id, p_new_items=done.new_items)
        groups.setdefault(tuple(sorted(values)), []).append(row)
    for columns, rows in groups.items():
        sets: dict[str, Any] = {c: bindparam(f"p_{c}") for c in columns}
        sets["items_total"] = table.c.items_total + bindparam("p_new_items")
        await session.execute(update(table).where(table.c.id == bindparam("p_id")).values(sets), rows)
    await session.commit()
    _feeds_changed(session)


async def record_failure(session: AsyncSession, *, feed_id: int, now: datetime, error: str, error_class: str,
                         next_check_at: datetime, status: int | None = None) -> None:
    """Store a failed fetch on the feed row (errors are data) and schedule the retry."""
    await session.execute(update(Feed).where(Feed.id == feed_id).values(
        last_fetch_at=now, last_status=status, last_error=error[:2000], last_error_class=error_class,
        last_error_at=now, consecutive_failures=Feed.consecutive_failures + 1, next_check_at=next_check_at,
        updated_at=now,
    ), execution_options={"synchronize_session": _sync(session, feed_id)})
    await session.commit()
    _feeds_changed(session)


async def seen_by_ids(session: AsyncSession, *, ids: Iterable[str]) -> dict[str, SeenArticle]:
    """Seen-article rows for these article ids."""
    wanted = list(set(ids))
    out: dict[str, SeenArticle] = {}
    for i in range(0, len(wanted), 500):
        q = select(SeenArticle).where(SeenArticle.id.in_(wanted[i:i + 500]))
        out.update({r.id: r for r in (await session.execute(q)).scalars()})
    return out


async def seen_by_title_keys(session: AsyncSession, *, keys: Iterable[str], since: datetime) -> dict[str, SeenArticle]:
    """The earliest seen article per title key first seen after ``since``."""
    wanted = [k for k in set(keys) if k]
    out: dict[str, SeenArticle] = {}
    for i in range(0, len(wanted), 500):
        q = (select(SeenArticle).where(SeenArticle.title_key.in_(wanted[i:i + 500]), SeenArticle.first_seen >= since)
             .order_by(SeenArticle.first_seen))
        for r in (await session.execute(q)).scalars():
            out.setdefault(r.title_key, r)
    return out


async def mark_seen(session: AsyncSession, *, rows: Iterable[tuple[str, int | None, str, str]], now: datetime) -> int:
    """Remember published articles (id, feed_id, title_key, content_hash); call after Kafka acknowledged them."""
    values = [{"id": art_id, "feed_id": feed_id, "title_key": key, "content_hash": chash, "first_seen": now,
               "last_seen": now} for art_id, feed_id, key, chash in rows]
    if not values:
        return 0
    # SQLite: one single-row statement run for every row (the driver's executemany, a C loop), not one
    # statement of all the rows: SQLAlchemy built and bound that per call, 0.15 ms a row against 0.04-0.05
    # (50-row batches, the backfill's feeds; a fifth of ingest's CPU an article went here).
    many = session.get_bind().dialect.name == "sqlite"
    stmt = _insert(session, SeenArticle) if many else _insert(session, SeenArticle).values(values)
    stmt = stmt.on_conflict_do_update(index_elements=["id"], set_={
        "content_hash": stmt.excluded.content_hash, "last_seen": stmt.excluded.last_seen,
        "title_key": stmt.excluded.title_key})
    await (session.execute(stmt, values) if many else session.execute(stmt))
    await session.commit()
    return len(values)


async def prune_seen(session: AsyncSession, *, older_than: datetime) -> int:
    """Forget articles not seen in any feed since ``older_than``."""
    result = await session.execute(delete(SeenArticle).where(SeenArticle.last_seen < older_than))
    await session.commit()
    return _rows(result)


async def set_websub(session: AsyncSession, *, feed_id: int, hub_url: str | None, state: str | None,
                     secret: str | None = None, lease_until: datetime | None = None) -> None:
    """Record the WebSub subscription state of a feed."""
    values: dict[str, Any] = {"hub_url": hub_url, "websub_state": state, "websub_lease_until": lease_until}
    if secret is not None:
        values["websub_secret"] = secret
    await session.execute(update(Feed).where(Feed.id == feed_id).values(**values))
    await session.commit()


async def websub_due(session: AsyncSession, *, now: datetime, renew_before_s: float) -> list[Feed]:
    """Feeds with a hub whose subscription is missing, failed or about to lapse."""
    horizon = now + timedelta(seconds=renew_before_s)
    q = select(Feed).where(Feed.enabled.is_(True), Feed.hub_url.is_not(None),
                           or_(Feed.websub_lease_until.is_(None), Feed.websub_lease_until <= horizon))
    return list((await session.execute(q)).scalars())
