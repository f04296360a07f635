"""When to poll a feed next (pure; ``now`` and the random source are parameters).

The interval adapts to how often the feed publishes (half the mean gap of its
recent entries), bounded by poll_min/max_interval_s; a per-feed override wins;
the server's own wishes (caching.min_next_delay) are a floor; jitter spreads
feeds apart; failures back off exponentially up to poll_error_max_interval_s,
never sooner than a Retry-After.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from services.settings import Settings

RECENT_ENTRIES = 20
T = TypeVar("T")


@dataclass(frozen=True)
class Policy:
    min_s: float
    max_s: float
    default_s: float
    error_max_s: float
    jitter: float

    @classmethod
    def from_settings(cls, s: Settings) -> Policy:
        return cls(s.poll_min_interval_s, s.poll_max_interval_s, s.poll_default_interval_s,
                   s.poll_error_max_interval_s, s.poll_jitter_fraction)


def adaptive_interval(entry_dates: Sequence[datetime], policy: Policy, *, override_s: float | None = None) -> float:
    """Seconds between polls from the feed's observed publishing rate (override wins)."""
    if override_s:
        return max(1.0, float(override_s))
    dates = sorted(entry_dates, reverse=True)[:RECENT_ENTRIES]
    if len(dates) < 2:
        return _bound(policy.default_s, policy)
    span = (dates[0] - dates[-1]).total_seconds()
    if span <= 0:
        return policy.min_s
    mean_gap = span / (len(dates) - 1)
    return _bound(mean_gap / 2, policy)


def items_per_day(entry_dates: Sequence[datetime]) -> float | None:
    dates = sorted(entry_dates, reverse=True)[:RECENT_ENTRIES]
    if len(dates) < 2:
        return None
    span = (dates[0] - dates[-1]).total_seconds()
    return round((len(dates) - 1) * 86400 / span, 3) if span > 0 else None


def _bound(value: float, policy: Policy) -> float:
    return min(max(value, policy.min_s), policy.max_s)


def jittered(seconds: float, fraction: float, rand: Callable[[], float] = random.random) -> float:
    """``seconds`` moved by up to ±fraction of itself."""
    return max(0.0, seconds * (1 + fraction * (2 * rand() - 1)))


def next_success(now: datetime, *, interval_s: float, server_min_s: float, policy: Policy,
                 override_s: float | None = None, rand: Callable[[], float] = random.random) -> datetime:
    """Next check after a good fetch: jittered interval, never before the server's floor."""
    delay = jittered(interval_s, 0 if override_s else policy.jitter, rand)
    return now + timedelta(seconds=max(delay, server_min_s))


def error_backoff(failures: int, policy: Policy, *, base_s: float, retry_after_s: float | None = None,
                  rand: Callable[[], float] = random.random) -> float:
    """Seconds to wait after the ``failures``-th consecutive failure (≥1)."""
    base = max(policy.min_s, min(base_s, policy.error_max_s))
    delay = min(base * (2 ** max(0, failures - 1)), policy.error_max_s)
    delay = jittered(delay, policy.jitter, rand)
    if retry_after_s is not None:
        delay = max(delay, retry_after_s)
    return delay


def next_failure(now: datetime, *, failures: int, policy: Policy, base_s: float,
                 retry_after_s: float | None = None, rand: Callable[[], float] = random.random) -> datetime:
    return now + timedelta(seconds=error_backoff(failures, policy, base_s=base_s, retry_after_s=retry_after_s,
                                                 rand=rand))


def interleave(polled: Sequence[T], first: Sequence[T], room: int, *, first_share: float,
               credit: float) -> tuple[list[T], float]:
    """Pick up to ``room`` polls to start: feeds already on a schedule before first polls, except that first
    polls get at least ``first_share`` of the starts while both queues wait. Returns (picked, new credit).

    Why: a first poll has no deadline to keep, a re-poll does. After an import of 100,000 feeds the first
    pass takes longer than the feeds' intervals; served in due order, the feeds polled early in it come due
    again behind the rest of the import and are all late at once. Serving the schedule first keeps them on
    time, and the first pass takes the remaining capacity. The share is a floor so a schedule that fills
    every slot still cannot starve new feeds. ``credit`` carries the unused share from one call to the next
    (a busy scheduler starts one poll at a time); it is capped at one start, so hours without first polls
    bank nothing.
    """
    picked: list[T] = []
    p = f = 0
    for _ in range(max(0, room)):
        credit = min(1.0, credit + first_share)
        if f < len(first) and (credit >= 1.0 - 1e-9 or p >= len(polled)):  # 1e-9: ten 0.1s sum below 1.0
            picked.append(first[f])
            f += 1
            credit = max(0.0, credit - 1.0)
        elif p < len(polled):
            picked.append(polled[p])
            p += 1
        else:
            break
    return picked, credit
