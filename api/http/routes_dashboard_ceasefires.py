"""/dashboard/ceasefires: the tracker's records for people — active ones first, state badges, parties,
scope, age, and a timeline per ceasefire with its evidence sentences and links to the stories."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.exc import SQLAlchemyError

from api.http.deps import SessionDep
from api.http.routes_dashboard import ViewDep, render, store_down
from services.db import ceasefires as repo
from services.matching import CeasefireFilter
from services.vocabulary import LIFECYCLE_STATES

router = APIRouter(tags=["dashboard"], include_in_schema=False)
SHOWN = 100
BADGE = {"proposed": "pending", "agreed": "ok", "in_force": "ok", "extended": "ok", "violated": "warn",
         "rejected": "disabled", "collapsed": "bad", "expired": "disabled"}


@router.get("/dashboard/ceasefires", response_class=HTMLResponse)
async def ceasefires_page(request: Request, session: SessionDep, who: ViewDep, state: str = "",
                          party: str = "") -> HTMLResponse:
    state = state if state in LIFECYCLE_STATES else ""
    party = party.strip()[:256].replace("\x00", "")
    try:
        if state or party:
            rows, _ = await repo.list_page(session, filter=CeasefireFilter(states=[state] if state else [],
                                                                           parties=[party] if party else []),
                                           limit=SHOWN)
        else:
            rows = await repo.overview(session, limit=SHOWN)
        stories = await repo.stories(session, ceasefire_ids=[r.id for r in rows])
        records = [{"row": r, "history": await repo.history(session, ceasefire_id=r.id), "stories": stories[r.id]}
                   for r in rows]
        counts = await repo.state_counts(session)
    except (SQLAlchemyError, OSError) as exc:
        return store_down(request, who, exc)
    return render(request, "ceasefires.html", {"who": who, "records": records, "state": state, "party": party,
                                               "states": LIFECYCLE_STATES, "counts": counts, "badge": BADGE})
