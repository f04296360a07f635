"""Freshness under load (issue 16, goal 4): the e2e freshness figures while a background stream flows.

    python -m tests.bench.freshness [--background-rate 100] [--into raw|enriched] [--items 60] [--pushed 40]
                                    [--enrichers 1]                      (writes var/bench/freshness.json)

The live stack of tests/bench/e2e.py (every service its own process: ingest, enrich, sink, webhooks,
tracker, api; SQLite store; a real Kafka broker; the feed farm of tests/farm.py). A separate process
produces ``--background-rate`` RawArticle events a second to ``articles.raw`` (``--into enriched``:
EnrichedArticle events to ``articles.enriched``, so enrich is bypassed and only the sink, tracker and
dispatcher carry the load), distinct English stories that never mention a farm feed, keyed by article id
as ingest keys them. Once it runs, two phases, each on a fresh stack and store:

* polled: every farm feed polled each second; new items published one at a time; each item's delay from
  the ingester's fetch that saw it (articles.fetched_at) to articles.stored_at; goal p95 <= 0.5 s;
* pushed: polling slowed to 10 min, every farm feed subscribed at the farm's WebSub hub; the delay from
  the push to the webhook receiver (its clock); goal p95 <= 1 s.

The webhook subscription asks for ``q=feed`` (every farm headline says "Feed i item j", no background one
does), so the dispatcher matches every background story against it and delivers only the measured ones.
The background figure that the goal names is the sink's: background articles stored per second over the
measurement window (from articles.stored_at), printed next to what the producer sent. Prints figures; not
a test. Env: WIREWATCH_KAFKA_BOOTSTRAP (default 127.0.0.1:9092; `make kafka` starts one).
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
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from tests.bench.e2e import _epoch, _measure, live_stack, publish_spread
from tests.chaos.stack import SERVICES, StoreView, poll
from tests.conftest import ROOT

BACKGROUND_HOST = "https://background.example.org/"
WORDS = ["harvest", "council", "budget", "election", "stadium", "museum", "railway", "festival", "bridge", "school",
         "hospital", "orchestra", "airport", "library", "vineyard", "harbour", "satellite", "marathon", "bakery",
         "glacier", "tram", "parliament", "exhibition", "startup", "reservoir", "theatre", "orchard", "derby"]
MEASURED = f"link NOT LIKE '{BACKGROUND_HOST}%'"
HOOK = {"q": "feed"}


# --- the background stream (its own process) -------------------------------------------------------


def background_event(n: int, rnd: random.Random, into: str, run: str) -> tuple[bytes, bytes]:
    """(key, value) of background article ``n``: a distinct story of everyday news, no topic of ours."""
    from datetime import UTC, datetime

    from services.events import EnrichedArticle, RawArticle
    from services.ids import article_id, content_hash

    link = f"{BACKGROUND_HOST}{run}/{n}"
    title = f"{' '.join(rnd.sample(WORDS, 6)).capitalize()} {run}-{n}"
    text = (f"The {rnd.choice(WORDS)} and the {rnd.choice(WORDS)} were in the news again today. "
            f"Officials said the {rnd.choice(WORDS)} would reopen next week after the {rnd.choice(WORDS)}.")
    now = datetime.now(UTC)
    art = RawArticle(id=article_id(link=link, guid=None), url=link, link=link, title=title, summary=text,
                     source="Background Wire", published_at=now, fetched_at=now,
                     content_hash=content_hash(title, text))
    if into == "raw":
        return art.id.encode(), art.to_bytes()
    ev = EnrichedArticle(article=art, lang="en", topics=[], entities=[], story_id=art.id, taxonomy_version="bench")
    return art.id.encode(), ev.to_bytes()


async def produce_steadily(bootstrap: str, topic: str, rate: float, into: str, report: Path) -> None:
    """Subprocess entry: send ``rate`` events a second (in ticks of 50 ms) until terminated; the achieved
    rate goes to ``report`` every second."""
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, linger_ms=5)
    await producer.start()
    rnd, n, start, last_report = random.Random(16), 0, time.perf_counter(), 0.0
    run = os.urandom(4).hex()
    try:
        while True:
            now = time.perf_counter()
            due = int((now - start) * rate)
            while n < due:
                key, value = background_event(n, rnd, into, run)
                await producer.send(topic, value=value, key=key)
                n += 1
            if now - last_report >= 1.0:
                last_report = now
                await producer.flush()
                figures = {"sent": n, "rps": round(n / max(1e-9, now - start), 1)}
                await asyncio.to_thread(report.write_text, json.dumps(figures))
            await asyncio.sleep(0.05)
    finally:
        await producer.stop()


class Background:
    """The background producer for the duration of a phase (``rate`` 0: none)."""

    def __init__(self, bootstrap: str, topic: str, rate: float, into: str) -> None:
        self.bootstrap, self.topic, self.rate, self.into = bootstrap, topic, rate, into
        self.report = Path(tempfile.mkstemp(prefix="wwbench-background-", suffix=".json")[1])
        self.proc: subprocess.Popen[bytes] | None = None
        self.started = 0.0

    def __enter__(self) -> Background:
        if self.rate > 0:
            self.started = time.time()
            self.proc = subprocess.Popen([sys.executable, "-m", "tests.bench.freshness", "--produce", self.bootstrap,
                                          "--topic", self.topic, "--background-rate", str(self.rate),
                                          "--into", self.into, "--out", str(self.report)], cwd=ROOT)
        return self

    def sent(self) -> dict[str, float]:
        try:
            return {k: float(v) for k, v in json.loads(self.report.read_text()).items()}
        except (ValueError, OSError):
            return {"sent": 0.0, "rps": 0.0}

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.report.unlink(missing_ok=True)


async def background_stored(store: StoreView, since: float, until: float) -> dict[str, Any]:
    """Background articles the sink stored per second between two wall-clock times (articles.stored_at)."""
    rows = await store.rows(f"SELECT stored_at FROM articles WHERE link LIKE '{BACKGROUND_HOST}%'") or []
    stamps = [_epoch(r[0]) for r in rows]
    inside = [t for t in stamps if since <= t <= until]
    return {"stored_total": len(stamps), "stored_in_window": len(inside), "window_s": round(until - since, 1),
            "stored_per_s": round(len(inside) / max(1e-9, until - since), 1)}


async def _until_flowing(store: StoreView, rate: float, timeout: float = 90) -> None:
    """Wait until background articles reach the store (the consumers joined and the stream flows)."""
    if rate <= 0:
        return

    async def flowing() -> bool:
        rows = await store.rows(f"SELECT count(*) FROM articles WHERE link LIKE '{BACKGROUND_HOST}%'")
        return bool(rows and rows[0][0] >= rate)

    await poll(flowing, timeout=timeout, every=0.5, what="background articles in the store")


@contextlib.asynccontextmanager
async def _loaded(bootstrap: str, topics: dict[str, str], rate: float, into: str) -> AsyncIterator[Background]:
    topic = topics["topic_raw"] if into == "raw" else topics["topic_enriched"]
    with Background(bootstrap, topic, rate, into) as bg:
        yield bg


def _services(enrichers: int) -> tuple[str, ...]:
    return (*SERVICES, *(f"enrich#{k}" for k in range(2, enrichers + 1)))


async def _publish_under_load(live: Any, args: argparse.Namespace, items: int, feeds: int
                              ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Start the background stream, let it settle, publish ``items`` across the feeds and time them:
    (their freshness figures, the background block: what was sent and stored meanwhile)."""
    async with _loaded(args.bootstrap, live.stack.topics, args.background_rate, args.into) as bg:
        await _until_flowing(live.store, args.background_rate)
        await asyncio.sleep(args.ramp)  # the stream in a steady state before anything is measured
        t0 = time.time()
        await publish_spread(live.farm, items, feeds)
        t1 = time.time()
        sent = bg.sent()
        figures = await _measure(live.store, live.sub, items, where=MEASURED)
        load = await background_stored(live.store, t0, t1)
    return figures, {"target_per_s": args.background_rate, "into": args.into, "sent_per_s": sent["rps"], **load}


