"""API benchmark: /stories against a trivial route of the same app, and SSE fan-out latency.

    python -m tests.bench.api [--stories 100000] [--db sqlite|postgres|both] [--duration 5] [--connections 32]
                        [--rate 500] [--rate-share 0.5] [--write-rate 100]

Loads N stories into a fresh store (bulk SQL inserts), starts the API under uvicorn in a subprocess on a
free port, and drives GET /healthz and GET /stories?topic=ceasefire with one load generator (raw HTTP/1.1
on asyncio streams, on uvloop, so that it costs far less per request than the server), with the page
cache on (production behaviour) and off (every request queries the store), while a background process
stores --write-rate articles a second (30 % ceasefire stories: the page under test keeps changing, so
the cache must drop only what a change concerns). Two measures:

* saturation (throughput): a closed loop of C connections, one request at a time each, for a fixed
  duration. Its requests/s ratio is the issue's goal. Its latency is mostly queueing (Little's law:
  about C / throughput), so its p99 is printed for reference only.
* latency: an open loop at a constant arrival rate (the fixed --rate, and --rate-share of the measured
  /stories saturation throughput of the same mode), as wrk2 does it. Request i is due at start + i/rate
  and its latency runs from that due time, so a server (or generator) falling behind shows in the
  figures instead of quietly lowering the load (no coordinated omission). Both routes get the same
  offered load; the goal p99 applies here.

Then 1,000 SSE listeners: the time from a story's commit to each of them receiving it.
Prints figures and writes var/bench/api.json. Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvloop

ROOT = Path(__file__).resolve().parents[2]
TOPICS = ["ceasefire", "peace_talks", "energy_infrastructure_strike", "military_aid", "sanctions",
          "prisoner_exchange", "humanitarian_aid", "territorial_change"]
ENTITIES = [(f"Q{i}", f"Entity {i}", "GPE") for i in range(200)]
WORDS = ["truce", "talks", "border", "shelling", "aid", "convoy", "envoy", "summit", "grain", "corridor",
         "drone", "strike", "prisoners"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# --- load the store ------------------------------------------------------------------------------


async def load(url: str, n: int, *, batch: int = 5000) -> float:
    """Insert n stories (with one article, topics, entities and search document each); return seconds."""
    from sqlalchemy import insert

    from services.db.engine import make_engine
    from services.db.models import Article, Story, StoryEntity, StoryTopic
    from services.db.stories import story_search
    from services.settings import Settings

    rnd = random.Random(7)
    engine = make_engine(Settings(database_url=url), url=url)
    start = time.perf_counter()
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    for lo in range(0, n, batch):
        stories, topics, ents, arts, docs = [], [], [], [], []
        for i in range(lo, min(n, lo + batch)):
            sid = uuid.UUID(int=rnd.getrandbits(128)).hex
            when = t0 + timedelta(seconds=i * 60 + rnd.randint(0, 59))
            names = (["ceasefire"] if rnd.random() < 0.3 else []) + rnd.sample(TOPICS[1:], rnd.randint(0, 2))
            tags = [{"name": t, "confidence": round(rnd.uniform(0.5, 1), 3),
                     "evidence": [{"sentence": "…", "phrase": t}]} for t in names]
            es = [{"id": e[0], "name": e[1], "type": e[2], "mentions": 1, "in_title": False}
                  for e in rnd.sample(ENTITIES, 2)]
            title = " ".join(rnd.sample(WORDS, 6)).capitalize() + f" {i}"
            summary = " ".join(rnd.choices(WORDS, k=40))
            link = f"https://news.example.org/{i}"
            stories.append({"id": sid, "seq": i, "headline": title, "url": link, "summary": summary, "lang": "en",
                            "state": rnd.choice([None, "agreed", "violated"]), "topics": tags, "entities": es,
                            "sources": ["Bench Wire"], "article_count": 1, "published_at": when,
                            "first_seen": when, "last_seen": when, "version": 1})
            topics += [{"story_id": sid, "topic": t["name"], "confidence": t["confidence"]} for t in tags]
            ents += [{"story_id": sid, "entity_id": e["id"], "name": e["name"], "type": e["type"], "mentions": 1}
                     for e in es]
            arts.append({"id": sid, "story_id": sid, "feed_id": 1 + i % 50, "source": "Bench Wire", "url": link,
                         "link": link, "title": title, "summary": summary, "content": "", "author": "",
                         "lang": "en", "published_at": when, "fetched_at": when, "enriched_at": when,
                         "stored_at": when, "content_hash": "", "state": None, "topics": tags, "entities": es,
                         "taxonomy_version": "bench", "version": 1})
            docs.append({"story_id": sid, "headline": title, "summary": summary, "titles": title})
        async with engine.begin() as conn:
            for table, rows in ((Story.__table__, stories), (StoryTopic.__table__, topics),
                                (StoryEntity.__table__, ents), (Article.__table__, arts), (story_search, docs)):
                await conn.execute(insert(table), rows)  # type: ignore[arg-type]
    async with engine.connect() as conn:
        from sqlalchemy import text
        # Statistics for the planner; on PostgreSQL also VACUUM (visibility map, so index-only scans skip the
        # heap), else autovacuum would start on the fresh tables in the middle of the measurements.
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))
    await engine.dispose()
    return time.perf_counter() - start


# --- the server ----------------------------------------------------------------------------------


def serve(url: str, port: int, cache: bool) -> None:
    """Subprocess entry: the real app under uvicorn (migrations already applied by the parent)."""
    import uvicorn

    from api.http.app import create_app
    from services.settings import Settings

    raise_fd_limit()
    app = create_app(Settings(database_url=url, log_json=False, log_level="WARNING"), migrate=False, page_cache=cache)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="on",
                backlog=4096)


class Server:
    def __init__(self, url: str, *, cache: bool) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        args = [sys.executable, "-m", "tests.bench.api", "--serve", url, "--port", str(self.port)]
        self.proc = subprocess.Popen(args + ([] if cache else ["--no-cache"]), cwd=ROOT)

    async def __aenter__(self) -> Server:
        async with httpx.AsyncClient() as c:
            for _ in range(600):
                try:
                    if (await c.get(self.base + "/healthz")).status_code == 200:
                        return self
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError("the API did not start")

    async def __aexit__(self, *exc: object) -> None:
        self.proc.terminate()
        try:
            await asyncio.to_thread(self.proc.wait, 15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


# --- writing while reading -----------------------------------------------------------------------


async def write_steadily(url: str, rate: float, report: Path) -> None:
    """Subprocess entry: store ``rate`` enriched articles a second as the sink does (ten per transaction,
    30 % of them ceasefire stories, so the page under test keeps changing) until terminated; the
    achieved rate is written to ``report`` every second."""
    from services.db import stories as repo
    from services.db.engine import make_engine, make_sessions
    from services.settings import Settings
    from tests.factories import enriched, raw

    engine = make_engine(Settings(database_url=url), url=url)
    sessions = make_sessions(engine)
    rnd, n, start = random.Random(11), 0, time.perf_counter()
    per_batch = 10
    while True:
        due = start + n / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        async with sessions() as s, s.begin():
            for _ in range(per_batch):
                n += 1
                topic = "ceasefire" if rnd.random() < 0.3 else rnd.choice(TOPICS[1:])
                a = raw(10_000_000 + n, title=f"{' '.join(rnd.sample(WORDS, 5)).capitalize()} {n}",
                        published=datetime.now(UTC))
                await repo.upsert_enriched(s, event=enriched(a, topics={topic: 0.9}))
        if n % int(rate) < per_batch:
            figures = json.dumps({"articles": n, "rps": round(n / (time.perf_counter() - start), 1)})
            await asyncio.to_thread(report.write_text, figures)


class Writer:
    """The background writer for the duration of a measurement (``rate`` 0: none)."""

    def __init__(self, url: str, rate: float) -> None:
        self.url, self.rate = url, rate
        self.report = Path(tempfile.mkstemp(prefix="wwbench-writer-", suffix=".json")[1])
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Writer:
        if self.rate > 0:
            self.proc = subprocess.Popen([sys.executable, "-m", "tests.bench.api", "--write", self.url,
                                          "--write-rate", str(self.rate), "--out", str(self.report)], cwd=ROOT)
        return self

    def achieved(self) -> float:
        try:
            return float(json.loads(self.report.read_text())["rps"])
        except (ValueError, KeyError, OSError):
            return 0.0

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(15)
        self.report.unlink(missing_ok=True)


# --- load generator -------------------------------------------------------------------------------


class RawConnection:
    """A minimal HTTP/1.1 keep-alive GET client on asyncio streams: the load generator must cost far less
    per request than the server, and httpx costs about as much as a trivial FastAPI route."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\n\r\n".encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        await self.reader.readexactly(length)
        return status

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def percentiles(lat: list[float]) -> dict[str, float]:
    """p50/p90/p99/max of latencies in seconds, as milliseconds."""
    lat = sorted(lat) or [float("inf")]

    def at(q: float) -> float:
        return round(lat[min(len(lat) - 1, int(len(lat) * q))] * 1000, 2)

    return {"p50_ms": at(0.5), "p90_ms": at(0.9), "p99_ms": at(0.99), "max_ms": round(lat[-1] * 1000, 2)}


