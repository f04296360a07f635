"""Throughput benchmark: ``Enricher.enrich`` vs bare spaCy on the same texts, and all cores.

Usage: ``python -m tests.bench.enrich [--n 400] [--rounds 3]``. Prints figures only (not a test).

A last figure runs a mixed-language batch (the multilingual dev sets, 39 languages) through the same
Enricher, after one warm-up pass over them (language rules and country names compile on first use).

Why: enrichment must cost little above the NER it cannot avoid (goal: >= 0.8 of
bare ``nlp.pipe`` articles/s). Both sides use the same loaded pipeline, the same
English dev-set texts (repeated to ``n``) and one ``nlp.pipe`` call per batch of
``enrich_batch_size``, as the Kafka worker calls it; our side also serialises
each event, as the worker does before producing it. The machine may be shared,
so the sides alternate batch by batch (a burst of foreign load hits both alike)
and the median of ``rounds`` is printed, with the ratio of CPU times, which
other processes do not disturb.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from typing import TypeVar

from services.events import RawArticle
from services.runtime import collect_garbage
from tests.eval.enrich import LANG, load_devset

MIXED = (LANG / "full_dev.jsonl", LANG / "ceasefire_dev.jsonl")

_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
_T = TypeVar("_T")
_worker = None


def _articles(n: int, english_only: bool = True) -> list[RawArticle]:
    items = [i for i in load_devset() if i["lang"] == "en" or not english_only]
    return [RawArticle(id=f"b{k}", title=items[k % len(items)]["title"], content=items[k % len(items)]["text"],
                       published_at=_EPOCH) for k in range(n)]


def _mixed_articles(n: int) -> tuple[list[RawArticle], int]:
    """``n`` articles cycling through the multilingual dev sets (39 languages, English ~4 %), and the count of
    distinct languages."""
    items = [i for path in MIXED if path.exists() for i in load_devset(path)]
    arts = [RawArticle(id=f"m{k}", title=items[k % len(items)]["title"], content=items[k % len(items)]["text"],
                       published_at=_EPOCH) for k in range(n)]
    return arts, len({i["lang"] for i in items})


def _init() -> None:
    global _worker
    from enrich.pipeline import Enricher

    _worker = Enricher()
    collect_garbage(freeze=True)  # as the service does (see main)


def _run(batch: list[RawArticle]) -> int:
    assert _worker is not None
    return sum(1 for ev in _worker.enrich(batch) if ev.to_bytes())


def _timed(work: Callable[[_T], object], arg: _T) -> tuple[float, float]:
    """Wall-clock and CPU seconds of ``work(arg)``."""
    wall, cpu = time.perf_counter(), time.process_time()
    work(arg)
    return time.perf_counter() - wall, time.process_time() - cpu


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--procs", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args(argv)
    from enrich.pipeline import Enricher

    enricher = Enricher()
    bs = enricher.settings.enrich_batch_size
    arts = _articles(args.n)
    batches = [arts[i:i + bs] for i in range(0, len(arts), bs)]
    bodies = [[a.text[: enricher.settings.enrich_max_chars] for a in b] for b in batches]
    mixed, n_langs = _mixed_articles(args.n)

    def bare(texts: list[str]) -> None:
        for _ in enricher.nlp.pipe(texts, batch_size=bs):
            pass

    def ours(articles: list[RawArticle]) -> int:
        return sum(1 for ev in enricher.enrich(articles) if ev.to_bytes())

    enricher.enrich(arts[:bs])  # warm-up: lazy model parts
    bare(bodies[0])
    first_mixed = _timed(lambda ms: [ours(ms[i:i + bs]) for i in range(0, len(ms), bs)], mixed[:408])[0]
    # Every service freezes its start-up heap 10 s after start (services/runtime.py, trim_memory_every): the
    # cyclic GC's full collections then skip the loaded models and rules. Without it here each full
    # collection walks them (~80 ms, every few hundred articles), a cost the worker does not pay.
    collect_garbage(freeze=True)
    walls: list[list[float]] = []  # per round: [bare, ours] seconds
    cpus: list[list[float]] = []
    for r in range(args.rounds):
        wall, cpu = [0.0, 0.0], [0.0, 0.0]
        for i, (texts, batch) in enumerate(zip(bodies, batches, strict=True)):
            for side in (0, 1) if (i + r) % 2 == 0 else (1, 0):
                w, c = _timed(bare, texts) if side == 0 else _timed(ours, batch)
                wall[side] += w
                cpu[side] += c
        walls.append(wall)
        cpus.append(cpu)
    bare_rate = statistics.median(len(arts) / w[0] for w in walls)
    our_rate = statistics.median(len(arts) / w[1] for w in walls)
    ratios = [w[0] / w[1] for w in walls]
    cpu_ratios = [c[0] / c[1] for c in cpus]
    mixed_rate = len(mixed) / _timed(lambda ms: [ours(ms[i:i + bs]) for i in range(0, len(ms), bs)], mixed)[0]

    with ProcessPoolExecutor(args.procs, initializer=_init) as pool:
        list(pool.map(_run, batches[: args.procs]))  # warm-up: each worker loads its Enricher
        t0 = time.perf_counter()
        done = sum(pool.map(_run, batches))
        par = done / (time.perf_counter() - t0)

    print(f"articles: {len(arts)} English dev-set texts, batch size {bs}, pipes {enricher.nlp.pipe_names}, "
          f"one call per batch (as the Kafka worker calls it), median of {args.rounds} rounds")
    print(f"bare nlp.pipe                {bare_rate:8.1f} articles/s  {1000 / bare_rate:6.2f} ms/article")
    print(f"Enricher.enrich + to_bytes   {our_rate:8.1f} articles/s  {1000 / our_rate:6.2f} ms/article")
    print(f"ratio enrich / bare          {statistics.median(ratios):8.3f}   (goal >= 0.8; rounds: "
          f"{' '.join(f'{x:.3f}' for x in ratios)})")
    print(f"ratio by CPU time            {statistics.median(cpu_ratios):8.3f}   (rounds: "
          f"{' '.join(f'{x:.3f}' for x in cpu_ratios)})")
    print(f"Enricher.enrich, mixed langs {mixed_rate:8.1f} articles/s  ({len(mixed)} multilingual dev-set texts, "
          f"{n_langs} languages; each language's rules, country names and NER compile on first use: the first "
          f"pass over them took {first_mixed:.1f} s)")
    print(f"all cores ({args.procs} processes)      {par:8.1f} articles/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
