"""Ingest figures against the local feed farm (prints them and writes var/bench/ingest.json; not a test).

    python -m tests.bench.ingest [--feeds 200] [--bootstrap 127.0.0.1:9092]

1. full parses: feeds/s through our path (fetch → parse → normalise, unconditional GETs on the
   ingester's worker bound) vs plain feedparser.parse on the same bodies (goal: ratio ≥ 0.8). After a
   warm-up on other feeds, a "cold" round meets every item for the first time; before each further
   round the farm adds one item to every feed, as a feed that changed does. In a round, ours fetches
   and parses a worker bound's worth of feeds, then plain feedparser parses those bodies, and so on
   (the machine's load drifts; pairing in small steps keeps the comparison fair);
2. 304 responses: conditional fetches/s through ``fetch`` (goal ≥ 1,000/s on 2 cores);
3. freshness, polled: p50/p95 delay from an item appearing in the farm to its record on articles.raw,
   feeds polled every second by an in-process ingester;
4. freshness, pushed: the same for items the farm's WebSub hub pushes to the API's callback (the real
   API, ``wirewatch run api``, in its own process; real HTTP between all three), on feeds subscribed
   first and not polled meanwhile.

The farm and the API run in their own processes, so they compete with us for the CPU only as real
servers on the same machine would. 3 and 4 need Kafka (skipped when no broker answers).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import feedparser
import httpx

from ingest.fetch import fetch, make_client
from ingest.normalise import normalise_feed
from ingest.parse import parse
from services.settings import ROOT, Settings

FIGURES = ROOT / "var" / "bench" / "ingest.json"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _reachable(bootstrap: str) -> bool:
    host, _, port = bootstrap.split(",")[0].strip().rpartition(":")
    try:
        socket.create_connection((host or "127.0.0.1", int(port or 9092)), timeout=2).close()
    except (OSError, ValueError):
        return False
    return True


async def _workers(n: int, limit: int, fn: Callable[[int], Awaitable[object]]) -> list[object]:
    """Run fn(0..n-1) on ``limit`` worker tasks (not n tasks at once), results in order."""
    out: list[object] = [None] * n
    it = iter(range(n))

    async def worker() -> None:
        for i in it:
            out[i] = await fn(i)

    await asyncio.gather(*(worker() for _ in range(min(limit, n))))
    return out


async def throughput(base: str, n: int, settings: Settings, rounds: int = 5) -> dict[str, float]:
    """Figures 1 and 2. Each side of figure 1 reports its median round; ``ratio_per_round`` is the median of
    the rounds' own ratios, ``ratio_cpu`` the same by this process's CPU time (what a busy machine's
    other work cannot inflate). Within a round the two sides alternate every ``fetch_concurrency`` feeds."""
    client = make_client(settings)
    urls = [f"{base}/feed/{i}.xml" for i in range(2 * n)]
    now = datetime.now(UTC)
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

    async def paired_round() -> tuple[float, float, float, float]:
        """Feeds/s of (ours, plain) by the wall clock, then by CPU time."""
        spent = [0.0, 0.0, 0.0, 0.0]
        for start in range(0, n, workers):
            chunk = range(start, min(n, start + workers))
            w0, c0 = time.perf_counter(), time.process_time()
            await asyncio.gather(*(ours(i) for i in chunk))
            w1, c1 = time.perf_counter(), time.process_time()
            for i in chunk:
                feedparser.parse(io.BytesIO(bodies[i]))
            w2, c2 = time.perf_counter(), time.process_time()
            for k, d in enumerate((w1 - w0, w2 - w1, c1 - c0, c2 - c1)):
                spent[k] += d
        return n / spent[0], n / spent[1], n / spent[2], n / spent[3]

    async def warm_up(i: int) -> None:  # imports, connections, first calls: on other feeds, other items
        r = await fetch(client, urls[n + i], settings)
        feed = parse(r.body or b"", url=r.url, content_type=r.headers.get("content-type", ""))
        normalise_feed(feed, feed_url=r.url, feed_id=i, now=now)
        feedparser.parse(io.BytesIO(r.body or b""))

    await _workers(n, workers, warm_up)
    cold = await paired_round()
    pairs: list[tuple[float, float, float, float]] = []
    async with httpx.AsyncClient(base_url=base, trust_env=False) as control:
        for _ in range(rounds):
            for i in range(n):
                await control.post(f"/_control/publish/{i}")
            pairs.append(await paired_round())

    async def conditional(i: int) -> int:
        r = await fetch(client, urls[i % n], settings, etag=etags[i % n])
        return r.status

    total = max(n, 3000)
    t = time.perf_counter()
    statuses = await _workers(total, workers, conditional)
    not_modified_s = total / (time.perf_counter() - t)
    await client.aclose()
    ours_s, plain_s = statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)
    return {"full_parse_feeds_per_s_ours": round(ours_s, 1), "full_parse_feeds_per_s_feedparser": round(plain_s, 1),
            "ratio": round(ours_s / plain_s, 3),
            "ratio_per_round": round(statistics.median(p[0] / p[1] for p in pairs), 3),
            "ratio_cpu": round(statistics.median(p[2] / p[3] for p in pairs), 3),
            "ratio_cold": round(cold[0] / cold[1], 3), "ratio_cold_cpu": round(cold[2] / cold[3], 3),
            "rounds": rounds, "not_modified_per_s": round(not_modified_s, 1),
            "share_304": round(statuses.count(304) / total, 3), "fetch_concurrency": workers}


# --- freshness ---------------------------------------------------------------------------------------


def _bench_settings(bootstrap: str, **extra: Any) -> Settings:
    """Settings for one freshness run: its own SQLite store and topics, loopback feeds allowed."""
    tag = uuid.uuid4().hex[:8]
    return Settings(var_dir=Path(tempfile.mkdtemp(prefix="wirewatch-bench-")), database_url="",
                    kafka_bootstrap=bootstrap, topic_raw=f"bench{tag}.raw", topic_enriched=f"bench{tag}.enriched",
                    topic_feeds=f"bench{tag}.feeds", group_ingest=f"bench{tag}", feed_allowed_hosts=["127.0.0.1"],
                    fetch_per_host_min_spacing_s=0, fetch_per_host_concurrency=64, scheduler_tick_s=0.1,
                    poll_min_interval_s=1, log_json=False, **extra)


@asynccontextmanager
async def _store(s: Settings, urls: list[str], interval_s: float) -> AsyncIterator[Any]:
    """A migrated store holding ``urls`` as feeds polled every ``interval_s``; yields its session factory."""
    from ingest.opml import OutlineFeed
    from services import bus
    from services.db import feeds as repo
    from services.db.engine import make_engine, make_sessions
    from services.db.migrate import upgrade_async

    await upgrade_async(s)
    await bus.ensure_topics(s)
    engine = make_engine(s)
    sessions = make_sessions(engine)
    try:
        async with sessions() as session:
            await repo.import_opml(session, feeds=[OutlineFeed(u, "", "", []) for u in urls], now=datetime.now(UTC))
            for f in await repo.list_feeds(session):
                await repo.update_feed(session, feed_id=f.id, interval_override_s=interval_s)
        yield sessions
    finally:
        await engine.dispose()
        shutil.rmtree(s.var_dir, ignore_errors=True)


@asynccontextmanager
async def _raw_consumer(s: Settings) -> AsyncIterator[Any]:
    """A consumer of the run's articles.raw from its end (new records only)."""
    from aiokafka import AIOKafkaConsumer

    from services import bus

    consumer = AIOKafkaConsumer(s.topic_raw, bootstrap_servers=s.kafka_bootstrap, auto_offset_reset="latest")
    async with bus.started(consumer):
        await asyncio.sleep(1)  # partitions assigned, positions resolved
        yield consumer


