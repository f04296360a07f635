"""/ceasefires (JSON, RSS, Atom, JSON Feed, live SSE) and /ceasefires/{id}: the ceasefire tracker's records.

Thin views over services.db.ceasefires, public like /stories (PublicDep: the rate limit, then the
optional read token, also as ?token= for feed readers). The query is one pydantic model
(api.http.schemas_ceasefires.CeasefireQuery) read the way /stories reads its own; a bad value is a 422
naming the parameter. The feeds carry one entry per state change, newest first; the stream sends each
state change as it is stored (``ceasefire.created`` / ``ceasefire.state_changed``, the webhook's body),
resuming after ``Last-Event-ID``.
"""

from __future__ import annotations

import asyncio
import html
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlencode
from xml.etree import ElementTree as ET

from fastapi import APIRouter, HTTPException, Request, Response
from sse_starlette import EventSourceResponse

from api.http import feeds_out
from api.http.context import context_of
from api.http.deps import PublicDep, SessionDep
from api.http.routes_stories import (
    LAST_EVENT_ID,
    MAX_REPEAT,
    VALIDATION,
    base_url,
    check_limit,
    conditional,
    parse_query,
    query_doc,
    tag_of,
    unprocessable,
)
from api.http.schemas_ceasefires import (
    CeasefireDetail,
    CeasefireOut,
    CeasefirePage,
    CeasefirePageQuery,
    CeasefireQuery,
    CeasefireStreamQuery,
    ChangeOut,
)
from api.tracker.payload import ceasefire_data, event_type
from services.db import ceasefires as repo
from services.db.engine import Sessions
from services.db.models import Ceasefire, CeasefireChange
from services.matching import CeasefireFacts, CeasefireFilter, ceasefire_matches

router = APIRouter(tags=["ceasefires"], dependencies=[PublicDep])
FEED_ENTRIES = 50
STREAM_PAGE = 500


def ceasefire_filter(request: Request, query: CeasefireQuery) -> CeasefireFilter:
    """The checks a schema cannot express (NUL bytes, repeat caps, date range), then the filter."""
    for name, value in request.query_params.multi_items():
        if "\x00" in value or "\x00" in name:
            raise unprocessable(name, "NUL characters are not allowed")
    parties = list(dict.fromkeys(query.party or ()))
    if len(parties) > MAX_REPEAT:
        raise unprocessable("party", f"at most {MAX_REPEAT} distinct values")
    if any(not p.strip() or len(p) > 256 for p in parties):
        raise unprocessable("party", "a party is an entity id or name of 1 to 256 characters")
    since = query.since
    if since is not None:
        try:
            since = (since if since.tzinfo else since.replace(tzinfo=UTC)).astimezone(UTC)
        except OverflowError as exc:
            raise unprocessable("since", "date is out of range") from exc
    return CeasefireFilter(states=query.state or (), parties=parties, scopes=query.scope or (), since=since,
                           q=query.q, active=bool(query.active))


async def _page(request: Request, session: SessionDep) -> tuple[list[CeasefireOut], str | None]:
    query = parse_query(request, CeasefirePageQuery)
    f = ceasefire_filter(request, query)
    n = check_limit(query.limit, context_of(request).settings)
    try:
        rows, nxt = await repo.list_page(session, filter=f, limit=n, cursor=query.cursor)
    except ValueError as exc:
        raise unprocessable("cursor", str(exc)) from exc
    stories = await repo.stories(session, ceasefire_ids=[r.id for r in rows])
    return [CeasefireOut.of(r, stories[r.id]) for r in rows], nxt


@router.get("/ceasefires", response_model=None, summary="Ceasefire records, newest report first, with filters",
            responses={200: {"model": CeasefirePage}, **VALIDATION}, openapi_extra=query_doc(CeasefirePageQuery))
async def list_ceasefires(request: Request, session: SessionDep) -> Response:
    items, nxt = await _page(request, session)
    body = CeasefirePage(items=items, next_cursor=nxt).model_dump_json().encode()
    return conditional(request, body, tag_of(body), "application/json")


# --- feeds: one entry per state change; registered before /ceasefires/{ceasefire_id} --------------


