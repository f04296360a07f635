"""One fault-injection run: a farm publishes a known set of N articles, the live stack carries them to the
store and to a webhook subscriber, a scenario breaks things on the way, and ``verify`` checks the outcome.

Outcome checked after every scenario:
* the store holds exactly the N expected articles (by id, and by the farm's (feed, item) key: none lost,
  none doubled), every article in exactly one story, article counts of stories adding up to N;
* the API lists the same stories and, through /stories/{id}, the same articles;
* the subscriber received a validly signed story.created for every story exactly once (dedup by
  ``webhook-id``), the latest version of every story, and nothing is left pending or dead-lettered;
* with the ceasefire tracker in the stack (every fourth farm item is a real ceasefire report from
  tests/data/tracker): every article that ``articles.enriched`` carries with ceasefire mentions is folded
  in exactly once (tracker_articles), every record's history is numbered 1..k without a gap or a double,
  and a second subscriber (ceasefire events only) got one validly signed event per history entry, each
  once by ``webhook-id``, with nothing pending.

Size: 200 articles in the short form, 2,000 in the long one (``WIREWATCH_CHAOS=long``);
``WIREWATCH_CHAOS_N`` sets another N (10,000: ``WIREWATCH_CHAOS=long WIREWATCH_CHAOS_N=10000 make chaos``),
and the waits scale with it.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import os
import random
import re
import sqlite3
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

import httpx
from standardwebhooks import Webhook as Verifier

from tests.chaos.stack import Hit, Stack, StoreView, Subscriber, poll
from tests.farm import Farm

TITLE = re.compile(r"^Feed (\d+) item (\d+):")
LONG = os.environ.get("WIREWATCH_CHAOS") == "long"
N = int(os.environ.get("WIREWATCH_CHAOS_N") or (2000 if LONG else 200))
SCALE = max(1.0, N / 2000)  # waits and deadlines grow with the data beyond the long form's 2,000
CEASEFIRE_EVENTS = ["ceasefire.created", "ceasefire.state_changed"]


def sizes() -> tuple[int, int]:
    """(feeds, items per feed) for about N articles: 20 x 10 = 200 in the short form, 100 x 20 = 2,000 in
    the long one, 200 x 50 = 10,000 at WIREWATCH_CHAOS_N=10000."""
    per_feed = 10 if N <= 200 else 20 if N <= 4000 else 50
    return max(1, -(-N // per_feed)), per_feed


def _reports() -> list[tuple[str, str]]:
    """(title, text) of the first English article of a few unrelated tracker timelines: real ceasefire
    reports (the enricher finds mentions in each), one conflict apiece so they never link to each other."""
    from tests.eval.tracker import load

    wanted = ("tl01-", "tl05-", "tl10-", "tl12-", "tl18-", "tl22-")
    out = []
    for t in load():
        if str(t.get("id", "")).startswith(wanted):
            a = next(a for a in t["articles"] if a["lang"] == "en")
            out.append((a["title"], a["text"]))
    return out


class ChaosFarm(Farm):
    """The farm, with item j of feed i a ceasefire report when j % 4 == 1 (the tracker has work to do);
    the other items, and every title's "Feed i item j:" prefix, as the plain farm has them."""

    def __init__(self, feeds: int) -> None:
        super().__init__(feeds=feeds, items=0)
        self.reports = _reports()

    def entry(self, i: int, j: int, t: float) -> tuple[str, str, str]:
        if j % 4 != 1:
            return super().entry(i, j, t)
        title, text = self.reports[(i + j) % len(self.reports)]
        return (f"Feed {i} item {j}: {escape(title)}", f"{self.base}/articles/{i}/{j}?t={t:.3f}",
                f"<p>{escape(text)}</p><p>Item {j} of feed {i}.</p>")


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
    cf_sub: Subscriber | None = None  # ceasefire events only, when the tracker runs
    cf_secret: str = ""
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
        timeout = timeout if timeout is not None else (300 * SCALE if LONG else 90)  # the long form moves 10x the data

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
            payload = verify_on_arrival(v, hit)
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
        latest = self.latest_received()
        return all(latest.get(sid) == ver for sid, ver in stories)

    def latest_received(self) -> dict[str, int]:
        """Story id -> the newest version the subscriber received (story.merged names the merged id and its
        survivor, with no version)."""
        latest: dict[str, int] = {}
        for p in self.received().values():
            if p["type"] != "story.merged":
                sid, ver = p["data"]["id"], int(p["data"]["version"])
                latest[sid] = max(latest.get(sid, 0), ver)
        return latest

    async def behind(self) -> str:
        """The stories whose stored version the subscriber has not received, with what it has, and the story
        deliveries recorded for them: what a failed wait for "every latest version" needs to be read."""
        assert self.store is not None
        stories = await self.store.rows("SELECT id, version FROM stories") or []
        latest = self.latest_received()
        lines = []
        for sid, ver in stories:
            if latest.get(sid) != ver:
                rows = await self.store.rows(
                    "SELECT event_key, status, attempts FROM deliveries WHERE story_id = "
                    f"'{sid}' AND event_type != 'story.merged' ORDER BY created_at") or []
                lines.append(f"story {sid}: stored v{ver}, received v{latest.get(sid)}; deliveries {rows[-6:]}")
        return "behind: " + ("; ".join(lines) if lines else "none")

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
        # A story announced and later merged into another (reports of one event that arrived before the
        # article linking them) was announced gone by story.merged, naming a survivor that is stored. A survivor
        # whose merged part the subscriber heard of first is announced by that story.merged, not by a
        # story.created of its own (api/webhooks/policy.py, plan_story_event).
        merged_into = {p["data"]["id"]: p["data"]["merged_into"] for p in got.values() if p["type"] == "story.merged"}
        announced = set(created) | set(merged_into.values())
        assert story_ids <= announced, f"stories never announced: {sorted(story_ids - announced)[:5]}"
        for sid in set(created) - story_ids:
            seen, cur = {sid}, sid
            while cur in merged_into and cur not in story_ids:
                cur = merged_into[cur]
                assert cur not in seen, f"story.merged events go round in a circle from {sid}"
                seen.add(cur)
            assert cur in story_ids, f"story {sid} was announced, is gone, and no story.merged names a survivor"
        if merged_into:
            async with httpx.AsyncClient(base_url=self.stack.api, timeout=20) as c:
                for old in self.rng.sample(sorted(merged_into), min(20, len(merged_into))):
                    r = await c.get(f"/stories/{old}")
                    assert r.status_code == 200 and r.json()["id"] in story_ids, (old, r.status_code)
        # Events queued after the stories settled (the tracker's, a throttled story.updated) are still on
        # their way: wait for them to go out; anything failed or dead-lettered fails at once.
        query = "SELECT status, count(*) FROM deliveries WHERE status <> 'succeeded' GROUP BY status"

        async def drained() -> bool:
            rows = await self.store.rows(query)  # type: ignore[union-attr]
            if rows is None:
                return False
            assert all(status == "pending" for status, _ in rows), f"deliveries not delivered: {rows}"
            return not rows

        await poll(drained, timeout=60 * SCALE, what="the deliveries queued after settling to go out")
        bad = await self.store.rows(query)
        assert bad == [], f"deliveries not delivered: {bad}"
        tracker = await self.verify_tracker({a[0] for a in arts}, timeout) if self.cf_sub is not None else {}
        dead = self.stack.dead()
        assert not dead, f"services exited on their own: {dead}\n{self.stack.tail()}"
        return {"articles": len(arts), "stories": len(stories), "webhook_requests": len(self.sub.hits),
                "unique_events": len(got), "redeliveries": len(self.sub.hits) - len(got), **tracker,
                "events": self.events}

    async def verify_tracker(self, stored: set[str], timeout: float) -> dict[str, Any]:
        """Every article with ceasefire mentions folded in once, histories gapless, one ceasefire event per
        history entry delivered (by webhook-id) to the ceasefire subscriber."""
        assert self.store is not None and self.cf_sub is not None
        want = await enriched_with_mentions(self.stack)
        assert want, "no article with ceasefire mentions went through enrich: the tracker had nothing to do"
        assert want <= stored, f"enriched articles not stored: {sorted(want - stored)[:5]}"
        cf_sub = self.cf_sub

        async def folded() -> bool:
            rows = await self.store.rows("SELECT article_id FROM tracker_articles")  # type: ignore[union-attr]
            hist = await self.store.rows("SELECT count(*) FROM ceasefire_history")  # type: ignore[union-attr]
            open_ = await self.store.rows(  # type: ignore[union-attr]
                "SELECT count(*) FROM deliveries WHERE status = 'pending'")
            if rows is None or hist is None or open_ is None or open_[0][0]:
                return False
            return {r[0] for r in rows} == want and len({h.headers["webhook-id"] for h in cf_sub.hits}) >= hist[0][0]

        try:
            await poll(folded, timeout=timeout, every=0.5,
                       what=f"all {len(want)} articles with mentions folded in and their changes delivered")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{await self.diagnose()}") from None
        self.note("tracker settled")
        tracked = await self.store.rows("SELECT article_id FROM tracker_articles")
        history = await self.store.rows("SELECT ceasefire_id, seq FROM ceasefire_history")
        records = await self.store.rows("SELECT id FROM ceasefires")
        hook_rows = await self.store.rows(f"SELECT d.status, count(*) FROM deliveries d JOIN webhooks w ON w.id = "
                                          f"d.webhook_id WHERE w.url = '{cf_sub.url()}' GROUP BY d.status")
        assert tracked is not None and history is not None and records is not None and hook_rows is not None
        assert len(tracked) == len(want) and {r[0] for r in tracked} == want
        seqs: dict[str, list[int]] = defaultdict(list)
        for cid, seq in history:
            seqs[cid].append(int(seq))
        assert set(seqs) == {r[0] for r in records}, "a record without history, or history without its record"
        gaps = {cid: sorted(v) for cid, v in seqs.items() if sorted(v) != list(range(1, len(v) + 1))}
        assert not gaps, f"history numbered with a gap or a double: {dict(list(gaps.items())[:3])}"
        assert dict(hook_rows) == {"succeeded": len(history)}, f"ceasefire deliveries {hook_rows} vs {len(history)} changes"
        v = Verifier(self.cf_secret)
        events: dict[str, dict[str, Any]] = {}
        for hit in cf_sub.hits:
            payload = verify_on_arrival(v, hit)
            events.setdefault(hit.headers["webhook-id"], payload)
        changes = Counter((p["data"]["id"], int(p["data"]["change"]["seq"])) for p in events.values())
        twice = [k for k, c in changes.items() if c > 1]
        assert not twice, f"one state change delivered under two webhook-ids: {twice[:5]}"
        assert set(changes) == {(cid, int(seq)) for cid, seq in history}, "ceasefire events and history differ"
        return {"tracker_folded": len(tracked), "ceasefires": len(records), "ceasefire_changes": len(history),
                "ceasefire_requests": len(cf_sub.hits)}

    async def diagnose(self) -> str:
        assert self.store is not None
        counts = {t: await self.store.rows(f"SELECT count(*) FROM {t}")
                  for t in ("articles", "stories", "deliveries", "seen_articles")}
        status = await self.store.rows("SELECT status, count(*) FROM deliveries GROUP BY status")
        feeds = await self.store.rows("SELECT last_error_class, count(*) FROM feeds GROUP BY last_error_class")
        return (f"published={self.published} counts={counts} deliveries={status} feed errors={feeds} "
                f"hits={len(self.sub.hits)} dead={self.stack.dead()}\n{await self.behind()}"
                "\nevents:\n  " + "\n  ".join(self.events)
                + "\n" + self.stack.tail(12000))


