"""The story-grouping index: article profiles, their keys, and story aliases (reads and writes only).

Why: the store sink decides which story an article joins (``api/sink``); it needs, per batch, the
stored articles that share an index key with the batch's new ones inside the time window, their
profiles and current stories. This module reads and writes exactly that, and merges stories when the
sink says two are one event. Tables live in migration 0006 (the index re-keyed in 0009, made compact in 0016).

The index (``profile_keys``) holds about 33 rows per article, so its row is kept small: the key as a signed
64-bit hash of the key string (:func:`key_ids`, the same number as the key's advisory lock), the
publication time as integer µs since the epoch, and the article as its ``article_profiles.ref`` number (a
bucket read joins back to the article's id and time). Two keys whose hashes collide (about one chance in
10^7 over a store's few million distinct keys) share one bucket: each reads the other's articles too
(candidates the link rule scores and rejects), and the bucket's ``bucket_cap`` newest are then the pair's.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections import Counter
from collections.abc import Container, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    BindParameter,
    Column,
    CompoundSelect,
    DateTime,
    FetchedValue,
    MetaData,
    Select,
    String,
    Table,
    Text,
    TextClause,
    bindparam,
    case,
    cast,
    delete,
    insert,
    literal,
    null,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from services.db import story_view
from services.db.models import Article, Story, StoryEntity, StoryTopic
from services.db.search import story_search

_meta = MetaData()
article_profiles = Table(
    "article_profiles", _meta,
    Column("article_id", String(64), primary_key=True),
    Column("published_at", DateTime(timezone=True), nullable=False),
    Column("profile", JSON, nullable=False),
    # The article's number in the index, assigned by the store on insert (migration 0016: SQLite's INTEGER
    # PRIMARY KEY, article_id its unique key there; a PostgreSQL identity column, unique).
    Column("ref", BigInteger, server_default=FetchedValue(), nullable=False),
)
profile_keys = Table(  # ordered by (key, published_us, ref): a bucket read is one range (migrations 0009, 0016)
    "profile_keys", _meta,
    Column("key", BigInteger, primary_key=True),  # key_ids() of the key string
    Column("published_us", BigInteger, primary_key=True),  # epoch_us() of the article's publication
    Column("ref", BigInteger, primary_key=True),  # article_profiles.ref
)
story_aliases = Table(
    "story_aliases", _meta,
    Column("old_id", String(64), primary_key=True),
    Column("story_id", String(64), nullable=False),
    Column("merged_at", DateTime(timezone=True), nullable=False),
)
MAX_KEY = 200


def utc(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def epoch_us(when: datetime) -> int:
    """A publication time as the index stores it: µs since the epoch (exact: times compare as they did)."""
    return (utc(when) - _EPOCH) // _US


LOCK_IDS = 200_000  # index keys whose ids are kept computed (a busy story's keys recur every batch)
_key_ids: dict[str, int] = {}


def key_id(key: str) -> int:
    """An index key's id: the first 8 bytes of its blake2b digest as a signed 64-bit integer (stable across
    processes and versions: stored rows and migration 0016 use it)."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)


def key_ids(keys: Iterable[str]) -> dict[str, int]:
    """Each distinct key's :func:`key_id`, kept once computed (a dict look-up instead of a hash: 16,500
    keys a batch of 500)."""
    known = _key_ids
    if len(known) > LOCK_IDS:
        known.clear()
    wanted = dict.fromkeys(keys)
    fresh = [k for k in wanted if k not in known]
    if fresh:
        digest, as_int = hashlib.blake2b, int.from_bytes  # bound once: half the time of 16,500 look-ups each
        known.update({k: as_int(digest(k.encode(), digest_size=8).digest(), "big", signed=True) for k in fresh})
    return {k: known[k] for k in wanted}


def key_lock_ids(keys: Iterable[str]) -> list[int]:
    """Advisory-lock ids (signed 64-bit) for index keys, sorted so two sinks never deadlock: each key's
    :func:`key_id`."""
    return sorted(set(key_ids(keys).values()))


