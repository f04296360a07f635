"""/stories (JSON, RSS, Atom, JSON Feed, live SSE), /stories/{id}, /entities and /topics.

Thin views over services.db.stories. Every route here is public: behind PublicDep (the per-client
rate limit, then the optional read token, also accepted as ?token= for feed readers). The /stories
family reads its query through one pydantic model (api.http.schemas.PageQuery), which also documents it.
The process's one StoreWatch (api.http.stream, in the app context) feeds the live stream; its change
generation lets identical /stories requests share one rendered page (api.http.pagecache) until the store
changes. A cache hit skips the query parsing and the store, never the guard.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar, get_args, get_origin
from urllib.parse import quote, urlencode

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ValidationError
from sse_starlette import EventSourceResponse

from api.http import feeds_out, stream
from api.http.context import context_of
from api.http.deps import PublicDep, SessionDep
from api.http.pagecache import Page
from api.http.routes_story_page import wants_html
from api.http.schemas import (
    LIFECYCLE,
    STORY_ROWS,
    ArticleOut,
    PageQuery,
    StoryDetail,
    StoryOut,
    StoryPage,
    StoryQuery,
    StoryRow,
    StreamQuery,
    ValidationProblem,
)
from services.db import stories as repo
from services.matching import StoryFilter
from services.settings import Settings
from services.vocabulary import TOPICS

router = APIRouter(tags=["stories"], dependencies=[PublicDep])

MAX_REPEAT = 10


def known_topics() -> list[str]:
    """The topic names a ?topic= may ask for (the shared vocabulary the enricher tags with)."""
    return list(TOPICS)


def unprocessable(param: str, msg: str) -> HTTPException:
    return HTTPException(422, detail=[{"loc": ["query", param], "msg": msg, "type": "value_error"}])


def _utc(param: str, value: datetime | None) -> datetime | None:
    if value is None:
        return None
    try:
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    except OverflowError as exc:
        raise unprocessable(param, "date is out of range") from exc


# --- query parameters: one pydantic validation per request, documented from the same model ----------

Q = TypeVar("Q", bound=BaseModel)
VALIDATION: dict[int | str, dict[str, Any]] = {422: {"model": ValidationProblem, "description": "Validation Error"}}


@functools.cache
def _repeatable(model: type[BaseModel]) -> dict[str, bool]:
    """Each query field, and whether it takes repeated values (a list field)."""
    return {name: any(get_origin(a) is list for a in (f.annotation, *get_args(f.annotation)))
            for name, f in model.model_fields.items()}


def query_doc(model: type[BaseModel], *extra: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI parameters of a query model (what FastAPI would list for the same fields one by one)."""
    props = model.model_json_schema()["properties"]
    params = [{"name": name, "in": "query", "required": False, "schema": schema,
               **({"description": schema["description"]} if "description" in schema else {})}
              for name, schema in props.items()]
    return {"parameters": [*params, *extra]}


def parse_query(request: Request, model: type[Q]) -> Q:
    """The query string as `model`; a bad value is a 422 naming the parameter, as FastAPI would report it.

    Repeated scalar parameters keep the last value (Starlette's rule); list fields take every value.
    """
    params = request.query_params
    data: dict[str, Any] = {}
    for name, many in _repeatable(model).items():
        if many:
            if values := params.getlist(name):
                data[name] = values
        elif name in params:
            data[name] = params[name]
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("query", *e["loc"])} for e in exc.errors()]) from None


def story_filter(request: Request, query: StoryQuery) -> StoryFilter:
    """The checks a schema cannot express (NUL bytes, repeat caps, known topics, date order), then the filter."""
    for name, value in request.query_params.multi_items():
        if "\x00" in value or "\x00" in name:
            raise unprocessable(name, "NUL characters are not allowed")
    topics, entities = list(dict.fromkeys(query.topic or ())), list(dict.fromkeys(query.entity or ()))
    for param, values in (("topic", topics), ("entity", entities)):
        if len(values) > MAX_REPEAT:
            raise unprocessable(param, f"at most {MAX_REPEAT} distinct values")
        if any(len(v) > 256 for v in values):
            raise unprocessable(param, "values are at most 256 characters")
    allowed = known_topics()
    for t in topics:
        if t not in allowed:
            raise unprocessable("topic", f"unknown topic {t!r}; allowed: {', '.join(allowed)}")
    since, until = _utc("since", query.since), _utc("until", query.until)
    if since and until and since >= until:
        raise unprocessable("since", "since must be before until")
    return StoryFilter(topics=topics, entities=entities, langs=[query.lang] if query.lang else (),
                       states=query.state or (), sources=[query.source] if query.source else (), feed_id=query.feed,
                       since=since, until=until, min_confidence=query.min_confidence, q=query.q)


