"""End to end: every service as its own process (`wirewatch run all`, as `make run` does), real Kafka,
real HTTP feed server and webhook receiver. The seed article must come out tagged and delivered once."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from standardwebhooks import Webhook as Verifier

from tests.conftest import ROOT, free_port
from tests.feedserver import FeedServer, rss
from tests.receiver import Receiver
from tests.waiting import poll, stop_process

pytestmark = [pytest.mark.e2e, pytest.mark.kafka]

SEED = (ROOT / "tests" / "data" / "seed_article.txt").read_text(encoding="utf-8")
EXPECTED_ENTITIES = {"Vladimir Putin", "Donald Trump", "Volodymyr Zelensky", "Kyiv", "Kremlin"}


def seed_feed(link: str) -> bytes:
    headline, body = SEED.split("\n", 1)
    return rss("E2E Wire", [
        {"title": headline.strip(), "link": link, "description": body.strip(),
         "pubDate": "Tue, 18 Mar 2025 18:00:00 GMT"},
        {"title": "Local bakery wins regional bread award", "link": link + "-bakery",
         "description": "A family bakery won the regional award for its sourdough on Saturday.",
         "pubDate": "Tue, 18 Mar 2025 17:00:00 GMT"},
    ])


async def test_feed_to_story_to_webhook(kafka_bootstrap, unique_topics, tmp_path: Path):
    api_port = free_port()
    token = "e2e-admin-token-0123456789"
    with FeedServer() as feeds:
        feeds.routes["/seed.rss"] = (200, "application/rss+xml", rss("E2E Wire", []))  # empty until subscribed
        feeds.routes["/broken.rss"] = (200, "application/rss+xml", b"<?xml version=\"1.0\"?><rss version=\"2.0\"><chan")
        feeds.routes["/html"] = (200, "text/html", b"<html><body>not a feed</body></html>")
        dead_port = free_port()
        opml = tmp_path / "feeds.opml"
        outlines = "".join(f'<outline type="rss" text="{n}" xmlUrl="{u}"/>' for n, u in [
            ("seed", feeds.url("/seed.rss")), ("broken", feeds.url("/broken.rss")), ("html", feeds.url("/html")),
            ("unreachable", f"http://127.0.0.1:{dead_port}/feed.xml")])
        opml.write_text(f'<?xml version="1.0"?><opml version="2.0"><head/><body>{outlines}</body></opml>')
        env = {
            **os.environ,
            "WIREWATCH_KAFKA_BOOTSTRAP": kafka_bootstrap,
            "WIREWATCH_VAR_DIR": str(tmp_path / "var"),
            "WIREWATCH_API_PORT": str(api_port),
            "WIREWATCH_ADMIN_TOKEN": token,
            "WIREWATCH_FEED_ALLOWED_HOSTS": "127.0.0.1",
            "WIREWATCH_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
            "WIREWATCH_FEEDS_OPML": str(opml),
            "WIREWATCH_POLL_MIN_INTERVAL_S": "1",
            "WIREWATCH_POLL_DEFAULT_INTERVAL_S": "1",
            "WIREWATCH_POLL_MAX_INTERVAL_S": "2",
            "WIREWATCH_POLL_ERROR_MAX_INTERVAL_S": "2",
            "WIREWATCH_FETCH_PER_HOST_MIN_SPACING_S": "0",
            "WIREWATCH_FETCH_TOTAL_TIMEOUT_S": "5",
            "WIREWATCH_LOG_JSON": "true",
            **{f"WIREWATCH_{k.upper()}": v for k, v in unique_topics.items()},
        }
        log = open(tmp_path / "services.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen([sys.executable, "-m", "services.cli", "run", "all"], env=env, cwd=ROOT,
                                stdout=log, stderr=subprocess.STDOUT)
        try:
            await _scenario(f"http://127.0.0.1:{api_port}", token, feeds, dead_port, proc)
        except BaseException:
            log.flush()
            print((tmp_path / "services.log").read_text(errors="replace")[-8000:])
            raise
        finally:
            stop_process(proc)
            log.close()


async def _scenario(base: str, token: str, feeds: FeedServer, dead_port: int, proc: subprocess.Popen) -> None:
    async with Receiver() as rx, httpx.AsyncClient(base_url=base, timeout=10) as api:
        async def up():
            try:
                return (await api.get("/healthz")).status_code == 200
            except httpx.TransportError:
                return False

        await poll(up, 90, "the API to answer /healthz")
        r = await api.post("/webhooks", json={"url": rx.url(), "topics": ["ceasefire"]},
                           headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 201, r.text
        secret = r.json()["secret"]
        feeds.routes["/seed.rss"] = (200, "application/rss+xml", seed_feed("https://news.example.org/putin-trump"))

        async def ceasefire_story():
            return (await api.get("/stories", params={"topic": "ceasefire"})).json()["items"]

        (story,) = await poll(ceasefire_story, 120, "the seed story at /stories?topic=ceasefire")
        names = {e["name"] for e in story["entities"]}
        assert names >= EXPECTED_ENTITIES, names
        assert story["headline"].startswith("Putin, Trump Agree Halt")
        ceasefire = next(t for t in story["topics"] if t["name"] == "ceasefire")
        assert ceasefire["confidence"] > 0.5 and ceasefire["evidence"]

        (delivery,) = await rx.wait_for(1, timeout=60)
        payload = Verifier(secret).verify(delivery.body, delivery.headers)
        assert payload["type"] == "story.created" and payload["data"]["id"] == story["id"]

        # bad input keeps everything running, and is shown as such
        assert (await api.get("/stories", params={"limit": "0"})).status_code == 422

        async def failing_feeds():
            listed = (await api.get("/feeds")).json()
            items = listed["items"] if isinstance(listed, dict) else listed
            bad = {f["url"]: f for f in items if f.get("last_error")}
            return bad if len(bad) >= 3 else None

        bad = await poll(failing_feeds, 60, "broken, html and unreachable feeds to show errors")
        assert feeds.url("/broken.rss") in bad and f"http://127.0.0.1:{dead_port}/feed.xml" in bad
        html = (await api.get("/dashboard")).text
        assert feeds.url("/seed.rss") in html and "Putin, Trump Agree Halt" in html

        await asyncio.sleep(3)  # no second delivery for the same story
        assert len(rx.on("/hook")) == 1
        assert proc.poll() is None, "a service died"