async def hammer(base: str, path: str, *, duration: float, connections: int,
                 client: str = "raw") -> dict[str, float]:
    """Closed loop: C workers, each with its own keep-alive connection, one request at a time, for `duration` s."""
    lat: list[float] = []
    errors = 0
    host, port = base.split("//", 1)[1].split(":")
    conns: list[Any] = ([RawConnection(host, int(port)) for _ in range(connections)] if client == "raw" else
                        [httpx.AsyncClient(base_url=base, timeout=30, limits=httpx.Limits(max_connections=1))
                         for _ in range(connections)])

    async def worker(conn: Any, until: float, record: bool) -> None:
        nonlocal errors
        while (now := time.perf_counter()) < until:
            r = await conn.get(path)
            if (r if isinstance(r, int) else r.status_code) != 200:
                errors += 1
            if record:
                lat.append(time.perf_counter() - now)

    try:
        warm = time.perf_counter() + min(1.0, duration / 4)
        await asyncio.gather(*(worker(c, warm, False) for c in conns))
        start = time.perf_counter()
        await asyncio.gather(*(worker(c, start + duration, True) for c in conns))
        elapsed = time.perf_counter() - start
    finally:
        for c in conns:
            await (c.close() if client == "raw" else c.aclose())
    return {"requests": len(lat), "errors": errors, "rps": round(len(lat) / elapsed, 1), **percentiles(lat)}


