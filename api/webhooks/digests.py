"""Digests: an hourly or daily message instead of one per story, for subscriptions that ask for one.

A subscription with ``filters["digest"]`` = ``hourly`` or ``daily`` gets no per-story events; once a
period (UTC hours, UTC days) has ended, the dispatcher queues one ``digest`` delivery with the stories
first seen in it that match the subscription's filter, grouped by topic. It goes out like any delivery
(signed POST, or an e-mail/chat message through Apprise), with the same retries and dead letters; its
event key names the period, so a restart or a second dispatcher never sends a period twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import DBAPIError, OperationalError

from services.clock import utcnow
from services.db import digests as repo
from services.db import webhooks as hooks_repo
from services.db.engine import Sessions
from services.db.models import Story, Webhook
from services.matching import StoryFacts, StoryFilter, matches
from services.settings import Settings

log = logging.getLogger(__name__)
PERIODS = {"hourly": timedelta(hours=1), "daily": timedelta(days=1)}
MAX_PER_TOPIC = 20


def last_period(kind: str, now: datetime) -> tuple[datetime, datetime]:
    """The most recent complete period of ``kind`` before ``now`` (UTC-aligned)."""
    step = PERIODS[kind]
    floor = now.replace(minute=0, second=0, microsecond=0)
    if kind == "daily":
        floor = floor.replace(hour=0)
    return floor - step, floor


def _facts(story: Story) -> StoryFacts:
    return StoryFacts.of(topics=story.topics or [], entities=story.entities or [], lang=story.lang,
                         state=story.state, sources=story.sources or [], published_at=story.published_at,
                         text=f"{story.headline} {story.summary}")


def digest_payload(kind: str, start: datetime, end: datetime, stories: list[Story], api_base: str) -> dict[str, Any]:
    """The digest body: stories grouped by their best topic (untagged last), newest first in each."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for s in stories:
        topic = (s.topics or [{"name": "other"}])[0]["name"]
        groups.setdefault(topic, [])
        if len(groups[topic]) < MAX_PER_TOPIC:
            groups[topic].append({"id": s.id, "headline": s.headline[:300], "state": s.state,
                                  "sources": (s.sources or [])[:5], "article_count": s.article_count,
                                  "link": f"{api_base}/stories/{s.id}"})
    return {"type": "digest", "timestamp": utcnow().isoformat(),
            "data": {"schema": "wirewatch.digest/1", "period": kind, "start": start.isoformat(),
                     "end": end.isoformat(), "story_count": len(stories),
                     "topics": [{"name": t, "stories": v} for t, v in sorted(groups.items(), key=lambda kv: -len(kv[1]))]}}


async def queue_due(settings: Settings, sessions: Sessions, now: datetime | None = None) -> int:
    """Queue every digest whose period has ended and was not queued yet; how many were queued."""
    now = now or utcnow()
    queued = 0
    async with sessions() as session, session.begin():
        for hook in await hooks_repo.list_webhooks(session, enabled_only=True):
            kind = (hook.filters or {}).get("digest")
            if kind not in PERIODS:
                continue
            queued += await _queue_one(settings, session, hook, kind, now)
    return queued


async def _queue_one(settings: Settings, session: Any, hook: Webhook, kind: str, now: datetime) -> int:
    start, end = last_period(kind, now)
    key = f"digest:{kind}:{start.isoformat()}"
    if await repo.queued(session, webhook_id=hook.id, key=key):
        return 0
    flt = StoryFilter.from_subscription(hook.filters)
    stories = [s for s in await repo.stories_first_seen(session, start=start, end=end) if matches(flt, _facts(s))]
    if not stories:
        return 0
    body = digest_payload(kind, start, end, stories, settings.api_base)
    d = await hooks_repo.enqueue(session, webhook_id=hook.id, story_id=f"digest-{kind}", event_type="digest",
                                 version=0, payload=body, key=key, now=now)
    return int(d is not None)


async def digest_loop(settings: Settings, sessions: Sessions, stop: asyncio.Event, wake: asyncio.Event) -> None:
    """Check for ended periods every ``digest_check_interval_s``."""
    while not stop.is_set():
        try:
            if await queue_due(settings, sessions):
                wake.set()
        except (OperationalError, DBAPIError, OSError) as exc:
            log.warning("digests: store unavailable: %s", exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), settings.digest_check_interval_s)
