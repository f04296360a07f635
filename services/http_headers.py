"""HTTP header values both sides of Wirewatch read the same way (pure: strings and ``now`` in, numbers out).

One Retry-After reader serves ingest (``ingest.caching``, capped at a day) and webhook
delivery (``api.webhooks.policy``, uncapped), so the two cannot drift apart.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def retry_after_seconds(value: str | None, now: datetime, *, cap_s: float | None = None) -> float | None:
    """Seconds a Retry-After header asks to wait, from ``now`` (an aware datetime).

    * delta-seconds (``"120"``) → that many seconds;
    * an HTTP-date → seconds until then; a date already past → ``0.0`` ("retry now");
      a date without a zone (the obsolete ``-0000`` form) is read as UTC, as HTTP dates are GMT;
    * absent, empty, negative (``"-5"``), fractional (``"1.5"``) or otherwise not one of the two → ``None``
      (the caller falls back to its own backoff);
    * ``cap_s`` bounds the answer (a server asking for a year gets ``cap_s``); ``None`` means uncapped.
    """
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        seconds = float(value)
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = max(0.0, (when - now).total_seconds())
    return seconds if cap_s is None else min(seconds, cap_s)
