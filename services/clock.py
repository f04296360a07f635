"""The one clock: aware UTC now. Functions that need time take ``now`` as an argument; edges call this."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