async def open_loop(base: str, path: str, *, rate: float, duration: float,
                    connections: int = 64) -> dict[str, float]:
    """Open loop at a constant arrival rate, measured from each request's scheduled send time (as wrk2 does).

    Request i is due at start + i/rate, on keep-alive connection i % C. A connection still waiting for an
    earlier answer sends late, and that wait counts in the latency: a slow server cannot lower the offered
    load unnoticed. ``send_lag_p99_ms`` says how late requests went out (a busy server's queue shows there
    too, and so does a generator short of CPU).
    """
    host, port = base.split("//", 1)[1].split(":")
    conns = [RawConnection(host, int(port)) for _ in range(connections)]
    lat: list[float] = []
    lag: list[float] = []
    errors = 0

    async def sender(j: int, start: float, n: int, record: bool) -> None:
        nonlocal errors
        for i in range(j, n, connections):
            due = start + i / rate
            if (delay := due - time.perf_counter()) > 0:
                await asyncio.sleep(delay)
            sent = time.perf_counter()
            status = await conns[j].get(path)
            if record:
                lat.append(time.perf_counter() - due)
                lag.append(sent - due)
                errors += status != 200

    async def run(seconds: float, record: bool) -> float:
        start = time.perf_counter() + 0.01
        n = int(rate * seconds)
        await asyncio.wait_for(asyncio.gather(*(sender(j, start, n, record) for j in range(connections))),
                               timeout=seconds + 120)
        return time.perf_counter() - start

    try:
        await run(min(1.0, duration / 4), record=False)  # open the connections, warm the route
        elapsed = await run(duration, record=True)
    finally:
        for c in conns:
            await c.close()
    return {"offered_rps": round(rate, 1), "requests": len(lat), "errors": errors,
            "achieved_rps": round(len(lat) / elapsed, 1), **percentiles(lat),
            "send_lag_p99_ms": percentiles(lag)["p99_ms"]}