def check_limit(limit: int | None, settings: Settings) -> int:
    if limit is None:
        return int(settings.stories_default_limit)
    if not 1 <= limit <= settings.stories_max_limit:
        raise unprocessable("limit", f"limit must be between 1 and {settings.stories_max_limit}")
    return limit


# --- the page cache ------------------------------------------------------------------------------


def tag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def conditional(request: Request, body: bytes, tag: str, media_type: str) -> Response:
    """The body with its strong ETag; a matching If-None-Match gets 304 and no body."""
    if tag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers={"ETag": tag})
    return Response(body, media_type=media_type, headers={"ETag": tag, "Cache-Control": "no-cache"})


def cache_key(request: Request, prefix: str = "") -> str:
    """The request as sent, minus any ?token= (the body never depends on who reads it).

    Not normalised: equal keys mean equal query strings, so a hit is exactly the response this request
    would render, and a key only enters the cache after its request validated and rendered.
    """
    qs = request.scope["query_string"].decode("latin-1")
    if "token=" in qs:
        qs = "&".join(p for p in qs.split("&") if not p.startswith("token="))
    return f"{prefix}{request.scope['path']}?{qs}"


Rendered = tuple[bytes, StoryFilter, list[str]]  # the body, the filter it answers, the story ids on it


async def cached(request: Request, render: Callable[[], Awaitable[Rendered]], media_type: str,
                 key_prefix: str = "") -> Response:
    """Serve a rendered body from the page cache until a store change concerns it (api.http.pagecache).

    Only while the store watch is polling: it is what tells the cache of changes. A hit skips parsing and
    the store; the router's guard (read token, rate limit) has already run.
    """
    ctx = context_of(request)
    watch, cache = ctx.store_watch, ctx.page_cache
    if cache is None or not watch.fresh:
        body = (await render())[0]
        return conditional(request, body, tag_of(body), media_type)
    key = cache_key(request, key_prefix)
    hit = cache.get(key)
    if hit is None:

        async def page() -> Page:
            body, f, ids = await render()
            return Page(body, tag_of(body), media_type, f, frozenset(ids))

        hit = await cache.render_once(key, page)  # concurrent misses of this page share one render
    return conditional(request, hit.body, hit.tag, hit.media_type)


# --- /stories --------------------------------------------------------------------------------------


async def fetch_rows(request: Request) -> tuple[StoryFilter, list[repo.PageRow], str | None]:
    """Parse and check the query, then read one page (a plain connection: a session costs more and adds nothing)."""
    query = parse_query(request, PageQuery)
    f = story_filter(request, query)
    ctx = context_of(request)
    n = check_limit(query.limit, ctx.settings)
    async with ctx.engine.connect() as conn:
        try:
            rows, nxt = await repo.list_stories(conn, filter=f, limit=n, cursor=query.cursor, json_text=True)
        except ValueError as exc:
            raise unprocessable("cursor", str(exc)) from exc
    return f, rows, nxt


def story_list(rows: list[repo.PageRow]) -> list[StoryRow]:
    """Rows as StoryOut (StoryRow), validated as plain dicts in one pydantic call."""
    keys = rows[0]._fields if rows else ()
    return STORY_ROWS.validate_python([dict(zip(keys, r, strict=True)) for r in rows])


@router.get("/stories", response_model=None, summary="Latest stories, newest first, with filters",
            responses={200: {"model": StoryPage}, **VALIDATION}, openapi_extra=query_doc(PageQuery))
async def list_stories(request: Request) -> Response:
    async def render() -> Rendered:
        f, rows, nxt = await fetch_rows(request)
        items = story_list(rows)
        return StoryPage(items=items, next_cursor=nxt).model_dump_json().encode(), f, [s.id for s in items]

    return await cached(request, render, "application/json")


