"""Evaluate the ceasefire tracker on the labelled timelines; exit non-zero when a dev goal is missed.

Usage: ``python -m tests.eval.tracker [--timelines PATH] [--json OUT] [--verbose]``

Why: identity rules ("one record per agreement, two ceasefires between the same parties are two") are
easy to tune to the case one looks at. ``tests/data/tracker/timelines.jsonl`` holds 67 timelines of
dated articles with their gold records, 49 ``dev`` (tuned on) and 18 ``heldout`` (never tuned on,
only reported); any other split present (``fresh``: newly written timelines, scored before any tuning)
gets a column of its own. Each timeline runs on its own through the real enrichment (extraction included)
and the pure merge logic of the tracker stage, articles in date order, the clock advancing with them
(expiry is checked before each article and after the last); story ids are the article ids.

Scoring. A record *matches* a gold ceasefire when its parties and scope agree and it holds the gold
articles: every article the gold history cites and at least half of all gold articles (``strict``:
every gold article). Record precision/recall/F1 over one-to-one matches; purity = share of records
whose articles all belong to one gold ceasefire; current-state accuracy = gold records whose matched
record ends in the gold final state (unmatched: wrong); history-state accuracy = mean of
LCS(gold states, record states) / max(lengths) (unmatched: 0); parties and mediators F1 pair each gold
record with the record sharing most of its articles. ``--verbose`` prints the misses of every split but
``heldout``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from api.tracker.merge import ArticleFacts, Record, apply_article, expire_due
from services.events import RawArticle

ROOT = Path(__file__).resolve().parents[2]
TIMELINES = ROOT / "tests" / "data" / "tracker" / "timelines.jsonl"
GOALS = {"record_f1": 0.95, "state_accuracy": 0.90}


def load(path: Path = TIMELINES) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _when(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def run_timeline(t: dict[str, Any], enricher: Any) -> list[Record]:
    """The records the tracker builds from one timeline, articles in date order."""
    arts = sorted(t["articles"], key=lambda a: (a["published_at"], a["id"]))
    raws = [RawArticle(id=a["id"], title=a["title"], content=a["text"], lang=a["lang"], source=a["source"],
                       published_at=_when(a["published_at"])) for a in arts]
    records: list[Record] = []
    for ev in enricher.enrich(raws):
        expire_due(records, ev.article.published_at)
        apply_article(records, ArticleFacts(ev.id, ev.id, ev.article.published_at, ev.lang, ev.ceasefires))
    if raws:
        expire_due(records, raws[-1].published_at)
    return records


def _lcs(a: Sequence[str], b: Sequence[str]) -> int:
    row = [0] * (len(b) + 1)
    for x in a:
        prev = 0
        for j, y in enumerate(b, 1):
            prev, row[j] = row[j], prev + 1 if x == y else max(row[j], row[j - 1])
    return row[-1]


def _names(refs: Iterable[Any]) -> set[str]:
    return {(r if isinstance(r, str) else r.name).casefold() for r in refs}


def matches(g: dict[str, Any], r: Record, *, strict: bool = False) -> bool:
    held = set(r.links)
    cited = {h["article"] for h in g["history"] if h["article"]}
    gold = set(g["articles"])
    holds = gold <= held if strict else cited <= held and len(gold & held) >= math.ceil(len(gold) / 2)
    return _names(g["parties"]) == _names(r.parties) and g["scope"] == r.scope and holds


def _pairs(gold: list[dict[str, Any]], recs: list[Record], *, strict: bool = False) -> dict[int, Record]:
    """One-to-one matches, greedily by article overlap."""
    cands = sorted(((len(set(g["articles"]) & set(r.links)), gi, ri) for gi, g in enumerate(gold)
                    for ri, r in enumerate(recs) if matches(g, r, strict=strict)), reverse=True)
    out: dict[int, Record] = {}
    used: set[int] = set()
    for _, gi, ri in cands:
        if gi not in out and ri not in used:
            out[gi] = recs[ri]
            used.add(ri)
    return out


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


class Tally:
    """Counts for one split."""

    def __init__(self) -> None:
        self.gold = self.pred = self.matched = self.strict = self.pure = 0
        self.state_ok = 0
        self.history: list[float] = []
        self.parties = [0, 0, 0]
        self.mediators = [0, 0, 0]
        self.evidence = [0, 0]
        self.negative_records = 0
        self.misses: list[str] = []

    def add(self, t: dict[str, Any], recs: list[Record]) -> None:
        gold = t["ceasefires"]
        self.gold += len(gold)
        self.pred += len(recs)
        if not gold:
            self.negative_records += len(recs)
        pairs, strict = _pairs(gold, recs), _pairs(gold, recs, strict=True)
        self.matched += len(pairs)
        self.strict += len(strict)
        self.pure += sum(1 for r in recs if any(set(r.links) <= set(g["articles"]) for g in gold))
        for gi, g in enumerate(gold):
            r = pairs.get(gi)
            want = [h["state"] for h in g["history"]]
            got = [e.state for e in r.history] if r else []
            self.state_ok += bool(r and r.state == g["final_state"])
            self.history.append(_lcs(want, got) / max(len(want), len(got)) if r else 0.0)
            self._entities(g, recs)
            if r:
                self._evidence(g, r)
            if not r or r.state != g["final_state"] or want != got:
                self.misses.append(f"{t['id']} {g['key']}: want {want}; got {got if r else 'no match'}")
        for r in recs:
            if not any(pairs.get(gi) is r for gi in range(len(gold))):
                self.misses.append(f"{t['id']} extra/unmatched {r.title} {sorted(r.links)} "
                                   f"{[e.state for e in r.history]}")

    def _entities(self, g: dict[str, Any], recs: list[Record]) -> None:
        best = max(recs, key=lambda r: len(set(g["articles"]) & set(r.links)), default=None)
        if best is not None and not set(g["articles"]) & set(best.links):
            best = None
        for key, counts in (("parties", self.parties), ("mediators", self.mediators)):
            want = _names(g[key])
            got = _names(getattr(best, key)) if best else set()
            counts[0] += len(want & got)
            counts[1] += len(got - want)
            counts[2] += len(want - got)

    def _evidence(self, g: dict[str, Any], r: Record) -> None:
        for h in g["history"]:
            if h["evidence"] is None:
                continue
            self.evidence[1] += 1
            self.evidence[0] += any(e.state == h["state"] and e.evidence and h["evidence"] in e.evidence
                                    for e in r.history)

    def figures(self) -> dict[str, float]:
        p, r, f = _prf(self.matched, self.pred - self.matched, self.gold - self.matched)
        sp, sr, sf = _prf(self.strict, self.pred - self.strict, self.gold - self.strict)
        return {
            "gold_records": self.gold, "records": self.pred, "record_precision": p, "record_recall": r, "record_f1": f,
            "strict_record_f1": sf, "purity": self.pure / self.pred if self.pred else 1.0,
            "state_accuracy": self.state_ok / self.gold if self.gold else 1.0,
            "history_state_accuracy": sum(self.history) / len(self.history) if self.history else 1.0,
            "parties_f1": _prf(*self.parties)[2], "mediators_f1": _prf(*self.mediators)[2],
            "evidence_accuracy": self.evidence[0] / self.evidence[1] if self.evidence[1] else 1.0,
            "hard_negative_records": self.negative_records,
        }


def evaluate(timelines: list[dict[str, Any]], enricher: Any | None = None) -> dict[str, Tally]:
    if enricher is None:
        from enrich.pipeline import shared_enricher

        enricher = shared_enricher()
    out: dict[str, Tally] = {"dev": Tally(), "heldout": Tally()}
    for t in timelines:
        out.setdefault(t["split"], Tally()).add(t, run_timeline(t, enricher))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--timelines", type=Path, default=TIMELINES)
    ap.add_argument("--json", type=Path, default=None, help="write the figures here")
    ap.add_argument("--verbose", action="store_true", help="list the misses of every split but heldout")
    args = ap.parse_args(argv)
    tallies = evaluate(load(args.timelines))
    figures = {split: t.figures() for split, t in tallies.items()}
    names = list(figures["dev"])
    splits = list(figures)
    print(f"{'ceasefire tracker':28} " + " ".join(f"{s:>8}" for s in splits))
    for name in names:
        fmt = "{:>8.3f}" if isinstance(figures["dev"][name], float) else "{:>8}"
        print(f"{name:28} " + " ".join(fmt.format(figures[s][name]) for s in splits))
    if args.verbose:
        for split in splits:
            if split != "heldout" and tallies[split].misses:
                print(f"\n{split} misses:", *tallies[split].misses, sep="\n  ")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    missed = [k for k, goal in GOALS.items() if figures["dev"][k] < goal]
    if missed:
        print(f"dev goals missed: {', '.join(f'{k} < {GOALS[k]}' for k in missed)}", file=sys.stderr)
        return 1
    print(f"dev goals met ({', '.join(f'{k} >= {v}' for k, v in GOALS.items())}); heldout is reported, not tuned on")
    return 0


if __name__ == "__main__":
    sys.exit(main())