async def fan_out(base: str, url: str, listeners: int) -> dict[str, Any]:
    """Open the listeners, store one matching story, time its arrival at each of them."""
    from services.db import stories as repo
    from services.db.engine import make_engine, make_sessions
    from services.events import EnrichedArticle, RawArticle, TopicTag
    from services.settings import Settings

    limits = httpx.Limits(max_connections=None, max_keepalive_connections=0)
    ready = 0
    all_ready = asyncio.Event()
    stored_at: list[float] = []
    arrivals: list[float] = []
    marker = uuid.uuid4().hex

    async def listen(client: httpx.AsyncClient) -> None:
        nonlocal ready
        async with client.stream("GET", "/stories/stream", params={"topic": "ceasefire"}) as r:
            async for line in r.aiter_lines():
                if line.startswith("event: ready"):
                    ready += 1
                    if ready == listeners:
                        all_ready.set()
                elif line.startswith("data:") and marker in line:
                    arrivals.append(time.perf_counter())
                    return

    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120) as client:
        tasks = [asyncio.create_task(listen(client)) for _ in range(listeners)]
        await asyncio.wait_for(all_ready.wait(), 120)
        engine = make_engine(Settings(database_url=url), url=url)
        link = f"https://bench.example.org/{marker}"
        art = RawArticle(id=marker, url=link, link=link, title=f"Ceasefire bench {marker}", summary="s",
                         source="Bench", published_at=datetime.now(UTC), content_hash=marker)
        ev = EnrichedArticle(article=art, lang="en", topics=[TopicTag(name="ceasefire", confidence=0.9)],
                             story_id=marker, taxonomy_version="bench")
        async with make_sessions(engine)() as s, s.begin():
            await repo.upsert_enriched(s, event=ev)
        stored_at.append(time.perf_counter())
        await asyncio.wait_for(asyncio.gather(*tasks), 60)
        await engine.dispose()
    delays = sorted(a - stored_at[0] for a in arrivals)
    return {"listeners": listeners, "received": len(delays),
            "first_ms": round(delays[0] * 1000, 1), "median_ms": round(statistics.median(delays) * 1000, 1),
            "p99_ms": round(delays[int(len(delays) * 0.99) - 1] * 1000, 1), "all_ms": round(delays[-1] * 1000, 1)}


# --- one store ------------------------------------------------------------------------------------


TRIVIAL, STORIES = "/healthz", "/stories?topic=ceasefire"


def _ms(r: dict[str, Any]) -> str:
    return f"p50 {r['p50_ms']:6.1f} p99 {r['p99_ms']:7.1f} ms"


async def bench_mode(kind: str, url: str, cache: bool, args: argparse.Namespace) -> dict[str, Any]:
    """Saturation, then latency at the offered loads, for one server (page cache on or off)."""
    label = "cached" if cache else "uncached"
    tag = f"[{kind}] {label:8}"
    out: dict[str, Any] = {}
    async with Server(url, cache=cache) as srv, _writing(url, args.write_rate) as writer:
        trivial = await hammer(srv.base, TRIVIAL, duration=args.duration, connections=args.connections)
        stories = await hammer(srv.base, STORIES, duration=args.duration, connections=args.connections)
        ratio = round(stories["rps"] / trivial["rps"], 3)
        out["saturation"] = {"connections": args.connections, "trivial": trivial, "stories": stories,
                             "ratio": ratio}
        print(f"{tag} THROUGHPUT (closed loop, {args.connections} connections, {args.duration:g} s): "
              f"{TRIVIAL} {trivial['rps']:.0f} req/s, {STORIES} {stories['rps']:.0f} req/s -> ratio {ratio:.2f} "
              f"(goal >= 0.5) [its p99 {stories['p99_ms']:.0f} ms is queueing, ~{args.connections}/rps: "
              "not the latency figure]", flush=True)
        share = f"{round(args.rate_share * 100)}% of /stories saturation"
        out["open_loop"] = {}
        for basis, rate in {"fixed": args.rate, share: args.rate_share * stories["rps"]}.items():
            t = await open_loop(srv.base, TRIVIAL, rate=rate, duration=args.duration)
            s = await open_loop(srv.base, STORIES, rate=rate, duration=args.duration)
            out["open_loop"][basis] = {"offered_rps": round(rate, 1), "trivial": t, "stories": s}
            over = " OVERLOADED: more than the route sustains" if s["achieved_rps"] < 0.95 * rate else ""
            print(f"{tag} LATENCY at {rate:.0f} req/s offered ({basis}; open loop, from scheduled send): "
                  f"{TRIVIAL} {_ms(t)} | {STORIES} {_ms(s)} (goal p99 <= 25) "
                  f"[achieved {s['achieved_rps']:.0f} req/s, send lag p99 {s['send_lag_p99_ms']:.1f} ms]{over}",
                  flush=True)
        out["writing_rps"] = writer.achieved()
        print(f"{tag} while storing {out['writing_rps']:.0f} articles/s in the background (goal >= 100)", flush=True)
        if cache:
            out["sse"] = await fan_out(srv.base, url, args.listeners)
            f = out["sse"]
            print(f"[{kind}] SSE fan-out to {f['received']}/{f['listeners']} listeners: first {f['first_ms']} ms, "
                  f"median {f['median_ms']} ms, all {f['all_ms']} ms after commit", flush=True)
    return out


