"""Feeds API: list/inspect feeds with their health, manage them (admin), OPML in/out, WebSub callbacks.

Thin views: validation and status codes here, queries in services.db.feeds,
ingest logic in ingest/ (feed discovery in ingest.discover, WebSub maths in ingest.websub, and the
push intake in ingest.push, which publishes pushed bodies through the shared path).
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response, status
from fastapi.responses import PlainTextResponse
from pydantic import TypeAdapter

from api.http.context import CtxDep
from api.http.deps import AdminDep, SessionDep, SettingsDep
from api.http.schemas import Problem, ValidationProblem
from api.http.schemas_feeds import FeedCreate, FeedOut, FeedPatch, ImportResult
from ingest import websub
from ingest.discover import discover_feed
from ingest.errors import FetchError
from ingest.opml import OPMLError, OutlineFeed, export_opml, parse_opml
from services import netguard
from services.clock import utcnow
from services.db import feeds as repo

log = logging.getLogger(__name__)
FeedId = Annotated[int, Path(ge=1, le=2**31 - 1, description="feed id")]

router = APIRouter(tags=["feeds"])
MAX_PUSH_BYTES = 5 * 1024 * 1024
FEED_LIST = TypeAdapter(list[FeedOut])
FEED_COLUMNS = tuple(FeedOut.model_fields)  # every field is a column of the feeds table


def unprocessable(field: str, msg: str) -> HTTPException:
    """A 422 shaped like every other one (the OpenAPI schema's HTTPValidationError)."""
    return HTTPException(422, detail=[{"loc": ["body", field], "msg": msg, "type": "value_error"}])


@router.get("/feeds", response_model=list[FeedOut])
async def list_feeds(session: SessionDep, enabled: bool | None = None, failing: bool | None = None,
                     tag: str | None = None, limit: int = Query(500, ge=1, le=5000),
                     offset: int = Query(0, ge=0, le=2**31 - 1)) -> Any:
    rows = await repo.list_feed_values(session, columns=FEED_COLUMNS, enabled=enabled, failing=failing, tag=tag,
                                       limit=limit, offset=offset)
    return Response(FEED_LIST.dump_json(FEED_LIST.validate_python(rows)), media_type="application/json")


@router.get("/feeds/export.opml", response_class=Response)
async def export_feeds(session: SessionDep) -> Response:
    rows = await repo.list_feeds(session)
    outlines = [OutlineFeed(url=f.url, title=f.title, site_url=f.site_url, tags=list(f.tags or [])) for f in rows]
    return Response(export_opml(outlines), media_type="text/x-opml",
                    headers={"Content-Disposition": 'attachment; filename="wirewatch-feeds.opml"'})


@router.get("/feeds/{feed_id}", response_model=FeedOut)
async def get_feed(feed_id: FeedId, session: SessionDep) -> Any:
    feed = await repo.get_feed(session, feed_id=feed_id)
    if feed is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such feed")
    return feed


@router.post("/feeds", response_model=FeedOut, status_code=status.HTTP_201_CREATED, dependencies=[AdminDep])
async def add_feed(body: FeedCreate, session: SessionDep, settings: SettingsDep) -> Any:
    url = str(body.url)
    try:
        netguard.check_url_static(url, settings.feed_allowed_hosts)
    except netguard.BlockedTarget as exc:
        raise unprocessable("url", f"URL refused: {exc}") from exc
    if await repo.get_feed_by_url(session, url=url):
        raise HTTPException(status.HTTP_409_CONFLICT, "feed already exists")
    title = body.title or ""
    try:
        found = await discover_feed(url, settings)
    except FetchError as exc:
        raise unprocessable("url", f"not a usable feed ({exc.error_class}): {exc}") from exc
    try:
        return await repo.add_feed(session, url=found.url, title=title or found.title, tags=body.tags,
                                   interval_override_s=body.interval_override_s, enabled=body.enabled, now=utcnow())
    except repo.DuplicateFeed as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, "feed already exists") from exc


@router.patch("/feeds/{feed_id}", response_model=FeedOut, dependencies=[AdminDep])
async def patch_feed(feed_id: FeedId, body: FeedPatch, session: SessionDep) -> Any:
    changes = body.model_dump(exclude_unset=True)
    feed = await repo.update_feed(session, feed_id=feed_id, **changes)
    if feed is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such feed")
    return feed


@router.delete("/feeds/{feed_id}", status_code=status.HTTP_204_NO_CONTENT, dependencies=[AdminDep])
async def delete_feed(feed_id: FeedId, session: SessionDep) -> Response:
    if not await repo.delete_feed(session, feed_id=feed_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such feed")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/feeds/{feed_id}/fetch", status_code=status.HTTP_202_ACCEPTED, dependencies=[AdminDep])
