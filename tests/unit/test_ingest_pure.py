"""Specs for the pure ingest core: caching, scheduling, dedup, OPML, WebSub maths (no I/O)."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ingest import caching, dedup, opml, schedule, websub
from services.events import RawArticle

NOW = datetime(2025, 3, 18, 12, 0, 0, tzinfo=UTC)
DATA = Path(__file__).resolve().parents[1] / "data"
POLICY = schedule.Policy(min_s=60, max_s=86400, default_s=900, error_max_s=6 * 3600, jitter=0.1)
PURE = ["caching", "parse", "normalise", "dedup", "schedule", "opml", "websub", "errors"]


@pytest.mark.parametrize("module", PURE)
def test_pure_modules_never_import_io_libraries(module: str) -> None:
    tree = ast.parse((Path(__file__).resolve().parents[2] / "ingest" / f"{module}.py").read_text())
    names = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert not names & {"aiokafka", "sqlalchemy", "httpx", "fastapi"}


@pytest.mark.parametrize("value,expected", [
    ("120", 120.0),
    ("0", 0.0),
    ("Tue, 18 Mar 2025 12:05:00 GMT", 300.0),
    ("Tue, 18 Mar 2025 11:00:00 GMT", 0.0),  # a date in the past means "now"
    ("999999999", caching.MAX_HONOURED_S),
    ("soon", None),
    ("", None),
    (None, None),
])
def test_retry_after(value: str | None, expected: float | None) -> None:
    assert caching.parse_retry_after(value, NOW) == expected


@pytest.mark.parametrize("headers,expected", [
    ({"cache-control": "public, max-age=600"}, 600.0),
    ({"cache-control": "max-age=\"30\", must-revalidate"}, 30.0),
    ({"cache-control": "no-cache"}, 0.0),
    ({"cache-control": "no-store, max-age=600"}, 0.0),
    ({"expires": "Tue, 18 Mar 2025 12:10:00 GMT"}, 600.0),
    ({"expires": "0"}, 0.0),
    ({"cache-control": "max-age=60", "expires": "Tue, 18 Mar 2025 13:00:00 GMT"}, 60.0),
    ({}, None),
])
def test_freshness(headers: dict[str, str], expected: float | None) -> None:
    assert caching.freshness(headers, NOW) == expected


@pytest.mark.parametrize("ttl,period,freq,expected", [
    ("30", None, None, 1800.0),
    (None, "hourly", "2", 1800.0),
    (None, "daily", None, 86400.0),
    ("5", "hourly", "1", 3600.0),  # the larger wish wins
    ("abc", "fortnightly", "x", None),
    (None, None, None, None),
])
def test_feed_hint(ttl: str | None, period: str | None, freq: str | None, expected: float | None) -> None:
    assert caching.feed_hint(ttl, period, freq) == expected


@pytest.mark.parametrize("status,headers,hint,expected", [
    (200, {"cache-control": "max-age=600"}, None, 600.0),
    (200, {"cache-control": "max-age=600"}, 1800.0, 1800.0),
    (304, {"expires": "Tue, 18 Mar 2025 12:02:00 GMT"}, None, 120.0),
    (429, {"retry-after": "90"}, None, 90.0),
    (503, {"retry-after": "Tue, 18 Mar 2025 12:30:00 GMT", "cache-control": "max-age=9"}, None, 1800.0),
    (200, {}, None, 0.0),
])
def test_min_next_delay(status: int, headers: dict[str, str], hint: float | None, expected: float) -> None:
    assert caching.min_next_delay(status=status, headers=headers, now=NOW, hint_s=hint) == expected


def test_unconditional_fetch_is_periodic() -> None:
    assert caching.wants_unconditional(None, NOW, 3600)
    assert not caching.wants_unconditional(NOW - timedelta(minutes=59), NOW, 3600)
    assert caching.wants_unconditional(NOW - timedelta(hours=1), NOW, 3600)
    assert caching.validators({"etag": 'W/"x"', "last-modified": "Tue, 18 Mar 2025 11:00:00 GMT"}) == (
        'W/"x"', "Tue, 18 Mar 2025 11:00:00 GMT")


def _dates(*minutes_ago: float) -> list[datetime]:
    return [NOW - timedelta(minutes=m) for m in minutes_ago]


@pytest.mark.parametrize("dates,override,expected", [
    (_dates(0, 60, 120, 180), None, 1800.0),  # hourly posts → poll every 30 min
    (_dates(0, 1, 2, 3), None, 60.0),  # bounded below by poll_min_interval_s
    (_dates(0, 60 * 24 * 10, 60 * 24 * 20), None, 86400.0),  # bounded above
    (_dates(0), None, 900.0),  # too little history → default
    ([], None, 900.0),
    (_dates(0, 1, 2), 7200.0, 7200.0),  # the per-feed override wins
    (_dates(5, 5, 5), None, 60.0),
])
def test_adaptive_interval(dates: list[datetime], override: float | None, expected: float) -> None:
    assert schedule.adaptive_interval(dates, POLICY, override_s=override) == expected


@pytest.mark.parametrize("rand,server_min,expected_s", [
    (0.5, 0.0, 1000.0),  # no jitter at the midpoint
    (0.0, 0.0, 900.0),  # -10 %
    (1.0, 0.0, 1100.0),  # +10 %
    (0.5, 5000.0, 5000.0),  # never before the server's floor
])
def test_next_success(rand: float, server_min: float, expected_s: float) -> None:
    nxt = schedule.next_success(NOW, interval_s=1000, server_min_s=server_min, policy=POLICY, rand=lambda: rand)
    assert (nxt - NOW).total_seconds() == pytest.approx(expected_s)


@pytest.mark.parametrize("failures,retry_after,expected", [
    (1, None, 900.0),
    (2, None, 1800.0),
    (3, None, 3600.0),
    (10, None, 6 * 3600.0),  # capped at poll_error_max_interval_s
    (1, 7200.0, 7200.0),  # Retry-After honoured
    (10, 30 * 3600.0, 30 * 3600.0),  # ...even beyond the cap
])
def test_error_backoff(failures: int, retry_after: float | None, expected: float) -> None:
    got = schedule.error_backoff(failures, POLICY, base_s=900, retry_after_s=retry_after, rand=lambda: 0.5)
    assert got == pytest.approx(expected)


def _art(id_: str, title: str, body: str = "b") -> RawArticle:
    from services import ids

    return RawArticle(id=id_, title=title, summary=body, published_at=NOW, content_hash=ids.content_hash(title, body))


def _seen(art: RawArticle, age_s: float = 0) -> dedup.Seen:
    from services import ids

    return dedup.Seen(art.id, art.content_hash, ids.title_key(art.title), NOW - timedelta(seconds=age_s))


@pytest.mark.parametrize("case,by_id,by_title,expected", [
    ("unseen", None, None, "new"),
    ("replay", "same", None, "skip"),
    ("edited", "changed", None, "update"),
    ("syndicated copy", None, "other-recent", "duplicate"),
    ("old syndicated copy", None, "other-old", "new"),
])
def test_dedup_decide(case: str, by_id: str | None, by_title: str | None, expected: str) -> None:
    art = _art("a1", "Ceasefire agreed in the north")
    seen_id = {None: None, "same": _seen(art), "changed": _seen(_art("a1", "Ceasefire agreed", "old"))}[by_id]
    other = _art("b2", "Ceasefire agreed in the north!")
    seen_title = {None: None, "other-recent": _seen(other, 60), "other-old": _seen(other, 3 * 86400)}[by_title]
    assert dedup.decide(art, by_id=seen_id, by_title=seen_title, now=NOW, window_s=48 * 3600) == expected, case


def test_dedup_plan_batch() -> None:
    a = _art("a", "Talks resume in Geneva")
    a_copy = _art("a-mirror", "Talks resume in Geneva")
    b = _art("b", "Aid convoy crosses the border", "new body")
    b_old = _seen(_art("b", "Aid convoy crosses the border", "old body"))
    plan = dedup.plan([a, a_copy, a, b], seen_ids={"b": b_old}, seen_titles={}, now=NOW, window_s=3600)
    assert [d for _, d in plan] == ["new", "duplicate", "skip", "update"]
    assert plan[3][0].is_update and not plan[0][0].is_update


def test_opml_nested_import_and_roundtrip() -> None:
    feeds = opml.parse_opml((DATA / "ingest_nested.opml").read_bytes())
    assert [(f.url, f.title, f.tags) for f in feeds] == [
        ("https://a.example/rss", "A", ["News", "World"]),
        ("https://b.example/rss", "B", ["News", "conflict", "ukraine", "europe"]),
        ("https://c.example/rss", "C", []),
    ]
    again = opml.parse_opml(opml.export_opml(feeds, now=NOW))
    assert [(f.url, f.title, f.tags) for f in again] == [(f.url, f.title, f.tags) for f in feeds]


@pytest.mark.parametrize("doc", [
    b"<html/>",
    b"not xml at all",
    b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "b">]><opml><body/></opml>',
    b"<opml><head/></opml>",
])
def test_opml_rejects(doc: bytes) -> None:
    with pytest.raises(opml.OPMLError):
        opml.parse_opml(doc)


@pytest.mark.parametrize("header,ok", [
    ("sha256=" + __import__("hmac").new(b"s3cret", b"body", "sha256").hexdigest(), True),
    ("sha1=" + __import__("hmac").new(b"s3cret", b"body", "sha1").hexdigest(), True),
    ("sha256=" + __import__("hmac").new(b"wrong", b"body", "sha256").hexdigest(), False),
    ("md5=abc", False),
    ("sha256", False),
    ("", False),
    (None, False),
])
def test_websub_signature(header: str | None, ok: bool) -> None:
    assert websub.verify_signature(b"body", header, "s3cret") is ok
    assert websub.verify_signature(b"body", websub.sign(b"body", "s3cret"), "s3cret")
    assert not websub.verify_signature(b"body", header, None)


@pytest.mark.parametrize("params,state,expected", [
    ({"hub.mode": "subscribe", "hub.topic": "T", "hub.challenge": "c1"}, "requested", "c1"),
    ({"hub.mode": "subscribe", "hub.topic": "T", "hub.challenge": "c1"}, None, None),  # we never asked
    ({"hub.mode": "subscribe", "hub.topic": "other", "hub.challenge": "c1"}, "requested", None),
    ({"hub.mode": "unsubscribe", "hub.topic": "T", "hub.challenge": "c2"}, "unsubscribing", "c2"),
    ({"hub.mode": "subscribe", "hub.topic": "T"}, "requested", None),
])
def test_websub_intent(params: dict[str, str], state: str | None, expected: str | None) -> None:
    assert websub.verify_intent(params, topic="T", state=state) == expected


def test_websub_lease_maths_and_links() -> None:
    end = websub.lease_until(NOW, "86400", 100)
    assert end == NOW + timedelta(days=1)
    assert websub.lease_until(NOW, "junk", 600) == NOW + timedelta(seconds=600)
    assert not websub.needs_renewal(NOW, end, 3600)
    assert websub.needs_renewal(end - timedelta(minutes=30), end, 3600)
    assert websub.needs_renewal(NOW, None, 3600)
    links = websub.parse_link_header('<https://hub.example/>; rel="hub", <https://x.example/feed>; rel="self"')
    assert links == {"hub": "https://hub.example/", "self": "https://x.example/feed"}
    form = websub.subscription_form(topic="T", callback="https://me/websub/1", secret="s", lease_s=60)
    assert form["hub.mode"] == "subscribe" and form["hub.secret"] == "s" and form["hub.lease_seconds"] == "60"
