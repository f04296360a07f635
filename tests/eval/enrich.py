"""Evaluate enrichment on the hand-labelled dev set; exit non-zero when goals are missed.

Usage: ``python -m tests.eval.enrich [--devset PATH] [--json OUT]``

Why: topic rules are easy to over-fit to whatever article one is looking at;
a fixed dev set with hard negatives keeps every change honest. Metrics:
per-topic precision/recall/F1 and macro-F1; ceasefire lifecycle-state accuracy
and macro-F1 (on items whose gold state is set); main-entity recall (gold
canonical names found) and precision@k (the top-k predicted entities, k = gold
count, that are gold); false positives per hard-negative class; language
accuracy.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from services.events import RawArticle

ROOT = Path(__file__).resolve().parents[2]
DEVSET = ROOT / "tests" / "data" / "devset.jsonl"
GOALS = {"ceasefire_f1": 0.95, "macro_f1": 0.85, "entity_recall": 0.95}
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def load_devset(path: Path = DEVSET) -> list[dict[str, Any]]:
    """The dev set items, one JSON object per line."""
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def evaluate(items: Iterable[dict[str, Any]], enricher: Any | None = None) -> dict[str, Any]:
    """Run the enricher over ``items`` and compute every metric."""
    if enricher is None:
        from enrich.pipeline import shared_enricher

        enricher = shared_enricher()
    items = list(items)
    topics = list(enricher.topics.topics)
    counts = {t: [0, 0, 0] for t in topics}
    states = list(enricher.topics.precedence)
    state_counts = {s: [0, 0, 0] for s in states}
    state_ok = state_n = state_any = 0
    ent_found = ent_gold = ent_topk_ok = ent_topk_n = 0
    lang_ok = 0
    hard: dict[str, list[str]] = {}
    errors: list[dict[str, Any]] = []
    for it in items:
        art = RawArticle(id=it["id"], title=it["title"], content=it["text"], published_at=_EPOCH)
        out, raw = enricher.analyse(art)
        pred = {t.name for t in out.topics}
        gold = set(it["topics"])
        for t in topics:
            c = counts[t]
            c[0] += t in pred and t in gold
            c[1] += t in pred and t not in gold
            c[2] += t in gold and t not in pred
        lang_ok += out.lang == it["lang"]
        if it.get("state"):
            state_n += 1
            state_ok += out.state == it["state"]
            state_any += it["state"] in raw.states
            for s in states:
                c = state_counts[s]
                c[0] += out.state == s and it["state"] == s
                c[1] += out.state == s and it["state"] != s
                c[2] += it["state"] == s and out.state != s
        names = [e.name.lower() for e in out.entities]
        gold_ents = [g.lower() for g in it.get("entities", [])]
        missed = [g for g in gold_ents if g not in names]
        ent_found += len(gold_ents) - len(missed)
        ent_gold += len(gold_ents)
        k = len(gold_ents)
        ent_topk_ok += sum(1 for n in names[:k] if n in gold_ents)
        ent_topk_n += min(k, len(names))
        if it.get("hard_negative"):
            fps = sorted(pred - gold)
            hard.setdefault(it["hard_negative"], []).extend(fps)
        if pred != gold or missed or (it.get("state") and out.state != it["state"]):
            errors.append({"id": it["id"], "fp": sorted(pred - gold), "fn": sorted(gold - pred),
                           "state": [it.get("state"), out.state, raw.states], "missed": missed})
    per_topic = {t: dict(zip(("p", "r", "f1"), _prf(*counts[t]), strict=True)) | {"n": counts[t][0] + counts[t][2]}
                 for t in topics}
    macro = sum(v["f1"] for v in per_topic.values()) / len(per_topic)
    state_f1 = [_prf(*state_counts[s])[2] for s in states if state_counts[s][0] + state_counts[s][2]]
    return {
        "n": len(items),
        "per_topic": per_topic,
        "macro_f1": macro,
        "ceasefire_f1": per_topic["ceasefire"]["f1"],
        "state_accuracy": state_ok / state_n if state_n else 1.0,
        "state_macro_f1": sum(state_f1) / len(state_f1) if state_f1 else 1.0,
        "state_detected_any": state_any / state_n if state_n else 1.0,
        "entity_recall": ent_found / ent_gold if ent_gold else 1.0,
        "entity_precision_at_k": ent_topk_ok / ent_topk_n if ent_topk_n else 1.0,
        "lang_accuracy": lang_ok / len(items) if items else 1.0,
        "hard_negative_fp": {k: len(v) for k, v in sorted(hard.items())},
        "hard_negative_fp_topics": {k: sorted(set(v)) for k, v in sorted(hard.items()) if v},
        "errors": errors,
    }


def format_report(r: dict[str, Any]) -> str:
    """The human-readable table."""
    lines = [f"dev set: {r['n']} items", "", f"{'topic':<30}{'P':>7}{'R':>7}{'F1':>7}{'n':>5}"]
    for t, v in r["per_topic"].items():
        lines.append(f"{t:<30}{v['p']:>7.3f}{v['r']:>7.3f}{v['f1']:>7.3f}{v['n']:>5}")
    lines += [
        f"{'macro-F1':<30}{r['macro_f1']:>21.3f}",
        "",
        f"lifecycle state accuracy       {r['state_accuracy']:.3f}   macro-F1 {r['state_macro_f1']:.3f}"
        f"   gold state among detected {r['state_detected_any']:.3f}",
        f"main-entity recall             {r['entity_recall']:.3f}   precision@k {r['entity_precision_at_k']:.3f}",
        f"language accuracy              {r['lang_accuracy']:.3f}",
        "",
        "hard-negative false positives:",
    ]
    for k, v in r["hard_negative_fp"].items():
        lines.append(f"  {k:<16}{v:>3}  {', '.join(r['hard_negative_fp_topics'].get(k, []))}")
    return "\n".join(lines)


def missed_goals(r: dict[str, Any]) -> list[str]:
    """Names of the goals the result misses."""
    return [f"{k} {r[k]:.3f} < {v}" for k, v in GOALS.items() if r[k] < v]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devset", type=Path, default=DEVSET)
    ap.add_argument("--json", type=Path, default=None, help="write all metrics (and errors) here")
    ap.add_argument("--errors", action="store_true", help="print misclassified items")
    args = ap.parse_args(argv)
    r = evaluate(load_devset(args.devset))
    print(format_report(r))
    if args.errors:
        for e in r["errors"]:
            print(json.dumps(e, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps(r, indent=2, ensure_ascii=False), encoding="utf-8")
    missed = missed_goals(r)
    print("\nGOALS " + ("MISSED: " + "; ".join(missed) if missed else "MET"))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
