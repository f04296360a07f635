"""Feed pages at 100,000 feeds: GET /feeds and the dashboard's feed table, on both stores.

    python -m tests.bench.pages [--feeds 100000] [--db sqlite|postgres|both] [--requests 40] [--only tag]

Imports N feeds into a fresh store (the OPML import's own repository function), gives them the mix a
large deployment has (most healthy, some failing, some never fetched yet, some disabled, tags), starts
the real API under uvicorn in a subprocess (tests/bench/api.py's server) and times each page one
request at a time (latency, not throughput): the first and the last page of ``GET /feeds``, a filtered
and a tagged one, and the dashboard's table sorted by status, searched, and deep in its pages.
Issue 16's goal: every page <= 50 ms. Prints figures and writes var/bench/pages.json. Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import update

from tests.bench.api import ROOT, Server
from tests.bench.backfill import database

GOAL_MS = 50.0
ADMIN = "bench-admin-token"


def pages(n: int) -> dict[str, str]:
    """What is timed: name -> path (the deep pages sit near the end of the list)."""
    return {
        "GET /feeds (first 500)": "/feeds",
        "GET /feeds (last page)": f"/feeds?limit=500&offset={max(n - 500, 0)}",
        "GET /feeds?failing=true": "/feeds?failing=true&limit=500",
        "GET /feeds?tag=region-7": "/feeds?tag=region-7&limit=500",
        "dashboard feeds, by status": "/dashboard/feeds",
        "dashboard feeds, failing only": "/dashboard/feeds?status=failing",
        "dashboard feeds, search": "/dashboard/feeds?q=farm-4242",
        "dashboard feeds, last page": f"/dashboard/feeds?page={max(n // 100, 1)}",
        "dashboard feeds, by name, page 500": "/dashboard/feeds?sort=feed&dir=asc&page=500",
        "dashboard feeds, by name, first page": "/dashboard/feeds?sort=feed",
    }


async def populate(url: str, n: int) -> float:
    """N feeds through the OPML import, then the status mix; returns the seconds it took."""
    from ingest.opml import OutlineFeed
    from services.db.engine import make_engine, make_sessions
    from services.db.feeds import import_opml
    from services.db.migrate import upgrade_async
    from services.db.models import Feed
    from services.settings import Settings

    settings = Settings(database_url=url)
    await upgrade_async(settings, url=url)
    t0 = time.perf_counter()
    engine = make_engine(settings)
    now = datetime.now(UTC)
    try:
        async with make_sessions(engine)() as session:
            outlines = (OutlineFeed(url=f"https://farm-{i}.example.org/feed.xml", title=f"Farm {i}",
                                    tags=[f"region-{i % 50}"]) for i in range(n))
            await import_opml(session, feeds=outlines, now=now)
        async with engine.begin() as conn:
            await conn.execute(update(Feed).values(last_success_at=now - timedelta(minutes=5), last_fetch_at=now))
            await conn.execute(update(Feed).where(Feed.id % 20 == 0).values(consecutive_failures=3,
                                                                             last_error="http"))
            await conn.execute(update(Feed).where(Feed.id % 97 == 0).values(last_success_at=None))
            await conn.execute(update(Feed).where(Feed.id % 101 == 0).values(enabled=False))
    finally:
        await engine.dispose()
    if url.startswith("postgresql"):  # what autovacuum does after a bulk load: statistics, visibility map
        engine = make_engine(settings)
        try:
            async with engine.connect() as conn:
                await (await conn.execution_options(isolation_level="AUTOCOMMIT")).exec_driver_sql(
                    "VACUUM ANALYZE feeds")
        finally:
            await engine.dispose()
    return time.perf_counter() - t0


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def time_pages(base: str, n: int, requests: int, *, pid: int = 0,
                     only: str = "") -> dict[str, dict[str, float]]:
    """p50/p95/max latency per page, and the API process's CPU per request (load from other work stretches
    latency, much less CPU time)."""
    out: dict[str, dict[str, float]] = {}
    async with httpx.AsyncClient(base_url=base, timeout=30,
                                 headers={"Authorization": f"Bearer {ADMIN}"}) as client:
        for name, path in pages(n).items():
            if only and only.lower() not in name.lower():
                continue
            lat: list[float] = []
            cpu0 = 0.0
            for i in range(requests + 3):
                t0 = time.perf_counter()
                r = await client.get(path)
                ms = (time.perf_counter() - t0) * 1000
                if r.status_code != 200:
                    raise RuntimeError(f"{path}: {r.status_code} {r.text[:200]}")
                if i >= 3:  # the first requests warm the connection pool and the store's cache
                    lat.append(ms)
                if i == 2:
                    cpu0 = cpu_s(pid)
            cpu = (cpu_s(pid) - cpu0) * 1000 / len(lat)
            lat.sort()
            out[name] = {"p50_ms": round(statistics.median(lat), 1),
                         "p95_ms": round(lat[max(0, int(len(lat) * 0.95) - 1)], 1),
                         "max_ms": round(lat[-1], 1), "api_cpu_ms": round(cpu, 1), "bytes": len(r.content)}
            print(f"  {name:40s} p50 {out[name]['p50_ms']:7.1f} ms  p95 {out[name]['p95_ms']:7.1f} ms  "
                  f"API CPU {cpu:5.1f} ms/request", flush=True)
    return out


async def bench_store(kind: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    print(f"[{kind}] importing {args.feeds:,} feeds…", flush=True)
    load_s = await populate(url, args.feeds)
    print(f"[{kind}] imported in {load_s:.1f}s", flush=True)
    os.environ["WIREWATCH_ADMIN_TOKEN"] = ADMIN  # the server subprocess reads its settings from the environment
    async with Server(url, cache=True) as server:
        timed = await time_pages(server.base, args.feeds, args.requests, pid=server.proc.pid, only=args.only)
    worst = max(v["p95_ms"] for v in timed.values())
    return {"feeds": args.feeds, "import_s": round(load_s, 1), "pages": timed, "worst_p95_ms": worst,
            "goal_ms": GOAL_MS}


def run_all(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {"at": datetime.now(UTC).isoformat(), "cpus": os.cpu_count(),
                               "loadavg_1m": round(os.getloadavg()[0], 2), "stores": {}}
    for kind in (["sqlite", "postgres"] if args.db == "both" else [args.db]):
        with tempfile.TemporaryDirectory(prefix="wwpages-") as tmp, database(kind, Path(tmp)) as pg_url:
            url = pg_url or f"sqlite+aiosqlite:///{tmp}/pages.db"
            results["stores"][kind] = asyncio.run(bench_store(kind, url, args))
    return results


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m tests.bench.pages", description=__doc__.split("\n\n")[0])
    p.add_argument("--feeds", type=int, default=100_000)
    p.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument("--requests", type=int, default=40, help="timed requests per page")
    p.add_argument("--only", default="", help="time only the pages whose name contains this (e.g. tag, dashboard)")
    p.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "pages.json")
    args = p.parse_args()
    results = run_all(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    for kind, res in results["stores"].items():
        verdict = "met" if res["worst_p95_ms"] <= GOAL_MS else "MISSED"
        print(f"{kind}: worst page p95 {res['worst_p95_ms']} ms (goal <= {GOAL_MS:g} ms): {verdict}")


if __name__ == "__main__":
    main()
