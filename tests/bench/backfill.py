"""Backfill end to end: a first import of a large OPML drained through the real services (issue 16 goal 2).

    python -m tests.bench.backfill [--articles 50000] [--enrichers 2] [--db sqlite|postgres]
                                   [--items-per-feed 50] [--content distinct|farm]   (writes var/bench/backfill.json)

The feed farm serves ``articles`` items over ``articles / items-per-feed`` feeds, all of them new and due at
once; ``wirewatch run ingest``, ``enrich`` (× ``enrichers``) and ``sink`` run as their own processes against a
real Kafka and a fresh, migrated store. Every few seconds the bench prints how many records are on
articles.raw, how many the enrich group has consumed and committed (= enriched: its offsets commit in the
same transaction as its output), how many the store holds, the rate of each since the last line, and the
consumer lag of the enrich and sink groups (``services.bus.consumer_lag``; the sink's counts transaction
markers too). At the end, from the store's own timestamps (fetched_at, enriched_at, stored_at):

* wall time (services launched → last article stored) and the pipeline's time (first fetch → last stored);
* end to end articles/s over the pipeline's time (goal ≥ 300 on 2 cores);
* per stage: when it finished after the first fetch, its rate over its own working window, its peak rate
  between two samples, its processes' CPU seconds and CPU ms per article early and late (a rise is a cost
  that grows with the store); the bottleneck is the downstream-most stage whose input backlog grew (the
  slowest; a stage behind it only waits);
* CPU: the broker's and the bench's (farm) too, and the articles/s those costs allow with the machine to
  ourselves (the load average says how far from that the machine was);
* exactly once: the store holds exactly the farm's N ids (none missing, none unexpected, each once) — the
  bench fails otherwise; and, reported, whether articles.enriched holds one committed record per raw record.

``--content distinct`` (default) gives every item its own words (English, from wordfreq's list): mostly
one story per article, as a real OPML's backlog is. ``--content farm`` keeps the farm's own text, every
item a near copy of the others (one giant syndicated story: the sink's hard case).
The farm is one host standing for many, so the per-host fetch limit is raised to the global one; polling is
slowed to an hour so each feed is fetched once. Topics get ``--partitions`` (6: an even share for 1, 2 or 3
enrichers). Not a test; the load average is printed, the machine may be shared.
Env: WIREWATCH_KAFKA_BOOTSTRAP (default 127.0.0.1:9092; `make kafka` starts one).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from email.utils import formatdate
from pathlib import Path
from typing import Any

import psutil
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from services import bus
from services.ids import article_id
from services.settings import Settings
from tests.chaos.stack import Stack, StoreView
from tests.conftest import ROOT, free_port
from tests.farm import WORDS, Farm

GOAL = 300  # articles/s end to end on 2 cores (issue 16 goal 2)
STAGES = ("ingest", "enrich", "sink")


class BackfillFarm(Farm):
    """The farm, but each feed shows all its items (a backlog), with stable links and optionally distinct words."""

    def __init__(self, feeds: int, items: int, *, content: str = "distinct") -> None:
        super().__init__(feeds=feeds, items=items)
        self.content = content
        self.vocabulary = _vocabulary()

    def link(self, i: int, j: int) -> str:
        return f"{self.base}/articles/{i}/{j}"

    def text(self, i: int, j: int) -> tuple[str, str]:
        """(title, body) of item j of feed i."""
        if self.content == "farm":
            return (f"Feed {i} item {j}: {' '.join(WORDS[(i + j) % 20:(i + j) % 20 + 5])}",
                    " ".join(WORDS[(j + k) % len(WORDS)] for k in range(24)))
        return distinct_text(self.vocabulary, i, j)

    def shown(self, i: int, n: int) -> range:
        return range(n - 1, -1, -1)  # every item: a backlog

    def entry_time(self, i: int, j: int, n: int) -> float:
        return self.started - (n - j) * 600.0  # ten minutes apart, the newest just before the start

    def entry(self, i: int, j: int, t: float) -> tuple[str, str, str]:
        title, text = self.text(i, j)
        return title, self.link(i, j), f"<p>{text}</p>"

    def updated(self, items: list[tuple[int, float, str, str, str]]) -> float:
        return self.started

    def validators(self, i: int, n: int, body: bytes, last: float) -> tuple[str, str]:
        return f'"{uuid.uuid5(uuid.NAMESPACE_URL, f"{i}/{n}").hex[:16]}"', formatdate(self.started, usegmt=True)

    def expected_ids(self) -> set[str]:
        return {article_id(link=self.link(i, j), guid=None) for i in range(self.n) for j in range(self.feeds[i].base_items)}


def distinct_text(vocabulary: Sequence[str], i: int, j: int) -> tuple[str, str]:
    """(title, body) of item j of feed i in the ``distinct`` content: 46 words of ``vocabulary`` of its own."""
    words = random.Random(i * 100_003 + j).choices(vocabulary, k=46)
    return f"{' '.join(words[:6]).capitalize()} (feed {i}, item {j})", " ".join(words[6:]).capitalize() + "."


def _vocabulary() -> list[str]:
    """Mid-frequency English words: real words for the language and NER steps, rarely shared by two items."""
    from wordfreq import top_n_list

    return [w for w in top_n_list("en", 6000)[600:] if w.isalpha() and len(w) > 3]


@dataclass
class Sample:
    """One look at the pipeline, ``t`` seconds after the services were launched."""

    t: float
    raw: int
    enriched: int
    stored: int
    lag_enrich: int
    lag_sink: int
    load_1m: float
    cpu: dict[str, float]  # CPU seconds so far per stage (its processes together)


async def sample(stack: Stack, settings: Settings, store: StoreView, t0: float, last: Sample | None) -> Sample:
    """Records on articles.raw, enrich group's committed offsets, stored rows, each group's lag, CPU used."""
    counted = await store.rows("SELECT count(*) FROM articles")
    stored = int(counted[0][0]) if counted else (last.stored if last else 0)  # a locked store keeps the last count
    t, load, cpu = round(time.monotonic() - t0, 2), round(os.getloadavg()[0], 2), cpu_s(stack)
    try:
        rows = await bus.consumer_lag(settings, groups={settings.group_enrich: settings.topic_raw,
                                                        settings.group_sink: settings.topic_enriched})
    except KafkaError:  # e.g. a fresh broker's offsets topic not there yet: the Kafka figures stay as they were
        return Sample(t, last.raw if last else 0, last.enriched if last else 0, stored, last.lag_enrich if last else 0,
                      last.lag_sink if last else 0, load, cpu)
    enrich = [r for r in rows if r.group == settings.group_enrich]
    return Sample(t, sum(r.end for r in enrich), sum(r.committed or 0 for r in enrich), stored,
                  sum(r.lag for r in enrich), sum(r.lag for r in rows if r.group == settings.group_sink), load, cpu)


def line(s: Sample, prev: Sample | None) -> str:
    dt = max(1e-6, s.t - prev.t) if prev else 1.0

    def rate(now: int, before: int) -> str:
        return f"{(now - before) / dt:6.0f}/s" if prev else "      -"

    return (f"[{s.t:6.0f} s] raw {s.raw:7,} {rate(s.raw, prev.raw if prev else 0)} | enriched {s.enriched:7,} "
            f"{rate(s.enriched, prev.enriched if prev else 0)} | stored {s.stored:7,} "
            f"{rate(s.stored, prev.stored if prev else 0)} | lag enrich {s.lag_enrich:7,} sink {s.lag_sink:7,} "
            f"| load {s.load_1m:.2f} | CPU% " + " ".join(
                f"{k} {100 * (s.cpu[k] - prev.cpu[k]) / dt:3.0f}" if prev else f"{k}   -" for k in STAGES))


async def topic_keys(settings: Settings, topic: str, partitions: int) -> tuple[int, int]:
    """(committed records, distinct keys) on ``topic``, read from the beginning by a group-less consumer."""
    reader = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, group_id=None, enable_auto_commit=False,
                              isolation_level="read_committed", client_id=f"{settings.kafka_client_id}-bench-keys")
    await reader.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        reader.assign(tps)
        await reader.seek_to_beginning(*tps)
        ends = await reader.end_offsets(tps)
        records, keys = 0, set[bytes | None]()
        deadline = time.monotonic() + 300
        while any([await reader.position(tp) < ends[tp] for tp in tps]) and time.monotonic() < deadline:
            for recs in (await reader.getmany(timeout_ms=1000, max_records=5000)).values():
                records += len(recs)
                keys.update(r.key for r in recs)
        return records, len(keys)
    finally:
        await reader.stop()


def _epoch(value: datetime | str) -> float:
    """A stored UTC timestamp (SQLite: naive ISO text, PostgreSQL: aware datetime) as epoch seconds."""
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    return (when.replace(tzinfo=UTC) if when.tzinfo is None else when).timestamp()


def cpu_s(stack: Stack) -> dict[str, float]:
    """CPU seconds (user + system) each running service has used so far, by stage."""
    out = dict.fromkeys(STAGES, 0.0)
    for key, proc in stack.procs.items():
        with contextlib.suppress(psutil.Error):
            t = psutil.Process(proc.pid).cpu_times()
            out[key.split("#")[0]] += t.user + t.system
    return {k: round(v, 1) for k, v in out.items()}


def broker(bootstrap: str) -> psutil.Process | None:
    """The local process listening on the bootstrap port (the broker), to charge its CPU to the run."""
    port = int(bootstrap.split(",")[0].rpartition(":")[2] or 9092)
    with contextlib.suppress(psutil.Error, OSError):
        for c in psutil.net_connections(kind="tcp"):
            if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port and c.pid:
                return psutil.Process(c.pid)
    return None


def _cpu(proc: psutil.Process | None) -> float:
    with contextlib.suppress(psutil.Error):
        if proc is not None:
            t = proc.cpu_times()
            return float(t.user + t.system)
    return 0.0


def cost(samples: list[Sample], stage: str, field: str, n: int) -> tuple[float | None, float | None]:
    """CPU ms per article of a stage over 10-50 % of the articles and over the second half (a rise: a cost that
    grows with what is already stored)."""
    def at(k: int) -> Sample | None:
        return next((s for s in samples if getattr(s, field) >= k), None)

    a, m, b = at(n // 10), at(n // 2), at(n)

    def ms(x: Sample | None, y: Sample | None) -> float | None:
        done = getattr(y, field) - getattr(x, field) if x and y else 0
        return round(1000 * (y.cpu[stage] - x.cpu[stage]) / done, 2) if x and y and done > 0 else None

    return ms(a, m), ms(m, b)


def peak(samples: list[Sample], field: str) -> float:
    rates = [(getattr(b, field) - getattr(a, field)) / (b.t - a.t) for a, b in zip(samples, samples[1:], strict=False) if b.t > a.t]
    return round(max(rates, default=0.0), 1)


async def drain(stack: Stack, keys: tuple[str, ...], n: int, every: float, stall_s: float,
                timeout_s: float) -> tuple[list[Sample], float, dict[str, Any], str | None]:
    """Launch ``keys``, sample until the store holds ``n`` (or stalls); (samples, wall, CPU s, why not)."""
    settings = stack.settings()
    store = StoreView(stack.db_url)
    samples: list[Sample] = []
    why: str | None = None
    kafka = broker(stack.bootstrap)
    kafka0, bench0 = _cpu(kafka), time.process_time()
    t0 = time.monotonic()
    try:
        stack.start_all(keys)
        last_change = time.monotonic()
        while True:
            await asyncio.sleep(every)
            prev = samples[-1] if samples else None
            s = await sample(stack, settings, store, t0, prev)
            samples.append(s)
            print(line(s, prev), flush=True)
            if prev is None or (s.raw, s.enriched, s.stored) != (prev.raw, prev.enriched, prev.stored):
                last_change = time.monotonic()
            if s.stored >= n:
                break
            if dead := stack.dead():
                why = f"services exited: {dead}"
            elif time.monotonic() - last_change > stall_s:
                why = f"no progress for {stall_s:.0f} s"
            elif time.monotonic() - t0 > timeout_s:
                why = f"not drained after {timeout_s:.0f} s"
            if why:
                break
        wall = time.monotonic() - t0
        cpu = {**cpu_s(stack), "kafka": round(_cpu(kafka) - kafka0, 1) if kafka else None,
               "bench_and_farm": round(time.process_time() - bench0, 1)}
        return samples, wall, cpu, why
    finally:
        await store.close()


async def verify(stack: Stack, farm: BackfillFarm, partitions: int) -> tuple[dict[str, Any], dict[str, float]]:
    """The exactly-once figures, and the store's timestamps per stage (min/max epoch seconds)."""
    settings = stack.settings()
    store = StoreView(stack.db_url)
    try:
        ids = {r[0] for r in await store.rows("SELECT id FROM articles") or []}
        stats = (await store.rows("SELECT count(*), count(DISTINCT id), min(fetched_at), max(fetched_at), "
                                  "min(enriched_at), max(enriched_at), min(stored_at), max(stored_at) FROM articles"))
        stories = await store.rows("SELECT count(*) FROM stories")
    finally:
        await store.close()
    assert stats is not None, "the store could not be read"
    count, distinct, *times = stats[0]
    raw, raw_keys = await topic_keys(settings, settings.topic_raw, partitions)
    enriched, enriched_keys = await topic_keys(settings, settings.topic_enriched, partitions)
    expected = farm.expected_ids()
    check = {"expected": len(expected), "stored": int(count), "distinct_ids": int(distinct),
             "missing": len(expected - ids), "unexpected": len(ids - expected), "stories": int(stories[0][0]) if stories else -1,
             "raw_records": raw, "raw_distinct_keys": raw_keys, "enriched_records": enriched,
             "enriched_distinct_keys": enriched_keys}
    check["store_exact"] = (count == distinct == len(expected)) and not check["missing"] and not check["unexpected"]
    # The Kafka hop is reported, not required: the store's upsert by id absorbs a doubled enriched record.
    check["enriched_doubles"] = enriched - enriched_keys
    check["enrich_exactly_once"] = enriched == raw and enriched_keys == raw_keys == len(expected)
    check["ok"] = check["store_exact"]
    names = ("fetch_first", "fetch_last", "enrich_first", "enrich_last", "store_first", "store_last")
    return check, {k: _epoch(v) for k, v in zip(names, times, strict=True) if v is not None}


