"""/stories (JSON, RSS, Atom, JSON Feed, live SSE), /stories/{id}, /entities and /topics.

Thin views over services.db.stories. Every route here is public: behind the optional read
token (ReaderDep, also accepted as ?token= for feed readers) and the per-client rate limit.
The router's lifespan runs the process's one StoreWatch (api.stream); its change generation
lets identical /stories requests share one rendered page until the store changes.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Query, Request, Response
from sse_starlette import EventSourceResponse

from api import feeds_out, stream
from api.deps import ReaderDep, SessionDep, SettingsDep
from api.ratelimit import RateLimitDep
from api.schemas import LIFECYCLE, ArticleOut, Lifecycle, StoryDetail, StoryOut, StoryPage
from services.db import stories as repo


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the store watch once the app's own lifespan has built the sessions."""
    sessions = getattr(app.state, "sessions", None)
    if sessions is None:  # an app without a store (never in production); stream and cache stay off
        yield
        return
    watch = stream.StoreWatch(sessions, interval_s=app.state.settings.sse_poll_interval_s)
    await watch.start()
    app.state.store_watch = watch
    app.state.page_cache = PageCache() if getattr(app.state, "page_cache_enabled", True) else None
    try:
        yield
    finally:
        await watch.stop()
        app.state.store_watch = None


router = APIRouter(tags=["stories"], dependencies=[RateLimitDep, ReaderDep], lifespan=lifespan)

TAXONOMY = Path(__file__).resolve().parent.parent / "enrich" / "taxonomy.json"
DEFAULT_TOPICS = ("ceasefire", "peace_talks", "energy_infrastructure_strike", "military_aid", "sanctions",
                  "prisoner_exchange", "humanitarian_aid", "territorial_change")
MAX_REPEAT = 10
MAX_Q = 500


@functools.cache
def _taxonomy_topics() -> tuple[str, ...]:
    try:
        data = json.loads(TAXONOMY.read_text())
        topics = data.get("topics", {})
        names = list(topics) if isinstance(topics, dict) else [t["name"] for t in topics]
        return tuple(names or DEFAULT_TOPICS)
    except (OSError, ValueError, KeyError, TypeError):
        return DEFAULT_TOPICS


def known_topics() -> list[str]:
    """Topic names from the shipped taxonomy (read once per process; the API validates ?topic= against it)."""
    return list(_taxonomy_topics())


def unprocessable(param: str, msg: str) -> HTTPException:
    return HTTPException(422, detail=[{"loc": ["query", param], "msg": msg, "type": "value_error"}])


def _utc(param: str, value: datetime | None) -> datetime | None:
    if value is None:
        return None
    try:
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    except OverflowError as exc:
        raise unprocessable(param, "date is out of range") from exc


async def story_filter(
    request: Request,
    topic: Annotated[list[str] | None, Query(description="topic name; repeat for AND")] = None,
    entity: Annotated[list[str] | None, Query(description="canonical entity id or name; repeat for AND")] = None,
    lang: Annotated[str | None, Query(pattern=r"^[a-z]{2,3}$", description="ISO 639-1 language code")] = None,
    state: Annotated[list[Lifecycle] | None, Query(description="ceasefire lifecycle state")] = None,
    source: Annotated[str | None, Query(max_length=512)] = None,
    feed: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="feed id")] = None,
    since: Annotated[datetime | None, Query(description="ISO 8601; stories published at or after")] = None,
    until: Annotated[datetime | None, Query(description="ISO 8601; stories published before")] = None,
    min_confidence: Annotated[float | None, Query(ge=0, le=1)] = None,
    q: Annotated[str | None, Query(max_length=MAX_Q, description="full-text search: every word must appear "
                                   "in the headline, summary or an article title")] = None,
) -> repo.StoryFilter:
    for name, value in request.query_params.multi_items():
        if "\x00" in value or "\x00" in name:
            raise unprocessable(name, "NUL characters are not allowed")
    topics, entities = list(dict.fromkeys(topic or ())), list(dict.fromkeys(entity or ()))
    for param, values in (("topic", topics), ("entity", entities)):
        if len(values) > MAX_REPEAT:
            raise unprocessable(param, f"at most {MAX_REPEAT} distinct values")
        if any(len(v) > 256 for v in values):
            raise unprocessable(param, "values are at most 256 characters")
    allowed = known_topics()
    for t in topics:
        if t not in allowed:
            raise unprocessable("topic", f"unknown topic {t!r}; allowed: {', '.join(allowed)}")
    since, until = _utc("since", since), _utc("until", until)
    if since and until and since >= until:
        raise unprocessable("since", "since must be before until")
    return repo.StoryFilter(topics=tuple(topics), entities=tuple(entities), lang=lang,
                            state=tuple(dict.fromkeys(state or ())), source=source, feed_id=feed, since=since,
                            until=until, min_confidence=min_confidence, q=q)


