"""Every HTTP caching rule ingest obeys, in one place (pure: headers + ``now`` in, seconds out).

The scheduler never polls sooner than the server asked: Cache-Control max-age
or Expires on success, Retry-After on 429/503, and the feed's own RSS ``<ttl>``
or ``sy:updatePeriod``/``sy:updateFrequency`` hints.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from email.utils import parsedate_to_datetime

from services.http_headers import retry_after_seconds

# A server asking for more than a day is ignored beyond that: news must not go stale.
MAX_HONOURED_S = 24 * 3600.0

_UPDATE_PERIODS = {"hourly": 3600.0, "daily": 86400.0, "weekly": 7 * 86400.0,
                   "monthly": 30 * 86400.0, "yearly": 365 * 86400.0}


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        value = headers.get(name.lower())
    return value.strip() if value else None


def http_date(value: str) -> datetime | None:
    """An HTTP date, or None when it is not one."""
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):  # a year past C's range overflows
        return None
    return parsed if parsed.tzinfo else None


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Retry-After as seconds from ``now``, at most MAX_HONOURED_S (see services.http_headers for the rules)."""
    return retry_after_seconds(value, now, cap_s=MAX_HONOURED_S)


def retry_after(status: int, headers: Mapping[str, str], now: datetime) -> float | None:
    """The delay a 429 or 503 (or any 3xx/4xx/5xx that sent one) asked for."""
    if status in (429, 503) or status >= 300:
        return parse_retry_after(_header(headers, "retry-after"), now)
    return None


def freshness(headers: Mapping[str, str], now: datetime) -> float | None:
    """How long a 200/304 stays fresh: max-age (s-maxage ignored), else Expires; no-cache/no-store → 0."""
    cc = (_header(headers, "cache-control") or "").lower()
    if "no-cache" in cc or "no-store" in cc:
        return 0.0
    m = re.search(r"(?:^|[,\s])max-age\s*=\s*\"?(\d+)", cc)
    if m:
        return min(float(m.group(1)), MAX_HONOURED_S)
    expires = _header(headers, "expires")
    if expires:
        when = http_date(expires)
        if when is None:
            return 0.0  # an invalid Expires means "already expired" (RFC 9111 §5.3)
        return min(max(0.0, (when - now).total_seconds()), MAX_HONOURED_S)
    return None


def feed_hint(ttl_minutes: str | int | None, update_period: str | None, update_frequency: str | int | None) -> float | None:
    """The minimum delay a feed's own ``<ttl>`` or syndication module hints ask for."""
    delays: list[float] = []
    try:
        if ttl_minutes not in (None, ""):
            ttl = float(str(ttl_minutes).strip())
            if ttl > 0:
                delays.append(ttl * 60)
    except ValueError:
        pass
    if update_period:
        period = _UPDATE_PERIODS.get(update_period.strip().lower())
        if period:
            try:
                freq = max(1.0, float(str(update_frequency).strip())) if update_frequency not in (None, "") else 1.0
            except ValueError:
                freq = 1.0
            delays.append(period / freq)
    return min(max(delays), MAX_HONOURED_S) if delays else None


def min_next_delay(*, status: int, headers: Mapping[str, str], now: datetime,
                   hint_s: float | None = None) -> float:
    """Never poll sooner than this many seconds: the largest of everything the server asked for."""
    asked = [retry_after(status, headers, now), hint_s]
    if status in (200, 304):
        asked.append(freshness(headers, now))
    return max([a for a in asked if a is not None] or [0.0])


def validators(headers: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(ETag, Last-Modified) to send back next time."""
    return _header(headers, "etag"), _header(headers, "last-modified")


def wants_unconditional(last_unconditional_at: datetime | None, now: datetime, every_s: float) -> bool:
    """True when validators must be dropped so a lying 304 server cannot freeze a feed forever."""
    return last_unconditional_at is None or (now - last_unconditional_at).total_seconds() >= every_s