def _entry_title(row: Ceasefire, c: CeasefireChange) -> str:
    return f"{row.title}: {c.state.replace('_', ' ')}"


def _entry_text(c: CeasefireChange) -> str:
    return c.evidence or ("The term ran out with no extension reported." if c.state == "expired" else c.state)


def _updated(changes: list[tuple[CeasefireChange, Ceasefire]]) -> datetime:
    return max((c.recorded_at for c, _ in changes), default=feeds_out.EPOCH).astimezone(UTC)


def rss(changes: list[tuple[CeasefireChange, Ceasefire]], meta: feeds_out.FeedMeta) -> bytes:
    root, ch = feeds_out.rss_channel(meta, meta.home_url + "/ceasefires", _updated(changes))
    for c, row in changes:
        item = ET.SubElement(ch, "item")
        ET.SubElement(item, "title").text = _entry_title(row, c)
        ET.SubElement(item, "link").text = f"{meta.home_url}/ceasefires/{row.id}"
        ET.SubElement(item, "description").text = html.escape(_entry_text(c), quote=False)  # RSS reads HTML
        ET.SubElement(item, "guid", {"isPermaLink": "false"}).text = f"{meta.home_url}/ceasefires/{row.id}#{c.seq}"
        ET.SubElement(item, "pubDate").text = format_datetime(c.at.astimezone(UTC), usegmt=True)
        ET.SubElement(item, "category", {"domain": meta.home_url + "/ceasefires"}).text = c.state
    return feeds_out._xml(root)


def atom(changes: list[tuple[CeasefireChange, Ceasefire]], meta: feeds_out.FeedMeta) -> bytes:
    el = feeds_out.el
    root = feeds_out.atom_feed(meta, meta.home_url + "/ceasefires", _updated(changes))
    for c, row in changes:
        entry = el(root, "entry")
        el(entry, "id", f"{meta.home_url}/ceasefires/{row.id}#{c.seq}")
        el(entry, "title", _entry_title(row, c))
        el(entry, "link", rel="alternate", href=f"{meta.home_url}/ceasefires/{row.id}", type="application/json")
        el(entry, "published", feeds_out._iso(c.at))
        el(entry, "updated", feeds_out._iso(c.recorded_at))
        el(entry, "summary", _entry_text(c))
        el(entry, "category", term=c.state, label=c.state.replace("_", " "))
    return feeds_out._xml(root)


def json_feed(changes: list[tuple[CeasefireChange, Ceasefire]], meta: feeds_out.FeedMeta) -> bytes:
    """JSON Feed 1.1: ``id`` is the change, ``url`` the record, ``external_url`` the story that reported it."""
    items = []
    for c, row in changes:
        item: dict[str, Any] = {
            "id": f"{row.id}#{c.seq}", "url": f"{meta.home_url}/ceasefires/{row.id}", "title": _entry_title(row, c),
            "content_text": _entry_text(c), "date_published": feeds_out._iso(c.at),
            "date_modified": feeds_out._iso(c.recorded_at), "tags": [c.state, row.scope],
            "_wirewatch": {"ceasefire_id": row.id, "state": c.state, "previous_state": c.previous_state,
                           "scope": row.scope, "parties": [p["name"] for p in row.parties]},
        }
        if c.story_id:
            item["external_url"] = f"{meta.home_url}/stories/{c.story_id}"
        if c.lang:
            item["language"] = c.lang
        items.append(item)
    feed: dict[str, object] = {"version": "https://jsonfeed.org/version/1.1", "title": meta.title,
                               "home_page_url": meta.home_url + "/ceasefires", "feed_url": meta.self_url,
                               "description": meta.description, "authors": [{"name": feeds_out.GENERATOR}],
                               "items": items}
    return json.dumps(feed, ensure_ascii=False, separators=(",", ":")).encode()