# --- feeds out: registered before /stories/{story_id} so it never captures them ---------------


def base_url(request: Request, settings: Settings) -> str:
    return str(settings.public_url).rstrip("/") or str(request.base_url).rstrip("/")


def feed_meta(request: Request, base: str, f: StoryFilter, nxt: str | None) -> feeds_out.FeedMeta:
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in ("token", "cursor")]
    self_url = f"{base}{request.url.path}" + (f"?{urlencode(params)}" if params else "")
    next_url = f"{base}{request.url.path}?{urlencode([*params, ('cursor', nxt)])}" if nxt else None
    what = " + ".join([*f.topics, *f.entities, *([f"“{f.q}”"] if f.q else [])]) or "all stories"
    return feeds_out.FeedMeta(title=f"Wirewatch: {what}", home_url=base, self_url=self_url, next_url=next_url,
                              description=f"Wirewatch stories ({what}), newest first")


def feed_route(renderer: Callable[..., bytes], media_type: str) -> Callable[[Request], Awaitable[Response]]:
    async def route(request: Request) -> Response:
        base = base_url(request, context_of(request).settings)

        async def render() -> Rendered:
            f, rows, nxt = await fetch_rows(request)
            items = story_list(rows)
            return renderer(items, feed_meta(request, base, f, nxt)), f, [s.id for s in items]

        return await cached(request, render, media_type, key_prefix=base)  # the feed's links name our base URL

    return route


router.add_api_route("/stories.rss", feed_route(feeds_out.rss, feeds_out.RSS_TYPE), methods=["GET"],
                     summary="The /stories query as RSS 2.0", response_class=Response, responses=VALIDATION,
                     openapi_extra=query_doc(PageQuery))
router.add_api_route("/stories.atom", feed_route(feeds_out.atom, feeds_out.ATOM_TYPE), methods=["GET"],
                     summary="The /stories query as Atom", response_class=Response, responses=VALIDATION,
                     openapi_extra=query_doc(PageQuery))
router.add_api_route("/stories.json", feed_route(feeds_out.json_feed, feeds_out.JSONFEED_TYPE), methods=["GET"],
                     summary="The /stories query as JSON Feed 1.1", response_class=Response, responses=VALIDATION,
                     openapi_extra=query_doc(PageQuery))

LAST_EVENT_ID = {"name": "last-event-id", "in": "header", "required": False,
                 "description": "resume after this event id",
                 "schema": {"anyOf": [{"type": "string"}, {"type": "null"}], "title": "Last-Event-Id",
                            "description": "resume after this event id"}}


@router.get("/stories/stream", summary="New and updated stories as Server-Sent Events (same filters)",
            response_class=Response, responses=VALIDATION, openapi_extra=query_doc(StreamQuery, LAST_EVENT_ID))
async def story_stream(request: Request) -> Response:
    query = parse_query(request, StreamQuery)
    f = story_filter(request, query)
    ctx = context_of(request)
    watch = ctx.store_watch
    if not watch.running:
        raise HTTPException(503, "the live stream is not running", headers={"Retry-After": "5"})
    resume = None
    if position := request.headers.get("last-event-id") or query.after:
        try:
            resume = stream.parse_position(position)
        except ValueError as exc:
            raise unprocessable("Last-Event-ID", str(exc)) from exc
    return EventSourceResponse(stream.events(watch, ctx.sessions, f, resume),
                               ping=ctx.settings.sse_keepalive_s, headers={"Cache-Control": "no-cache"})


@router.get("/stories/{story_id}", response_model=StoryDetail, summary="One story with its articles",
            responses={404: {"description": "unknown story id"}})
async def get_story(story_id: str, request: Request, session: SessionDep) -> Response:
    if wants_html(request) and request.query_params.get("format") != "json":  # a browser: the human page
        return RedirectResponse(f"/dashboard/stories/{quote(story_id, safe='')}", status_code=303)
    valid = len(story_id) <= 64 and "\x00" not in story_id  # ids are hex digests; skip the store otherwise
    story = await repo.get_story(session, story_id=story_id) if valid else None
    if story is None:
        raise HTTPException(404, f"no story with id {story_id[:100]!r}")
    arts = await repo.story_articles(session, story_id=story.id)
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
