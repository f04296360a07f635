"""End-to-end figures on a live stack (every service its own process, SQLite store, a Kafka broker):

* freshness: a new item in the farm -> stored (articles.stored_at) and -> webhook received (receiver clock),
  p50/p95, measured both from the ingester's fetch that saw it (articles.fetched_at) and from publication
  (the item's own timestamp in the farm), with a 1 s poll interval; goal p95 <= 2 s after the fetch;
* push freshness: the same, but polling is slowed to 10 min and every feed is subscribed at the farm's WebSub
  hub first, so each item travels hub -> API callback -> articles.raw -> ... and is measured from the push
  (its publication, since the hub pushes at once); the farm's request log proves no feed was polled meanwhile;
* memory: RSS of every Python service with 10,000 feed rows (imported as OPML through the admin API)
  pointing at the farm, once every feed has been polled; goal (issue 16) <= 800 MB for all of them together
  at 100,000 feeds (``--feeds 100000``), ingest <= 250 MB.

    python -m tests.bench.e2e [--items 60] [--pushed 40] [--feeds 10000]     (writes var/bench/e2e.json)

No background load here; tests/bench/freshness.py measures the same two freshness figures while 100
articles/s flow through the stack. Every stage runs, the ceasefire tracker included (tests.chaos.stack).

Env: WIREWATCH_KAFKA_BOOTSTRAP (default 127.0.0.1:9092; `make kafka` starts one).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.chaos.stack import SERVICES, Stack, StoreView, Subscriber, poll
from tests.conftest import ROOT
from tests.farm import Farm

GOAL_TOTAL_RSS_MB = 800  # issue 16: every service together at 100,000 feeds


def _q(values: list[float]) -> dict[str, float | int]:
    if not values:
        return {"n": 0}
    values = sorted(values)
    p95 = values[min(len(values) - 1, int(round(0.95 * (len(values) - 1))))]
    return {"n": len(values), "p50_s": round(statistics.median(values), 3), "p95_s": round(p95, 3),
            "max_s": round(values[-1], 3)}


def _epoch(value: datetime | str) -> float:
    """A stored UTC timestamp (SQLite hands back naive ISO text, PostgreSQL aware datetimes) as epoch seconds."""
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    return (when.replace(tzinfo=UTC) if when.tzinfo is None else when).timestamp()


def _topics() -> dict[str, str]:
    s = uuid.uuid4().hex[:8]
    return {"topic_raw": f"b{s}.raw", "topic_enriched": f"b{s}.enriched", "topic_feeds": f"b{s}.feeds",
            "group_enrich": f"b{s}-e", "group_sink": f"b{s}-s", "group_webhooks": f"b{s}-w", "group_ingest": f"b{s}-i",
            "group_tracker": f"b{s}-t"}


async def _measure(store: StoreView, sub: Subscriber, items: int, where: str = "") -> dict[str, Any]:
    """Wait until ``items`` articles are stored and delivered, then the delays from fetch and from publication.
    ``where`` (an SQL condition on ``articles``) picks the measured ones when other articles flow too."""
    cond = f" WHERE {where}" if where else ""

    async def all_in() -> tuple[int, int, int] | None:
        arts = await store.rows(f"SELECT count(*) FROM articles{cond}")  # type: ignore[union-attr]
        sent = await store.rows("SELECT count(*) FROM deliveries WHERE status = 'succeeded'")  # type: ignore[union-attr]
        if not arts or not sent:
            return None
        done = arts[0][0] >= items and sent[0][0] > 0 and len(sub.hits) >= sent[0][0]
        print(f"  stored {arts[0][0]}/{items}, delivered {sent[0][0]}, received {len(sub.hits)}", file=sys.stderr)
        return (arts[0][0], sent[0][0], len(sub.hits)) if done else None

    await poll(all_in, timeout=120, every=2, what=f"{items} articles stored and delivered")
    rows = await store.rows(f"SELECT id, link, fetched_at, stored_at, story_id FROM articles{cond}") or []
    by_story: dict[str, tuple[float, float]] = {}
    stored_fetch, stored_pub = [], []
    for _id, link, fetched, stored, story in rows:
        t_pub = float(parse_qs(urlsplit(link).query)["t"][0])
        f, s = _epoch(fetched), _epoch(stored)
        stored_fetch.append(s - f)
        stored_pub.append(s - t_pub)
        if story not in by_story or by_story[story][1] > t_pub:
            by_story[story] = (f, t_pub)
    hook_fetch, hook_pub = [], []
    seen: set[str] = set()
    for hit in sub.hits:
        body = json.loads(hit.body)
        wid = hit.headers.get("webhook-id", "")
        if body.get("type") != "story.created" or wid in seen or body["data"]["id"] not in by_story:
            continue
        seen.add(wid)
        f, t_pub = by_story[body["data"]["id"]]
        hook_fetch.append(hit.at - f)
        hook_pub.append(hit.at - t_pub)
    return {"stored_from_fetch": _q(stored_fetch), "stored_from_publish": _q(stored_pub),
            "webhook_from_fetch": _q(hook_fetch), "webhook_from_publish": _q(hook_pub)}


@dataclass
class Live:
    """A running stack over a farm of ``feeds`` feeds, with one webhook subscriber registered."""

    farm: Farm
    stack: Stack
    store: StoreView
    sub: Subscriber


@contextlib.asynccontextmanager
async def live_stack(bootstrap: str, workdir: Path, feeds: int, env: dict[str, str],
                     public_api: bool = False, hook: dict[str, Any] | None = None,
                     start: tuple[str, ...] = SERVICES) -> AsyncIterator[Live]:
    """Farm, services (each its own process, ``start``), store view and a receiver subscribed with the
    filters ``hook`` (none: every story event); all stopped on exit."""
    farm = Farm(feeds=feeds, items=0)
    farm.start_thread()
    stack = Stack(workdir=workdir, bootstrap=bootstrap, topics=_topics(),
                  env_extra={"WIREWATCH_CLUSTER_WINDOW_S": "0", "WIREWATCH_LOG_LEVEL": "WARNING", **env})
    if public_api:
        stack.env_extra["WIREWATCH_PUBLIC_URL"] = stack.api
    sub = Subscriber()
    store: StoreView | None = None
    try:
        await stack.prepare([farm.url(i) for i in range(feeds)])
        store = StoreView(stack.db_url)
        await sub.start()
        stack.start_all(start)
        await stack.wait_api()
        async with httpx.AsyncClient(base_url=stack.api, timeout=10) as c:
            r = await c.post("/webhooks", json={"url": sub.url(), **(hook or {})}, headers=stack.admin())
            r.raise_for_status()
        yield Live(farm, stack, store, sub)
    finally:
        stack.stop_all()
        await sub.stop()
        if store is not None:
            await store.close()
        farm.stop_thread()


async def publish_spread(farm: Farm, items: int, feeds: int) -> None:
    """One new item at a time, spread over the feeds and over the poll phase."""
    for k in range(items):
        farm.publish(k % feeds)
        await asyncio.sleep(0.37)


async def freshness(bootstrap: str, workdir: Path, items: int, feeds: int = 20) -> dict[str, Any]:
    """Freshness of polled items (every feed polled each second)."""
    async with live_stack(bootstrap, workdir, feeds, {}) as live:
        await asyncio.sleep(8)  # warm-up: group joins, first polls of the (empty) feeds
        await publish_spread(live.farm, items, feeds)
        return {"poll_interval_s": 1.0, "items": items, **await _measure(live.store, live.sub, items)}


async def push_freshness(bootstrap: str, workdir: Path, items: int, feeds: int = 20) -> dict[str, Any]:
    """Freshness of WebSub-pushed items: every feed subscribed at the farm's hub, polling slowed to 10 min."""
    env = {"WIREWATCH_POLL_MIN_INTERVAL_S": "600", "WIREWATCH_POLL_DEFAULT_INTERVAL_S": "600",
           "WIREWATCH_POLL_MAX_INTERVAL_S": "3600", "WIREWATCH_WEBSUB_MAINTAIN_INTERVAL_S": "2"}
    async with live_stack(bootstrap, workdir, feeds, env, public_api=True) as live:

        async def subscribed() -> bool:
            rows = await live.store.rows("SELECT count(*) FROM feeds WHERE websub_state = 'subscribed'")
            return bool(rows and rows[0][0] >= feeds)

        await poll(subscribed, timeout=120, every=1, what=f"all {feeds} feeds subscribed at the hub")
        polls = [f"/feed/{i}.xml" for i in range(feeds)]
        polls_before = sum(live.farm.requests[p] for p in polls)
        await publish_spread(live.farm, items, feeds)
        figures = await _measure(live.store, live.sub, items)
        return {"poll_interval_s": 600.0, "items": items,
                "feed_polls_during_run": sum(live.farm.requests[p] for p in polls) - polls_before,
                "stored_from_push": figures["stored_from_publish"],
                "webhook_from_push": figures["webhook_from_publish"]}