async def fetch_now(feed_id: FeedId, session: SessionDep) -> dict[str, Any]:
    now = utcnow()
    if not await repo.schedule_now(session, feed_id=feed_id, now=now):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such feed")
    return {"id": feed_id, "next_check_at": now.isoformat()}


def allowed_outlines(outlines: list[OutlineFeed], allowed: list[str]) -> list[OutlineFeed]:
    """The OPML feeds the SSRF guard lets through (the API's and the dashboard's import alike); the
    others are logged and left out."""
    usable = []
    for o in outlines:
        try:
            netguard.check_url_static(o.url, allowed)
            usable.append(o)
        except netguard.BlockedTarget:
            log.warning("OPML feed refused by the SSRF guard", extra={"url": o.url})
    return usable


@router.post("/feeds/import", response_model=ImportResult, dependencies=[AdminDep],
             responses={413: {"model": Problem, "description": "more than the OPML size limit"},
                        422: {"model": ValidationProblem, "description": "not OPML"}},
             openapi_extra={"requestBody": {"required": True, "content": {
                 "text/x-opml": {"schema": {"type": "string"}}, "application/xml": {"schema": {"type": "string"}}}}})
async def import_feeds(request: Request, session: SessionDep, settings: SettingsDep) -> Any:
    data = bytearray()
    async for chunk in request.stream():  # read up to the limit, never the whole of an oversized body
        data += chunk
        if len(data) > settings.opml_max_bytes:
            raise HTTPException(413,
                                f"OPML larger than {settings.opml_max_bytes} bytes (WIREWATCH_OPML_MAX_BYTES)")
    try:
        outlines = parse_opml(bytes(data))
    except OPMLError as exc:
        raise HTTPException(422, detail=[{"loc": ["body"], "msg": str(exc), "type": "value_error"}]) from exc
    usable = allowed_outlines(outlines, settings.feed_allowed_hosts)
    added, existing = await repo.import_opml(session, feeds=usable, now=utcnow())
    return ImportResult(added=added, existing=existing)


# --- WebSub callbacks ----------------------------------------------------------

@router.get("/websub/{feed_id}", response_class=PlainTextResponse, include_in_schema=False)
async def websub_verify(feed_id: FeedId, request: Request, session: SessionDep, settings: SettingsDep) -> Any:
    feed = await repo.get_feed(session, feed_id=feed_id)
    params = dict(request.query_params)
    if feed is None:
        if params.get("hub.mode") == "unsubscribe" and params.get("hub.challenge"):
            return PlainTextResponse(params["hub.challenge"])
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such feed")
    if params.get("hub.mode") == "denied":
        await repo.set_websub(session, feed_id=feed_id, hub_url=feed.hub_url, state="denied",
                              lease_until=websub.lease_until(utcnow(), None, settings.websub_lease_s))
        return PlainTextResponse("")
    challenge = websub.verify_intent(params, topic=feed.websub_topic or feed.url, state=feed.websub_state)
    if challenge is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no matching subscription intent")
    if params.get("hub.mode") == "subscribe":
        lease_end = websub.lease_until(utcnow(), params.get("hub.lease_seconds"), settings.websub_lease_s)
        await repo.set_websub(session, feed_id=feed_id, hub_url=feed.hub_url, state="subscribed", lease_until=lease_end)
    return PlainTextResponse(challenge)


@router.post("/websub/{feed_id}", status_code=status.HTTP_202_ACCEPTED, include_in_schema=False)
async def websub_push(feed_id: FeedId, request: Request, session: SessionDep, ctx: CtxDep) -> Response:
    feed = await repo.get_feed(session, feed_id=feed_id)
    if feed is None or not feed.enabled:
        raise HTTPException(status.HTTP_410_GONE, "not subscribed")
    body = await request.body()
    if len(body) > MAX_PUSH_BYTES:
        raise HTTPException(413, "push body too large")
    # Per WebSub §8: a bad signature is acknowledged (2xx) but the content is ignored.
    if not websub.verify_signature(body, request.headers.get("x-hub-signature"), feed.websub_secret):
        log.warning("websub push with a bad signature ignored", extra={"feed_id": feed_id})
        return Response(status_code=status.HTTP_202_ACCEPTED)
    # Acknowledged once Kafka has the articles; a body that is no feed is logged and dropped by the intake.
    await ctx.push.accept(body, feed_id=feed.id, feed_url=feed.url, source=feed.title, now=utcnow(),
                          content_type=request.headers.get("content-type", ""))
    return Response(status_code=status.HTTP_202_ACCEPTED)
