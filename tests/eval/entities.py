"""Evaluate entity linking across languages and scripts: recall by canonical name and by Wikidata QID.

Usage: ``python -m tests.eval.entities [--only NAME] [--json OUT] [--misses] [--lang xx]``

Why: stories are grouped across languages by linked entity ids, so an entity found under the wrong id
(or not at all) in one language splits a story. Per set and per language this reports

* recall by name: gold entities (canonical English names, ``entities``) whose name an output entity has;
* recall by QID: gold ``entity_qids`` (only where the set's authors were certain) whose QID an output
  entity has as its id: the language-independent part;
* cross-script consistency: of the gold entities named by items in two or more languages, those linked
  to the same id in every such item (and found in all of them).

Sets: the 12-language full-taxonomy set, the 27-language ceasefire set (dev and held-out each) and the
English dev set (names only). Held-out figures are reported and must not be tuned on
(``tests/data/lang/*heldout*``); ``--misses`` lists what a set missed, for dev sets only.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from services.events import EntityMention, RawArticle

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
LANG = DATA / "lang"
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class EntitySet:
    name: str
    path: Path
    dev: bool


SETS = (
    EntitySet("lang-full-dev", LANG / "full_dev.jsonl", True),
    EntitySet("lang-full-heldout", LANG / "full_heldout.jsonl", False),
    EntitySet("lang-cf-dev", LANG / "ceasefire_dev.jsonl", True),
    EntitySet("lang-cf-heldout", LANG / "ceasefire_heldout.jsonl", False),
    EntitySet("devset", DATA / "devset.jsonl", True),
)


def load(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def predict(items: Sequence[dict[str, Any]], batch: int = 32) -> list[list[EntityMention]]:
    """The enricher's entities for each item (the worker's path: one ``enrich`` call per batch)."""
    from enrich.pipeline import shared_enricher

    enricher = shared_enricher()
    arts = [RawArticle(id=str(it["id"]), title=it.get("title", ""), content=it.get("text", ""),
                       published_at=_EPOCH) for it in items]
    out: list[list[EntityMention]] = []
    for i in range(0, len(arts), batch):
        out += [ev.entities for ev in enricher.enrich(arts[i:i + batch])]
    return out


@dataclass
class Tally:
    names: int = 0
    names_found: int = 0
    qids: int = 0
    qids_found: int = 0

    def add(self, other: Tally) -> None:
        self.names += other.names
        self.names_found += other.names_found
        self.qids += other.qids
        self.qids_found += other.qids_found

    def as_dict(self) -> dict[str, Any]:
        return {"names": self.names, "name_recall": _ratio(self.names_found, self.names),
                "qids": self.qids, "qid_recall": _ratio(self.qids_found, self.qids)}


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def score(items: Sequence[dict[str, Any]], predicted: Sequence[Sequence[EntityMention]]) -> dict[str, Any]:
    """Recall by name and by QID, per language and overall, plus cross-script consistency and misses."""
    per_lang: dict[str, Tally] = defaultdict(Tally)
    misses: list[dict[str, Any]] = []
    seen: dict[str, dict[str, list[str | None]]] = defaultdict(lambda: defaultdict(list))  # name -> lang -> ids
    for it, ents in zip(items, predicted, strict=True):
        lang = it.get("lang", "en")
        by_name = {e.name.lower(): e for e in ents}
        ids = {e.id for e in ents}
        t = per_lang[lang]
        missed_names, missed_qids = [], []
        for name in it.get("entities", []):
            t.names += 1
            hit = by_name.get(name.lower())
            if hit is not None:
                t.names_found += 1
            else:
                missed_names.append(name)
            seen[name][lang].append(hit.id if hit is not None else None)
        for name, qid in (it.get("entity_qids") or {}).items():
            t.qids += 1
            if qid in ids:
                t.qids_found += 1
            else:
                missed_qids.append(f"{name}={qid}")
        if missed_names or missed_qids:
            misses.append({"id": it["id"], "lang": lang, "names": missed_names, "qids": missed_qids,
                           "got": sorted(f"{e.name}|{e.id}" for e in ents)})
    total = Tally()
    for t in per_lang.values():
        total.add(t)
    return {"overall": total.as_dict(), "per_lang": {k: per_lang[k].as_dict() for k in sorted(per_lang)},
            "cross_script": cross_script(seen), "misses": misses}


def cross_script(seen: dict[str, dict[str, list[str | None]]]) -> dict[str, Any]:
    """Entities named in two or more languages: linked to one id in every item that names them?"""
    checked, consistent, broken = 0, 0, []
    for name, langs in sorted(seen.items()):
        if len(langs) < 2:
            continue
        checked += 1
        ids = {i for found in langs.values() for i in found}
        if None not in ids and len(ids) == 1:
            consistent += 1
        else:
            broken.append({"name": name, "by_lang": {k: sorted({i or "-" for i in v}) for k, v in sorted(langs.items())}})
    return {"entities": checked, "consistent": consistent, "rate": _ratio(consistent, checked), "broken": broken}


def evaluate(sets: Iterable[EntitySet]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for s in sets:
        if not s.path.exists():
            continue
        items = load(s.path)
        out[s.name] = {"dev": s.dev, **score(items, predict(items))}
    return out


def _fmt(x: float | None) -> str:
    return "  -  " if x is None else f"{x:.3f}"


def format_report(results: dict[str, Any], misses: bool = False, lang: str | None = None) -> str:
    lines = []
    for name, r in results.items():
        o, cs = r["overall"], r["cross_script"]
        lines.append(f"== {name} ({'dev' if r['dev'] else 'held-out'})  name recall {_fmt(o['name_recall'])} "
                     f"({o['names']})  QID recall {_fmt(o['qid_recall'])} ({o['qids']})  cross-script "
                     f"{cs['consistent']}/{cs['entities']}")
        lines.append("   lang  name-rec    n   qid-rec    n")
        for code, t in r["per_lang"].items():
            if lang and code != lang:
                continue
            lines.append(f"   {code:<4}  {_fmt(t['name_recall'])}  {t['names']:>4}   {_fmt(t['qid_recall'])}  {t['qids']:>4}")
        if misses and r["dev"]:
            for b in cs["broken"]:
                lines.append(f"   split: {b['name']}: {b['by_lang']}")
            for m in r["misses"]:
                if lang and m["lang"] != lang:
                    continue
                lines.append(f"   miss {m['id']}: names {m['names']} qids {m['qids']}  got {m['got']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", help="one set by name")
    ap.add_argument("--json", type=Path, help="write the figures here")
    ap.add_argument("--misses", action="store_true", help="list misses and split entities (dev sets only)")
    ap.add_argument("--lang", help="show one language only")
    args = ap.parse_args(argv)
    sets = [s for s in SETS if not args.only or s.name == args.only]
    results = evaluate(sets)
    print(format_report(results, args.misses, args.lang))
    if args.json:
        args.json.write_text(json.dumps({k: {kk: vv for kk, vv in v.items() if kk != "misses"}
                                         for k, v in results.items()}, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
