"""Write every enrichment output over every labelled file to one JSONL file, for ``cmp`` before / after a change.

Usage: ``python -m tests.eval.enrich_dump OUT`` (then ``cmp BEFORE OUT``). Not an evaluation: no metric.

Why: speed work on the rule engines (topics, ceasefire extraction, cue gates) must not change a byte of what
enrichment produces. This runs :meth:`Enricher.analyse` over every item of ``tests/data/devset.jsonl``,
``tests/data/enrich_holdout.jsonl``, every ``tests/data/lang/*.jsonl``, the story stream and the tracker
timelines, each in its full, short (headline + first sentence) and headline-only form, and writes the event
(``enriched_at`` and the article's ``fetched_at`` left out: clock readings) with the raw topic result (every confidence and state, before the
threshold); then the full forms again through :meth:`Enricher.enrich` in batches, as the Kafka worker calls it.
The held-out files are in it only to be compared mechanically: never read the output item by item.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from services.events import EnrichedArticle, RawArticle
from tests.eval.enrich import _EPOCH, DATA, LANG, short_form

FORMS = ("full", "short", "headline")


def _items() -> Iterator[tuple[str, dict[str, Any]]]:
    for path in [*sorted(LANG.glob("*.jsonl")), DATA / "devset.jsonl", DATA / "enrich_holdout.jsonl",
                 DATA / "stories" / "stream.jsonl"]:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                yield path.stem if path.parent.name == "stories" else path.name, json.loads(line)
    for line in (DATA / "tracker" / "timelines.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            for art in json.loads(line)["articles"]:
                yield "timelines", art


def _article(it: dict[str, Any], form: str) -> RawArticle:
    title, text = it.get("title") or "", it.get("text") or ""
    body = text if form == "full" else short_form(title, text) if form == "short" else ""
    published = (datetime.fromisoformat(it["published_at"].replace("Z", "+00:00")) if it.get("published_at")
                 else _EPOCH)
    return RawArticle(id=it["id"], title=title, content=body, published_at=published)


def _event(ev: EnrichedArticle) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(ev.to_bytes())
    data.pop("enriched_at", None)
    data["article"].pop("fetched_at", None)
    return data


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    args = ap.parse_args(argv)
    from enrich.pipeline import shared_enricher

    enricher = shared_enricher()
    items = list(_items())
    with args.out.open("w", encoding="utf-8") as out:
        for form in FORMS:
            for src, it in items:
                ev, raw = enricher.analyse(_article(it, form))
                rec = {"src": src, "form": form, "ev": _event(ev), "state": raw.state, "states": raw.states,
                       "raw": [[t.name, t.confidence, [e.model_dump() for e in t.evidence]] for t in raw.tags]}
                out.write(json.dumps(rec, ensure_ascii=False, sort_keys=True) + "\n")
        bs = enricher.settings.enrich_batch_size
        arts = [_article(it, "full") for _, it in items]
        for i in range(0, len(arts), bs):
            for ev in enricher.enrich(arts[i:i + bs]):
                out.write(json.dumps({"batch": _event(ev)}, ensure_ascii=False, sort_keys=True) + "\n")
    print(f"{len(items)} items x {len(FORMS)} forms + the batched full forms -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