def feed_route(renderer: Callable[..., bytes], media_type: str) -> Callable[..., Any]:
    async def route(request: Request, session: SessionDep) -> Response:
        query = parse_query(request, CeasefireQuery)
        f = ceasefire_filter(request, query)
        base = base_url(request, context_of(request).settings)
        changes = await repo.latest_changes(session, filter=f, limit=FEED_ENTRIES)
        params = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
        self_url = f"{base}{request.url.path}" + (f"?{urlencode(params)}" if params else "")
        meta = feeds_out.FeedMeta(title="Wirewatch: ceasefire tracker", home_url=base, self_url=self_url,
                                  description="Every state change of the ceasefires Wirewatch follows, newest first")
        body = renderer(changes, meta)
        return conditional(request, body, tag_of(body), media_type)

    return route


for _suffix, _render, _type, _what in ((".rss", rss, feeds_out.RSS_TYPE, "RSS 2.0"),
                                       (".atom", atom, feeds_out.ATOM_TYPE, "Atom"),
                                       (".json", json_feed, feeds_out.JSONFEED_TYPE, "JSON Feed 1.1")):
    router.add_api_route(f"/ceasefires{_suffix}", feed_route(_render, _type), methods=["GET"],
                         summary=f"Ceasefire state changes as {_what} (same filters)", response_class=Response,
                         responses=VALIDATION, openapi_extra=query_doc(CeasefireQuery))


# --- the live stream --------------------------------------------------------------------------------


async def changes(sessions: Sessions, f: CeasefireFilter, after: int, *, api_base: str,
                  interval_s: float) -> AsyncIterator[dict[str, Any]]:
    """Every state change stored after history row ``after`` that ``f`` matches, as it is stored."""
    yield {"id": str(after), "event": "ready", "data": "{}", "retry": 3000}
    while True:
        async with sessions() as session:
            rows = await repo.changes_after(session, after_id=after, limit=STREAM_PAGE)
        for change, row in rows:
            after = change.id
            facts = CeasefireFacts.of(state=change.state, scope=row.scope, parties=row.parties,
                                      last_reported=row.last_reported, title=row.title)
            if ceasefire_matches(f, facts):
                data = ceasefire_data(row, change, api_base=api_base).model_dump_json(by_alias=True)
                yield {"id": str(change.id), "event": event_type(change), "data": data}
        if len(rows) < STREAM_PAGE:
            await asyncio.sleep(interval_s)


@router.get("/ceasefires/stream", summary="Ceasefire state changes as Server-Sent Events (same filters)",
            response_class=Response, responses=VALIDATION, openapi_extra=query_doc(CeasefireStreamQuery, LAST_EVENT_ID))
async def ceasefire_stream(request: Request, session: SessionDep) -> Response:
    query = parse_query(request, CeasefireStreamQuery)
    f = ceasefire_filter(request, query)
    ctx = context_of(request)
    position = request.headers.get("last-event-id") or query.after
    if position is not None:
        if not position.isdigit() or len(position) > 18:
            raise unprocessable("Last-Event-ID", "Last-Event-ID is not an event id of this stream")
        after = int(position)
    else:
        after = await repo.last_change_id(session)
    await session.close()  # the stream opens its own sessions; this request's must not stay checked out
    stream = changes(ctx.sessions, f, after, api_base=base_url(request, ctx.settings),
                     interval_s=ctx.settings.sse_poll_interval_s)
    return EventSourceResponse(stream, ping=ctx.settings.sse_keepalive_s, headers={"Cache-Control": "no-cache"})


@router.get("/ceasefires/{ceasefire_id}", response_model=CeasefireDetail,
            summary="One ceasefire record with its full history and stories",
            responses={404: {"description": "unknown ceasefire id"}})
async def get_ceasefire(ceasefire_id: str, request: Request, session: SessionDep) -> Response:
    valid = len(ceasefire_id) <= 64 and "\x00" not in ceasefire_id
    row = await repo.get(session, ceasefire_id=ceasefire_id) if valid else None
    if row is None:
        raise HTTPException(404, f"no ceasefire with id {ceasefire_id[:100]!r}")
    stories = await repo.stories(session, ceasefire_ids=[row.id])
    history = await repo.history(session, ceasefire_id=row.id)
    detail = CeasefireDetail(**CeasefireOut.of(row, stories[row.id]).model_dump(),
                             history=[ChangeOut.of(c) for c in history])
    body = detail.model_dump_json().encode()
    return conditional(request, body, tag_of(body), "application/json")
