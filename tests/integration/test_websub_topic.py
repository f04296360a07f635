"""WebSub subscribes to the feed's self URL, not the URL we happen to poll.

Why: a hub knows a feed by its topic (``rel=self``); when we poll another URL (a redirect target,
a wrapper with tracking parameters, FeedBurner) and subscribe with that, the hub never pushes.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ingest.opml import OutlineFeed
from ingest.service import running_ingester
from services import bus
from services.clock import utcnow
from services.db import feeds as repo
from services.settings import Settings
from tests.conftest import free_port
from tests.farm import Farm
from tests.integration.test_ingest_service import read_all, store
from tests.integration.test_ingest_websub import feed_subscribed, running_api, until

pytestmark = pytest.mark.kafka


async def test_subscribes_with_the_self_url_and_receives_pushes(
        kafka_bootstrap: str, make_settings: Callable[..., Settings], unique_topics: dict[str, str]) -> None:
    port = free_port()
    s = make_settings(kafka_bootstrap=kafka_bootstrap, fetch_per_host_min_spacing_s=0, api_port=port,
                      public_url=f"http://127.0.0.1:{port}", **unique_topics)
    await bus.ensure_topics(s)
    async with (Farm(feeds=1) as farm, store(s) as sessions, running_api(s),
                running_ingester(s, sessions, use_assignment=False) as ing):
        polled = farm.url(0) + "?src=wirewatch-test"  # what we poll; the feed calls itself farm.url(0)
        async with sessions() as session:
            await repo.import_opml(session, feeds=[OutlineFeed(polled, "", "", [])], now=utcnow())
        assert (await ing.poll_once(1)).new == 10
        async with sessions() as session:
            feed = await repo.get_feed(session, feed_id=1)
        assert feed is not None and feed.url == polled and feed.websub_topic == farm.url(0)

        await ing.maintain_websub()

        await until(feed_subscribed(sessions, 1))
        assert list(farm.subscriptions[farm.url(0)]) == [f"http://127.0.0.1:{port}/websub/1"]
        assert not farm.subscriptions.get(polled)
        farm.publish(0)
        records = await read_all(s, 11)
        assert [a.via for a in records].count("push") == 1