async def _true(value: bool) -> bool:
    return value


def verify_on_arrival(v: Verifier, hit: Hit) -> Any:
    """A request verified as its receiver would have verified it on arrival: signature, and the standard's
    5-minute timestamp tolerance measured from ``hit.at`` rather than from now (a long run checks its first
    requests again many minutes later; ``Webhook.verify`` then calls them too old)."""
    ts = float(hit.headers["webhook-timestamp"])
    assert abs(hit.at - ts) <= 300, f"webhook-timestamp {ts} is {hit.at - ts:.0f} s off its arrival"
    expected = v.sign(hit.headers["webhook-id"], datetime.fromtimestamp(ts, UTC), hit.body.decode()).split(",", 1)[1]
    sigs = [sig.split(",", 1)[1] for sig in hit.headers["webhook-signature"].split(" ") if sig.startswith("v1,")]
    assert any(hmac.compare_digest(expected, sig) for sig in sigs), f"no valid signature on {hit.headers['webhook-id']}"
    return json.loads(hit.body)


async def enriched_with_mentions(stack: Stack) -> set[str]:
    """Ids of the articles that ``articles.enriched`` carries (committed) with ceasefire mentions."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    from services.events import EnrichedArticle

    topic = stack.topics.get("topic_enriched") or stack.settings().topic_enriched
    consumer = AIOKafkaConsumer(bootstrap_servers=stack.bootstrap, enable_auto_commit=False,
                                isolation_level="read_committed")
    await consumer.start()
    out: set[str] = set()
    try:
        parts = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        if not parts:
            parts = [TopicPartition(topic, p) for p in sorted(await _partitions(consumer, topic))]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        ends = await consumer.end_offsets(parts)
        deadline = time.monotonic() + 60 * SCALE

        async def behind() -> list[TopicPartition]:
            return [tp for tp in parts if await consumer.position(tp) < ends[tp]]

        while await behind():
            assert time.monotonic() < deadline, f"{topic} not read to its end offsets {ends} in time"
            batch = await consumer.getmany(timeout_ms=1000, max_records=5000)
            for records in batch.values():
                for rec in records:
                    ev = EnrichedArticle.from_bytes(rec.value or b"")
                    if ev.ceasefires:
                        out.add(ev.id)
    finally:
        await consumer.stop()
    return out


async def _partitions(consumer: Any, topic: str) -> set[int]:
    await consumer._client.force_metadata_update()  # noqa: SLF001 - aiokafka has no public "refresh"
    return consumer.partitions_for_topic(topic) or set()


Scenario = Callable[[Run], Awaitable[None]]


async def run_flow(stack: Stack, scenario: Scenario, *, feeds: int, per_feed: int, round_s: float,
                   start: tuple[str, ...] = ("api", "ingest", "enrich", "sink", "webhooks", "tracker"),
                   settle_s: float = 180) -> dict[str, Any]:
    """Farm + stack + subscriber(s); publish while ``scenario`` runs; verify the end state; tear down.

    Beyond 100 feeds a round lasts proportionally longer, so the publishing rate stays that of the long
    form (about 33 articles/s): the farm shows a feed's last 20 items, and at N=10,000 with 3 s rounds
    (67/s) a feed the busy ingester did not poll for a minute lost items off that window (found: 88 of
    10,000, with ingest's SQLite writes failing "database is locked" meanwhile)."""
    round_s *= max(1.0, feeds / 100)
    farm = ChaosFarm(feeds)
    farm.start_thread()
    run = Run(stack, farm, feeds, per_feed, round_s)
    settle_s *= SCALE
    if "tracker" in start:
        run.cf_sub = Subscriber()
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
            if run.cf_sub is not None:
                await run.cf_sub.start()
                r = await c.post("/webhooks", json={"url": run.cf_sub.url(), "description": "chaos ceasefires",
                                                    "events": CEASEFIRE_EVENTS}, headers=stack.admin())
                assert r.status_code == 201, r.text
                run.cf_secret = r.json()["secret"]
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
        if run.cf_sub is not None:
            await run.cf_sub.stop()
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