@contextlib.asynccontextmanager
async def _writing(url: str, rate: float) -> AsyncIterator[Writer]:
    with Writer(url, rate) as w:
        await asyncio.sleep(2 if rate else 0)  # let it reach its rate before measuring
        yield w


async def bench_store(kind: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    from services.db.migrate import upgrade_async
    from services.settings import Settings

    await upgrade_async(Settings(database_url=url), url=url)
    print(f"[{kind}] loading {args.stories:,} stories…", flush=True)
    load_s = await load(url, args.stories)
    print(f"[{kind}] loaded in {load_s:.1f}s", flush=True)
    res: dict[str, Any] = {"stories": args.stories, "load_s": round(load_s, 1)}
    for cache in (True, False):
        mode = await bench_mode(kind, url, cache, args)
        if cache:
            res["sse"] = mode.pop("sse")
        res["cached" if cache else "uncached"] = mode
    return res


def run_all(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {"at": datetime.now(UTC).isoformat(), "connections": args.connections,
                               "duration_s": args.duration, "rate": args.rate, "rate_share": args.rate_share,
                               "cpus": os.cpu_count(), "loadavg_1m": round(os.getloadavg()[0], 2), "stores": {}}
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    for kind in kinds:
        with tempfile.TemporaryDirectory(prefix="wwbench-") as tmp:
            os.chmod(tmp, 0o755)  # deploy/postgres.sh runs the server as the postgres user when root
            if kind == "sqlite":
                url = f"sqlite+aiosqlite:///{tmp}/bench.db"
                results["stores"][kind] = uvloop.run(bench_store(kind, url, args))
                continue
            env = {**os.environ, "PG_PORT": str(free_port())}
            script = str(ROOT / "deploy" / "postgres.sh")
            out = subprocess.run([script, "start", f"{tmp}/pg"], env=env, check=True, capture_output=True, text=True)
            try:
                url = out.stdout.strip().splitlines()[-1]
                results["stores"][kind] = uvloop.run(bench_store(kind, url, args))
            finally:
                subprocess.run([script, "stop", f"{tmp}/pg"], env=env, check=False)
    return results


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m tests.bench.api", description=__doc__.split("\n\n")[0])
    p.add_argument("--stories", type=int, default=100_000)
    p.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument("--duration", type=float, default=5.0, help="seconds per measured route")
    p.add_argument("--connections", type=int, default=32, help="closed-loop (saturation) connections")
    p.add_argument("--rate", type=float, default=500.0, help="fixed open-loop offered load, requests/s")
    p.add_argument("--rate-share", type=float, default=0.5,
                   help="second open-loop load, as a share of the measured /stories saturation throughput")
    p.add_argument("--listeners", type=int, default=1000)
    p.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "api.json")
    p.add_argument("--serve", metavar="URL", help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, help=argparse.SUPPRESS)
    p.add_argument("--no-cache", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--write-rate", type=float, default=100.0,
                   help="articles/s stored in the background while reading (0: none)")
    p.add_argument("--write", metavar="URL", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.write:
        uvloop.run(write_steadily(args.write, args.write_rate, args.out))
        return
    if args.serve:
        serve(args.serve, args.port, cache=not args.no_cache)
        return
    raise_fd_limit()
    results = run_all(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