def _ceiling(n: int, cpu: dict[str, Any], total: float, enrichers: int) -> float | None:
    """Articles/s the measured CPU costs allow with the machine to ourselves: all CPUs shared by everything,
    and no stage beyond one core per process (the sink and ingest are one process each)."""
    if not total or not all(cpu.get(s) for s in STAGES):
        return None
    bounds = [(os.cpu_count() or 1) * n / total, n / cpu["ingest"], enrichers * n / cpu["enrich"], n / cpu["sink"]]
    return round(min(bounds), 1)


def figures(n: int, samples: list[Sample], wall: float, cpu: dict[str, Any], stamps: dict[str, float],
            enrichers: int) -> dict[str, Any]:
    """Per-stage and end-to-end rates from the store's timestamps; lag summary from the samples."""
    start = stamps.get("fetch_first", 0.0)
    span = max(1e-3, stamps.get("store_last", start) - start)
    stages: dict[str, Any] = {}
    for stage, prefix, field in (("ingest", "fetch", "raw"), ("enrich", "enrich", "enriched"), ("sink", "store", "stored")):
        first, last = stamps.get(f"{prefix}_first", start), stamps.get(f"{prefix}_last", start)
        early, late = cost(samples, stage, field, n)
        stages[stage] = {"done_after_s": round(last - start, 1), "cpu_ms_per_article_first_half": early,
                         "cpu_ms_per_article_second_half": late,
                         "own_window_per_s": round(n / max(last - first, 1e-3), 1) if last > first else None,
                         "peak_per_s": peak(samples, field), "cpu_s": cpu.get(stage, 0.0),
                         "per_cpu_s": round(n / cpu[stage], 1) if cpu.get(stage) else None}
    lag = {"enrich_max": max((s.lag_enrich for s in samples), default=0),
           "sink_max": max((s.lag_sink for s in samples), default=0),
           "enrich_end": samples[-1].lag_enrich if samples else 0, "sink_end": samples[-1].lag_sink if samples else 0}
    backlog = 0.05 * n + 200
    bottleneck = "sink" if lag["sink_max"] > backlog else "enrich" if lag["enrich_max"] > backlog else "ingest"
    first_raw = next((s.t for s in samples if s.raw), None)
    total = sum(v for v in cpu.values() if v)
    ceiling = {"cpu_s": {k: v for k, v in cpu.items() if k not in STAGES}, "total_cpu_s": round(total, 1),
               "cpu_ms_per_article": round(1000 * total / n, 2),
               "ceiling_per_s_unloaded": _ceiling(n, cpu, total, enrichers)}
    return {"wall_s": round(wall, 1), "startup_s": first_raw, "pipeline_s": round(span, 1), "cpu": ceiling,
            "end_to_end_per_s": round(n / span, 1), "goal_per_s": GOAL, "goal_met": n / span >= GOAL,
            "stages": stages, "lag": lag, "bottleneck": bottleneck}