async def _delays(consumer: Any, control: httpx.AsyncClient, feeds: list[int], items: int,
                  via: str) -> tuple[list[float], int]:
    """Publish ``items`` items in the farm (one per 0.1 s, round robin over ``feeds``); the delays from
    each item's creation (its link's ``t``) to its record's timestamp on articles.raw, for records that
    came ``via`` that path, and how many of those items came another way."""
    from services.events import RawArticle

    started = time.time()
    for k in range(items):
        await control.post(f"/_control/publish/{feeds[k % len(feeds)]}")
        await asyncio.sleep(0.1)
    delays: list[float] = []
    other = 0
    while len(delays) + other < items and time.time() - started < items * 0.1 + 15:
        batch = await consumer.getmany(timeout_ms=500)
        for recs in batch.values():
            for r in recs:
                art = RawArticle.from_bytes(r.value)
                t = parse_qs(urlsplit(art.link).query).get("t")
                if not t or float(t[0]) < started - 0.5:
                    continue
                if art.via == via:
                    delays.append(r.timestamp / 1000 - float(t[0]))
                else:
                    other += 1
    return delays, other


def _quantiles(delays: list[float], prefix: str) -> dict[str, float]:
    if not delays:
        return {f"{prefix}_items": 0}
    q = statistics.quantiles(delays, n=20) if len(delays) > 1 else [delays[0]] * 19
    return {f"{prefix}_items": len(delays), f"{prefix}_p50_s": round(statistics.median(delays), 3),
            f"{prefix}_p95_s": round(q[18], 3)}


