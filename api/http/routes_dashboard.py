"""/dashboard: the ops pages. Server-rendered (tables work without JavaScript); one script polls
/dashboard/data.json for the live charts. Numbers come from api.http.observe (the same series as
/metrics) and from the store; admin actions are POST forms guarded by the admin cookie.

This module holds what every page shares (who is looking, the CSRF guard, rendering, redirects with a
notice) and the overview, stories and login pages; the feeds page is api.http.routes_dashboard_feeds,
the webhooks and alerts page api.http.routes_dashboard_hooks.

Security: every page carries a Content-Security-Policy without inline script; the session
cookie is HttpOnly and SameSite=Strict, and every POST must come from our own origin.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, status
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from api.http import observe
from api.http.context import AppContext, CtxDep
from api.http.deps import SessionDep, SettingsDep, is_admin, same_origin
from api.http.schemas import MAX_Q
from services.db import feeds as feed_repo
from services.db import metric_history
from services.db import stories as story_repo
from services.db.feeds import feed_status
from services.db.observe import store_error
from services.matching import StoryFilter
from services.settings import Settings

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
router = APIRouter(tags=["dashboard"], include_in_schema=False)
templates = Jinja2Templates(directory=str(HERE / "templates"))


def _span(seconds: float) -> str:
    s = abs(seconds)
    if s < 90:
        return f"{s:.0f} s"
    if s < 5400:
        return f"{s / 60:.0f} min"
    if s < 172_800:
        return f"{s / 3600:.1f} h"
    return f"{s / 86400:.1f} d"


def _ago(when: datetime | None) -> str:
    if when is None:
        return "never"
    return _span((datetime.now(UTC) - when).total_seconds()) + " ago"


def _until(when: datetime | None) -> str:
    if when is None:
        return "—"
    left = (when - datetime.now(UTC)).total_seconds()
    return "due now" if left <= 0 else "in " + _span(left)


def _secs(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value * 1000:.0f} ms" if value < 1 else _span(value)


templates.env.filters.update(ago=_ago, until=_until, secs=_secs,
                             dt=lambda d: d.strftime("%Y-%m-%d %H:%M") if d else "—")
COOKIE = "wirewatch_admin"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'")
SECURITY_HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
                    "Referrer-Policy": "same-origin", "X-Frame-Options": "DENY"}
NOTICES = {  # ?notice= values a redirect may carry; the text is ours, never echoed from the URL
    "enabled": "Feed enabled.", "disabled": "Feed disabled.", "fetch": "Feed scheduled to be fetched now.",
    "replayed": "Delivery queued for replay.", "login": "Logged in as admin.", "logout": "Logged out.",
    "missing": "That item no longer exists.", "deleted": "Feed deleted.",
    "added": "Feed added; its first fetch is due now.",
    "imported": "OPML imported: {added} new feeds, {existing} already present, {refused} refused.",
    "tested": "Test event queued; the dispatcher sends it within seconds.",
    "unsubscribed": "Subscription deleted.", "alert-added": "Alert created. Press “Send test” to check the channel.",
}
NOTICE_COUNTS = ("added", "existing", "refused")  # the only numbers a notice may show (digits, nothing else)
OVERVIEW_FEEDS = 50
STORIES_PAGE = 25
FEED_FORMATS = (("rss", "RSS"), ("atom", "Atom"), ("json", "JSON Feed"))


# --- who is looking ----------------------------------------------------------


@dataclass(frozen=True)
class Viewer:
    admin: bool
    can_read: bool
    admin_enabled: bool


def _token(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip() or None
    return request.cookies.get(COOKIE)


def _is_reader(settings: Settings, token: str | None) -> bool:
    return bool(token) and any(hmac.compare_digest(token.encode(), t.encode())  # type: ignore[union-attr]
                               for t in settings.read_tokens)


def viewer(request: Request, settings: SettingsDep) -> Viewer:
    token = _token(request)
    admin = is_admin(settings, token)
    return Viewer(admin=admin, can_read=settings.dashboard_public or admin or _is_reader(settings, token),
                  admin_enabled=bool(settings.admin_token))


def require_view(request: Request, who: Annotated[Viewer, Depends(viewer)]) -> Viewer:
    """Read access, or a redirect to the login form (401 for the JSON endpoint)."""
    if who.can_read:
        return who
    if request.url.path.endswith(".json"):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "log in at /dashboard/login or send a token",
                            headers={"WWW-Authenticate": "Bearer"})
    raise HTTPException(status.HTTP_303_SEE_OTHER, "log in first",
                        headers={"Location": "/dashboard/login?" + urlencode({"next": _local(str(request.url))})})


ViewDep = Annotated[Viewer, Depends(require_view)]


async def from_our_pages(request: Request, settings: SettingsDep) -> None:
    """CSRF guard for every dashboard POST: api.http.deps.same_origin, the API's rule for the same cookie."""
    if not same_origin(request, settings):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "cross-site request refused (Origin does not match)")