async def polled_phase(bootstrap: str, workdir: Path, args: argparse.Namespace, feeds: int = 20) -> dict[str, Any]:
    async with live_stack(bootstrap, workdir, feeds, {}, hook=HOOK, start=_services(args.enrichers)) as live:
        await asyncio.sleep(8)  # warm-up: group joins, first polls of the (empty) feeds
        figures, background = await _publish_under_load(live, args, args.items, feeds)
        return {"poll_interval_s": 1.0, "items": args.items, "dead": live.stack.dead(), **figures,
                "background": background}


async def push_phase(bootstrap: str, workdir: Path, args: argparse.Namespace, feeds: int = 20) -> dict[str, Any]:
    env = {"WIREWATCH_POLL_MIN_INTERVAL_S": "600", "WIREWATCH_POLL_DEFAULT_INTERVAL_S": "600",
            "WIREWATCH_POLL_MAX_INTERVAL_S": "3600", "WIREWATCH_WEBSUB_MAINTAIN_INTERVAL_S": "2"}
    async with live_stack(bootstrap, workdir, feeds, env, public_api=True, hook=HOOK,
                          start=_services(args.enrichers)) as live:

        async def subscribed() -> bool:
            rows = await live.store.rows("SELECT count(*) FROM feeds WHERE websub_state = 'subscribed'")
            return bool(rows and rows[0][0] >= feeds)

        await poll(subscribed, timeout=120, every=1, what=f"all {feeds} feeds subscribed at the hub")
        polls = [f"/feed/{i}.xml" for i in range(feeds)]
        polls_before = sum(live.farm.requests[p] for p in polls)
        figures, background = await _publish_under_load(live, args, args.pushed, feeds)
        return {"poll_interval_s": 600.0, "items": args.pushed, "dead": live.stack.dead(),
                "feed_polls_during_run": sum(live.farm.requests[p] for p in polls) - polls_before,
                "stored_from_push": figures["stored_from_publish"], "webhook_from_push": figures["webhook_from_publish"],
                "background": background}


