"""Our own code's CPU per article, step by step, on the enrich bench's English texts (spaCy NER excluded).

Usage: ``python -m tests.bench.enrich_steps [--n 400] [--rounds 4]``. Prints figures only (not a test).

Why: ``tests.bench.enrich`` gives the ratio to bare spaCy, not where the rest goes, and cProfile's per-call
overhead inflates the many small Python calls of the rule engines several-fold (the same loop runs ~4x slower
under it) and shifts the shares. Here each top-level step of ``Enricher._prepare`` / ``_finish`` is wrapped
with a ``process_time`` timer (a few wrapped calls per article: the overhead stays below 1 %), the spaCy spans
are computed once up front, and one warm round compiles the lazily built patterns before anything is timed.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from services.runtime import collect_garbage
from tests.bench.enrich import _articles


def _timed(acc: Counter[str], key: str, f: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t = time.process_time()
        try:
            return f(*args, **kwargs)
        finally:
            acc[key] += time.process_time() - t

    return wrapper


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--rounds", type=int, default=4)
    args = ap.parse_args(argv)
    from enrich import pipeline
    from enrich.pipeline import Enricher, _spans

    acc: Counter[str] = Counter()
    enricher = Enricher()
    # module-level names pipeline.py calls (patched where it looks them up), then the objects' methods
    for name in ("detect", "split_sentences", "tokenize", "extract_ceasefires"):
        setattr(pipeline, name, _timed(acc, name, getattr(pipeline, name)))
    for mod, name in ((pipeline.cluster, "signature"), (pipeline.event_features, "salient_terms"),
                      (pipeline.event_features, "numbers"), (pipeline.event_features, "names"),
                      (pipeline.event_kinds, "kinds")):
        setattr(mod, name, _timed(acc, name, getattr(mod, name)))
    for obj, name, key in ((enricher.topics, "tag", "topics.tag"), (enricher.linker, "link", "entities.link"),
                           (enricher.gazetteer, "find", "gazetteer.find")):
        setattr(obj, name, _timed(acc, key, getattr(obj, name)))

    bs = enricher.settings.enrich_batch_size
    arts = _articles(args.n)
    batches = [arts[i:i + bs] for i in range(0, len(arts), bs)]
    spans = []
    for batch in batches:
        work = [enricher._prepare(a) for a in batch]
        for w, sdoc in zip(work, enricher.nlp.pipe([w.doc[w.body_offset:] for w in work], batch_size=bs),
                           strict=True):
            spans.append(_spans(sdoc, w))

    def one_round() -> float:
        k, t = 0, time.process_time()
        for batch in batches:
            work = [enricher._prepare(a) for a in batch]
            for w in work:
                w.spans, k = spans[k], k + 1
            for w in work:
                ev = enricher._finish(w)
                t2 = time.process_time()
                ev.to_bytes()
                acc["to_bytes"] += time.process_time() - t2
        return time.process_time() - t

    one_round()  # warm: the patterns these texts reach compile on first use
    acc.clear()
    collect_garbage(freeze=True)  # as the service does (see tests/bench/enrich.py)
    totals = [one_round() for _ in range(args.rounds)]
    n = args.rounds * len(arts)
    total = sum(totals)
    print(f"own code (spaCy NER excluded), {len(arts)} English dev-set texts x {args.rounds} rounds: "
          f"{total * 1000 / n:.3f} ms/article (rounds: "
          f"{' '.join(f'{t * 1000 / len(arts):.3f}' for t in totals)})")
    for key, v in acc.most_common():
        print(f"  {key:20s} {v * 1000 / n:6.3f} ms/article  {v / total * 100:5.1f} %")
    rest = total - sum(acc.values())
    print(f"  {'rest':20s} {rest * 1000 / n:6.3f} ms/article  {rest / total * 100:5.1f} %  "
          f"(the pipeline's own glue, EnrichedArticle construction)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
