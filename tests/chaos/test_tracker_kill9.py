"""kill -9 of the ceasefire tracker mid-stream, twice: nothing lost, nothing doubled.

The sink, the tracker and the dispatcher run as their own processes (``wirewatch run X``) over SQLite;
every tracker timeline (tests/data/tracker, both halves: this checks delivery, not accuracy) is
published to ``articles.enriched`` in rounds, in date order on one partition. The tracker is killed with
SIGKILL twice while it folds and restarted each time. Afterwards the store holds exactly the records and
history the pure merge computes from the same articles, every article is folded in once, there is one
delivery per state change, and the subscriber received each of them (by ``webhook-id``) validly signed.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from standardwebhooks import Webhook as Verifier

from api.tracker.merge import ArticleFacts, MergeRules, Record, apply_article
from api.webhooks import signing
from services.db import webhooks as hooks_repo
from services.db.engine import make_engine, make_sessions
from services.events import EnrichedArticle
from tests.chaos.stack import Stack, StoreView, Subscriber, poll
from tests.eval.tracker import load
from tests.integration.test_tracker_store import events_of

pytestmark = [pytest.mark.chaos, pytest.mark.kafka, pytest.mark.e2e, pytest.mark.timeout(420)]
NEVER = 100 * 365 * 86400  # no term runs out during the run (the data goes back to 2008): the clock decides nothing
ROUNDS = 8


@pytest.fixture(scope="module")
def stream() -> list[EnrichedArticle]:
    from enrich.pipeline import shared_enricher

    enricher = shared_enricher()
    events = [e for t in load() for e in events_of(enricher, t)]
    return sorted(events, key=lambda e: (e.article.published_at, e.id))


def expected(events: list[EnrichedArticle]) -> dict[str, tuple[str, list[str]]]:
    records: list[Record] = []
    rules = MergeRules(grace=timedelta(seconds=NEVER))
    for e in events:
        apply_article(records, ArticleFacts(e.id, e.id, e.article.published_at, e.lang, e.ceasefires), rules)
    return {r.id: (r.state or "", [x.state for x in r.history]) for r in records}


async def snapshot(store: StoreView) -> dict[str, tuple[str, list[str]]] | None:
    rows = await store.rows("SELECT c.id, c.state, h.state FROM ceasefires c JOIN ceasefire_history h "
                            "ON h.ceasefire_id = c.id ORDER BY c.id, h.seq")
    if rows is None:
        return None
    out: dict[str, tuple[str, list[str]]] = {}
    for cid, state, step in rows:
        out.setdefault(cid, (state, []))[1].append(step)
    return out


async def scalar(store: StoreView, sql: str) -> int | None:
    rows = await store.rows(sql)
    return None if rows is None else int(rows[0][0])


async def test_kill9_of_the_tracker_loses_and_duplicates_nothing(stream, kafka_bootstrap, unique_topics, tmp_path: Path):
    stack = Stack(workdir=tmp_path, bootstrap=kafka_bootstrap, topics=unique_topics, env_extra={
        "WIREWATCH_KAFKA_PARTITIONS": "1", "WIREWATCH_KAFKA_MAX_BATCH": "4",
        "WIREWATCH_GROUP_TRACKER": f"g{uuid.uuid4().hex[:8]}-tracker", "WIREWATCH_TRACKER_EXPIRY_GRACE_S": str(NEVER),
        "WIREWATCH_TRACKER_STORE_WAIT_S": "0.05"})
    await stack.prepare()
    settings = stack.settings()
    want = expected(stream)
    n_changes = sum(len(h) for _, h in want.values())
    folded = len([e for e in stream if e.ceasefires])
    sub, store = Subscriber(), StoreView(stack.db_url)
    engine = make_engine(settings)
    try:
        await sub.start()
        async with make_sessions(engine)() as s, s.begin():
            hook = await hooks_repo.create_webhook(s, url=sub.url(), secret=signing.new_secret(),
                                                   filters={"events": ["ceasefire.created", "ceasefire.state_changed"]})
        stack.start_all(("sink", "tracker", "webhooks"))
        at_kills = await publish_and_kill(stack, settings, stream, store, n_changes)
        assert stack.starts["tracker"] == 3 and all(n < folded for n in at_kills), at_kills  # killed mid-stream
        await poll(lambda: _all_folded(store, folded), timeout=180, what=f"all {folded} articles folded in")
        await poll(lambda: _all_delivered(store, sub, n_changes), timeout=120, what=f"{n_changes} deliveries")
        assert await snapshot(store) == want
        assert await scalar(store, "SELECT count(*) FROM tracker_articles") == folded
        assert await scalar(store, "SELECT count(*) FROM deliveries") == n_changes
        ids = {h.headers["webhook-id"] for h in sub.hits}
        bodies = {h.headers["webhook-id"]: Verifier(hook.secret).verify(h.body, h.headers) for h in sub.hits}
        assert len(ids) == n_changes and len({(b["data"]["id"], b["data"]["change"]["seq"]) for b in bodies.values()}) == n_changes
        assert stack.dead() == {}, stack.tail()
    finally:
        stack.stop_all()
        await sub.stop()
        await store.close()
        await engine.dispose()


async def publish_and_kill(stack: Stack, settings: Any, stream: list[EnrichedArticle], store: StoreView,
                           n_changes: int) -> list[int]:
    """Publish in rounds; SIGKILL the tracker once a third, then two thirds, of the changes are stored.
    Returns how many articles were folded in at each kill."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, enable_idempotence=True)
    await producer.start()
    at_kills: list[int] = []

    async def kill() -> None:
        stack.kill9("tracker")
        at_kills.append(await scalar(store, "SELECT count(*) FROM tracker_articles") or 0)
        await asyncio.sleep(1.5)
        stack.start("tracker")

    try:
        size = -(-len(stream) // ROUNDS)
        kills = [n_changes // 3, 2 * n_changes // 3]
        for k in range(0, len(stream), size):
            for e in stream[k:k + size]:
                await producer.send_and_wait(settings.topic_enriched, e.to_bytes(), key=e.id.encode())
            await asyncio.sleep(1.0)
            done = await scalar(store, "SELECT count(*) FROM ceasefire_history") or 0
            if kills and done >= kills[0]:
                kills.pop(0)
                await kill()
        while kills:  # the stream outran the kill points: kill it while it catches up
            await poll(lambda: _at_least(store, kills[0]), timeout=120, what="changes before a kill")
            kills.pop(0)
            await kill()
    finally:
        await producer.stop()
    return at_kills


async def _at_least(store: StoreView, n: int) -> bool:
    return (await scalar(store, "SELECT count(*) FROM ceasefire_history") or 0) >= n


async def _all_folded(store: StoreView, n: int) -> bool:
    return await scalar(store, "SELECT count(*) FROM tracker_articles") == n


async def _all_delivered(store: StoreView, sub: Subscriber, n: int) -> bool:
    pending = await scalar(store, "SELECT count(*) FROM deliveries WHERE status != 'succeeded'")
    return pending == 0 and len({h.headers["webhook-id"] for h in sub.hits}) >= n
