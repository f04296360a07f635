"""Our own code's CPU per article, this tree against a base commit, paired in one process (spaCy excluded).

Usage: ``python -m tests.bench.enrich_paired [--base 189acbf] [--rounds 8] [--n 400]``. Prints figures only.

Why: a speed change worth a few per cent of our own code is lost in ``tests.bench.enrich`` on a shared
machine (its CPU ratio moves by several points between runs). Here the base commit's ``enrich`` package
(``git archive``, imported as ``enrich_base``) and this tree's run side by side in one process over the same
English dev-set texts and the same spaCy spans (computed once), alternating batch by batch, so a burst of
foreign load hits both alike; the two sides' outputs are compared first.
"""

from __future__ import annotations

import argparse
import importlib
import io
import json
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

from services.runtime import collect_garbage
from tests.bench.enrich import _articles

ROOT = Path(__file__).resolve().parents[2]


def _base_package(commit: str, into: Path) -> None:
    """``enrich/`` at ``commit`` as the package ``enrich_base`` under ``into``."""
    data = subprocess.run(["git", "-C", str(ROOT), "archive", commit, "enrich"], check=True,
                          capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(into, filter="data")
    (into / "enrich").rename(into / "enrich_base")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", default="189acbf")
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--n", type=int, default=400)
    args = ap.parse_args(argv)
    tmp = tempfile.TemporaryDirectory()
    _base_package(args.base, Path(tmp.name))
    sys.path.insert(0, tmp.name)
    base_mod: Any = importlib.import_module("enrich_base.pipeline")
    new_mod: Any = importlib.import_module("enrich.pipeline")
    new = new_mod.Enricher()
    base = base_mod.Enricher(nlp=new.nlp)
    bs = new.settings.enrich_batch_size
    arts = _articles(args.n)
    batches = [arts[i:i + bs] for i in range(0, len(arts), bs)]
    spans: list[list[tuple[int, int, str, str]]] = []
    for batch in batches:
        work = [new._prepare(a) for a in batch]
        for w, sdoc in zip(work, new.nlp.pipe([w.doc[w.body_offset:] for w in work], batch_size=bs), strict=True):
            spans.append([(s.start, s.end, s.label, s.text) for s in new_mod._spans(sdoc, w)])

    def run(enricher: Any, mod: Any, bi: int, out: list[dict[str, Any]] | None = None) -> None:
        work = [enricher._prepare(a) for a in batches[bi]]
        for k, w in enumerate(work):
            w.spans = [mod.Span(*s) for s in spans[bi * bs + k]]
        for w in work:
            data = enricher._finish(w).to_bytes()
            if out is not None:
                ev = json.loads(data)
                ev.pop("enriched_at")
                ev["article"].pop("fetched_at")
                out.append(ev)

    got: tuple[list[dict[str, Any]], list[dict[str, Any]]] = ([], [])
    for bi in range(len(batches)):  # also the warm-up: the patterns these texts reach compile on first use
        run(base, base_mod, bi, got[0])
        run(new, new_mod, bi, got[1])
    collect_garbage(freeze=True)  # as the service does (see tests/bench/enrich.py)
    rounds: list[tuple[float, float]] = []
    for r in range(args.rounds):
        cpu = [0.0, 0.0]
        for bi in range(len(batches)):
            for side in (0, 1) if (bi + r) % 2 == 0 else (1, 0):
                t = time.process_time()
                run(*((base, base_mod) if side == 0 else (new, new_mod)), bi)
                cpu[side] += time.process_time() - t
        rounds.append((cpu[0] * 1000 / len(arts), cpu[1] * 1000 / len(arts)))
    print(f"{len(arts)} English dev-set texts, {args.rounds} rounds, outputs identical: {got[0] == got[1]}")
    print(f"base {args.base}  {statistics.median(b for b, _ in rounds):6.3f} ms/article  (rounds: "
          f"{' '.join(f'{b:.3f}' for b, _ in rounds)})")
    print(f"this tree  {statistics.median(n for _, n in rounds):6.3f} ms/article  (rounds: "
          f"{' '.join(f'{n:.3f}' for _, n in rounds)})")
    print(f"this / base by round: {' '.join(f'{n / b:.3f}' for b, n in rounds)}; "
          f"over all rounds {sum(n for _, n in rounds) / sum(b for b, _ in rounds):.3f}")
    return 0 if got[0] == got[1] else 1


if __name__ == "__main__":
    raise SystemExit(main())