def require_admin_form(who: Annotated[Viewer, Depends(viewer)],
                       _: Annotated[None, Depends(from_our_pages)]) -> None:
    if not who.admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "admin login required (/dashboard/login)")


AdminForm = Depends(require_admin_form)


def _local(url: str) -> str:
    """Only same-site paths under /dashboard are valid redirect targets."""
    parts = urlsplit(url)
    path = parts.path if parts.path.startswith("/dashboard") else "/dashboard"
    return path + (f"?{parts.query}" if parts.query else "")


def redirect_back(target: str, notice: str, **counts: int) -> RedirectResponse:
    """303 to a dashboard page (never elsewhere) with a notice key and the numbers it shows."""
    parts = urlsplit(_local(target))
    ours = ("notice", *NOTICE_COUNTS)
    query = "&".join(q for q in parts.query.split("&") if q and q.split("=", 1)[0] not in ours)
    query = (query + "&" if query else "") + urlencode({"notice": notice, **counts})
    return RedirectResponse(f"{parts.path}?{query}", status_code=status.HTTP_303_SEE_OTHER)


def _notice(request: Request) -> str | None:
    text = NOTICES.get(request.query_params.get("notice", ""))
    if text and "{" in text:
        raw = {k: request.query_params.get(k, "0")[:9] for k in NOTICE_COUNTS}
        text = text.format(**{k: int(v) if v.isdigit() else 0 for k, v in raw.items()})
    return text


def render(request: Request, name: str, ctx: dict[str, Any], *, code: int = 200) -> HTMLResponse:
    who: Viewer = ctx.get("who") or Viewer(False, False, False)
    base = {"who": who, "now": datetime.now(UTC), "path": request.url.path,
            "notice": _notice(request), "here": _local(str(request.url))}
    resp = templates.TemplateResponse(request, name, {**base, **ctx}, status_code=code)
    resp.headers.update({**SECURITY_HEADERS, "Cache-Control": "no-store"})
    return resp


def store_down(request: Request, who: Viewer, exc: Exception) -> HTMLResponse:
    return render(request, "error.html", {"who": who, "title": "Store unavailable",
                                          "error": f"The store did not answer ({type(exc).__name__}). "
                                                   "This page retries when you reload it."}, code=503)


# --- static files (vendor chart library, CSS, JS) ----------------------------


@router.get("/static/{path:path}")
async def static_file(path: str) -> FileResponse:
    target = (STATIC / path).resolve()
    if not target.is_relative_to(STATIC) or not target.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such file")
    return FileResponse(target, headers={"Cache-Control": "public, max-age=300",
                                         "X-Content-Type-Options": "nosniff"})


# --- pages ---------------------------------------------------------------------


@router.get("/dashboard", response_class=HTMLResponse)
async def overview(request: Request, session: SessionDep, ctx: CtxDep, who: ViewDep) -> HTMLResponse:
    try:
        data = await live_data(ctx, session)
        tables = await overview_tables(session)
    except (SQLAlchemyError, OSError) as exc:
        return store_down(request, who, exc)
    return render(request, "overview.html", {"who": who, "d": data, **tables, "feed_status": feed_status})


@router.get("/dashboard/data.json")
async def data_json(session: SessionDep, ctx: CtxDep, _: ViewDep) -> JSONResponse:
    try:
        data = await live_data(ctx, session)
    except (SQLAlchemyError, OSError) as exc:
        return JSONResponse({"error": f"store unavailable ({type(exc).__name__})"}, status_code=503,
                            headers={"Cache-Control": "no-store", "Retry-After": "5"})
    return JSONResponse(_jsonable(data), headers={"Cache-Control": "no-store"})


async def live_data(ctx: AppContext, session: AsyncSession) -> dict[str, Any]:
    """Everything the overview shows, as plain data (rendered by Jinja and served as JSON)."""
    obs = ctx.observer
    now = datetime.now(UTC)
    point = await obs.sample(ctx.sessions)
    lag_rows, lag_error = await obs.consumer_lag()
    snap = obs.ring.snapshots[-1] if obs.ring.snapshots else None
    freshness = []
    for stage in observe.FRESHNESS_STAGES:
        p50, n = observe.total_quantile(snap, observe.FRESHNESS, 0.5, {"stage": stage}) if snap else (None, 0)
        p95, _ = observe.total_quantile(snap, observe.FRESHNESS, 0.95, {"stage": stage}) if snap else (None, 0)
        freshness.append({"stage": stage, "p50": p50, "p95": p95, "count": int(n)})
    stored = await metric_history.since(session, after=now - timedelta(seconds=ctx.settings.dashboard_history_s))
    points = [observe.point_from(d) for d in stored]
    last = points[-1].at if points else 0.0
    points += [p for p in obs.ring.points if p.at > last]  # samples newer than the last stored one
    return {
        "generated_at": now,
        "counts": await story_repo.counts(session),
        "feeds": {"total": await feed_repo.count_feeds(session), "failing": await feed_repo.count_failing(session)},
        "health": {"store": await store_error(ctx.sessions), "kafka": await obs.kafka_ok(),
                   "sources": [vars(s) for s in obs.sources]},
        "rates": {"throughput": point.throughput if point else {}, "errors": point.errors if point else {}},
        "freshness": freshness,
        "lag": {"rows": [vars(r) for r in lag_rows], "error": lag_error},
        "charts": {
            "throughput": observe.chart(points, lambda p: p.throughput),
            "errors": observe.chart(points, lambda p: p.errors),
            "freshness": observe.chart(points, lambda p: p.freshness),
            "lag": observe.chart(points, lambda p: p.lag),
            "topics": await observe.topics_per_hour(session, now=now),
        },
        "topic_totals": dict(sorted((await story_repo.topic_counts(session)).items(), key=lambda kv: -kv[1])),
    }


