"""One fault-injection run: a farm publishes a known set of N articles, the live stack carries them to the
store and to a webhook subscriber, a scenario breaks things on the way, and ``verify`` checks the outcome.

Outcome checked after every scenario:
* the store holds exactly the N expected articles (by id, and by the farm's (feed, item) key: none lost,
  none doubled), every article in exactly one story, article counts of stories adding up to N;
* the API lists the same stories and, through /stories/{id}, the same articles;
* the subscriber received a validly signed story.created for every story exactly once (dedup by
  ``webhook-id``), the latest version of every story, and nothing is left pending or dead-lettered.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import sqlite3
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from standardwebhooks import Webhook as Verifier

from tests.chaos.stack import Stack, StoreView, Subscriber, poll
from tests.farm import Farm

TITLE = re.compile(r"^Feed (\d+) item (\d+):")
LONG = os.environ.get("WIREWATCH_CHAOS") == "long"


def sizes() -> tuple[int, int]:
    """(feeds, items per feed): 20 x 10 = 200 in the short form, 100 x 20 = 2,000 in the long one."""
    return (100, 20) if LONG else (20, 10)


@dataclass
class Run:
    stack: Stack
    farm: Farm
    feeds: int
    per_feed: int
    round_s: float
    sub: Subscriber = field(default_factory=Subscriber)
    store: StoreView | None = None
    secret: str = ""
    published: int = 0
    seed: int = field(default_factory=lambda: int(os.environ.get("WIREWATCH_CHAOS_SEED")
                                                  or (random.randrange(10**6) if LONG else 7)))
    rng: random.Random = field(init=False)
    events: list[str] = field(default_factory=list)
    t0: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.note(f"seed {self.seed} (rerun with WIREWATCH_CHAOS_SEED={self.seed})")

    @property
    def n(self) -> int:
        return self.feeds * self.per_feed

    def note(self, what: str) -> None:
        self.events.append(f"{time.monotonic() - self.t0:6.1f}s {what}")

    # --- progress --------------------------------------------------------------
    async def stored(self) -> int | None:
        assert self.store is not None
        rows = await self.store.rows("SELECT count(*) FROM articles")
        return None if rows is None else int(rows[0][0])

    async def until_stored(self, fraction: float, timeout: float | None = None) -> int:
        want = max(1, int(self.n * fraction))
        timeout = timeout if timeout is not None else (300 if LONG else 90)  # the long form moves 10x the data

        async def enough() -> int | None:
            got = await self.stored()
            return got if got is not None and got >= want else None

        got = await poll(enough, timeout=timeout, what=f"{want}/{self.n} articles stored")
        self.note(f"{got} stored")
        return got

    async def until_delivered(self, count: int, timeout: float = 120) -> None:
        await poll(lambda: _true(len(self.sub.hits) >= count), timeout=timeout,
                   what=f"{count} webhook requests (have {len(self.sub.hits)})")

    async def publisher(self) -> None:
        """Round j publishes item j of every feed, one round every ``round_s`` (bounded: per_feed rounds)."""
        for _ in range(self.per_feed):
            for i in range(self.feeds):
                self.farm.publish(i)
                self.published += 1
            await asyncio.sleep(self.round_s)
        self.note(f"published all {self.published}")

    # --- the end state -----------------------------------------------------------
    def received(self) -> dict[str, dict[str, Any]]:
        """Verified payloads by webhook-id (a retried or replayed delivery counts once)."""
        v = Verifier(self.secret)
        out: dict[str, dict[str, Any]] = {}
        for hit in self.sub.hits:
            payload = v.verify(hit.body, hit.headers)
            wid = hit.headers["webhook-id"]
            if wid in out:
                assert out[wid]["type"] == payload["type"] and out[wid]["data"]["id"] == payload["data"]["id"], \
                    f"webhook-id {wid} reused for a different event"
            out[wid] = payload
        return out

    async def settled(self) -> bool:
        assert self.store is not None
        if await self.stored() != self.n:
            return False
        stories = await self.store.rows("SELECT id, version FROM stories")
        open_ = await self.store.rows("SELECT count(*) FROM deliveries WHERE status = 'pending'")
        if stories is None or open_ is None or open_[0][0]:
            return False
        latest: dict[str, int] = {}
        for p in self.received().values():
            sid, ver = p["data"]["id"], int(p["data"]["version"])
            latest[sid] = max(latest.get(sid, 0), ver)
        return all(latest.get(sid) == ver for sid, ver in stories)

    async def verify(self, timeout: float = 180) -> dict[str, Any]:
        assert self.store is not None
        try:
            await poll(self.settled, timeout=timeout, every=0.5,
                       what="every article stored and every story's latest version delivered")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{await self.diagnose()}") from None
        self.note("settled")
        arts = await self.store.rows("SELECT id, title, story_id FROM articles")
        stories = await self.store.rows("SELECT id, version, article_count FROM stories")
        assert arts is not None and stories is not None
        keys = Counter()
        for _id, title, _sid in arts:
            m = TITLE.match(title)
            assert m, f"unexpected article {title!r}"
            keys[(int(m[1]), int(m[2]))] += 1
        expected = {(i, j) for i in range(self.feeds) for j in range(self.per_feed)}
        doubled = [k for k, c in keys.items() if c > 1]
        assert not doubled, f"articles stored twice (under different ids): {doubled[:10]}"
        assert set(keys) == expected, f"missing {sorted(expected - set(keys))[:10]}, extra {sorted(set(keys) - expected)[:10]}"
        assert len(arts) == self.n
        story_ids = {s[0] for s in stories}
        assert {a[2] for a in arts} == story_ids, "a story without articles, or an article without its story"
        assert sum(s[2] for s in stories) == self.n, "story article_count does not add up to the articles"

        # the API agrees with the store
        api_stories: dict[str, int] = {}
        async with httpx.AsyncClient(base_url=self.stack.api, timeout=20) as c:
            cursor = None
            for _ in range(1000):
                r = await c.get("/stories", params={"limit": 200, **({"cursor": cursor} if cursor else {})})
                assert r.status_code == 200, r.text
                page = r.json()
                for s in page["items"]:
                    assert s["id"] not in api_stories, f"story {s['id']} listed twice"
                    api_stories[s["id"]] = s["article_count"]
                cursor = page.get("next_cursor")
                if not cursor:
                    break
            assert set(api_stories) == story_ids and sum(api_stories.values()) == self.n
            sample = sorted(story_ids)
            if len(sample) > 300:
                sample = self.rng.sample(sample, 300)
            via_api: list[str] = []
            for sid in sample:
                r = await c.get(f"/stories/{sid}")
                assert r.status_code == 200, r.text
                via_api += [a["id"] for a in r.json()["articles"]]
            assert len(via_api) == len(set(via_api)), "an article appears in two stories via the API"
            by_story = defaultdict(set)
            for aid, _t, sid in arts:
                by_story[sid].add(aid)
            assert set(via_api) == set().union(*(by_story[s] for s in sample))

        # the subscriber: each story announced once, its latest version delivered, nothing dead
        got = self.received()
        created = Counter(p["data"]["id"] for p in got.values() if p["type"] == "story.created")
        twice = [s for s, c in created.items() if c > 1]
        assert not twice, f"story.created delivered under two webhook-ids for {twice[:5]}"
        assert set(created) == story_ids, f"stories never announced: {sorted(story_ids - set(created))[:5]}"
        bad = await self.store.rows("SELECT status, count(*) FROM deliveries WHERE status <> 'succeeded' GROUP BY status")
        assert bad == [], f"deliveries not delivered: {bad}"
        dead = self.stack.dead()
        assert not dead, f"services exited on their own: {dead}\n{self.stack.tail()}"
        return {"articles": len(arts), "stories": len(stories), "webhook_requests": len(self.sub.hits),
                "unique_events": len(got), "redeliveries": len(self.sub.hits) - len(got), "events": self.events}

    async def diagnose(self) -> str:
        assert self.store is not None
        counts = {t: await self.store.rows(f"SELECT count(*) FROM {t}")
                  for t in ("articles", "stories", "deliveries", "seen_articles")}
        status = await self.store.rows("SELECT status, count(*) FROM deliveries GROUP BY status")
        feeds = await self.store.rows("SELECT last_error_class, count(*) FROM feeds GROUP BY last_error_class")
        return (f"published={self.published} counts={counts} deliveries={status} feed errors={feeds} "
                f"hits={len(self.sub.hits)} dead={self.stack.dead()}\nevents:\n  " + "\n  ".join(self.events)
                + "\n" + self.stack.tail(12000))


async def _true(value: bool) -> bool:
    return value


Scenario = Callable[[Run], Awaitable[None]]


async def run_flow(stack: Stack, scenario: Scenario, *, feeds: int, per_feed: int, round_s: float,
                   start: tuple[str, ...] = ("api", "ingest", "enrich", "sink", "webhooks"),
                   settle_s: float = 180) -> dict[str, Any]:
    """Farm + stack + subscriber; publish while ``scenario`` runs; verify the end state; tear down."""
    farm = Farm(feeds=feeds, items=0)
    farm.start_thread()
    run = Run(stack, farm, feeds, per_feed, round_s)
    try:
        await stack.prepare([farm.url(i) for i in range(feeds)])
        run.store = StoreView(stack.db_url)
        await run.sub.start()
        stack.start_all(start)
        await stack.wait_api()
        async with httpx.AsyncClient(base_url=stack.api, timeout=10) as c:
            r = await c.post("/webhooks", json={"url": run.sub.url(), "description": "chaos"}, headers=stack.admin())
            assert r.status_code == 201, r.text
            run.secret = r.json()["secret"]
        run.note("stack up, subscribed")
        pub = asyncio.create_task(run.publisher())
        try:
            await scenario(run)
            await pub
            result = await run.verify(timeout=settle_s)
        finally:
            pub.cancel()
        return result
    except BaseException:
        print("\n".join(run.events))
        print(stack.tail(8000))
        raise
    finally:
        stack.stop_all()
        await run.sub.stop()
        if run.store is not None:
            await run.store.close()
        farm.stop_thread()


# --- faults ---------------------------------------------------------------------


async def kill_and_restart(run: Run, key: str, *, at: float, by_delivery: bool = False) -> None:
    """``kill -9`` one service once ``at`` of the flow is through, then start it again."""
    if by_delivery:
        await run.until_delivered(max(1, int(run.n * at / 4)))
    else:
        await run.until_stored(at)
    run.stack.kill9(key)
    run.note(f"kill -9 {key}")
    await asyncio.sleep(run.rng.uniform(0.2, 1.5))  # stays dead for a random while: part of the fault
    run.stack.start(key)
    run.note(f"restarted {key}")


async def receiver_outage(run: Run, *, at: float, down_s: float) -> None:
    await run.until_stored(at)
    hits = len(run.sub.hits)
    await run.sub.stop()
    run.note(f"receiver down (had {hits} requests)")
    await asyncio.sleep(down_s)  # the outage itself
    await run.sub.start()
    run.note("receiver back on the same port")


async def sqlite_lock(run: Run, *, at: float, hold_s: float) -> None:
    """Another connection holds BEGIN EXCLUSIVE on the SQLite store for ``hold_s``."""
    await run.until_stored(at)
    path = Path(run.stack.db_url.split("///", 1)[1])

    def hold() -> None:
        conn = sqlite3.connect(path, timeout=30)
        try:
            conn.execute("BEGIN EXCLUSIVE")
            time.sleep(hold_s)
            conn.rollback()
        finally:
            conn.close()

    run.note("sqlite exclusive lock taken")
    await asyncio.to_thread(hold)
    run.note("sqlite lock released")


def payload_json(p: dict[str, Any]) -> str:
    return json.dumps(p, sort_keys=True)