async def freshness(base: str, bootstrap: str, feeds: list[int], items: int = 60) -> dict[str, float]:
    """Figure 3: an in-process ingester polls ``feeds`` every second."""
    from ingest.service import running_ingester

    s = _bench_settings(bootstrap)
    stop = asyncio.Event()
    async with (_store(s, [f"{base}/feed/{i}.xml" for i in feeds], 1.0) as sessions,
                running_ingester(s, sessions, use_assignment=False) as ing):
        runner = asyncio.create_task(ing.run(stop))
        try:
            await asyncio.sleep(3)  # first full round published
            async with _raw_consumer(s) as consumer, httpx.AsyncClient(base_url=base, trust_env=False) as control:
                delays, _ = await _delays(consumer, control, feeds, items, "poll")
        finally:
            stop.set()
            await runner
    return {**_quantiles(delays, "freshness"), "poll_interval_s": 1.0}


@asynccontextmanager
async def _api_process(s: Settings) -> AsyncIterator[subprocess.Popen[bytes]]:
    """``wirewatch run api`` on the run's store, topics and port (settings travel as WIREWATCH_* variables)."""
    env = {**os.environ, "WIREWATCH_VAR_DIR": str(s.var_dir), "WIREWATCH_DATABASE_URL": s.database_url,
           "WIREWATCH_KAFKA_BOOTSTRAP": s.kafka_bootstrap, "WIREWATCH_TOPIC_RAW": s.topic_raw,
           "WIREWATCH_TOPIC_ENRICHED": s.topic_enriched, "WIREWATCH_TOPIC_FEEDS": s.topic_feeds,
           "WIREWATCH_API_HOST": "127.0.0.1", "WIREWATCH_API_PORT": str(s.api_port),
           "WIREWATCH_PUBLIC_URL": s.public_url, "WIREWATCH_FEED_ALLOWED_HOSTS": ",".join(s.feed_allowed_hosts),
           "WIREWATCH_LOG_JSON": "false", "WIREWATCH_LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen([sys.executable, "-m", "services.cli", "run", "api"], cwd=ROOT, env=env)  # noqa: ASYNC220
    try:
        async with httpx.AsyncClient(trust_env=False) as http:
            for _ in range(300):
                if proc.poll() is not None:
                    raise RuntimeError(f"the API exited with {proc.returncode}")
                try:
                    if (await http.get(f"{s.public_url}/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError("the API did not start within 30 s")
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


async def push_freshness(base: str, bootstrap: str, feeds: list[int], items: int = 60) -> dict[str, float]:
    """Figure 4: ``feeds`` polled once (the hub is discovered), subscribed at the farm's hub through the
    API, then left to push; polling stays on, once an hour, so an item that came by poll would show."""
    from ingest.service import running_ingester
    from services.db import feeds as repo

    port = _port()
    s = _bench_settings(bootstrap, api_port=port, public_url=f"http://127.0.0.1:{port}")
    stop = asyncio.Event()
    async with (_store(s, [f"{base}/feed/{i}.xml" for i in feeds], 3600.0) as sessions, _api_process(s),
                running_ingester(s, sessions, use_assignment=False) as ing):
        async with sessions() as session:
            ids = [f.id for f in await repo.list_feeds(session)]
        await asyncio.gather(*(ing.poll_once(fid) for fid in ids))
        await ing.maintain_websub()
        deadline = time.monotonic() + 30
        while True:
            async with sessions() as session:
                states = [f.websub_state for f in await repo.list_feeds(session)]
            if all(st == "subscribed" for st in states):
                break
            if time.monotonic() > deadline:
                return {"freshness_pushed_items": 0, "freshness_pushed_subscribed": states.count("subscribed")}
            await asyncio.sleep(0.2)
        runner = asyncio.create_task(ing.run(stop))
        try:
            async with _raw_consumer(s) as consumer, httpx.AsyncClient(base_url=base, trust_env=False) as control:
                # One push first: the API starts its producer on the first push, once per process.
                await _delays(consumer, control, feeds[:1], 1, "push")
                delays, by_poll = await _delays(consumer, control, feeds, items, "push")
        finally:
            stop.set()
            await runner
    return {**_quantiles(delays, "freshness_pushed"), "freshness_pushed_by_poll": by_poll}


async def run(args: argparse.Namespace) -> dict[str, float]:
    port = _port()
    farm = subprocess.Popen([sys.executable, "-m", "tests.farm", "--port", str(port), "--feeds", str(args.feeds)],  # noqa: ASYNC220
                            stdout=subprocess.PIPE, cwd=ROOT)
    try:
        assert farm.stdout is not None
        farm.stdout.readline()
        base = f"http://127.0.0.1:{port}"
        settings = Settings(feed_allowed_hosts=["127.0.0.1"], fetch_per_host_min_spacing_s=0, log_json=False)
        out: dict[str, float] = dict(await throughput(base, args.feeds, settings))
        if args.bootstrap and _reachable(args.bootstrap):
            half = max(1, min(50, args.feeds // 2))
            out.update(await freshness(base, args.bootstrap, list(range(half))))
            out.update(await push_freshness(base, args.bootstrap, list(range(half, min(args.feeds, 2 * half)))))
        elif args.bootstrap:
            print(f"freshness skipped: no Kafka broker answers at {args.bootstrap}", file=sys.stderr)
        return out
    finally:
        farm.terminate()
        farm.wait(5)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m tests.bench.ingest")
    ap.add_argument("--feeds", type=int, default=200)
    ap.add_argument("--bootstrap", default=None,
                    help="Kafka for the freshness figures (default: WIREWATCH_KAFKA_BOOTSTRAP); '' skips them")
    args = ap.parse_args(argv)
    if args.bootstrap is None:
        args.bootstrap = Settings().kafka_bootstrap
    figures = asyncio.run(run(args))
    width = max(len(k) for k in figures)
    for k, v in figures.items():
        print(f"{k:<{width}}  {v}")
    if "freshness_p50_s" in figures and "freshness_pushed_p50_s" in figures:
        print(f"freshness p50/p95: polled every {figures['poll_interval_s']:g} s {figures['freshness_p50_s']}"
              f"/{figures['freshness_p95_s']} s; pushed by WebSub {figures['freshness_pushed_p50_s']}"
              f"/{figures['freshness_pushed_p95_s']} s")
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    FIGURES.write_text(json.dumps(figures, indent=2))
    print(f"written {FIGURES}")


if __name__ == "__main__":
    main()