async def overview_tables(session: AsyncSession) -> dict[str, Any]:
    """The overview's server-only tables: feeds needing attention first, and the latest tagged stories."""
    feeds, _ = await feed_repo.feed_table(session, sort="status", descending=True, limit=OVERVIEW_FEEDS)
    latest, _ = await story_repo.list_stories(session, filter=StoryFilter(), limit=30)
    return {"feeds": feeds, "stories": [s for s in latest if s.topics][:10]}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


@router.get("/dashboard/stories", response_class=HTMLResponse)
async def stories_page(request: Request, session: SessionDep, who: ViewDep, settings: SettingsDep, topic: str = "",
                       entity: str = "", q: Annotated[str, Query(max_length=MAX_Q)] = "",
                       cursor: str | None = None) -> HTMLResponse:
    """The story list with the /stories filters (topic, entity, words) and the feeds of that same query."""
    q = q.replace("\x00", " ").strip()
    flt = StoryFilter(topics=[topic] if topic else [], entities=[entity] if entity else [], q=q or None)
    try:
        try:
            stories, next_cursor = await story_repo.list_stories(session, filter=flt, limit=STORIES_PAGE,
                                                                 cursor=cursor)
        except ValueError:
            stories, next_cursor = [], None
        articles = {s.id: await story_repo.story_articles(session, story_id=s.id) for s in stories}
        topics = dict(sorted((await story_repo.topic_counts(session)).items()))
        entities = await story_repo.entity_counts(session, limit=20)
    except (SQLAlchemyError, OSError) as exc:
        return store_down(request, who, exc)
    active = {k: v for k, v in (("topic", topic), ("entity", entity), ("q", q)) if v}
    return render(request, "stories.html", {"who": who, "stories": stories, "articles": articles,
                                            "topic": topic, "entity": entity, "q": q, "active": active,
                                            "topics": topics, "entities": entities, "next_cursor": next_cursor,
                                            "first_page": cursor is None,
                                            "subscribe": subscribe_links(request, settings, active),
                                            "digests": subscribe_links(request, settings, active, "digests/daily")})


def subscribe_links(request: Request, settings: Settings, active: dict[str, str],
                    path: str = "stories") -> list[dict[str, str]]:
    """Absolute /stories.rss|atom|json (or /digests/daily.…) URLs for the page's filter, for a feed reader."""
    base = (settings.public_url or str(request.base_url)).rstrip("/")
    query = f"?{urlencode(active)}" if active else ""
    return [{"ext": ext, "label": label, "url": f"{base}/{path}.{ext}{query}",
             "type": {"rss": "application/rss+xml", "atom": "application/atom+xml",
                      "json": "application/feed+json"}[ext]} for ext, label in FEED_FORMATS]


# --- login -----------------------------------------------------------------------


@router.get("/dashboard/login", response_class=HTMLResponse)
async def login_form(request: Request, who: Annotated[Viewer, Depends(viewer)],
                     next: str = "/dashboard") -> HTMLResponse:
    return render(request, "login.html", {"who": who, "next": _local(next), "error": None})


@router.post("/dashboard/login", dependencies=[Depends(from_our_pages)])
async def login(request: Request, settings: SettingsDep, token: Annotated[str, Form()] = "",
                next: Annotated[str, Form()] = "/dashboard") -> Response:
    if not (is_admin(settings, token) or _is_reader(settings, token)):
        who = Viewer(False, settings.dashboard_public, bool(settings.admin_token))
        error = ("Admin login is disabled: set WIREWATCH_ADMIN_TOKEN." if not settings.admin_token
                 else "That token is not valid.")
        return render(request, "login.html", {"who": who, "next": _local(next), "error": error},
                      code=status.HTTP_401_UNAUTHORIZED)
    resp = redirect_back(next, "login")
    resp.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/",
                    secure=request.url.scheme == "https", max_age=12 * 3600)
    return resp


@router.post("/dashboard/logout", dependencies=[Depends(from_our_pages)])
async def logout() -> Response:
    resp = redirect_back("/dashboard", "logout")
    resp.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return resp
