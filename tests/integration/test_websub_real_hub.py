"""WebSub against a real hub implementation: Flask-WebSub's hub (PyPI), not the farm's own test hub.

The ingester subscribes to the hub named for the feed → the hub verifies the intent against the API's
callback → a publish to the hub makes it fetch the topic and deliver the content signed with sha512 (the
farm's hub signs sha256) → the item reaches ``articles.raw`` by push; the farm sees no poll for it.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from ingest.service import running_ingester
from services import bus
from services.db import feeds as repo
from services.settings import Settings
from tests.conftest import free_port
from tests.farm import Farm
from tests.integration.test_ingest_service import add_farm_feeds, read_all, store
from tests.integration.test_ingest_websub import feed_subscribed, running_api, until

pytestmark = pytest.mark.kafka
ROOT = Path(__file__).resolve().parents[2]


@contextlib.contextmanager
def real_hub(tmp: Path) -> Iterator[str]:
    """Flask-WebSub's hub in its own process on loopback; its /hub URL."""
    port = free_port()
    log = (tmp / "hub.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "tests.websub_hub", "--port", str(port), "--db",
                             str(tmp / "hub.sqlite")], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(200):
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            assert proc.poll() is None, (tmp / "hub.log").read_text()
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/hub"
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


async def test_subscribe_verify_and_signed_push_through_a_real_hub(
        kafka_bootstrap: str, make_settings: Callable[..., Settings], unique_topics: dict[str, str],
        tmp_path: Path) -> None:
    port = free_port()
    s = make_settings(kafka_bootstrap=kafka_bootstrap, fetch_per_host_min_spacing_s=0, api_port=port,
                      public_url=f"http://127.0.0.1:{port}", websub_lease_s=600, websub_renew_before_s=60,
                      **unique_topics)
    await bus.ensure_topics(s)
    with real_hub(tmp_path) as hub_url:
        async with (Farm(feeds=1) as farm, store(s) as sessions, running_api(s),
                    running_ingester(s, sessions, use_assignment=False) as ing):
            await add_farm_feeds(sessions, farm, 1)
            assert (await ing.poll_once(1)).new == 10
            async with sessions() as session:  # the feed names the real hub instead of the farm's
                await repo.update_feed(session, feed_id=1, hub_url=hub_url)
            await ing.maintain_websub()
            await until(feed_subscribed(sessions, 1), timeout=20)  # verified by the hub's GET to our callback
            assert farm.subscriptions.get(farm.url(0)) is None  # the farm's hub took no part

            polled_before = farm.requests["/feed/0.xml"]
            farm.feeds[0].extra.append(farm.started + 1)  # a new item, announced to the real hub only
            async with httpx.AsyncClient(trust_env=False) as http:
                r = await http.post(hub_url, data={"hub.mode": "publish", "hub.topic": farm.url(0)}, timeout=20)
            assert r.status_code == 202, r.text
            records = await read_all(s, 11)
            pushed = [a for a in records if a.via == "push"]
            assert len(records) == 11 and len(pushed) == 1 and pushed[0].feed_id == 1, [a.via for a in records]
            assert farm.requests["/feed/0.xml"] == polled_before + 1  # the hub's one fetch, no poll by us
