"""A poll's lateness is measured against the interval the scheduler set for it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ingest.service import lateness_ratio
from services.db.models import Feed

T0 = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def feed(last: datetime | None, due: datetime | None) -> Feed:
    return Feed(id=1, url="https://news.example/rss", last_fetch_at=last, next_check_at=due)


def test_share_of_the_interval() -> None:
    f = feed(T0, T0 + timedelta(seconds=600))
    assert lateness_ratio(f, T0 + timedelta(seconds=600)) == 0.0
    assert lateness_ratio(f, T0 + timedelta(seconds=660)) == 0.1
    assert lateness_ratio(f, T0 + timedelta(seconds=1800)) == 2.0


def test_naive_store_values_are_utc() -> None:  # SQLite hands datetimes back without a zone
    f = feed(T0.replace(tzinfo=None), (T0 + timedelta(seconds=100)).replace(tzinfo=None))
    assert lateness_ratio(f, T0 + timedelta(seconds=150)) == 0.5


def test_not_counted_never_fetched_or_early() -> None:
    assert lateness_ratio(feed(None, T0), T0 + timedelta(seconds=5)) is None
    assert lateness_ratio(feed(T0, None), T0) is None
    assert lateness_ratio(feed(T0, T0 + timedelta(seconds=600)), T0 + timedelta(seconds=30)) is None  # "poll now"
