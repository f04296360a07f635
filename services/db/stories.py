"""Repository for articles and stories: the sink's idempotent upsert and the API's queries.

Keyword-only functions, one per use; routes and workers never write SQL themselves.
"""

from __future__ import annotations

import base64
import functools
import itertools
import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, NamedTuple

from sqlalchemy import (
    ARRAY,
    JSON,
    ColumnElement,
    Row,
    Select,
    String,
    Text,
    and_,
    bindparam,
    cast,
    delete,
    func,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql.selectable import TableValuedAlias

from services.clock import utcnow
from services.db import story_view
from services.db.clusters import insert_rows, story_aliases
from services.db.models import Article, Story, StoryEntity, StoryTopic
from services.db.search import search_condition, story_search
from services.events import EnrichedArticle
from services.matching import StoryFilter

ChangeKind = Literal["created", "updated", "unchanged"]

@dataclass(frozen=True)
class StoryChange:
    """What one upsert did to a story: the dispatcher turns created/updated into webhook events."""

    story_id: str
    kind: ChangeKind
    version: int
    article_kind: Literal["new", "update", "replay"]



def _article_values(ev: EnrichedArticle, story_id: str) -> dict[str, Any]:
    a = ev.article
    return {
        "story_id": story_id,
        "feed_id": a.feed_id,
        "source": a.source,
        "url": a.url,
        "link": a.link or a.url,
        "title": a.title,
        "summary": a.summary,
        "content": a.content,
        "author": a.author,
        "lang": ev.lang or a.lang,
        "published_at": a.published_at,
        "fetched_at": a.fetched_at,
        "enriched_at": ev.enriched_at,
        "content_hash": a.content_hash,
        "state": ev.state,
        "topics": [t.model_dump(mode="json") for t in ev.topics],
        "entities": [e.model_dump(mode="json") for e in ev.entities],
        "taxonomy_version": ev.taxonomy_version,
    }


ArticleKind = Literal["new", "update", "replay"]
# The stored columns an upsert compares with the event (a replay changes none of them), and what it keeps.
_CONTENT = ("title", "summary", "content", "state", "topics", "entities", "taxonomy_version", "content_hash")
_STORED_COLUMNS = (Article.id, Article.story_id, Article.version, *(getattr(Article, k) for k in _CONTENT))
# Core tables for the bulk writes (an executemany per table, not an ORM flush per row).
_TABLES = Article.metadata.tables


def _same_content(row: Mapping[str, Any], values: dict[str, Any]) -> bool:
    return all(row[k] == values[k] for k in _CONTENT)


async def upsert_enriched(session: AsyncSession, *, event: EnrichedArticle) -> StoryChange:
    """Store one enriched article and fold it into its story; replays change nothing."""
    return (await upsert_batch(session, events=[event]))[0]


async def upsert_batch(session: AsyncSession, *, events: Sequence[EnrichedArticle],
                       stored: Collection[str] | None = None,
                       grown: Collection[str] | None = None) -> list[StoryChange]:
    """Store a batch of enriched articles, then refresh each story they touched once.

    ``stored``: the batch's ids stored before, when this transaction read them already
    (``clusters.known_and_stored``): only those are read again (their stories may have merged since); an id
    another writer stored in between fails the insert, and the batch is retried. None reads every id.

    Why once per batch: a story is recomputed from all its articles, so refreshing it after every article
    made a batch of k articles joining an n-article story cost k * n rows (quadratic in a busy story). Each
    article's :class:`StoryChange` reports what the batch did to its story (one version step at most).
    Why in bulk: the statements a batch costs do not grow with it (one read and one write per table), which
    is what an article costs when the store is a round trip away (the sink's 1,000 articles/s).

    ``grown``: the stories this transaction moved stored articles into before (the survivors of its merges),
    when the caller knows them. Then a story new to the store that is not one of them holds only the batch's
    articles, and is folded from the rows just written, not read back (:func:`_written_stories`). None: every
    story is read back.
    """
    plan = await _write_articles(session, events, stored)
    refreshed = await _refresh_stories(session, plan.touched, plan.inserts if grown is not None else {},
                                       grown or ())
    versions = await _story_versions(session, {sid for sid, _ in plan.kinds if sid not in refreshed})
    return [StoryChange(sid, *refreshed[sid], kind) if sid in refreshed
            else StoryChange(sid, "unchanged", versions.get(sid, 1), kind) for sid, kind in plan.kinds]


def _utc(when: datetime) -> datetime:
    """A datetime as the store gives it back (naive ones are UTC: models.UTCDateTime)."""
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


@dataclass
class _Touched:
    """What a batch wrote to one story: the articles, the earliest publication, whether any was stored before."""

    articles: dict[str, None] = field(default_factory=dict)
    earliest: datetime | None = None
    updated: bool = False


@dataclass
class _ArticlePlan:
    """A batch's article writes, decided in batch order against the stored rows and the batch's earlier ones."""

    kinds: list[tuple[str, ArticleKind]] = field(default_factory=list)  # per event: its story, what happened
    inserts: dict[str, dict[str, Any]] = field(default_factory=dict)  # final rows of articles new to the store
    updates: dict[str, dict[str, Any]] = field(default_factory=dict)  # final rows of stored articles that changed
    touched: dict[str, _Touched] = field(default_factory=dict)  # stories written to, in batch order


def _plan_articles(events: Sequence[EnrichedArticle], stored: Mapping[str, Mapping[str, Any]]) -> _ArticlePlan:
    """Each event against the article as it stands (stored, or as an earlier event of the batch left it):
    new, an update (version + 1), or a replay. A stored article keeps its story."""
    plan = _ArticlePlan()
    for ev in events:
        aid = ev.article.id
        cur = plan.inserts.get(aid) or plan.updates.get(aid) or stored.get(aid)
        story_id = cur["story_id"] if cur is not None else (ev.story_id or aid)
        values = _article_values(ev, story_id)
        if cur is not None and _same_content(cur, values):
            plan.kinds.append((story_id, "replay"))
            continue
        row = {"id": aid, **values, "version": 1 if cur is None else cur["version"] + 1}
        (plan.updates if aid in stored else plan.inserts)[aid] = row
        plan.kinds.append((story_id, "new" if cur is None else "update"))
        plan.touched.setdefault(story_id, _Touched())
    for rows, updated in ((plan.inserts, False), (plan.updates, True)):
        for aid, row in rows.items():
            t, when = plan.touched[row["story_id"]], _utc(row["published_at"])
            t.articles[aid] = None
            t.earliest = when if t.earliest is None else min(t.earliest, when)
            t.updated = t.updated or updated
    return plan


async def _write_articles(session: AsyncSession, events: Sequence[EnrichedArticle],
                         stored_ids: Collection[str] | None) -> _ArticlePlan:
    """One read of the batch's stored articles (none when ``stored_ids`` says none is), one INSERT of the new
    ones, one UPDATE (executemany) of the changed ones."""
    ids = [aid for aid in dict.fromkeys(ev.article.id for ev in events) if stored_ids is None or aid in stored_ids]
    stored: dict[str, dict[str, Any]] = {}
    if ids:
        rows = await session.execute(select(*_STORED_COLUMNS).where(Article.id.in_(ids)))
        stored = {r.id: r._asdict() for r in rows}
    plan = _plan_articles(events, stored)
    if plan.inserts:
        await insert_rows(session, _TABLES["articles"], list(plan.inserts.values()))
    if plan.updates:
        await session.execute(update(Article), list(plan.updates.values()))
    return plan


async def _story_versions(session: AsyncSession, story_ids: set[str]) -> dict[str, int]:
    """The current version of stories the batch only replayed into (one read)."""
    if not story_ids:
        return {}
    rows = await session.execute(select(Story.id, Story.version).where(Story.id.in_(sorted(story_ids))))
    return {sid: int(version) for sid, version in rows}


STORY_SURFACE_FORMS = 12  # distinct surface forms a story entity keeps (all articles, all scripts)


def _fold_entities(articles: Sequence[Any]) -> list[dict[str, Any]]:
    """Story entities: mention counts added up, and the distinct surface forms of every article (offsets
    belong to one article, so a story keeps the forms, not the spans)."""
    merged: dict[str, dict[str, Any]] = {}
    for art in articles:
        for e in art.entities or []:
            cur = merged.setdefault(e["id"], {"id": e["id"], "name": e["name"], "type": e["type"],
                                              "mentions": 0, "in_title": False, "surface": []})
            cur["mentions"] += int(e.get("mentions", 1))
            cur["in_title"] = cur["in_title"] or bool(e.get("in_title"))
            forms = cur["surface"]
            for s in e.get("surface") or ():
                if s not in forms and len(forms) < STORY_SURFACE_FORMS:
                    forms.append(s)
    return sorted(merged.values(), key=lambda e: (not e["in_title"], -e["mentions"], e["name"]))


# What a story is folded from: every article column it shows, not the article bodies (Core rows, no ORM).
_FOLD_COLUMNS = (Article.story_id, Article.id, Article.title, Article.link, Article.url, Article.summary, Article.lang,
                 Article.state, Article.topics, Article.entities, Article.source, Article.published_at)
# What a refresh reads of a story: what readers see change (a version step), and its fold state's stamp.
# And what its search document was made of (:func:`_index_stories` rewrites only what changed).
_STORY_COLUMNS = (Story.id, Story.version, Story.last_seen, *(getattr(Story, k) for k in story_view.VISIBLE),
                  Story.summary, select(story_search.c.titles).where(story_search.c.story_id == Story.id)
                  .scalar_subquery().label("search_titles"))
Stamp = tuple[int, datetime, int]


async def _refresh_stories(session: AsyncSession, touched: Mapping[str, _Touched],
                           inserts: Mapping[str, Mapping[str, Any]] = {},  # noqa: B006 (read only)
                           grown: Collection[str] = ()) -> dict[str, tuple[ChangeKind, int]]:
    """Recompute every story the batch wrote to; bump a version only when something a reader sees changed.

    Reads the stories (locked on PostgreSQL, so a second sink refreshing one of them waits for this one and
    then sees what it wrote), and in one statement the articles to fold: all of a story's, or, for a big story
    whose fold state this process holds and the store still stamps, only the batch's later articles. A story
    new to the store is folded from ``inserts``, the rows the batch just wrote, when those are all its
    articles (:func:`_written_stories`).
    """
    if not touched:
        return {}
    cache = story_view.cache_for(session.get_bind().engine)
    olds = await _story_rows(session, list(touched))
    known = {sid: done for sid, t in touched.items() if (done := _extendable(cache, olds.get(sid), t)) is not None}
    later = [aid for sid in known for aid in touched[sid].articles]
    written = _written_stories(inserts, {sid for sid, t in touched.items()
                                         if sid not in olds and not t.updated and sid not in grown})
    whole = [s for s in touched if s not in known and s not in written]
    folds = _folds(cache, await _fold_rows(session, whole, later), known)
    folds.update(_folds(cache, [r for arts in written.values() for r in arts], {}))
    missing = [sid for sid in touched if sid not in folds]  # a big story whose main entities changed
    if missing:
        folds.update(_folds(cache, await _fold_rows(session, missing, []), {}))
    now = utcnow()
    created: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    out: dict[str, tuple[ChangeKind, int]] = {}
    for sid in touched:
        view, old = folds[sid].view(), olds.get(sid)
        if old is None:
            created.append({"id": sid, "first_seen": now, "last_seen": now, "version": 1, **view})
            out[sid] = ("created", 1)
        else:
            visible = any(getattr(old, k) != view[k] for k in story_view.VISIBLE)
            changed.append({"id": sid, "last_seen": now, "version": old.version + visible, **view})
            out[sid] = ("updated" if visible else "unchanged", old.version + visible)
        cache.put(sid, folds[sid], (out[sid][1], now, view["article_count"]))
    if created:
        await insert_rows(session, _TABLES["stories"], created)
    if changed:
        await session.execute(update(Story), changed)
    await _index_stories(session, folds, olds=olds)
    return out


class _Written(NamedTuple):
    """An article row as the batch wrote it, with what the fold reads (:data:`_FOLD_COLUMNS`), as read back."""

    story_id: str
    id: str
    title: Any
    link: Any
    url: Any
    summary: Any
    lang: Any
    state: Any
    topics: Any
    entities: Any
    source: Any
    published_at: datetime


def _written_stories(inserts: Mapping[str, Mapping[str, Any]], story_ids: Collection[str]) -> dict[str, list[_Written]]:
    """The articles of ``story_ids`` (stories new to the store, holding only articles this batch inserted) from
    the rows it wrote, in the fold's order (published, then id), as the fold read gives them back: times as
    aware UTC, JSON columns as JSON-safe values (the model dumps them so). A story whose articles tie on their
    time is left out (read back): the store's collation orders the tied ids, which Python's may not.

    Why: every article of a story new to the store was just written by this batch; reading them back was a
    sixth of a batch of 500 distinct reports on PostgreSQL (the read, and its rows' decoding)."""
    if not story_ids:
        return {}
    by_story: dict[str, list[_Written]] = {}
    for aid, row in inserts.items():
        sid = row["story_id"]
        if sid in story_ids:
            by_story.setdefault(sid, []).append(_Written(
                sid, aid, row["title"], row["link"], row["url"], row["summary"], row["lang"], row["state"],
                row["topics"], row["entities"], row["source"], _utc(row["published_at"])))
    out: dict[str, list[_Written]] = {}
    for sid, arts in by_story.items():
        arts.sort(key=lambda a: (a.published_at, a.id))
        if all(a.published_at < b.published_at for a, b in itertools.pairwise(arts)):
            out[sid] = arts
    return out


def _extendable(cache: story_view.FoldCache, old: Row[Any] | None, touched: _Touched) -> story_view.Fold | None:
    """The story's cached fold state, if the batch only adds articles published after all of it."""
    if old is None or touched.updated or touched.earliest is None:
        return None
    done = cache.get(old.id, (old.version, old.last_seen, old.article_count))
    return done if done is not None and touched.earliest > done.last_at else None


async def _story_rows(session: AsyncSession, story_ids: Sequence[str]) -> dict[str, Row[Any]]:
    stmt = select(*_STORY_COLUMNS).where(Story.id.in_(story_ids)).order_by(Story.id)
    if _dialect(session) == "postgresql":
        stmt = stmt.with_for_update()  # in id order, so two sinks never wait for each other in a circle
    return {r.id: r for r in await session.execute(stmt)}


def _folds(cache: story_view.FoldCache, rows: Sequence[Any], known: Mapping[str, story_view.Fold],
           ) -> dict[str, story_view.Fold]:
    """Each story's fold: its cached state extended by its rows, or all its rows folded (and checked)."""
    by_story: dict[str, list[Any]] = {}
    for r in rows:
        by_story.setdefault(r.story_id, []).append(r)
    out: dict[str, story_view.Fold] = {}
    for sid, arts in by_story.items():
        if sid in known:
            grown = story_view.extend(known[sid], arts, _fold_entities)
            if grown is not None:
                out[sid] = grown
            continue
        out[sid] = done = story_view.fold(arts, _fold_entities)
        cache.check(arts, done, _fold_entities)
    return out


def _id_table(name: str, dialect: str) -> TableValuedAlias:
    """A list of ids bound as one parameter, as a table with one column, ``value`` (one statement however
    many ids, compiled once)."""
    if dialect == "sqlite":
        return func.json_each(bindparam(name)).table_valued("value", name=name)
    return func.unnest(cast(bindparam(name), ARRAY(String))).table_valued("value", name=name).render_derived()


def _ids(ids: Sequence[str], dialect: str) -> Any:
    return json.dumps(list(ids)) if dialect == "sqlite" else list(ids)


@functools.cache
def _fold_statement(dialect: str, whole: bool, later: bool) -> Select[Any]:
    """The articles to fold, per story oldest first: all of the ``whole`` stories', and the ``later`` ids."""
    parts = []
    if whole:
        stories = _id_table("whole", dialect)
        parts.append(select(*_FOLD_COLUMNS).join_from(Article, stories, Article.story_id == stories.c.value))
    if later:
        parts.append(select(*_FOLD_COLUMNS).where(Article.id.in_(bindparam("later", expanding=True))))
    if len(parts) == 1:
        return parts[0].order_by(Article.story_id, Article.published_at, Article.id)
    both = union_all(*parts).subquery()
    return select(*both.c).order_by(both.c.story_id, both.c.published_at, both.c.id)


async def _fold_rows(session: AsyncSession, whole: Sequence[str], later: Sequence[str]) -> Sequence[Row[Any]]:
    if not whole and not later:
        return []
    dialect = _dialect(session)
    params: dict[str, Any] = {}
    if whole:
        params["whole"] = _ids(whole, dialect)
    if later:
        params["later"] = list(later)
    return (await session.execute(_fold_statement(dialect, bool(whole), bool(later)), params)).all()


async def _index_stories(session: AsyncSession, folds: Mapping[str, story_view.Fold], *,
                         olds: Mapping[str, Row[Any]]) -> None:
    """Replace the refreshed stories' topic, entity and search rows where they changed: one DELETE per table
    (of stored stories' rows: a story new to the store has none, their foreign keys say so) and one INSERT
    per table for the batch. Search documents are indexed by triggers (SQLite FTS5) or a generated column
    (PostgreSQL).

    Why only where changed: a stored story's rows were written from its stored topics, entities, headline,
    summary and title words (``olds``, read by :func:`_story_rows`); a batch joining a busy story mostly
    changes none of them, and rewriting them anyway was six statements and a re-index per batch.
    """
    stale: tuple[list[str], list[str], list[str]] = ([], [], [])
    topics, entities, search, counts = [], [], [], []
    for sid, done in folds.items():
        view, old, titles = done.view(), olds.get(sid), done.search_titles()
        if old is None or old.topics != view["topics"]:
            topics += [{"story_id": sid, "topic": t["name"], "confidence": t["confidence"]} for t in view["topics"]]
            if old is not None:
                stale[0].append(sid)
        was = _entity_rows(old.entities) if old is not None else {}
        if was and was.keys() == _entity_rows(view["entities"]).keys():  # only mention counts changed
            counts += [{"story_id": sid, "entity_id": e["id"], "mentions": e["mentions"]}
                       for e in view["entities"] if was[e["id"], e["name"], e["type"]] != e["mentions"]]
        elif old is None or old.entities != view["entities"]:
            entities += [{"story_id": sid, "entity_id": e["id"], "name": e["name"], "type": e["type"],
                          "mentions": e["mentions"]} for e in view["entities"]]
            if old is not None:
                stale[1].append(sid)
        if old is None or (old.headline, old.summary, old.search_titles) != (view["headline"], view["summary"], titles):
            search.append({"story_id": sid, "headline": view["headline"], "summary": view["summary"],
                           "titles": titles})
            if old is not None:
                stale[2].append(sid)
    for table, col, ids in ((_TABLES["story_topics"], StoryTopic.story_id, stale[0]),
                            (_TABLES["story_entities"], StoryEntity.story_id, stale[1]),
                            (story_search, story_search.c.story_id, stale[2])):
        if ids:
            await session.execute(delete(table).where(col.in_(ids)))
    for table, rows in ((_TABLES["story_topics"], topics), (_TABLES["story_entities"], entities),
                        (story_search, search)):
        await insert_rows(session, table, rows)
    if counts:
        await session.execute(update(StoryEntity), counts)


def _entity_rows(entities: Sequence[Mapping[str, Any]]) -> dict[tuple[str, str, str], int | None]:
    """A story's entity rows as (id, name, type) -> mentions."""
    return {(e["id"], e["name"], e["type"]): e.get("mentions") for e in entities}


# --- queries ---------------------------------------------------------------


# What a page of stories shows: every story column but the internal seq, as Core rows (no ORM objects).
PAGE_COLUMNS = tuple(c for c in Story.__table__.c if c.key != "seq")
# The same with the JSON columns as their text (CAST, so neither driver decodes them), for a caller that
# parses them while validating anyway (the API: half the cost of json.loads and then validation).
PAGE_COLUMNS_JSON_TEXT = tuple(cast(c, Text).label(c.key) if isinstance(c.type, JSON) else c for c in PAGE_COLUMNS)
PageRow = Row[Any]


def encode_cursor(story: Story | PageRow) -> str:
    raw = json.dumps([story.published_at.isoformat(), story.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """Raise ValueError for anything that is not a cursor we issued."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        ts, sid = json.loads(raw)
        when = datetime.fromisoformat(ts)
        if not isinstance(sid, str):
            raise TypeError
        when = (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, TypeError, OverflowError, json.JSONDecodeError) as exc:
        raise ValueError("cursor is not valid; use the next_cursor value of a previous page") from exc
    return when, sid


def _dialect(db: AsyncSession | AsyncConnection) -> str:
    return db.dialect.name if isinstance(db, AsyncConnection) else db.get_bind().dialect.name


def _has_entity(ents: Sequence[str]) -> ColumnElement[bool]:
    """The story has one of ``ents`` (an id, or a name compared case-insensitively)."""
    conds = [or_(StoryEntity.entity_id == e, func.lower(StoryEntity.name) == e.lower()) for e in ents]
    return select(StoryEntity.story_id).where(StoryEntity.story_id == Story.id, or_(*conds)).exists()


def _apply_filter(stmt: Select[Any], f: StoryFilter, dialect: str = "sqlite") -> Select[Any]:
    for topic in f.topics:
        cond = [StoryTopic.story_id == Story.id, StoryTopic.topic == topic]
        if f.min_confidence is not None:
            cond.append(StoryTopic.confidence >= f.min_confidence)
        stmt = stmt.where(select(StoryTopic.story_id).where(and_(*cond)).exists())
    if not f.topics and not f.any_topics and f.min_confidence is not None:
        stmt = stmt.where(select(StoryTopic.story_id).where(
            StoryTopic.story_id == Story.id, StoryTopic.confidence >= f.min_confidence).exists())
    if f.any_topics:
        cond = [StoryTopic.story_id == Story.id, StoryTopic.topic.in_(list(f.any_topics))]
        if f.min_confidence is not None:
            cond.append(StoryTopic.confidence >= f.min_confidence)
        stmt = stmt.where(select(StoryTopic.story_id).where(and_(*cond)).exists())
    for ent in f.entities:
        stmt = stmt.where(_has_entity([ent]))
    if f.any_entities:
        stmt = stmt.where(_has_entity(f.any_entities))
    if f.langs:
        stmt = stmt.where(Story.lang.in_(list(f.langs)))
    if f.states:
        stmt = stmt.where(Story.state.in_(list(f.states)))
    if f.sources or f.feed_id is not None:
        cond = [Article.story_id == Story.id]
        if f.sources:
            cond.append(Article.source.in_(list(f.sources)))
        if f.feed_id is not None:
            cond.append(Article.feed_id == f.feed_id)
        stmt = stmt.where(select(Article.id).where(*cond).exists())
    if f.since:
        stmt = stmt.where(Story.published_at >= f.since)
    if f.until:
        stmt = stmt.where(Story.published_at < f.until)
    if f.q is not None:
        stmt = stmt.where(search_condition(f.q, dialect))
    return stmt


def _published_before(when: datetime, sid: str) -> tuple[ColumnElement[bool], ...]:
    """(published_at, id) < (when, sid), spelled so that both planners seek the index to the position: the
    plain "a < x OR (a = x AND b < y)" made SQLite scan from the newest story down (deep pages got slower)."""
    return Story.published_at <= when, or_(Story.published_at < when, Story.id < sid)


def _seen_after(when: datetime, sid: str) -> tuple[ColumnElement[bool], ...]:
    """(last_seen, id) > (when, sid), likewise (the OR-only form scanned the whole index on every poll)."""
    return Story.last_seen >= when, or_(Story.last_seen > when, Story.id > sid)


@functools.lru_cache(maxsize=256)
def _page_statement(f: StoryFilter, limit: int, cursor: str | None, dialect: str, json_text: bool) -> Select[Any]:
    """Built once per distinct query: a reused statement also keeps its SQLAlchemy cache key."""
    stmt = _apply_filter(select(*(PAGE_COLUMNS_JSON_TEXT if json_text else PAGE_COLUMNS)), f, dialect)
    if cursor:
        stmt = stmt.where(*_published_before(*decode_cursor(cursor)))
    return stmt.order_by(Story.published_at.desc(), Story.id.desc()).limit(limit + 1)


async def list_stories(
    db: AsyncSession | AsyncConnection, *, filter: StoryFilter, limit: int, cursor: str | None = None,
    json_text: bool = False,
) -> tuple[list[PageRow], str | None]:
    """Newest first by (published_at, id) keyset: pages never skip or repeat while stories arrive.

    Rows carry PAGE_COLUMNS (PAGE_COLUMNS_JSON_TEXT with json_text). A plain connection is enough, and
    cheaper than a session: this only reads.
    """
    stmt = _page_statement(filter, limit, cursor, _dialect(db), json_text)
    rows = list((await db.execute(stmt)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (encode_cursor(rows[-1]) if more and rows else None)


async def changed_after(
    session: AsyncSession, *, after: tuple[datetime, str], limit: int, filter: StoryFilter | None = None
) -> list[Story]:
    """Stories stored or updated after a (last_seen, id) position, oldest change first (the live stream)."""
    stmt = select(Story).where(*_seen_after(*after))
    if filter is not None:
        stmt = _apply_filter(stmt, filter, _dialect(session))
    stmt = stmt.order_by(Story.last_seen, Story.id).limit(limit)
    return list((await session.scalars(stmt)).all())


async def last_change(session: AsyncSession) -> datetime | None:
    """When the most recently stored story changed, or None for an empty store."""
    return await session.scalar(select(func.max(Story.last_seen)))


async def article_facets(session: AsyncSession, *, story_ids: Sequence[str]) -> dict[str, tuple[set[int], str]]:
    """Per story: the feed ids and the titles of its articles (what ?feed= and ?q= look at besides the story)."""
    out: dict[str, tuple[set[int], str]] = {sid: (set(), "") for sid in story_ids}
    if not story_ids:
        return out
    rows = await session.execute(
        select(Article.story_id, Article.feed_id, Article.title).where(Article.story_id.in_(list(story_ids))))
    for sid, feed_id, title in rows.all():
        feeds, titles = out[sid]
        if feed_id is not None:
            feeds.add(feed_id)
        out[sid] = (feeds, f"{titles} {title}" if titles else title)
    return out


async def get_story(session: AsyncSession, *, story_id: str) -> Story | None:
    """One story by id, or None; the id of a story that merged into another resolves to the survivor."""
    story = await session.get(Story, story_id)
    if story is None:
        survivor = await session.scalar(select(story_aliases.c.story_id).where(story_aliases.c.old_id == story_id))
        story = await session.get(Story, survivor) if survivor is not None else None
    return story


async def story_articles(session: AsyncSession, *, story_id: str) -> list[Article]:
    """The articles of a story, oldest first."""
    stmt = select(Article).where(Article.story_id == story_id).order_by(Article.published_at, Article.id)
    return list((await session.scalars(stmt)).all())


async def get_article(session: AsyncSession, *, article_id: str) -> Article | None:
    """One stored article by id, or None."""
    return await session.get(Article, article_id)


async def counts(session: AsyncSession) -> dict[str, int]:
    """Totals for the dashboard header."""
    articles = await session.scalar(select(func.count()).select_from(Article))
    stories = await session.scalar(select(func.count()).select_from(Story))
    tagged = await session.scalar(select(func.count(func.distinct(StoryTopic.story_id))))
    return {"articles": int(articles or 0), "stories": int(stories or 0), "tagged_stories": int(tagged or 0)}


async def topic_counts(session: AsyncSession) -> dict[str, int]:
    """Stories per topic."""
    rows = await session.execute(select(StoryTopic.topic, func.count()).group_by(StoryTopic.topic))
    return {t: int(n) for t, n in rows.all()}


async def entity_counts(session: AsyncSession, *, prefix: str = "", limit: int = 20) -> list[dict[str, Any]]:
    """Entities by number of stories, optionally by name prefix (autocomplete)."""
    stmt = select(StoryEntity.entity_id, StoryEntity.name, StoryEntity.type,
                  func.count(StoryEntity.story_id).label("n"))
    if prefix:
        stmt = stmt.where(func.lower(StoryEntity.name).like(prefix.lower().replace("%", "") + "%"))
    stmt = stmt.group_by(StoryEntity.entity_id, StoryEntity.name, StoryEntity.type)
    stmt = stmt.order_by(func.count(StoryEntity.story_id).desc(), StoryEntity.name).limit(limit)
    rows = await session.execute(stmt)
    return [{"id": i, "name": n, "type": t, "stories": int(c)} for i, n, t, c in rows.all()]



async def get_articles(session: AsyncSession, *, article_ids: Sequence[str]) -> dict[str, Article]:
    """Stored articles by id, the missing ones absent, in one query (a consumer's whole batch)."""
    if not article_ids:
        return {}
    rows = (await session.scalars(select(Article).where(Article.id.in_(list(dict.fromkeys(article_ids)))))).all()
    return {a.id: a for a in rows}


async def get_stories(session: AsyncSession, *, story_ids: Collection[str]) -> dict[str, Story]:
    """Stories by id in one query; an id that merged into another is absent (:func:`get_story` resolves it)."""
    if not story_ids:
        return {}
    return {st.id: st for st in (await session.scalars(select(Story).where(Story.id.in_(list(story_ids))))).all()}
