"""Ingest figures against the local feed farm (prints them and writes var/bench/ingest.json; not a test).

    python -m ingest.bench [--feeds 200] [--bootstrap 127.0.0.1:9092]

1. full parses: feeds/s through our path (fetch → parse → normalise, unconditional GETs on the
   ingester's worker bound) vs plain feedparser.parse on the same bodies, alternating rounds in
   one run (goal: ratio ≥ 0.8);
2. 304 responses: conditional fetches/s through ``fetch`` (goal ≥ 1,000/s on 2 cores);

The farm runs in its own process, so it competes with us for the CPU only as a real
server on the same machine would.
3. freshness: p50/p95 delay from an item appearing in the farm to its record on articles.raw.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import feedparser
import httpx

from ingest.fetch import fetch, make_client
from ingest.normalise import normalise_feed
from ingest.parse import parse
from services.settings import ROOT, Settings


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _workers(n: int, limit: int, fn: Callable[[int], Awaitable[object]]) -> list[object]:
    """Run fn(0..n-1) on ``limit`` worker tasks (not n tasks at once), results in order."""
    out: list[object] = [None] * n
    it = iter(range(n))

    async def worker() -> None:
        for i in it:
            out[i] = await fn(i)

    await asyncio.gather(*(worker() for _ in range(min(limit, n))))
    return out


async def throughput(base: str, n: int, settings: Settings, rounds: int = 3) -> dict[str, float]:
    """Figures 1 and 2. Ours and plain feedparser alternate over ``rounds`` on the same bodies (the
    machine's load drifts; interleaving keeps the comparison fair); each side reports its median round."""
    client = make_client(settings)
    urls = [f"{base}/feed/{i}.xml" for i in range(n)]
    now = datetime.now(UTC)
    warm = await fetch(client, urls[0], settings)  # language model, first connection
    normalise_feed(parse(warm.body or b"", url=urls[0]), feed_url=urls[0], feed_id=0, now=now)
    workers = settings.fetch_global_concurrency
    bodies: list[bytes] = [b""] * n
    etags: list[str] = [""] * n

    async def ours(i: int) -> int:
        r = await fetch(client, urls[i], settings)  # unconditional: a full body every time
        assert r.body is not None
        bodies[i] = r.body
        etags[i] = r.headers.get("etag", "")
        feed = parse(r.body, url=r.url, content_type=r.headers.get("content-type", ""))
        return len(normalise_feed(feed, feed_url=r.url, feed_id=i, now=now))

    ours_rates: list[float] = []
    plain_rates: list[float] = []
    for _ in range(rounds):
        t = time.perf_counter()
        await _workers(n, workers, ours)
        ours_rates.append(n / (time.perf_counter() - t))
        t = time.perf_counter()
        for b in bodies:
            feedparser.parse(io.BytesIO(b))
        plain_rates.append(n / (time.perf_counter() - t))

    async def conditional(i: int) -> int:
        r = await fetch(client, urls[i % n], settings, etag=etags[i % n])
        return r.status

    total = max(n, 3000)
    t = time.perf_counter()
    statuses = await _workers(total, workers, conditional)
    not_modified_s = total / (time.perf_counter() - t)
    await client.aclose()
    ours_s, plain_s = statistics.median(ours_rates), statistics.median(plain_rates)
    return {"full_parse_feeds_per_s_ours": round(ours_s, 1), "full_parse_feeds_per_s_feedparser": round(plain_s, 1),
            "ratio": round(ours_s / plain_s, 3),
            "ratio_per_round": round(statistics.median(o / p for o, p in zip(ours_rates, plain_rates, strict=True)), 3),
            "not_modified_per_s": round(not_modified_s, 1), "share_304": round(statuses.count(304) / total, 3),
            "fetch_concurrency": workers}


async def freshness(base: str, bootstrap: str, n_feeds: int = 50, items: int = 60) -> dict[str, float]:
    from aiokafka import AIOKafkaConsumer

    from ingest.opml import OutlineFeed
    from ingest.service import running_ingester
    from services import bus
    from services.db import feeds as repo
    from services.db.engine import make_engine, make_sessions
    from services.db.migrate import upgrade_async
    from services.events import RawArticle

    tag = uuid.uuid4().hex[:8]
    s = Settings(var_dir=Path(tempfile.mkdtemp(prefix="wirewatch-bench-")), kafka_bootstrap=bootstrap,
                 topic_raw=f"bench{tag}.raw", topic_enriched=f"bench{tag}.enriched", topic_feeds=f"bench{tag}.feeds",
                 group_ingest=f"bench{tag}", feed_allowed_hosts=["127.0.0.1"], fetch_per_host_min_spacing_s=0,
                 fetch_per_host_concurrency=64, scheduler_tick_s=0.1, poll_min_interval_s=1, log_json=False)
    await upgrade_async(s)
    await bus.ensure_topics(s)
    engine = make_engine(s)
    sessions = make_sessions(engine)
    async with sessions() as session:
        await repo.import_opml(session, feeds=[OutlineFeed(f"{base}/feed/{i}.xml", "", "", []) for i in range(n_feeds)],
                               now=datetime.now(UTC))
        for f in await repo.list_feeds(session):
            await repo.update_feed(session, feed_id=f.id, interval_override_s=1.0)
    stop = asyncio.Event()
    delays: list[float] = []
    async with running_ingester(s, sessions, use_assignment=False) as ing:
        runner = asyncio.create_task(ing.run(stop))
        await asyncio.sleep(3)  # first full round published
        consumer = AIOKafkaConsumer(s.topic_raw, bootstrap_servers=bootstrap, auto_offset_reset="latest")
        async with bus.started(consumer), httpx.AsyncClient() as http:
            await asyncio.sleep(1)
            started = time.time()
            for k in range(items):
                await http.post(f"{base}/_control/publish/{k % n_feeds}")
                await asyncio.sleep(0.1)
            while len(delays) < items and time.time() - started < items * 0.1 + 15:
                batch = await consumer.getmany(timeout_ms=500)
                for recs in batch.values():
                    for r in recs:
                        art = RawArticle.from_bytes(r.value)
                        t = parse_qs(urlsplit(art.link).query).get("t")
                        if t and float(t[0]) >= started - 0.5:
                            delays.append(r.timestamp / 1000 - float(t[0]))
        stop.set()
        await runner
    await engine.dispose()
    if not delays:
        return {"freshness_items": 0}
    q = statistics.quantiles(delays, n=20) if len(delays) > 1 else [delays[0]] * 19
    return {"freshness_items": len(delays), "freshness_p50_s": round(statistics.median(delays), 3),
            "freshness_p95_s": round(q[18], 3), "poll_interval_s": 1.0}


async def run(args: argparse.Namespace) -> dict[str, float]:
    port = _port()
    farm = subprocess.Popen([sys.executable, "-m", "ingest.farm", "--port", str(port), "--feeds", str(args.feeds)],  # noqa: ASYNC220
                            stdout=subprocess.PIPE, cwd=ROOT)
    try:
        assert farm.stdout is not None
        farm.stdout.readline()
        base = f"http://127.0.0.1:{port}"
        settings = Settings(feed_allowed_hosts=["127.0.0.1"], fetch_per_host_min_spacing_s=0, log_json=False)
        out = await throughput(base, args.feeds, settings)
        if args.bootstrap:
            out.update(await freshness(base, args.bootstrap))
        return out
    finally:
        farm.terminate()
        farm.wait(5)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m ingest.bench")
    ap.add_argument("--feeds", type=int, default=200)
    ap.add_argument("--bootstrap", default="", help="Kafka bootstrap for the freshness figure (skipped when empty)")
    args = ap.parse_args(argv)
    figures = asyncio.run(run(args))
    width = max(len(k) for k in figures)
    for k, v in figures.items():
        print(f"{k:<{width}}  {v}")
    out = ROOT / "var" / "bench" / "ingest.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2))
    print(f"written {out}")


if __name__ == "__main__":
    main()