async def lock_keys(session: AsyncSession, keys: Iterable[str]) -> None:
    """Make grouping race-free between sink instances: call it first in the batch's transaction.

    Two articles that may link share an index key, so a sink grouping related articles after another
    one waits for it and then sees its story. PostgreSQL: transaction-scoped advisory locks on the
    batch's keys; unrelated batches proceed in parallel. SQLite: the database write lock, taken up front
    by a no-op UPDATE, so every read of the batch sees what the previous writer committed.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        await session.execute(update(article_profiles).where(text("0")).values(
            published_at=article_profiles.c.published_at))
        return
    ids = key_lock_ids(keys)
    if dialect == "postgresql" and ids:
        await session.execute(_LOCKS_POSTGRES, {"ids": ids})


# One row back, not one per lock (a batch of 500 new articles takes 16,500; the rows were half the statement's
# time). The locks are taken in the array's order (sorted): a plain scan of unnest feeds the aggregate in order.
_LOCKS_POSTGRES = text("SELECT count(*) FROM (SELECT pg_advisory_xact_lock(x) FROM unnest(CAST(:ids AS bigint[])) "
                       "AS t(x)) AS locked")


async def plan_for_parameters(session: AsyncSession, *, sqlite_cache_kib: int = 2_000) -> None:
    """Tune this transaction's connection for a batch write: call it first in the batch's transaction.

    PostgreSQL: plan the rest of this transaction's statements for their parameters, not once for all.
    Why: the driver prepares each statement once per connection, and after five runs PostgreSQL may keep a
    generic plan made when the tables were small: a sequential scan where the store later needs an index
    probe, so a sink that started on a young store slowed as it grew (a 32-id read of ``articles`` took
    12 ms at 8,000 articles, against 1 planned per batch). Planning a batch's statements costs less than
    a millisecond. SQLite: the connection's page cache is ``sqlite_cache_kib`` (``WIREWATCH_SINK_SQLITE_CACHE_KIB``, set
    once per connection).
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        await session.execute(text("SELECT set_config('plan_cache_mode', 'force_custom_plan', true)"))
    elif dialect == "sqlite":
        conn = await session.connection()
        if not conn.info.get("sink_cache"):  # once per connection: the setting stays with it
            await conn.exec_driver_sql(f"PRAGMA cache_size = -{int(sqlite_cache_kib)}")
            conn.info["sink_cache"] = True


