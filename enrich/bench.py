"""Throughput benchmark: ``Enricher.enrich`` vs bare spaCy on the same texts, and all cores.

Usage: ``python -m enrich.bench [--n 400]``. Prints figures only (not a test).

Why: enrichment must cost little above the NER it cannot avoid (goal: >= 0.8 of
bare ``nlp.pipe`` articles/s). Both runs use the same loaded pipeline, the same
batch size and the same English dev-set texts (repeated to ``n``).
"""

from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime

from services.events import RawArticle

from .evaluate import load_devset

_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
_worker = None


def _articles(n: int, english_only: bool = True) -> list[RawArticle]:
    items = [i for i in load_devset() if i["lang"] == "en" or not english_only]
    return [RawArticle(id=f"b{k}", title=items[k % len(items)]["title"], content=items[k % len(items)]["text"],
                       published_at=_EPOCH) for k in range(n)]


def _init() -> None:
    global _worker
    from .pipeline import Enricher

    _worker = Enricher()


def _run(batch: list[RawArticle]) -> int:
    assert _worker is not None
    return len(_worker.enrich(batch))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--procs", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args(argv)
    from .pipeline import Enricher

    enricher = Enricher()
    arts = _articles(args.n)
    bs = enricher.settings.enrich_batch_size
    bodies = [a.text[: enricher.settings.enrich_max_chars] for a in arts]
    enricher.enrich(arts[:bs])  # warm-up
    list(enricher.nlp.pipe(bodies[:bs], batch_size=bs))

    t0 = time.perf_counter()
    for _ in enricher.nlp.pipe(bodies, batch_size=bs):
        pass
    bare = len(arts) / (time.perf_counter() - t0)

    t0 = time.perf_counter()
    enricher.enrich(arts)  # batches internally with nlp.pipe(batch_size=bs), like the bare run
    full = len(arts) / (time.perf_counter() - t0)

    t0 = time.perf_counter()
    for i in range(0, len(arts), bs):
        list(enricher.nlp.pipe(bodies[i:i + bs], batch_size=bs))
    bare_calls = len(arts) / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    for i in range(0, len(arts), bs):
        enricher.enrich(arts[i:i + bs])
    full_calls = len(arts) / (time.perf_counter() - t0)

    mixed = _articles(args.n, english_only=False)
    t0 = time.perf_counter()
    for i in range(0, len(mixed), bs):
        enricher.enrich(mixed[i:i + bs])
    mixed_rate = len(mixed) / (time.perf_counter() - t0)

    batches = [arts[i:i + bs] for i in range(0, len(arts), bs)]
    with ProcessPoolExecutor(args.procs, initializer=_init) as pool:
        list(pool.map(_run, batches[: args.procs]))  # warm-up: each worker loads its Enricher
        t0 = time.perf_counter()
        done = sum(pool.map(_run, batches))
        par = done / (time.perf_counter() - t0)

    print(f"articles: {len(arts)} English dev-set texts, batch size {bs}, pipes {enricher.nlp.pipe_names}")
    print(f"bare nlp.pipe                {bare:8.1f} articles/s")
    print(f"Enricher.enrich              {full:8.1f} articles/s")
    print(f"ratio enrich / bare          {full / bare:8.3f}   (goal >= 0.8)")
    print(f"one call per {bs}-article batch (as the Kafka worker calls it):")
    print(f"  bare nlp.pipe              {bare_calls:8.1f} articles/s")
    print(f"  Enricher.enrich            {full_calls:8.1f} articles/s   ratio {full_calls / bare_calls:.3f}")
    print(f"Enricher.enrich, mixed langs {mixed_rate:8.1f} articles/s  (spaCy runs on English only)")
    print(f"all cores ({args.procs} processes)      {par:8.1f} articles/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
