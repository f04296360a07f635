"""Delivery policy: what an attempt's outcome means, when to retry (which stories match: services.matching).

Pure functions so the rules are testable without HTTP or a database.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from services.http_headers import retry_after_seconds

Outcome = Literal["success", "retry", "gone", "failure"]

RETRY_AFTER_STATUSES = {429, 502, 503, 504}
STORY_EVENTS = ("story.created", "story.updated", "story.merged")


def subscribed(filters: dict[str, Any] | None, event_type: str) -> bool:
    """Whether a subscription takes ``event_type``: the types its ``events`` lists, else story events only."""
    events = (filters or {}).get("events")
    return event_type in events if events else event_type in STORY_EVENTS


def classify(status: int | None) -> Outcome:
    """Any 2xx succeeds; 410 disables the subscription; 3xx and everything else is a failed attempt."""
    if status is None:
        return "retry"
    if 200 <= status < 300:
        return "success"
    if status == 410:
        return "gone"
    return "retry"


def retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date), or None; uncapped: a subscriber's
    wish is honoured up to the retry schedule (see :func:`next_attempt`)."""
    return retry_after_seconds(value, now)


@dataclass(frozen=True)
class NextStep:
    dead: bool
    at: datetime | None


def next_attempt(*, attempts: int, schedule: list[float], now: datetime, status: int | None,
                 retry_after_s: float | None, rng: random.Random | None = None) -> NextStep:
    """After ``attempts`` failed tries: dead-letter once the schedule is used up, else wait with jitter."""
    if attempts > len(schedule):
        return NextStep(dead=True, at=None)
    base = schedule[attempts - 1]
    jitter = (rng or random).uniform(0, base * 0.1) if base else 0.0
    delay = base + jitter
    if status in RETRY_AFTER_STATUSES and retry_after_s is not None:
        delay = max(delay, retry_after_s)
    return NextStep(dead=False, at=now + timedelta(seconds=delay))


@dataclass(frozen=True)
class StoryPlan:
    """What a story change means for one subscriber: nothing, or an event to queue (not before a time)."""

    kind: Literal["story.created", "story.updated"] | None
    not_before: datetime | None = None


def plan_story_event(*, seen_version: int | None, knew_merged: bool, version: int,
                     last_sent_at: datetime | None, now: datetime, min_interval_s: float) -> StoryPlan:
    """``story.created`` once (not for a survivor of a merge the subscriber knew a part of), then
    ``story.updated`` for newer versions at most once per ``min_interval_s``."""
    if seen_version is not None and seen_version >= version:
        return StoryPlan(None)
    if seen_version is None and not knew_merged:
        return StoryPlan("story.created", now)
    slot = last_sent_at + timedelta(seconds=min_interval_s) if last_sent_at else now
    return StoryPlan("story.updated", max(slot, now))
