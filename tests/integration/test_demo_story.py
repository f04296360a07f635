"""Issue 13's "done when", on both stores: the bundled demo feed (deploy/demo/demo.rss) holds the seed and
three other outlets' reports of the same Putin–Trump call, in their own words; through the real parser,
enricher and sink they are one story with four sources at ``/stories?topic=ceasefire`` (in any arrival
order and batch size), and the demo's other reports stay stories of their own."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from aiokafka.structs import ConsumerRecord

from api.sink.service import store_batch
from enrich.pipeline import shared_enricher
from ingest.normalise import normalise_feed
from ingest.parse import parse
from services.db.engine import make_engine, make_sessions
from services.events import EnrichedArticle
from tests.conftest import ROOT
from tests.integration.test_api import client_for

DEMO = ROOT / "deploy" / "demo" / "demo.rss"
URL = "http://127.0.0.1:8765/demo.rss"


@pytest.fixture(scope="module")
def demo() -> list[EnrichedArticle]:
    feed = parse(DEMO.read_bytes(), url=URL, content_type="application/rss+xml")
    raws = normalise_feed(feed, feed_url=URL, feed_id=1, now=datetime(2026, 1, 1, tzinfo=UTC))
    return list(shared_enricher().enrich(raws))


def records(events: list[EnrichedArticle]) -> list[ConsumerRecord[bytes, bytes]]:
    return [ConsumerRecord("articles.enriched", 0, i, 0, 0, e.id.encode(), e.to_bytes(), None, 0, 0, ())
            for i, e in enumerate(events)]


@pytest.mark.parametrize("seed,batch", [(0, 32), (1, 1), (2, 2)])
async def test_the_seed_call_is_one_story_with_four_sources(store_url, make_settings, demo, seed, batch):
    settings = make_settings(database_url=store_url)
    order = demo[:]
    random.Random(seed).shuffle(order)
    engine = make_engine(settings)
    try:
        sessions = make_sessions(engine)
        for i in range(0, len(order), batch):
            await store_batch(sessions, records(order[i:i + batch]))
    finally:
        await engine.dispose()
    call = {e.id for e in demo if "Putin" in e.article.title or "Kremlin" in e.article.title}
    assert len(call) == 4
    async with client_for(settings) as (_, client):
        r = await client.get("/stories", params={"topic": "ceasefire", "limit": 50})
        assert r.status_code == 200, r.text
        items = r.json()["items"]
        stories = {s["id"]: s for s in items}
        (story,) = [s for s in items if s["article_count"] == 4]
        assert len(set(story["sources"])) == 4, story["sources"]
        ids = {a["id"] for a in (await client.get(f"/stories/{story['id']}")).json()["articles"]}
        assert ids == call
        assert all(s["article_count"] == 1 for sid, s in stories.items() if sid != story["id"])
