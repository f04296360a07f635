"""/dashboard/feeds: the feed table, and the admin forms that manage feeds without the API or the CLI.

Add (with discovery: a web page's ``<link rel="alternate">`` feed), OPML import and export, enable,
disable, fetch now and delete. Each form does what the feeds API does, through the same functions:
the SSRF guard (services.netguard), ingest.discover.discover_feed, ingest.opml and services.db.feeds.
A refused form re-renders the page with the reason and what was typed (422); a done one redirects
with a notice (POST, redirect, GET), so a reload never repeats it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile, status
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from api.http.deps import SessionDep, SettingsDep
from api.http.routes_dashboard import AdminForm, ViewDep, Viewer, redirect_back, render, store_down, viewer
from api.http.routes_feeds import allowed_outlines
from api.http.schemas_feeds import FeedCreate
from ingest.discover import discover_feed
from ingest.errors import FetchError
from ingest.opml import OPMLError, OutlineFeed, export_opml, parse_opml
from services import netguard
from services.db import feeds as feed_repo
from services.db.feeds import feed_status
from services.settings import Settings

log = logging.getLogger(__name__)
router = APIRouter(tags=["dashboard"], include_in_schema=False)
UNPROCESSABLE = 422  # a refused form, as the API answers (Starlette renamed the constant)
FEED_STATUSES = ("all", "failing", "ok", "pending", "disabled")
ACTIONS = {"enable": "enabled", "disable": "disabled", "fetch": "fetch", "delete": "deleted"}  # action -> notice
FeedId = Annotated[int, PathParam(ge=1, le=2**31 - 1)]


async def feeds_view(request: Request, session: AsyncSession, who: Viewer, settings: Settings, *,
                     status_: str = "all", q: str = "", sort: str = "status", dir: str = "desc", page: int = 1,
                     form: dict[str, Any] | None = None, code: int = 200) -> HTMLResponse:
    """The feed table, filtered, sorted and paged by the store (10,000 feeds never load at once), with the
    admin forms; ``form`` carries a refused form's error and values back into it."""
    status_ = status_ if status_ in FEED_STATUSES else "all"
    sort = sort if sort in feed_repo.FEED_SORTS else "status"
    size = settings.dashboard_page_size
    page = max(1, min(page, 1_000_000))
    try:
        counts = await feed_repo.status_counts(session, max_age_s=settings.dashboard_counts_max_age_s)
        known = None if q.strip() else (sum(counts.values()) if status_ == "all" else counts[status_])
        shown, matching = await feed_repo.feed_table(
            session, status=None if status_ == "all" else status_, q=q, sort=sort, descending=dir != "asc",
            limit=size, offset=(page - 1) * size, matching=known)
    except (SQLAlchemyError, OSError) as exc:
        return store_down(request, who, exc)
    pages = max(1, -(-matching // size))
    return render(request, "feeds.html", {"who": who, "feeds": shown, "total": sum(counts.values()),
                                          "counts": counts, "matching": matching, "page": page, "pages": pages,
                                          "first": (page - 1) * size + 1, "status": status_, "q": q, "sort": sort,
                                          "dir": dir, "statuses": FEED_STATUSES, "feed_status": feed_status,
                                          "form": form or {}}, code=code)


@router.get("/dashboard/feeds", response_class=HTMLResponse)
async def feeds_page(request: Request, session: SessionDep, who: ViewDep, settings: SettingsDep, status: str = "all",
                     q: str = "", sort: str = "status", dir: str = "desc", page: int = 1) -> HTMLResponse:
    return await feeds_view(request, session, who, settings, status_=status, q=q, sort=sort, dir=dir, page=page)


@router.get("/dashboard/feeds/export.opml")
async def export_feeds(session: SessionDep, _: ViewDep) -> Response:
    """Every feed as OPML 2.0 (what ``GET /feeds/export.opml`` serves), for another reader or a backup."""
    rows = await feed_repo.list_feeds(session)
    outlines = [OutlineFeed(url=f.url, title=f.title, site_url=f.site_url, tags=list(f.tags or [])) for f in rows]
    return Response(export_opml(outlines), media_type="text/x-opml",
                    headers={"Content-Disposition": 'attachment; filename="wirewatch-feeds.opml"',
                             "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


def _tags(raw: str) -> list[str]:
    return list(dict.fromkeys(t.strip() for t in raw.split(",") if t.strip()))


async def _add(url: str, title: str, tags: list[str], session: AsyncSession, settings: Settings) -> str:
    """POST /feeds's steps; returns the stored URL, or raises ValueError with the reason to show."""
    try:
        body = FeedCreate(url=url, title=title or None, tags=tags)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ValueError("; ".join(e["msg"] for e in exc.errors())) from exc
    url = str(body.url)
    try:
        netguard.check_url_static(url, settings.feed_allowed_hosts)
    except netguard.BlockedTarget as exc:
        raise ValueError(f"URL refused: {exc}") from exc
    if await feed_repo.get_feed_by_url(session, url=url):
        raise ValueError("that feed is already in the list")
    try:
        found = await discover_feed(url, settings)
    except FetchError as exc:
        raise ValueError(f"not a usable feed ({exc.error_class}): {exc}") from exc
    try:
        await feed_repo.add_feed(session, url=found.url, title=body.title or found.title, tags=body.tags,
                                 now=datetime.now(UTC))
    except feed_repo.DuplicateFeed as exc:
        raise ValueError(f"the feed this page advertises is already in the list: {found.url}") from exc
    return found.url


@router.post("/dashboard/feeds", dependencies=[AdminForm])
async def add_feed(request: Request, session: SessionDep, settings: SettingsDep,
                   url: Annotated[str, Form(max_length=2048)] = "", title: Annotated[str, Form(max_length=512)] = "",
                   tags: Annotated[str, Form(max_length=2000)] = "") -> Response:
    """A feed URL, or a web page that advertises one; the feed is fetched once to check it before it is stored."""
    try:
        stored = await _add(url.strip(), title.strip(), _tags(tags), session, settings)
    except ValueError as exc:
        who = viewer(request, settings)
        return await feeds_view(request, session, who, settings, code=UNPROCESSABLE,
                                form={"error": str(exc), "url": url, "title": title, "tags": tags})
    return redirect_back("/dashboard/feeds?" + urlencode({"q": stored}), "added")


@router.post("/dashboard/feeds/import", dependencies=[AdminForm])
async def import_feeds(request: Request, session: SessionDep, settings: SettingsDep,
                       opml: Annotated[UploadFile, File()]) -> Response:
    """An OPML file's feeds, as POST /feeds/import adds them: new URLs only, each through the SSRF guard."""
    limit = settings.opml_max_bytes
    data = await opml.read(limit + 1)
    try:
        if len(data) > limit:
            raise OPMLError(f"the file is larger than {limit // (1024 * 1024)} MB (WIREWATCH_OPML_MAX_BYTES)")
        outlines = parse_opml(data)
    except OPMLError as exc:
        who = viewer(request, settings)
        return await feeds_view(request, session, who, settings, code=UNPROCESSABLE,
                                form={"import_error": f"{opml.filename or 'the file'}: {exc}"})
    usable = allowed_outlines(outlines, settings.feed_allowed_hosts)
    added, existing = await feed_repo.import_opml(session, feeds=usable, now=datetime.now(UTC))
    return redirect_back("/dashboard/feeds", "imported", added=added, existing=existing,
                         refused=len(outlines) - len(usable))


@router.post("/dashboard/feeds/{feed_id}/{action}", dependencies=[AdminForm])
async def feed_action(feed_id: FeedId, action: str, session: SessionDep,
                      next: Annotated[str, Form()] = "/dashboard/feeds") -> Response:
    """Enable, disable, fetch now or delete one feed, then back to the page the button was on."""
    if action not in ACTIONS:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "unknown action")
    if action == "fetch":
        found = await feed_repo.schedule_now(session, feed_id=feed_id, now=datetime.now(UTC))
    elif action == "delete":
        found = await feed_repo.delete_feed(session, feed_id=feed_id)
    else:
        found = await feed_repo.update_feed(session, feed_id=feed_id, enabled=action == "enable") is not None
    return redirect_back(next, ACTIONS[action] if found else "missing")