@functools.cache
def _unnest_insert(table: Table, columns: tuple[str, ...], dialect: Any) -> tuple[TextClause, list[Any]]:
    """The statement, and each column's bind processing (what the insert would do to its values)."""
    types = [table.c[c].type for c in columns]
    arrays = ", ".join(f"CAST(:c{n} AS {t.compile(dialect=dialect)}[])" for n, t in enumerate(types))
    stmt = text(f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT * FROM unnest({arrays})")
    return stmt, [t.dialect_impl(dialect).bind_processor(dialect) for t in types]


async def insert_rows(session: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """``session.execute(insert(table), rows)``, on PostgreSQL as one statement with one array per column.

    Why: asyncpg's executemany binds and executes the statement once per row (500 rows cost 20 ms, for
    each of the six tables a batch writes); ``unnest`` of the columns is one execution. Every row has the same
    keys; a column missing from them takes its Python default (a scalar, or a callable called per row), as
    the insert does; each value goes through its column type's bind processing (JSON to text, datetimes to
    UTC), as in the insert. SQLite's executemany is already a C loop: unchanged there."""
    if not rows:
        return
    await session.execute(*_insert_statement(session.get_bind().dialect, table, rows))


def _insert_statement(dialect: Any, table: Table, rows: Sequence[Mapping[str, Any]]) -> tuple[Any, Any]:
    """:func:`insert_rows`' statement and its parameters (no I/O: a caller may compute them while the
    connection is busy with something else)."""
    if dialect.name != "postgresql":
        return insert(table), list(rows)
    given = tuple(rows[0])
    filled = tuple(c.key for c in table.c if c.key not in rows[0] and c.default is not None
                   and (c.default.is_scalar or c.default.is_callable))
    stmt, binds = _unnest_insert(table, given + filled, dialect)
    params: dict[str, Any] = {}
    for n, key in enumerate(given + filled):
        if n < len(given):
            values = [r[key] for r in rows]
        else:
            default: Any = table.c[key].default
            values = [default.arg] * len(rows) if default.is_scalar else [default.arg(None) for _ in rows]
        params[f"c{n}"] = values if binds[n] is None else [binds[n](v) for v in values]
    return stmt, params


# The newest ``cap`` articles under each key id in [lo, hi] µs, every key in one statement: one range scan of
# the index per key, so a key every report shares ("Russia") costs what any other does. Rows come newest
# first, ties by article id (highest first), each with the article's id and time from ``article_profiles``
# (one probe by ``ref`` a row). Both stores read, per key, from the ``cap``-th newest time down: more than
# ``cap`` rows only when articles tie at that time, and which of them are kept goes by the article id, which
# the index does not hold (PostgreSQL's LIMIT keeps ``cap``; on SQLite :func:`key_rows` does).
_BUCKETS_SQLITE = text("""
    SELECT k.value AS key, a.article_id, a.published_at FROM json_each(:keys) AS k
    JOIN profile_keys AS p ON p.key = k.value
    JOIN article_profiles AS a ON a.ref = p.ref
    WHERE p.published_us <= :hi AND p.published_us >= coalesce(
        (SELECT q.published_us FROM profile_keys AS q WHERE q.key = k.value AND q.published_us >= :lo
         AND q.published_us <= :hi ORDER BY q.published_us DESC LIMIT 1 OFFSET :last), :lo)
    ORDER BY p.published_us DESC, a.article_id DESC""")
_BUCKETS_POSTGRES = text("""
    SELECT k.key, p.article_id, p.published_at FROM unnest(CAST(:keys AS bigint[])) AS k(key)
    CROSS JOIN LATERAL (
        SELECT a.article_id, a.published_at FROM (
            SELECT q.ref, q.published_us FROM profile_keys AS q
            WHERE q.key = k.key AND q.published_us >= :lo AND q.published_us <= :hi
            ORDER BY q.published_us DESC FETCH FIRST (:cap) ROWS WITH TIES) AS t
        CROSS JOIN LATERAL (SELECT article_id, published_at FROM article_profiles WHERE ref = t.ref LIMIT 1) AS a
        ORDER BY t.published_us DESC, a.article_id DESC LIMIT :cap) AS p""")


def stored_time(raw: str | datetime) -> datetime:
    """A publication time as a text statement reads it back, as aware UTC: SQLite hands over the string
    SQLAlchemy's DateTime stores (naive UTC), PostgreSQL a datetime."""
    return utc(datetime.fromisoformat(raw) if isinstance(raw, str) else raw)


class _Times(dict[str | datetime, datetime]):
    """Stored publication times, each converted once (an article is under many keys)."""

    def __missing__(self, raw: str | datetime) -> datetime:
        self[raw] = found = stored_time(raw)
        return found


async def key_rows(session: AsyncSession, *, keys: Sequence[str], lo: datetime, hi: datetime,
                   cap: int) -> Sequence[tuple[str, str, Any]]:
    """:func:`key_hits` with each time as the driver hands it over (:func:`stored_time` converts it): a
    caller that converts each article once, not each row, saves most of the read's Python time."""
    ids = key_ids(keys)
    if not ids:
        return []
    named: dict[int, list[str]] = {}
    for key, kid in ids.items():
        named.setdefault(kid, []).append(key)
    params = {"lo": epoch_us(lo), "hi": epoch_us(hi), "last": max(cap - 1, 0)}
    if session.get_bind().dialect.name == "postgresql":
        rows = (await session.execute(_BUCKETS_POSTGRES, {"keys": list(named), "cap": cap, **params})).all()
    else:
        rows = (await session.execute(_BUCKETS_SQLITE, {"keys": json.dumps(list(named)), **params})).all()
        if max(Counter(k for k, _, _ in rows).values(), default=0) > cap:
            taken: Counter[int] = Counter()  # articles tied at a key's cap-th time: keep the first ``cap``
            kept = []
            for row in rows:
                taken[row[0]] += 1
                if taken[row[0]] <= cap:
                    kept.append(row)
            rows = kept
    if len(named) == len(ids):  # no two keys of the read share an id (all but always)
        name = {kid: ks[0] for kid, ks in named.items()}
        return [(name[kid], aid, when) for kid, aid, when in rows]
    return [(key, aid, when) for kid, aid, when in rows for key in named[kid]]


async def key_hits(session: AsyncSession, *, keys: Sequence[str], lo: datetime, hi: datetime,
                   cap: int) -> list[tuple[str, str, datetime]]:
    """(key, article id, published) of stored articles under ``keys`` in [lo, hi], newest ``cap`` per key."""
    times = _Times()
    return [(k, a, times[w]) for k, a, w in await key_rows(session, keys=keys, lo=lo, hi=hi, cap=cap)]


async def load_profiles(session: AsyncSession, *, article_ids: Iterable[str], parsed: Container[str] = frozenset()
                        ) -> dict[str, tuple[Mapping[str, Any] | None, str, datetime]]:
    """Article id -> (profile JSON, its current story id, that story's first publication) for stored articles.

    A profile never changes once stored, so the caller may hold it parsed: for ids in ``parsed`` the JSON is
    None, not even read (reading and decoding them was most of this read's cost)."""
    ids = list(dict.fromkeys(article_ids))
    if not ids:
        return {}
    unparsed = [a for a in ids if a not in parsed]
    postgres = session.get_bind().dialect.name == "postgresql"
    rows = await session.execute(_PROFILES_POSTGRES if postgres else _profile_statement(),
                                 {"ids": ids, "unparsed": unparsed})
    return {aid: (None if prof is None else json.loads(prof), story, utc(began)) for aid, prof, story, began in rows}


# PostgreSQL's planner joined a batch's few hundred candidates to ``articles`` by hashing the whole table (a
# sequential scan that grew with the store: 13 ms at 8,000 articles); one index probe per candidate is 3 ms
# and stays so. LIMIT 1 (at most one row anyway: by primary key) keeps each probe a probe.
_PROFILES_POSTGRES = text("""
    SELECT p.article_id, CASE WHEN p.article_id = ANY(CAST(:unparsed AS varchar[])) THEN CAST(p.profile AS text) END,
           a.story_id, s.published_at
    FROM article_profiles AS p
    CROSS JOIN LATERAL (SELECT story_id FROM articles WHERE id = p.article_id LIMIT 1) AS a
    CROSS JOIN LATERAL (SELECT published_at FROM stories WHERE id = a.story_id LIMIT 1) AS s
    WHERE p.article_id = ANY(CAST(:ids AS varchar[]))""")


@functools.cache
def _profile_statement() -> Select[Any]:
    profile = case((article_profiles.c.article_id.in_(bindparam("unparsed", expanding=True)),
                    cast(article_profiles.c.profile, Text)), else_=null())
    return (select(article_profiles.c.article_id, profile, Article.story_id, Story.published_at)
            .join(Article, Article.id == article_profiles.c.article_id)
            .join(Story, Story.id == Article.story_id)
            .where(article_profiles.c.article_id.in_(bindparam("ids", expanding=True))))


# A batch's index rows (16,500 for 500 new articles) in one statement: each article's id and time once, and
# per key row its id and the article's place among them; the article's ``ref`` comes from its profile row,
# written by the statement before (one probe per article, not per row). Per-row parameters cost more than
# the insert itself: SQLAlchemy binds each row in Python, PostgreSQL parses-binds-executes each (15 ms a
# batch, against 2). Rows go in key order, the index's first column.
# PostgreSQL: the ref by one index probe per article (LIMIT 1; a plain join hashed the whole table, a scan
# that grows with the store).
_KEYS_POSTGRES = text("INSERT INTO profile_keys (key, published_us, ref) SELECT k.key, a.us, a.ref FROM unnest("
                      "CAST(:keys AS bigint[]), CAST(:at AS integer[])) WITH ORDINALITY AS k(key, i, n) "
                      "JOIN (SELECT u.i, u.us, p.ref FROM unnest(CAST(:ids AS varchar[]), CAST(:us AS bigint[])) "
                      "WITH ORDINALITY AS u(id, us, i) CROSS JOIN LATERAL (SELECT ref FROM article_profiles "
                      "WHERE article_id = u.id LIMIT 1) AS p) AS a ON a.i = k.i ORDER BY k.n")
# SQLite: the articles first, into a table it indexes by place, then the key rows in their order (a plain
# join made the articles the outer loop: every key row scanned per article).
_KEYS_SQLITE = text("WITH a(i, us, ref) AS MATERIALIZED (SELECT j.key, j.value ->> 1, p.ref FROM json_each(:articles) "
                    "AS j JOIN article_profiles AS p ON p.article_id = j.value ->> 0) "
                    "INSERT INTO profile_keys (key, published_us, ref) "
                    "SELECT k.value ->> 0, a.us, a.ref FROM json_each(:keys) AS k CROSS JOIN a ON a.i = k.value ->> 1")


async def write_profiles(session: AsyncSession, statements: Sequence[tuple[Any, Any]]) -> None:
    """Record newly grouped articles' profiles and index keys: run what :func:`profile_statements` prepared."""
    for stmt, params in statements:
        await session.execute(stmt, params)


def profile_statements(dialect: Any, rows: Sequence[tuple[str, datetime, Mapping[str, Any], Sequence[str]]]
                       ) -> list[tuple[Any, Any]]:
    """The statements (and parameters) that record (article id, published, profile JSON, keys) for newly
    grouped articles, computed without I/O: a caller may compute them while its connection runs another
    statement (the sink does, while the server takes the batch's key locks, on PostgreSQL)."""
    if not rows:
        return []
    out = [_insert_statement(dialect, article_profiles, [
        {"article_id": aid, "published_at": when, "profile": prof} for aid, when, prof, _ in rows])]
    # By key id, the index's first column (an insert in key order walks the index, not jumps about it); an
    # article's keys that share an id are one row (a collision: see the module's docstring).
    flat: list[int] = []
    owner: list[int] = []
    for n, (_, _, _, ks) in enumerate(rows):
        mine = set(key_ids(k[:MAX_KEY] for k in ks).values())
        flat += mine
        owner += [n] * len(mine)
    if not flat:
        return out
    order = sorted(range(len(flat)), key=flat.__getitem__)
    times = [epoch_us(when) for _, when, _, _ in rows]
    if dialect.name == "postgresql":
        out.append((_KEYS_POSTGRES, {"keys": [flat[i] for i in order], "at": [owner[i] + 1 for i in order],
                                     "ids": [aid for aid, _, _, _ in rows], "us": times}))
        return out
    out.append((_KEYS_SQLITE, {"keys": json.dumps([(flat[i], owner[i]) for i in order]),
                               "articles": json.dumps([(aid, us) for (aid, _, _, _), us in zip(rows, times, strict=True)])}))
    return out


@functools.cache
def _known_statement() -> CompoundSelect[Any]:
    ids: BindParameter[Any] = bindparam("ids", expanding=True)
    return union_all(select(article_profiles.c.article_id, literal(True).label("profiled"))
                     .where(article_profiles.c.article_id.in_(ids)),
                     select(Article.id, literal(False)).where(Article.id.in_(ids)))


async def known_and_stored(session: AsyncSession, *, article_ids: Iterable[str]) -> tuple[set[str], set[str]]:
    """(:func:`known_articles`, the ids among ``article_ids`` stored in ``articles``) in one read: what the
    sink's grouping and its upsert each need to know of a batch before they write."""
    ids = list(dict.fromkeys(article_ids))
    known: set[str] = set()
    stored: set[str] = set()
    if ids:
        for aid, profiled in await session.execute(_known_statement(), {"ids": ids}):
            (known if profiled else stored).add(aid)
    return known, stored


async def known_articles(session: AsyncSession, *, article_ids: Iterable[str]) -> set[str]:
    """The ids among ``article_ids`` that already have a profile (grouped before: they keep their story)."""
    ids = list(dict.fromkeys(article_ids))
    if not ids:
        return set()
    rows = await session.scalars(select(article_profiles.c.article_id).where(article_profiles.c.article_id.in_(ids)))
    return set(rows.all())


async def merge_stories(session: AsyncSession, *, into: str, merged: Sequence[str], now: datetime) -> None:
    """Move the articles of ``merged`` stories to ``into``; their ids become aliases of it. The stories' fold
    states are forgotten: ``into`` gained articles without a refresh (the batch's refresh refolds it)."""
    if not merged:
        return
    olds = list(merged)
    story_view.cache_for(session.get_bind().engine).forget([into, *olds])
    await session.execute(update(Article).where(Article.story_id.in_(olds)).values(story_id=into))
    await session.execute(update(story_aliases).where(story_aliases.c.story_id.in_(olds)).values(story_id=into))
    existing = set((await session.scalars(select(story_aliases.c.old_id).where(story_aliases.c.old_id.in_(olds)))).all())
    fresh = [o for o in olds if o not in existing and o != into]
    if fresh:
        await session.execute(insert(story_aliases), [{"old_id": o, "story_id": into, "merged_at": now} for o in fresh])
    for table_col in (StoryTopic.story_id, StoryEntity.story_id, story_search.c.story_id):
        await session.execute(delete(table_col.table).where(table_col.in_(olds)))
    await session.execute(delete(Story).where(Story.id.in_(olds)))


async def resolve(session: AsyncSession, *, story_id: str) -> str:
    """The surviving id of a story that may have merged into another (else ``story_id`` itself)."""
    found = await session.scalar(select(story_aliases.c.story_id).where(story_aliases.c.old_id == story_id))
    return str(found) if found is not None else story_id


async def aliases_of(session: AsyncSession, *, story_id: str) -> list[str]:
    """The ids that merged into ``story_id``."""
    rows = await session.scalars(select(story_aliases.c.old_id).where(story_aliases.c.story_id == story_id)
                                 .order_by(story_aliases.c.old_id))
    return list(rows.all())
