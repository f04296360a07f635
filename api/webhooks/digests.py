"""Digests: an hourly or daily message instead of one per story, for subscriptions that ask for one.

A subscription with ``filters["digest"]`` = ``hourly`` or ``daily`` gets no per-story events; once a
period (UTC hours, UTC days) has ended, the dispatcher queues one ``digest`` delivery with the stories
first seen in it that match the subscription's filter, grouped by topic, and the ceasefire state changes
recorded in it (when the rule allows the ``ceasefire`` topic; ``parties``/``scopes``/``states`` narrow them). It goes out like any delivery
(signed POST, or an e-mail/chat message through Apprise), with the same retries and dead letters; its
event key names the period, so a restart or a second dispatcher never sends a period twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import DBAPIError, OperationalError

from services.clock import utcnow
from services.db import digests as repo
from services.db import webhooks as hooks_repo
from services.db.engine import Sessions
from services.db.models import Ceasefire, CeasefireChange, Story, Webhook
from services.matching import (
    CeasefireFacts,
    CeasefireFilter,
    StoryFacts,
    StoryFilter,
    ceasefire_matches,
    matches,
)
from services.settings import Settings

log = logging.getLogger(__name__)
PERIODS = {"hourly": timedelta(hours=1), "daily": timedelta(days=1)}
MAX_PER_TOPIC = 20
MAX_CHANGES = 50


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


def wants_ceasefires(flt: StoryFilter) -> bool:
    """Ceasefire state changes belong in a digest whose rule allows the ``ceasefire`` topic."""
    return not flt.topics or "ceasefire" in flt.topics


def _change_matches(cflt: CeasefireFilter, change: CeasefireChange, row: Ceasefire) -> bool:
    facts = CeasefireFacts.of(state=change.state, scope=row.scope, parties=row.parties,
                              last_reported=row.last_reported, title=row.title)
    return ceasefire_matches(cflt, facts)


def select_period(flt: StoryFilter, cflt: CeasefireFilter, stories: Sequence[Story],
                  changes: Sequence[tuple[CeasefireChange, Ceasefire]]
                  ) -> tuple[list[Story], list[tuple[CeasefireChange, Ceasefire]]]:
    """What of a period's stories and state changes a subscription (or a feed's query) asked for."""
    picked = [s for s in stories if matches(flt, _facts(s))]
    moved = [(c, r) for c, r in changes if _change_matches(cflt, c, r)] if wants_ceasefires(flt) else []
    return picked, moved


def digest_payload(kind: str, start: datetime, end: datetime, stories: Sequence[Story], api_base: str,
                   changes: Sequence[tuple[CeasefireChange, Ceasefire]] = ()) -> dict[str, Any]:
    """The digest body: stories grouped by their best topic (untagged last), newest first in each, then the
    ceasefire state changes Wirewatch recorded in the period, oldest first."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for s in stories:
        topic = (s.topics or [{"name": "other"}])[0]["name"]
        groups.setdefault(topic, [])
        if len(groups[topic]) < MAX_PER_TOPIC:
            groups[topic].append({"id": s.id, "headline": s.headline[:300], "state": s.state,
                                  "sources": (s.sources or [])[:5], "article_count": s.article_count,
                                  "link": f"{api_base}/stories/{s.id}"})
    moved = [{"ceasefire_id": r.id, "title": r.title, "state": c.state, "previous_state": c.previous_state,
              "at": c.at.isoformat(), "evidence": (c.evidence or "")[:400],
              "story_link": f"{api_base}/stories/{c.story_id}" if c.story_id else None,
              "link": f"{api_base}/ceasefires/{r.id}"} for c, r in changes[:MAX_CHANGES]]
    return {"type": "digest", "timestamp": utcnow().isoformat(),
            "data": {"schema": "wirewatch.digest/1", "period": kind, "start": start.isoformat(),
                     "end": end.isoformat(), "story_count": len(stories), "change_count": len(changes),
                     "topics": [{"name": t, "stories": v} for t, v in sorted(groups.items(), key=lambda kv: -len(kv[1]))],
                     "ceasefires": moved}}


async def period_contents(session: Any, flt: StoryFilter, cflt: CeasefireFilter, start: datetime, end: datetime
                          ) -> tuple[list[Story], list[tuple[CeasefireChange, Ceasefire]]]:
    """One period's matching stories (first seen in it) and ceasefire state changes (recorded in it)."""
    stories = await repo.stories_first_seen(session, start=start, end=end)
    changes = await repo.changes_recorded(session, start=start, end=end) if wants_ceasefires(flt) else []
    return select_period(flt, cflt, stories, changes)


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
    stories, changes = await period_contents(session, StoryFilter.from_subscription(hook.filters),
                                             CeasefireFilter.from_subscription(hook.filters), start, end)
    if not stories and not changes:
        return 0
    body = digest_payload(kind, start, end, stories, settings.api_base, changes)
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
