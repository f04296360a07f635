"""/stories, /entities and /topics: thin views over services.db.stories."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.encoders import jsonable_encoder

from api.deps import ReaderDep, SessionDep, SettingsDep
from api.schemas import LIFECYCLE, ArticleOut, Lifecycle, StoryDetail, StoryOut, StoryPage
from services.db import stories as repo

router = APIRouter(tags=["stories"], dependencies=[ReaderDep])

TAXONOMY = Path(__file__).resolve().parent.parent / "enrich" / "taxonomy.json"
DEFAULT_TOPICS = ("ceasefire", "peace_talks", "energy_infrastructure_strike", "military_aid", "sanctions",
                  "prisoner_exchange", "humanitarian_aid", "territorial_change")


def known_topics() -> list[str]:
    """Topic names from the shipped taxonomy (the API validates ?topic= against it)."""
    try:
        data = json.loads(TAXONOMY.read_text())
        topics = data.get("topics", {})
        names = list(topics) if isinstance(topics, dict) else [t["name"] for t in topics]
        return names or list(DEFAULT_TOPICS)
    except (OSError, ValueError, KeyError, TypeError):
        return list(DEFAULT_TOPICS)


def unprocessable(param: str, msg: str) -> HTTPException:
    return HTTPException(422, detail=[{"loc": ["query", param], "msg": msg, "type": "value_error"}])


def story_filter(
    topic: Annotated[list[str] | None, Query(description="topic name; repeat for AND")] = None,
    entity: Annotated[list[str] | None, Query(description="canonical entity id or name; repeat for AND")] = None,
    lang: Annotated[str | None, Query(pattern=r"^[a-z]{2,3}$", description="ISO 639-1 language code")] = None,
    state: Annotated[list[Lifecycle] | None, Query(description="ceasefire lifecycle state")] = None,
    source: Annotated[str | None, Query(max_length=512)] = None,
    feed: Annotated[int | None, Query(ge=1, description="feed id")] = None,
    since: Annotated[datetime | None, Query(description="ISO 8601; stories published at or after")] = None,
    until: Annotated[datetime | None, Query(description="ISO 8601; stories published before")] = None,
    min_confidence: Annotated[float | None, Query(ge=0, le=1)] = None,
) -> repo.StoryFilter:
    allowed = known_topics()
    for t in topic or []:
        if t not in allowed:
            raise unprocessable("topic", f"unknown topic {t!r}; allowed: {', '.join(allowed)}")
    if since and until and since >= until:
        raise unprocessable("since", "since must be before until")
    return repo.StoryFilter(topics=tuple(topic or ()), entities=tuple(entity or ()), lang=lang,
                            state=tuple(state or ()), source=source, feed_id=feed, since=since, until=until,
                            min_confidence=min_confidence)


FilterDep = Annotated[repo.StoryFilter, Depends(story_filter)]


def check_limit(limit: int | None, settings: Any) -> int:
    if limit is None:
        return int(settings.stories_default_limit)
    if not 1 <= limit <= settings.stories_max_limit:
        raise unprocessable("limit", f"limit must be between 1 and {settings.stories_max_limit}")
    return limit


def etagged(request: Request, payload: Any) -> Response:
    """JSON with a strong ETag; a matching If-None-Match gets 304 and no body."""
    body = json.dumps(jsonable_encoder(payload), separators=(",", ":"), ensure_ascii=False).encode()
    tag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    if tag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers={"ETag": tag})
    return Response(body, media_type="application/json", headers={"ETag": tag, "Cache-Control": "no-cache"})


@router.get("/stories", response_model=StoryPage, summary="Latest stories, newest first, with filters")
async def list_stories(
    request: Request, session: SessionDep, settings: SettingsDep, f: FilterDep,
    limit: Annotated[int | None, Query(description="page size (capped by WIREWATCH_STORIES_MAX_LIMIT)")] = None,
    cursor: Annotated[str | None, Query(max_length=512, description="next_cursor of the previous page")] = None,
) -> Response:
    n = check_limit(limit, settings)
    try:
        rows, nxt = await repo.list_stories(session, filter=f, limit=n, cursor=cursor)
    except ValueError as exc:
        raise unprocessable("cursor", str(exc)) from exc
    return etagged(request, StoryPage(items=[StoryOut.of(s) for s in rows], next_cursor=nxt))


@router.get("/stories/{story_id}", response_model=StoryDetail, summary="One story with its articles",
            responses={404: {"description": "unknown story id"}})
async def get_story(story_id: str, request: Request, session: SessionDep) -> Response:
    story = await repo.get_story(session, story_id=story_id)
    if story is None:
        raise HTTPException(404, f"no story with id {story_id!r}")
    arts = await repo.story_articles(session, story_id=story_id)
    detail = StoryDetail(**StoryOut.of(story).model_dump(), articles=[ArticleOut.of(a) for a in arts])
    return etagged(request, detail)


@router.get("/entities", summary="Entities by number of stories (autocomplete with ?q=)")
async def entities(session: SessionDep,
                   q: Annotated[str, Query(max_length=100)] = "",
                   limit: Annotated[int, Query(ge=1, le=100)] = 20) -> list[dict[str, Any]]:
    return await repo.entity_counts(session, prefix=q, limit=limit)


@router.get("/topics", summary="The topic taxonomy with story counts")
async def topics(session: SessionDep) -> dict[str, Any]:
    counts = await repo.topic_counts(session)
    return {"topics": [{"name": t, "stories": counts.get(t, 0)} for t in known_topics()],
            "states": list(LIFECYCLE)}