def table(result: dict[str, Any]) -> str:
    lines = []
    for phase, keys in (("polled", ("stored_from_fetch", "webhook_from_fetch")),
                        ("push", ("stored_from_push", "webhook_from_push"))):
        f = result.get(phase)
        if not f:
            continue
        bg = f["background"]
        lines.append(f"freshness {phase}: background sent {bg['sent_per_s']:.0f}/s into {bg['into']}, stored "
                     f"{bg['stored_per_s']:.0f}/s over the {bg['window_s']:.0f} s window (target {bg['target_per_s']:g}/s)")
        for key in keys:
            q = f.get(key, {})
            if q.get("n"):
                lines.append(f"freshness {phase:6s} {key:18s} p50 {q['p50_s']:6.3f} s  p95 {q['p95_s']:6.3f} s  "
                             f"max {q['max_s']:6.3f} s  (n={q['n']})")
        if phase == "push":
            lines.append(f"freshness push: {f['feed_polls_during_run']} feed polls meanwhile")
        if f.get("dead"):
            lines.append(f"freshness {phase}: services died: {f['dead']}")
    return "\n".join(lines)


async def amain(args: argparse.Namespace) -> dict[str, Any]:
    bootstrap = os.environ.get("WIREWATCH_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    args.bootstrap = bootstrap
    out: dict[str, Any] = {"bootstrap": bootstrap, "enrichers": args.enrichers}
    with tempfile.TemporaryDirectory(prefix="ww-fresh-") as tmp:
        if args.items:
            out["polled"] = await polled_phase(bootstrap, Path(tmp) / "polled", args)
        if args.pushed:
            out["push"] = await push_phase(bootstrap, Path(tmp) / "push", args)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.bench.freshness", description=__doc__.split("\n\n")[0])
    ap.add_argument("--background-rate", type=float, default=100.0, help="background articles a second (0 = none)")
    ap.add_argument("--into", choices=("raw", "enriched"), default="raw", help="the topic the background goes to")
    ap.add_argument("--items", type=int, default=60, help="polled items measured (0 = skip the phase)")
    ap.add_argument("--pushed", type=int, default=40, help="WebSub-pushed items measured (0 = skip the phase)")
    ap.add_argument("--enrichers", type=int, default=1, help="enrich processes")
    ap.add_argument("--ramp", type=float, default=5.0, help="seconds of background before measuring")
    ap.add_argument("--produce", metavar="BOOTSTRAP", help=argparse.SUPPRESS)  # the background process itself
    ap.add_argument("--topic", help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.produce:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(produce_steadily(args.produce, args.topic, args.background_rate, args.into, args.out))
        return 0
    result = asyncio.run(amain(args))
    out = ROOT / "var" / "bench" / "freshness.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=str))
    print(table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