FilterDep = Annotated[repo.StoryFilter, Depends(story_filter)]
Limit = Annotated[int | None, Query(description="page size (capped by WIREWATCH_STORIES_MAX_LIMIT)")]
Cursor = Annotated[str | None, Query(max_length=512, description="next_cursor of the previous page")]


def check_limit(limit: int | None, settings: Any) -> int:
    if limit is None:
        return int(settings.stories_default_limit)
    if not 1 <= limit <= settings.stories_max_limit:
        raise unprocessable("limit", f"limit must be between 1 and {settings.stories_max_limit}")
    return limit


class PageCache:
    """Rendered responses keyed by request, valid for one store generation (bounded LRU)."""

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._gen = -1
        self._items: OrderedDict[str, tuple[bytes, str, str]] = OrderedDict()

    def get(self, gen: int, key: str) -> tuple[bytes, str, str] | None:
        if gen != self._gen:
            self._items.clear()
            self._gen = gen
            return None
        hit = self._items.get(key)
        if hit is not None:
            self._items.move_to_end(key)
        return hit

    def put(self, gen: int, key: str, value: tuple[bytes, str, str]) -> None:
        if gen == self._gen:
            self._items[key] = value
            if len(self._items) > self.size:
                self._items.popitem(last=False)


def tag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def conditional(request: Request, body: bytes, tag: str, media_type: str) -> Response:
    """The body with its strong ETag; a matching If-None-Match gets 304 and no body."""
    if tag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers={"ETag": tag})
    return Response(body, media_type=media_type, headers={"ETag": tag, "Cache-Control": "no-cache"})


async def cached(request: Request, render: Callable[[], Any], media_type: str) -> Response:
    """Serve a rendered body from the page cache while the store watch vouches nothing changed."""
    watch = getattr(request.app.state, "store_watch", None)
    cache: PageCache | None = getattr(request.app.state, "page_cache", None)
    use = cache is not None and watch is not None and watch.fresh
    key = request.url.path + "?" + urlencode(sorted((k, v) for k, v in request.query_params.multi_items()
                                                    if k != "token"))
    gen = watch.generation if watch is not None else 0
    hit = cache.get(gen, key) if use and cache is not None else None
    if hit is None:
        body = await render()
        hit = (body, tag_of(body), media_type)
        if use and cache is not None:
            cache.put(gen, key, hit)
    return conditional(request, hit[0], hit[1], hit[2])


async def fetch_page(request: Request, f: repo.StoryFilter, limit: int,
                     cursor: str | None) -> tuple[list[StoryOut], str | None]:
    async with request.app.state.sessions() as session:
        try:
            rows, nxt = await repo.list_stories(session, filter=f, limit=limit, cursor=cursor)
        except ValueError as exc:
            raise unprocessable("cursor", str(exc)) from exc
    return [StoryOut.model_validate(s, from_attributes=True) for s in rows], nxt


@router.get("/stories", response_model=StoryPage, summary="Latest stories, newest first, with filters")
async def list_stories(request: Request, settings: SettingsDep, f: FilterDep, limit: Limit = None,
                       cursor: Cursor = None) -> Response:
    n = check_limit(limit, settings)

    async def render() -> bytes:
        items, nxt = await fetch_page(request, f, n, cursor)
        return StoryPage(items=items, next_cursor=nxt).model_dump_json().encode()

    return await cached(request, render, "application/json")


# --- feeds out: registered before /stories/{story_id} so it never captures them ---------------


def base_url(request: Request, settings: Any) -> str:
    return str(settings.public_url).rstrip("/") or str(request.base_url).rstrip("/")