@contextlib.contextmanager
def database(kind: str, tmp: Path) -> Iterator[str]:
    """'' (the stack's own SQLite file) or the URL of a fresh PostgreSQL started for this run."""
    if kind == "sqlite":
        yield ""
        return
    os.chmod(tmp, 0o755)  # deploy/postgres.sh runs the server as the postgres user when root
    script, env = str(ROOT / "deploy" / "postgres.sh"), {**os.environ, "PG_PORT": str(free_port())}
    out = subprocess.run([script, "start", f"{tmp}/pg"], env=env, check=True, capture_output=True, text=True)
    try:
        yield out.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run([script, "stop", f"{tmp}/pg"], env=env, check=False, capture_output=True)


async def run(args: argparse.Namespace, tmp: Path, db_url: str) -> dict[str, Any]:
    n, per = args.articles, args.items_per_feed
    feeds = -(-n // per)
    farm = BackfillFarm(feeds, per, content=args.content)
    if n % per:
        farm.feeds[feeds - 1].base_items = n % per
    s = uuid.uuid4().hex[:8]
    topics = {"topic_raw": f"bf{s}.raw", "topic_enriched": f"bf{s}.enriched", "topic_feeds": f"bf{s}.feeds",
              "group_enrich": f"bf{s}-e", "group_sink": f"bf{s}-s", "group_webhooks": f"bf{s}-w",
              "group_ingest": f"bf{s}-i", "group_tracker": f"bf{s}-t"}
    stack = Stack(workdir=tmp / "stack", bootstrap=args.bootstrap, database_url=db_url, topics=topics, env_extra={
        "WIREWATCH_LOG_LEVEL": "WARNING", "WIREWATCH_KAFKA_PARTITIONS": str(args.partitions),
        "WIREWATCH_POLL_MIN_INTERVAL_S": "3600", "WIREWATCH_POLL_DEFAULT_INTERVAL_S": "3600",
        "WIREWATCH_POLL_MAX_INTERVAL_S": "7200", "WIREWATCH_FETCH_PER_HOST_CONCURRENCY": "64"})
    keys = ("ingest", *(f"enrich#{k}" if k > 1 else "enrich" for k in range(1, args.enrichers + 1)), "sink")
    load0, code = round(os.getloadavg()[0], 2), code_version()  # as the services will import it
    farm.start_thread()
    try:
        await stack.prepare([farm.url(i) for i in range(feeds)])
        print(f"backfill: {n:,} articles over {feeds:,} feeds, {args.enrichers} enrich process(es), {args.db}, "
              f"{args.content} content, {args.partitions} partitions; load {load0} on {os.cpu_count()} CPUs", flush=True)
        samples, wall, cpu, why = await drain(stack, keys, n, args.every, args.stall, args.timeout)
        dead = stack.dead()
    finally:
        stack.stop_all()
        farm.stop_thread()
    check, stamps = await verify(stack, farm, args.partitions)
    out: dict[str, Any] = {
        "at": datetime.now().astimezone().isoformat(timespec="seconds"), "articles": n, "feeds": feeds,
        "items_per_feed": per, "enrichers": args.enrichers, "db": args.db, "content": args.content,
        "partitions": args.partitions, "cpus": os.cpu_count(), "code": code, "complete": why is None, "why_incomplete": why,
        "load_1m_start": load0, "load_1m_max": max((x.load_1m for x in samples), default=load0),
        "load_1m_end": round(os.getloadavg()[0], 2), **figures(n, samples, wall, cpu, stamps, args.enrichers),
        "exactly_once": check, "feed_fetches": len(farm.fetch_log), "dead": dead}
    out["timeline"] = [asdict(x) for x in samples]
    if why:
        print(f"INCOMPLETE: {why}\n{stack.tail(4000)}", file=sys.stderr)
    return out


def code_version() -> dict[str, Any]:
    """The commit and the files changed on top of it: the services run the working tree as it is."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False).stdout.rstrip()

    return {"commit": git("rev-parse", "--short", "HEAD").strip(),
            "changed": [ln[3:] for ln in git("status", "--porcelain", "--untracked-files=no").splitlines()]}


def report(r: dict[str, Any]) -> str:
    st, lag, ok = r["stages"], r["lag"], r["exactly_once"]
    rows = [f"backfill {r['articles']:,} articles ({r['feeds']:,} feeds x {r['items_per_feed']}), {r['enrichers']} enrich, "
            f"{r['db']}, {r['content']} content; load {r['load_1m_start']} -> max {r['load_1m_max']} on {r['cpus']} CPUs",
            f"backfill wall time (launch -> all stored)       {r['wall_s']:8.1f} s (start-up to first record {r['startup_s']} s)",
            f"backfill end to end (first fetch -> last store)  {r['end_to_end_per_s']:8.1f} articles/s over "
            f"{r['pipeline_s']} s, goal {GOAL} ({'met' if r['goal_met'] else 'not met'})"]
    for stage in STAGES:
        s = st[stage]
        rows.append(f"backfill {stage:6s} done after {s['done_after_s']:7.1f} s  own window {s['own_window_per_s']} /s, "
                    f"peak {s['peak_per_s']} /s, {s['cpu_s']} CPU s ({s['per_cpu_s']} per CPU s; CPU ms/article "
                    f"{s['cpu_ms_per_article_first_half']} over the first half, {s['cpu_ms_per_article_second_half']} "
                    f"over the second)")
    c = r["cpu"]
    rows.append("backfill CPU s: " + ", ".join(f"{s} {st[s]['cpu_s']}" for s in STAGES) + ", " + ", ".join(
        f"{k} {v}" for k, v in c["cpu_s"].items()) + f" = {c['total_cpu_s']} ({c['cpu_ms_per_article']} ms/article); "
        f"with the machine to itself at most {c['ceiling_per_s_unloaded']} articles/s")
    rows.append(f"backfill lag max: enrich {lag['enrich_max']:,}, sink {lag['sink_max']:,}; at the end: enrich "
                f"{lag['enrich_end']:,}, sink {lag['sink_end']:,}; bottleneck: {r['bottleneck']}")
    rows.append(f"backfill exactly once in the store: {'OK' if ok['ok'] else 'FAILED'} (store {ok['stored']:,} rows, {ok['distinct_ids']:,} "
                f"distinct of {ok['expected']:,} expected, {ok['missing']} missing, {ok['unexpected']} unexpected; raw "
                f"{ok['raw_records']:,} records / {ok['raw_distinct_keys']:,} keys, enriched {ok['enriched_records']:,} / "
                f"{ok['enriched_distinct_keys']:,}; {ok['stories']:,} stories)")
    if not ok["enrich_exactly_once"]:
        rows.append(f"backfill WARNING articles.enriched is not exactly once: {ok['enriched_records']:,} committed records "
                    f"for {ok['raw_records']:,} raw ({ok['enriched_doubles']} doubled; the store's upsert absorbed them)")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.bench.backfill", description=__doc__.split("\n\n")[0])
    ap.add_argument("--articles", type=int, default=50_000)
    ap.add_argument("--items-per-feed", type=int, default=50)
    ap.add_argument("--enrichers", type=int, default=2)
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--content", choices=["distinct", "farm"], default="distinct")
    ap.add_argument("--partitions", type=int, default=6)
    ap.add_argument("--every", type=float, default=3.0, help="seconds between progress lines")
    ap.add_argument("--stall", type=float, default=120.0, help="give up after this long without progress")
    ap.add_argument("--timeout", type=float, default=1800.0, help="give up after this long in all")
    ap.add_argument("--bootstrap", default=os.environ.get("WIREWATCH_KAFKA_BOOTSTRAP", "127.0.0.1:9092"))
    ap.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "backfill.json")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ww-backfill-") as tmp, database(args.db, Path(tmp)) as url:
        result = asyncio.run(run(args, Path(tmp), url))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    timeline = result.pop("timeline")
    args.out.write_text(json.dumps(result, indent=2, default=str))
    args.out.with_suffix(".timeline.json").write_text(json.dumps(timeline))
    print(report(result))
    print(f"wrote {args.out}")
    return 0 if result["complete"] and result["exactly_once"]["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
