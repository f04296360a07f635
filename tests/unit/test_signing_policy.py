"""Webhook signing (checked by the independent `standardwebhooks` package) and delivery policy."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook as Verifier

from api.webhooks import policy, signing

NOW = datetime(2026, 3, 18, 12, 0, tzinfo=UTC)


def test_signature_verifies_with_standardwebhooks_package():
    secret = signing.new_secret()
    assert secret.startswith("whsec_")
    body = b'{"type":"story.created","data":{"id":"abc"}}'
    ts = int(datetime.now(UTC).timestamp())
    hdrs = signing.headers([secret], "msg_1", ts, body)
    assert Verifier(secret).verify(body, hdrs) == {"type": "story.created", "data": {"id": "abc"}}
    assert signing.verify(secret, "msg_1", ts, body, hdrs["webhook-signature"])


def test_rotation_sends_both_signatures_and_each_secret_verifies():
    old, new = signing.new_secret(), signing.new_secret()
    body, ts = b"{}", int(datetime.now(UTC).timestamp())
    hdrs = signing.headers([new, old], "msg_2", ts, body)
    assert len(hdrs["webhook-signature"].split(" ")) == 2
    Verifier(old).verify(body, hdrs)
    Verifier(new).verify(body, hdrs)


def test_tampered_body_fails_verification():
    secret = signing.new_secret()
    ts = int(datetime.now(UTC).timestamp())
    hdrs = signing.headers([secret], "msg_3", ts, b'{"a":1}')
    with pytest.raises(Exception):  # noqa: B017 - the package raises its own WebhookVerificationError
        Verifier(secret).verify(b'{"a":2}', hdrs)


@pytest.mark.parametrize(("status", "outcome"), [
    (200, "success"), (204, "success"), (299, "success"), (301, "retry"), (302, "retry"), (400, "retry"),
    (410, "gone"), (429, "retry"), (500, "retry"), (503, "retry"), (None, "retry"),
])
def test_classify(status, outcome):
    assert policy.classify(status) == outcome


def test_backoff_schedule_then_dead_letter():
    schedule = [5.0, 300.0, 1800.0]
    rng = random.Random(1)
    first = policy.next_attempt(attempts=1, schedule=schedule, now=NOW, status=500, retry_after_s=None, rng=rng)
    assert not first.dead and timedelta(seconds=5) <= first.at - NOW <= timedelta(seconds=5.5)
    third = policy.next_attempt(attempts=3, schedule=schedule, now=NOW, status=500, retry_after_s=None, rng=rng)
    assert timedelta(seconds=1800) <= third.at - NOW <= timedelta(seconds=1980)
    assert policy.next_attempt(attempts=4, schedule=schedule, now=NOW, status=500, retry_after_s=None).dead


def test_retry_after_is_honoured_for_429_and_503_only():
    step = policy.next_attempt(attempts=1, schedule=[5.0], now=NOW, status=429, retry_after_s=120)
    assert step.at - NOW >= timedelta(seconds=120)
    step = policy.next_attempt(attempts=1, schedule=[5.0], now=NOW, status=500, retry_after_s=120)
    assert step.at - NOW < timedelta(seconds=6)
    assert policy.retry_after("30", NOW) == 30
    assert policy.retry_after("Wed, 18 Mar 2026 12:01:00 GMT", NOW) == 60
    assert policy.retry_after("soon", NOW) is None


@pytest.mark.parametrize(("filters", "event", "expected"), [
    ({}, "story.created", True),
    ({}, "story.merged", True),
    ({}, "ceasefire.created", False),
    ({"events": ["ceasefire.state_changed"]}, "story.created", False),
    ({"events": ["ceasefire.state_changed"]}, "ceasefire.state_changed", True),
    ({"events": ["story.created", "ceasefire.created"]}, "story.updated", False),
])
def test_subscriptions_take_the_event_types_they_list(filters, event, expected):
    assert policy.subscribed(filters, event) is expected


def test_story_updates_are_planned_once_per_interval():
    created = policy.plan_story_event(seen_version=None, knew_merged=False, version=1, last_sent_at=None,
                                      now=NOW, min_interval_s=300)
    assert (created.kind, created.not_before) == ("story.created", NOW)
    later = policy.plan_story_event(seen_version=1, knew_merged=False, version=3, last_sent_at=NOW,
                                    now=NOW + timedelta(seconds=10), min_interval_s=300)
    assert (later.kind, later.not_before) == ("story.updated", NOW + timedelta(seconds=300))
    assert policy.plan_story_event(seen_version=3, knew_merged=False, version=3, last_sent_at=NOW, now=NOW,
                                   min_interval_s=300).kind is None
    survivor = policy.plan_story_event(seen_version=None, knew_merged=True, version=2, last_sent_at=None,
                                       now=NOW, min_interval_s=300)
    assert survivor.kind == "story.updated"  # the subscriber knew part of it: no second "created"
