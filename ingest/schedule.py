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

from services.settings import Settings

RECENT_ENTRIES = 20


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
