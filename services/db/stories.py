"""Repository for articles and stories: the sink's idempotent upsert and the API's queries.

Keyword-only functions, one per use; routes and workers never write SQL themselves.
"""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import (
    JSON,
    ColumnElement,
    Row,
    Select,
    Text,
    and_,
    cast,
    delete,
    func,
    insert,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from services.clock import utcnow
from services.db.clusters import story_aliases
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


def _same_content(row: Article, values: dict[str, Any]) -> bool:
    keys = ("title", "summary", "content", "state", "topics", "entities", "taxonomy_version", "content_hash")
    return all(getattr(row, k) == values[k] for k in keys)


async def upsert_enriched(session: AsyncSession, *, event: EnrichedArticle) -> StoryChange:
    """Store one enriched article and fold it into its story; replays change nothing."""
    return (await upsert_batch(session, events=[event]))[0]


async def upsert_batch(session: AsyncSession, *, events: Sequence[EnrichedArticle]) -> list[StoryChange]:
    """Store a batch of enriched articles, then refresh each story they touched once.

    Why once per batch: a story is recomputed from all its articles, so refreshing it after every article
    made a batch of k articles joining an n-article story cost k * n rows (quadratic in a busy story). Each
    article's :class:`StoryChange` reports what the batch did to its story (one version step at most).
    """
    written: list[tuple[str, Literal["new", "update", "replay"]]] = []
    touched: dict[str, None] = {}
    for event in events:
        story_id, article_kind = await _write_article(session, event)
        written.append((story_id, article_kind))
        if article_kind != "replay":
            touched[story_id] = None
    refreshed = {story_id: await _refresh_story(session, story_id=story_id) for story_id in touched}
    changes = []
    for story_id, article_kind in written:
        if story_id in refreshed:
            kind, version = refreshed[story_id]
        else:
            story = await session.get(Story, story_id)
            kind, version = "unchanged", story.version if story else 1
        changes.append(StoryChange(story_id, kind, version, article_kind))
    return changes


async def _write_article(session: AsyncSession, event: EnrichedArticle) -> tuple[str, Literal["new", "update", "replay"]]:
    """Insert or update one article row; (its story, what happened). A stored article keeps its story."""
    story_id = event.story_id or event.article.id
    existing = await session.get(Article, event.article.id)
    if existing is not None:
        story_id = existing.story_id
    values = _article_values(event, story_id)
    if existing is not None and _same_content(existing, values):
        return story_id, "replay"
    if existing is None:
        session.add(Article(id=event.article.id, **values))
        await session.flush()
        return story_id, "new"
    for k, v in values.items():
        setattr(existing, k, v)
    existing.version += 1
    await session.flush()
    return story_id, "update"


def _fold_topics(articles: Sequence[Any]) -> list[dict[str, Any]]:
    best: dict[str, dict[str, Any]] = {}
    for art in articles:
        for t in art.topics or []:
            cur = best.get(t["name"])
            if cur is None or t["confidence"] > cur["confidence"]:
                best[t["name"]] = {**t, "article_id": art.id}
    return sorted(best.values(), key=lambda t: -t["confidence"])


def _fold_entities(articles: Sequence[Any]) -> list[dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {}
    for art in articles:
        for e in art.entities or []:
            cur = merged.setdefault(e["id"], {"id": e["id"], "name": e["name"], "type": e["type"],
                                              "mentions": 0, "in_title": False})
            cur["mentions"] += int(e.get("mentions", 1))
            cur["in_title"] = cur["in_title"] or bool(e.get("in_title"))
    return sorted(merged.values(), key=lambda e: (not e["in_title"], -e["mentions"], e["name"]))


REPRESENTATIVE_ENTITIES = 8  # the story's most named entities a headline article is scored on


def representative(articles: Sequence[Any], entities: Sequence[dict[str, Any]]) -> Any:
    """The article that best stands for the story: it names most of the story's main entities, has a
    summary, and came first. Decided from the whole story, so it does not depend on arrival order."""
    main = {e["id"] for e in entities[:REPRESENTATIVE_ENTITIES]}

    def rank(a: Any) -> tuple[int, bool, Any, str]:
        named = len(main & {e["id"] for e in a.entities or []})
        return (-named, not a.summary, a.published_at, a.id)

    return min(articles, key=rank)


# What a story is folded from: every article column it shows, not the article bodies (Core rows, no ORM).
_FOLD_COLUMNS = (Article.id, Article.title, Article.link, Article.url, Article.summary, Article.lang, Article.state,
                 Article.topics, Article.entities, Article.source, Article.published_at)


async def _refresh_story(session: AsyncSession, *, story_id: str) -> tuple[ChangeKind, int]:
    """Recompute a story from its articles; bump its version only when something a reader sees changed."""
    articles = (await session.execute(
        select(*_FOLD_COLUMNS).where(Article.story_id == story_id).order_by(Article.published_at, Article.id)
    )).all()
    first = articles[0]
    topics, entities = _fold_topics(articles), _fold_entities(articles)
    sources = sorted({a.source for a in articles if a.source})
    state = next((a.state for a in sorted(articles, key=lambda a: a.published_at, reverse=True) if a.state), None)
    lead = representative(articles, entities)
    view = {
        "headline": lead.title, "url": lead.link or lead.url, "summary": lead.summary[:1000],
        "lang": lead.lang, "state": state, "topics": topics, "entities": entities, "sources": sources,
        "languages": sorted({a.lang for a in articles if a.lang}),
        "article_count": len(articles), "published_at": first.published_at,
    }
    story = await session.get(Story, story_id)
    now = utcnow()
    if story is None:
        story = Story(id=story_id, first_seen=now, last_seen=now, version=1, **view)
        session.add(story)
        kind: ChangeKind = "created"
    else:
        visible = ("topics", "state", "article_count", "headline", "entities")
        changed = any(getattr(story, k) != view[k] for k in visible)
        for k, v in view.items():
            setattr(story, k, v)
        story.last_seen = now
        if changed:
            story.version += 1
        kind = "updated" if changed else "unchanged"
    await session.execute(delete(StoryTopic).where(StoryTopic.story_id == story_id))
    await session.execute(delete(StoryEntity).where(StoryEntity.story_id == story_id))
    await session.flush()
    await _index_story(session, story_id=story_id, headline=story.headline, summary=story.summary,
                       titles=" ".join(dict.fromkeys(a.title for a in articles if a.title)))
    session.add_all(StoryTopic(story_id=story_id, topic=t["name"], confidence=t["confidence"]) for t in topics)
    session.add_all(
        StoryEntity(story_id=story_id, entity_id=e["id"], name=e["name"], type=e["type"], mentions=e["mentions"])
        for e in entities
    )
    await session.flush()
    return kind, story.version


async def _index_story(session: AsyncSession, *, story_id: str, headline: str, summary: str, titles: str) -> None:
    """Replace the story's search document; triggers (SQLite) or a generated column (PostgreSQL) index it."""
    await session.execute(delete(story_search).where(story_search.c.story_id == story_id))
    await session.execute(insert(story_search).values(story_id=story_id, headline=headline, summary=summary,
                                                      titles=titles))


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
