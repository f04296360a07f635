"""The ingest bench's freshness figures measure what they say: a short run of each against real Kafka, the
farm and (for pushes) the API as its own process."""

from __future__ import annotations

import pytest

from tests.bench import ingest as bench
from tests.farm import Farm

pytestmark = pytest.mark.kafka


async def test_polled_and_pushed_freshness(kafka_bootstrap: str) -> None:
    async with Farm(feeds=4) as farm:
        polled = await bench.freshness(farm.base, kafka_bootstrap, [0, 1], items=4)
        pushed = await bench.push_freshness(farm.base, kafka_bootstrap, [2, 3], items=4)
    assert polled["freshness_items"] == 4 and 0 < polled["freshness_p50_s"] < 5
    # Every item came by push (none by a poll), well inside a poll interval.
    assert pushed["freshness_pushed_items"] == 4 and pushed["freshness_pushed_by_poll"] == 0
    assert 0 < pushed["freshness_pushed_p95_s"] < 2
    assert farm.subscriptions[farm.url(2)] and not farm.subscriptions.get(farm.url(0))