async def memory(bootstrap: str, workdir: Path, n_feeds: int, with_items: int = 300) -> dict[str, Any]:
    """RSS of each service with ``n_feeds`` feeds, after every feed was polled once (``with_items`` carry news)."""
    farm = Farm(feeds=n_feeds, items=0)
    farm.start_thread()
    for i in range(0, n_feeds, max(1, n_feeds // with_items)):
        farm.publish(i)
    stack = Stack(workdir=workdir, bootstrap=bootstrap, topics=_topics(),
                  env_extra={"WIREWATCH_POLL_MIN_INTERVAL_S": "600", "WIREWATCH_POLL_DEFAULT_INTERVAL_S": "900",
                             "WIREWATCH_POLL_MAX_INTERVAL_S": "3600", "WIREWATCH_POLL_JITTER_FRACTION": "0.1",
                             "WIREWATCH_LOG_LEVEL": "WARNING"})
    peak: dict[str, float] = {}
    store: StoreView | None = None
    try:
        await stack.prepare()
        store = StoreView(stack.db_url)
        stack.start_all(SERVICES)
        await stack.wait_api()
        outlines = "".join(f'<outline type="rss" text="farm {i}" xmlUrl="{farm.url(i)}"/>' for i in range(n_feeds))
        opml = f'<?xml version="1.0"?><opml version="2.0"><head/><body>{outlines}</body></opml>'
        started = time.monotonic()
        async with httpx.AsyncClient(base_url=stack.api, timeout=120) as c:
            r = await c.post("/feeds/import", content=opml.encode(), headers=stack.admin())
            r.raise_for_status()
            imported = r.json()

        async def polled() -> bool:
            for k, mb in stack.rss_mb().items():
                peak[k] = max(peak.get(k, 0.0), mb)
            rows = await store.rows("SELECT count(*) FROM feeds WHERE last_fetch_at IS NOT NULL")  # type: ignore[union-attr]
            return bool(rows and rows[0][0] >= n_feeds)

        await poll(polled, timeout=600, every=1, what=f"all {n_feeds} feeds polled once")
        polled_in = time.monotonic() - started
        await asyncio.sleep(5)
        final = stack.rss_mb()
        pss = stack.pss_mb()
        dead = stack.dead()
        return {"feeds": n_feeds, "imported": imported, "all_polled_in_s": round(polled_in, 1),
                "rss_mb": {k: round(v, 1) for k, v in final.items()}, "peak_rss_mb": {k: round(v, 1) for k, v in peak.items()},
                "total_rss_mb": round(sum(final.values()), 1), "total_peak_rss_mb": round(sum(peak.values()), 1),
                "pss_mb": {k: round(v, 1) for k, v in pss.items()}, "total_pss_mb": round(sum(pss.values()), 1),
                "goal_total_mb": GOAL_TOTAL_RSS_MB,
                "dead": dead}
    finally:
        stack.stop_all()
        if store is not None:
            await store.close()
        farm.stop_thread()


def table(result: dict[str, Any]) -> str:
    lines = []
    f = result.get("freshness", {})
    for key in ("stored_from_fetch", "stored_from_publish", "webhook_from_fetch", "webhook_from_publish"):
        q = f.get(key, {})
        if q.get("n"):
            lines.append(f"e2e  freshness {key:22s} p50 {q['p50_s']:6.2f} s  p95 {q['p95_s']:6.2f} s  (n={q['n']})")
    f = result.get("push", {})
    for key in ("stored_from_push", "webhook_from_push"):
        q = f.get(key, {})
        if q.get("n"):
            lines.append(f"e2e  freshness {key:22s} p50 {q['p50_s']:6.2f} s  p95 {q['p95_s']:6.2f} s  (n={q['n']}, "
                         f"{f['feed_polls_during_run']} polls meanwhile)")
    m = result.get("memory", {})
    if m:
        lines.append(f"e2e  RSS with {m['feeds']} feeds: " + ", ".join(f"{k} {v:.0f}" for k, v in m["rss_mb"].items())
                     + f"  = {m['total_rss_mb']:.0f} MB (peak {m['total_peak_rss_mb']:.0f} MB, "
                     f"PSS {m.get('total_pss_mb', 0):.0f} MB; goal <= {GOAL_TOTAL_RSS_MB} MB at 100,000 feeds)")
    return "\n".join(lines)


async def amain(args: argparse.Namespace) -> dict[str, Any]:
    bootstrap = os.environ.get("WIREWATCH_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    out: dict[str, Any] = {"bootstrap": bootstrap}
    with tempfile.TemporaryDirectory(prefix="ww-bench-") as tmp:
        if args.items:
            out["freshness"] = await freshness(bootstrap, Path(tmp) / "fresh", args.items)
        if args.pushed:
            out["push"] = await push_freshness(bootstrap, Path(tmp) / "push", args.pushed)
        if args.feeds:
            out["memory"] = await memory(bootstrap, Path(tmp) / "mem", args.feeds)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.bench.e2e", description=__doc__.split("\n\n")[0])
    ap.add_argument("--items", type=int, default=60, help="new items for the freshness figure (0 = skip)")
    ap.add_argument("--pushed", type=int, default=40, help="new items pushed via WebSub (0 = skip)")
    ap.add_argument("--feeds", type=int, default=10_000, help="feed rows for the memory figure (0 = skip)")
    args = ap.parse_args(argv)
    result = asyncio.run(amain(args))
    out = ROOT / "var" / "bench" / "e2e.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=str))
    print(table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
