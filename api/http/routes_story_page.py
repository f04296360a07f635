"""The human story page: what a headline click, a webhook ``link`` or a feed item opens in a browser.

``GET /stories/{id}`` stays the JSON API; a browser asking for HTML there is sent here. The page shows
the story's state, topics with their evidence sentences, entities, and every article with its source and
language (a merged story's old id resolves to the survivor, as in the API).
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.exc import SQLAlchemyError

from api.http.deps import SessionDep
from api.http.routes_dashboard import ViewDep, render, store_down
from api.http.schemas import ArticleOut, StoryOut
from services.db import stories as repo

router = APIRouter(include_in_schema=False)


def wants_html(request: Request) -> bool:
    """A browser navigating (text/html ranked before JSON), not an API client."""
    accept = request.headers.get("accept", "")
    html, js = accept.find("text/html"), accept.find("application/json")
    return html >= 0 and (js < 0 or html < js)


@router.get("/dashboard/stories/{story_id}", response_class=HTMLResponse)
async def story_page(story_id: str, request: Request, session: SessionDep, who: ViewDep) -> HTMLResponse:
    try:
        story = await repo.get_story(session, story_id=story_id[:64]) if "\x00" not in story_id else None
        if story is None:
            raise HTTPException(404, f"no story with id {story_id[:100]!r}")
        articles = [ArticleOut.of(a) for a in await repo.story_articles(session, story_id=story.id)]
    except SQLAlchemyError as exc:
        return store_down(request, who, exc)
    out = StoryOut.model_validate(story, from_attributes=True)
    return render(request, "story.html", {"who": who, "story": out, "articles": articles,
                                          "evidence": {t["name"]: t.get("evidence") or [] for t in story.topics}})