def feed_meta(request: Request, settings: Any, f: repo.StoryFilter, nxt: str | None) -> feeds_out.FeedMeta:
    base = base_url(request, settings)
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in ("token", "cursor")]
    self_url = f"{base}{request.url.path}" + (f"?{urlencode(params)}" if params else "")
    next_url = f"{base}{request.url.path}?{urlencode([*params, ('cursor', nxt)])}" if nxt else None
    what = " + ".join([*f.topics, *f.entities, *([f"“{f.q}”"] if f.q else [])]) or "all stories"
    return feeds_out.FeedMeta(title=f"Wirewatch: {what}", home_url=base, self_url=self_url, next_url=next_url,
                              description=f"Wirewatch stories ({what}), newest first")


def feed_route(renderer: Callable[..., bytes], media_type: str) -> Callable[..., Any]:
    async def route(request: Request, settings: SettingsDep, f: FilterDep, limit: Limit = None,
                    cursor: Cursor = None) -> Response:
        n = check_limit(limit, settings)

        async def render() -> bytes:
            items, nxt = await fetch_page(request, f, n, cursor)
            return renderer(items, feed_meta(request, settings, f, nxt))

        return await cached(request, render, media_type)

    return route


router.add_api_route("/stories.rss", feed_route(feeds_out.rss, feeds_out.RSS_TYPE), methods=["GET"],
                     summary="The /stories query as RSS 2.0", response_class=Response)
router.add_api_route("/stories.atom", feed_route(feeds_out.atom, feeds_out.ATOM_TYPE), methods=["GET"],
                     summary="The /stories query as Atom", response_class=Response)
router.add_api_route("/stories.json", feed_route(feeds_out.json_feed, feeds_out.JSONFEED_TYPE), methods=["GET"],
                     summary="The /stories query as JSON Feed 1.1", response_class=Response)


@router.get("/stories/stream", summary="New and updated stories as Server-Sent Events (same filters)",
            response_class=Response)
async def story_stream(
    request: Request, settings: SettingsDep, f: FilterDep,
    last_event_id: Annotated[str | None, Header(description="resume after this event id")] = None,
    after: Annotated[str | None, Query(max_length=200, description="resume position when a header "
                                       "cannot be set (same as Last-Event-ID)")] = None,
) -> Response:
    watch: stream.StoreWatch | None = getattr(request.app.state, "store_watch", None)
    if watch is None:
        raise HTTPException(503, "the live stream is not running", headers={"Retry-After": "5"})
    resume = None
    if last_event_id or after:
        try:
            resume = stream.parse_position(last_event_id or after or "")
        except ValueError as exc:
            raise unprocessable("Last-Event-ID", str(exc)) from exc
    return EventSourceResponse(stream.events(watch, request.app.state.sessions, f, resume),
                               ping=settings.sse_keepalive_s, headers={"Cache-Control": "no-cache"})


@router.get("/stories/{story_id}", response_model=StoryDetail, summary="One story with its articles",
            responses={404: {"description": "unknown story id"}})
async def get_story(story_id: str, request: Request, session: SessionDep) -> Response:
    valid = len(story_id) <= 64 and "\x00" not in story_id  # ids are hex digests; skip the store otherwise
    story = await repo.get_story(session, story_id=story_id) if valid else None
    if story is None:
        raise HTTPException(404, f"no story with id {story_id[:100]!r}")
    arts = await repo.story_articles(session, story_id=story_id)
    detail = StoryDetail(**StoryOut.model_validate(story, from_attributes=True).model_dump(),
                         articles=[ArticleOut.of(a) for a in arts])
    body = detail.model_dump_json().encode()
    return conditional(request, body, tag_of(body), "application/json")


@router.get("/entities", summary="Entities by number of stories (autocomplete with ?q=)")
async def entities(session: SessionDep,
                   q: Annotated[str, Query(max_length=100)] = "",
                   limit: Annotated[int, Query(ge=1, le=100)] = 20) -> list[dict[str, Any]]:
    if "\x00" in q:
        raise unprocessable("q", "NUL characters are not allowed")
    return await repo.entity_counts(session, prefix=q, limit=limit)


@router.get("/topics", summary="The topic taxonomy with story counts")
async def topics(session: SessionDep) -> dict[str, Any]:
    counts = await repo.topic_counts(session)
    return {"topics": [{"name": t, "stories": counts.get(t, 0)} for t in known_topics()],
            "states": list(LIFECYCLE)}
