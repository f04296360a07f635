"""Store sink benchmark: articles/s through ``api.sink.service.store_batch`` (clustering + upsert), per store.

    python -m tests.bench.sink [--articles 2000] [--db sqlite|postgres|both] [--batch 32]

Two workloads of enriched articles (MinHash signatures as enrichment computes them), stored in batches as
the sink's consumer hands them over, into a fresh, migrated store:

* ``syndicated``: one report republished by every outlet (the chaos suite's farm): every article
  joins one story, so each batch reads that story's articles and each band key's bucket is full. This is
  the case that was quadratic (7.6 articles/s on SQLite over 2,000 articles before the story was folded
  once per batch and bucket reads were capped).
* ``distinct``: unrelated reports, each its own story.
* ``enriched``: what the backfill bench's farm serves (46 mid-frequency English words an item, rarely
  shared), run through the real ``Enricher`` first, so each event carries what the sink really gets:
  salient terms (about 40), names, NER entities, and the index keys and link candidates they bring (about
  41 keys an article against ``distinct``'s 33, and candidates through shared words, which ``distinct``'s
  random tokens never share). Slower to prepare (spaCy, about 5 ms an item); ``--workloads`` picks.

Prints articles/s over the whole run next to the goal (1,000/s), over its first and last quarter (a flat
rate means no quadratic term), per second of the sink process's CPU (the figure that does not move with
what else the machine runs), on PostgreSQL also per second of the sink's and the server's CPU together
(the server's processes, from /proc: what the store's side of a change costs), and the stories made.
The process is set up as the sink's main sets it up (``service.tune_collector``, where it exists), and the
workload is frozen out of the collector's reach while it runs (a sink holds one batch, not 10,000 events). Writes
var/bench/sink.json. Not a test. The goal's form: ``--db both --articles 10000``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import hashlib
import json
import os
import random
import subprocess
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiokafka.structs import ConsumerRecord
from sqlalchemy import text

from api.sink import service
from api.sink.service import store_batch
from enrich import cluster
from services.db.engine import make_engine, make_sessions
from services.db.migrate import upgrade_async
from services.events import EnrichedArticle, EntityMention, RawArticle, TopicTag
from services.ids import article_id
from services.settings import Settings
from tests.bench.api import free_port
from tests.farm import WORDS  # the chaos suite's farm writes its items from these

ROOT = Path(__file__).resolve().parents[2]
GOAL = 1_000  # articles/s on either store, 10,000-article runs of both workloads (issue 16)


def _event(i: int, title: str, body: str, when: datetime) -> EnrichedArticle:
    link = f"https://outlet{i % 97}.example/{i}"
    sig = cluster.signature(title, body)
    return EnrichedArticle(
        article=RawArticle(id=article_id(link=link, guid=None), url=link, title=title, summary=body,
                           source=f"Outlet {i % 97}", published_at=when),
        lang="en", topics=[TopicTag(name="ceasefire", confidence=0.9)],
        entities=[EntityMention(id="Q71", name="Geneva", type="GPE")],
        taxonomy_version="bench", minhash=list(sig.minhash), cluster_bands=list(sig.bands))


def workload(kind: str, n: int, first: int = 0) -> list[EnrichedArticle]:
    """``n`` articles of one workload; ``first`` numbers them on (two workloads with other numbers share no id)."""
    t0 = datetime.now(UTC) - timedelta(hours=1)
    out = []
    for i in range(first, first + n):
        if kind == "syndicated":  # the farm's shape: one body, a per-outlet title
            title = f"Feed {i % 100} item {i // 100}: {' '.join(WORDS[i % 20:i % 20 + 5])}"
            body = " ".join(WORDS[(i // 100 + k) % len(WORDS)] for k in range(24))
        else:
            rng = random.Random(i)
            words = [f"w{rng.randrange(10**6)}" for _ in range(40)]
            title, body = f"Report {i} " + " ".join(words[:6]), " ".join(words)
        out.append(_event(i, title, body, t0 + timedelta(seconds=i)))
    return out


def enriched_workload(n: int) -> list[EnrichedArticle]:
    """``n`` backfill-farm items (tests.bench.backfill's vocabulary and shape) through the real enricher."""
    from enrich.pipeline import Enricher
    from tests.bench.backfill import _vocabulary, distinct_text

    vocabulary, t0 = _vocabulary(), datetime.now(UTC) - timedelta(hours=1)
    raws = []
    for i in range(n):
        title, body = distinct_text(vocabulary, i // 50, i % 50)  # 50 items a feed, as the backfill serves them
        link = f"https://outlet{i % 97}.example/e/{i}"
        raws.append(RawArticle(id=article_id(link=link, guid=None), url=link, source=f"Outlet {i % 97}",
                               title=title, summary=body, published_at=t0 + timedelta(seconds=i)))
    enricher = Enricher()
    return [ev for k in range(0, n, 64) for ev in enricher.enrich(raws[k:k + 64])]


def server_cpu(data_dir: str) -> Callable[[], float] | None:
    """CPU seconds the PostgreSQL server under ``data_dir`` used so far (its processes, and those it reaped),
    or None where /proc does not tell (not Linux)."""
    def ticks(pid: int) -> int:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime

    def used() -> float:
        main = int(Path(data_dir, "postmaster.pid").read_text().split()[0])
        total = ticks(main)
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == main:
                    total += ticks(int(stat.parent.name))
            except (OSError, ValueError, IndexError):
                continue  # a process that ended meanwhile
        return total / os.sysconf("SC_CLK_TCK")

    try:
        used()
    except (OSError, ValueError, IndexError):
        return None
    return used


def assignment_digest(members: list[tuple[str, str]]) -> str:
    """A short digest of how the articles are partitioned into stories (not of the story ids): two runs that
    group alike print the same digest."""
    groups: dict[str, list[str]] = {}
    for aid, story in members:
        groups.setdefault(story, []).append(aid)
    parts = sorted(",".join(sorted(g)) for g in groups.values())
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def store_bytes(url: str) -> int | None:
    """The SQLite store's size on disk (the database and its WAL), or None for another store."""
    if not url.startswith("sqlite"):
        return None
    path = Path(url.split("///", 1)[1])
    return sum(p.stat().st_size for p in (path, path.with_name(path.name + "-wal")) if p.exists())


async def run_store(url: str, events: list[EnrichedArticle], batch: int,
                    server: Callable[[], float] | None = None) -> dict[str, Any]:
    settings = Settings(database_url=url)
    await upgrade_async(settings)
    engine = make_engine(settings)
    sessions = make_sessions(engine)
    records = [ConsumerRecord("articles.enriched", 0, i, 0, 0, ev.id.encode(), ev.to_bytes(), None, 0, 0, ())
               for i, ev in enumerate(events)]
    # The workload lives the whole run, as no sink's input does (a sink holds one batch): out of the
    # collector's reach, so that what it walks is what a sink keeps (it was half the collector's time).
    gc.collect()
    gc.freeze()
    marks: list[float] = []
    cpu_marks: list[float] = []
    served_from = server() if server is not None else 0.0
    cpu0 = time.process_time()
    started = time.perf_counter()
    for k in range(0, len(records), batch):
        await store_batch(sessions, records[k:k + batch])
        marks.append(time.perf_counter())
        cpu_marks.append(time.process_time())
    total = time.perf_counter() - started
    cpu = time.process_time() - cpu0
    served = server() - served_from if server is not None else None
    gc.unfreeze()
    async with sessions() as s:
        articles, stories, biggest = (await s.execute(text(
            "SELECT (SELECT count(*) FROM articles), count(*), max(article_count) FROM stories"))).one()
        members = [(str(a), str(b)) for a, b in await s.execute(text("SELECT id, story_id FROM articles"))]
    await engine.dispose()
    q = max(1, len(marks) // 4)
    first = min(q * batch, len(events)) / (marks[q - 1] - started)
    # One batch (fewer articles than --batch) has no last quarter of its own: the whole run is both.
    last = q * batch / (marks[-1] - marks[-q - 1]) if len(marks) > q else len(events) / total
    # The sink's CPU per article (ms) over the first and last quarter: the figure a shared machine does not move.
    first_cpu = (cpu_marks[q - 1] - cpu0) / min(q * batch, len(events)) * 1000
    last_cpu = ((cpu_marks[-1] - cpu_marks[-q - 1]) / (q * batch) if len(marks) > q else cpu / len(events)) * 1000
    return {"articles": int(articles), "stories": int(stories), "largest_story": int(biggest or 0),
            "articles_per_s": round(len(events) / total, 1), "first_quarter_per_s": round(first, 1),
            "last_quarter_per_s": round(last, 1), "sink_cpu_s": round(cpu, 2),
            "articles_per_sink_cpu_s": round(len(events) / cpu, 1), "loadavg_1m": round(os.getloadavg()[0], 2),
            "sink_cpu_ms_first_quarter": round(first_cpu, 3), "sink_cpu_ms_last_quarter": round(last_cpu, 3),
            "assignment_digest": assignment_digest(members), "store_bytes": store_bytes(url),
            **({} if served is None else {"server_cpu_s": round(served, 2),
                                          "articles_per_cpu_s": round(len(events) / (cpu + served), 1)})}


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m tests.bench.sink", description=__doc__.split("\n\n")[0])
    p.add_argument("--articles", type=int, default=2000)
    p.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument("--batch", type=int, default=Settings().sink_max_batch,
                   help="records per store_batch call (the sink's poll under a backlog: WIREWATCH_SINK_MAX_BATCH)")
    p.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "sink.json")
    p.add_argument("--workloads", default="syndicated,distinct,enriched",
                   help="comma-separated subset of syndicated,distinct,enriched")
    args = p.parse_args()
    kinds = [k for k in args.workloads.split(",") if k]
    unknown = set(kinds) - {"syndicated", "distinct", "enriched"}
    if unknown:
        p.error(f"unknown workloads: {', '.join(sorted(unknown))}")
    results: dict[str, Any] = {"at": datetime.now(UTC).isoformat(), "articles": args.articles,
                               "batch": args.batch, "loadavg_1m": round(os.getloadavg()[0], 2)}
    loads = {kind: enriched_workload(args.articles) if kind == "enriched" else workload(kind, args.articles)
             for kind in kinds}
    tune = getattr(service, "tune_collector", None)  # what the sink process's main sets up (none before it)
    if tune is not None:
        tune()
    for db in (["sqlite", "postgres"] if args.db == "both" else [args.db]):
        with tempfile.TemporaryDirectory(prefix="wwsink-") as tmp:
            os.chmod(tmp, 0o755)  # deploy/postgres.sh runs the server as the postgres user when root
            script, env = str(ROOT / "deploy" / "postgres.sh"), {**os.environ, "PG_PORT": str(free_port())}
            if db == "postgres":
                out = subprocess.run([script, "start", f"{tmp}/pg"], env=env, check=True, capture_output=True,
                                     text=True)
                base = out.stdout.strip().splitlines()[-1]
            try:
                for kind, events in loads.items():
                    url = f"sqlite+aiosqlite:///{tmp}/{kind}.db" if db == "sqlite" else base
                    if db == "postgres":
                        asyncio.run(_reset_pg(base))
                    res = asyncio.run(run_store(url, events, args.batch,
                                                server_cpu(f"{tmp}/pg") if db == "postgres" else None))
                    results[f"{db}_{kind}"] = res
                    print(f"sink {db:8s} {kind:10s}  {res['articles_per_s']:7.1f} articles/s, goal {GOAL:,} "
                          f"({'met' if res['articles_per_s'] >= GOAL else 'not met'}; first quarter "
                          f"{res['first_quarter_per_s']}, last {res['last_quarter_per_s']}; "
                          f"{res['articles_per_sink_cpu_s']} per second of the sink's CPU"
                          + (f", {res['articles_per_cpu_s']} of the sink's and PostgreSQL's"
                             if "articles_per_cpu_s" in res else "") + ", load "
                          f"{res['loadavg_1m']}); {res['articles']} articles in {res['stories']} stories, largest "
                          f"{res['largest_story']}; sink CPU {res['sink_cpu_ms_first_quarter']} ms/article first quarter, "
                          f"{res['sink_cpu_ms_last_quarter']} last; partition {res['assignment_digest']}"
                          + (f"; store {res['store_bytes'] / 2**20:.1f} MiB" if res["store_bytes"] else ""),
                          flush=True)
            finally:
                if db == "postgres":
                    subprocess.run([script, "stop", f"{tmp}/pg"], env=env, check=False, capture_output=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(f"wrote {args.out}")


async def _reset_pg(url: str) -> None:
    """Empty the bench database between workloads (a fresh schema, migrated by run_store)."""
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


if __name__ == "__main__":
    main()
