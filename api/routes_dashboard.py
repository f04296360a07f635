"""/dashboard: the server-rendered ops page (works without JavaScript)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import select

from api.deps import SessionDep, SettingsDep
from services.db import stories as story_repo
from services.db.heartbeats import list_heartbeats
from services.db.models import Feed

router = APIRouter(tags=["dashboard"], include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


@router.get("/dashboard", response_class=HTMLResponse)
async def dashboard(request: Request, session: SessionDep, settings: SettingsDep) -> HTMLResponse:
    feeds = list((await session.scalars(select(Feed).order_by(Feed.consecutive_failures.desc(), Feed.url))).all())
    counts = await story_repo.counts(session)
    latest, _ = await story_repo.list_stories(session, filter=story_repo.StoryFilter(), limit=20)
    tagged = [s for s in latest if s.topics]
    beats = await list_heartbeats(request.app.state.sessions, max_age_s=120)
    resp = templates.TemplateResponse(request, "dashboard.html", {
        "feeds": feeds, "counts": counts, "stories": tagged, "now": datetime.now(UTC),
        "failing": sum(1 for f in feeds if f.consecutive_failures), "heartbeats": beats,
    })
    resp.headers["Content-Security-Policy"] = CSP
    return resp
