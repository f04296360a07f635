"""Evaluate enrichment on the hand-labelled sets; exit non-zero when a goal is missed on a dev set.

Usage: ``python -m tests.eval.enrich [--only NAME] [--devset PATH] [--json OUT] [--errors]``

Why: topic rules are easy to over-fit to whatever article one is looking at;
fixed sets with hard negatives keep every change honest. Metrics: per-topic
precision/recall/F1 and macro-F1; ceasefire lifecycle-state accuracy and
macro-F1 (on items whose gold state is set); main-entity recall (gold canonical
names found) and precision@k (the top-k predicted entities, k = gold count, that
are gold); false positives per hard-negative class; language accuracy.

Sets (see ``tests/data/lang/README_*.md``): the English-first dev set and its
hold-out, the 12-language full-taxonomy set and the 27-language ceasefire set
(each a dev and a held-out file), ``extra_dev.jsonl`` (hand-written dev
cases) and ``more_dev.jsonl`` (more dev cases per language: every lifecycle
state, headline / summary / full forms, and hard negatives) and ``fresh_dev.jsonl`` (written after the
other dev sets saturated and first scored before any rule change, README_fresh.md) and ``fresh2_dev.jsonl`` (full
texts and summaries, also first scored before any rule change, README_fresh2.md) and ``fresh3_dev.jsonl`` (the
ceasefire-only languages the earlier fresh batches left out, and other-topic items, README_fresh3.md) and
``fresh4_dev.jsonl`` (new wordings in the languages weakest on held-out, README_fresh4.md). Every set is scored per language, on the full text and on its short
forms: ``short`` = headline + first sentence, ``headline`` = headline alone.
Goals are checked on the dev sets only; held-out figures are reported, never
tuned on. The ceasefire-only sets score ``ceasefire`` and its state alone (their
other topics are incidental). The older sets label "holding" truces ``agreed``
(they predate ``in_force``), so on a set without any gold ``in_force`` a
predicted ``in_force`` counts as ``agreed``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from services.events import RawArticle

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
DEVSET = DATA / "devset.jsonl"
LANG = DATA / "lang"
GOALS = {"ceasefire_f1": 0.95, "macro_f1": 0.85, "entity_recall": 0.95}
# Multilingual goals (dev sets): ceasefire precision and short-form parity pooled per set; a language
# "works" for ceasefire + state, or for the full taxonomy, when it meets the per-language bars.
CEASEFIRE_PRECISION = 0.97
SHORT_FORM_GAP = 0.02
LANG_CEASEFIRE_F1 = 0.85
LANG_STATE_ACCURACY = 0.70
LANG_MACRO_F1 = 0.75
MIN_CEASEFIRE_LANGS = 30
MIN_FULL_LANGS = 12
FORMS = ("full", "short", "headline")
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Dataset:
    """One labelled file: ``dev`` sets are gated, held-out ones only reported; ``scope`` "ceasefire" scores
    that topic and its state alone."""

    name: str
    path: Path
    dev: bool
    scope: str = "full"
    languages: frozenset[str] | None = None  # items in other languages are set aside (see ORIGINAL_LANGUAGES)
    also: tuple[Path, ...] = ()  # more files scored as one set with ``path`` (the pooled held-out set)

    @property
    def paths(self) -> tuple[Path, ...]:
        return (self.path, *self.also)

    def label(self) -> str:
        return " + ".join(str(p.relative_to(ROOT)) for p in self.paths)


# The English-first sets were labelled when only these languages had rules: their items in other
# languages (it, pt, pl, tr) say "no topics" because the language was unsupported then, not because the
# text has none. They are set aside there (and counted); the multilingual sets score those languages.
ORIGINAL_LANGUAGES = frozenset({"en", "uk", "ru", "ar", "fr", "es", "de"})
FULL_LANGUAGES = frozenset({"en", "ar", "ru", "uk", "fr", "es", "de", "it", "pt", "tr", "fa", "he"})
CEASEFIRE_ONLY_FRESH = frozenset({"pl", "nl", "ro", "bg", "sr", "hr", "el", "az", "zh", "ja", "ko", "hi", "ur", "id",
                                  "vi", "sw"})
CEASEFIRE_ONLY_FRESH2 = frozenset({"pl", "nl", "ro", "bg", "el", "hr", "hi", "id", "ja", "ko", "zh", "vi"})
CEASEFIRE_ONLY_FRESH3 = frozenset({"th", "km", "my", "ms", "am", "so", "bn", "ur", "ps", "hy", "ka", "sw", "sr", "bs"})
CEASEFIRE_ONLY_FRESH4 = frozenset({"hy", "ur", "km", "sw", "ps", "sr", "bs", "ms"})
CEASEFIRE_ONLY_FRESH14 = frozenset({"az", "ro", "bg", "bs", "hr", "pl", "hi", "hy", "zh"})
CEASEFIRE_ONLY_FRESH16 = frozenset({"pl", "nl", "ro", "bg", "sr", "hr", "bs", "el", "hy", "az", "ka", "zh", "ja", "ko",
                                    "hi", "ur", "bn", "my", "th", "km", "id", "ms", "vi", "am", "so", "sw", "ps"})
DATASETS: tuple[Dataset, ...] = (
    Dataset("devset", DEVSET, True, languages=ORIGINAL_LANGUAGES),
    Dataset("holdout", DATA / "enrich_holdout.jsonl", False, languages=ORIGINAL_LANGUAGES),
    Dataset("lang-full-dev", LANG / "full_dev.jsonl", True),
    Dataset("lang-full-heldout", LANG / "full_heldout.jsonl", False),
    Dataset("lang-cf-dev", LANG / "ceasefire_dev.jsonl", True, "ceasefire"),
    Dataset("lang-cf-heldout", LANG / "ceasefire_heldout.jsonl", False, "ceasefire"),
    # full_heldout2.jsonl (README_full_heldout2.md): a second, larger blind held-out set in the 12 full-taxonomy
    # languages (20 items each, 40 in English), written without reading the rules or any dev item, never tuned on;
    # then both full held-out sets pooled per language, since 10 items (4 positives) a language are too few to judge.
    Dataset("lang-full-heldout2", LANG / "full_heldout2.jsonl", False),
    Dataset("lang-full-heldout-pooled", LANG / "full_heldout.jsonl", False, also=(LANG / "full_heldout2.jsonl",)),
    # ceasefire_heldout2.jsonl (README_ceasefire_heldout2.md): the same for the 27 ceasefire-only languages, 9 items each.
    Dataset("lang-cf-heldout2", LANG / "ceasefire_heldout2.jsonl", False, "ceasefire"),
    Dataset("lang-cf-heldout-pooled", LANG / "ceasefire_heldout.jsonl", False, "ceasefire",
            also=(LANG / "ceasefire_heldout2.jsonl",)),
    # full_heldout3.jsonl / ceasefire_heldout3.jsonl (README_full_heldout3.md, README_ceasefire_heldout3.md): a third
    # blind pair, written after the second was spent on a rule round's language choice, 20 items in each full-taxonomy
    # language and 8 in each ceasefire-only one; scored alone and pooled with the first two.
    Dataset("lang-full-heldout3", LANG / "full_heldout3.jsonl", False),
    Dataset("lang-cf-heldout3", LANG / "ceasefire_heldout3.jsonl", False, "ceasefire"),
    Dataset("lang-full-heldout-pooled3", LANG / "full_heldout.jsonl", False,
            also=(LANG / "full_heldout2.jsonl", LANG / "full_heldout3.jsonl")),
    Dataset("lang-cf-heldout-pooled3", LANG / "ceasefire_heldout.jsonl", False, "ceasefire",
            also=(LANG / "ceasefire_heldout2.jsonl", LANG / "ceasefire_heldout3.jsonl")),
    Dataset("extra-dev", LANG / "extra_dev.jsonl", True, "ceasefire"),
    Dataset("more-dev", LANG / "more_dev.jsonl", True, "ceasefire"),
    # fresh_dev.jsonl (README_fresh.md): one file, scored as two sets, the full taxonomy in the 12
    # full-taxonomy languages and ceasefire + state alone in the others.
    Dataset("fresh-dev", LANG / "fresh_dev.jsonl", True, languages=FULL_LANGUAGES),
    Dataset("fresh-cf-dev", LANG / "fresh_dev.jsonl", True, "ceasefire", languages=CEASEFIRE_ONLY_FRESH),
    # fresh2_dev.jsonl (README_fresh2.md): full texts and summaries, scored the same two ways.
    Dataset("fresh2-dev", LANG / "fresh2_dev.jsonl", True, languages=FULL_LANGUAGES),
    Dataset("fresh2-cf-dev", LANG / "fresh2_dev.jsonl", True, "ceasefire", languages=CEASEFIRE_ONLY_FRESH2),
    # fresh3_dev.jsonl (README_fresh3.md): the ceasefire-only languages no fresh batch had covered (and the
    # weakest held-out ones), plus other-topic items in seven full-taxonomy languages; scored the same two ways.
    Dataset("fresh3-dev", LANG / "fresh3_dev.jsonl", True, languages=FULL_LANGUAGES),
    Dataset("fresh3-cf-dev", LANG / "fresh3_dev.jsonl", True, "ceasefire", languages=CEASEFIRE_ONLY_FRESH3),
    # fresh4_dev.jsonl (README_fresh4.md): new wordings (inflections, reported speech, passive voice, separable
    # verbs) in the languages weakest on held-out, and every topic in six full-taxonomy ones; scored the same two ways.
    Dataset("fresh4-dev", LANG / "fresh4_dev.jsonl", True, languages=FULL_LANGUAGES),
    Dataset("fresh4-cf-dev", LANG / "fresh4_dev.jsonl", True, "ceasefire", languages=CEASEFIRE_ONLY_FRESH4),
    Dataset("fresh5-dev", LANG / "fresh5_dev.jsonl", True, languages=FULL_LANGUAGES),
    # fresh6_dev.jsonl (README_fresh6.md): sixth round in en ar de fr he, English heavy on hard negatives.
    Dataset("fresh6-dev", LANG / "fresh6_dev.jsonl", True, languages=FULL_LANGUAGES),
    # fresh7_dev.jsonl (README_fresh7.md): seventh round in de en fr he, mostly full article bodies.
    Dataset("fresh7-dev", LANG / "fresh7_dev.jsonl", True, languages=FULL_LANGUAGES),
    Dataset("fresh8-dev", LANG / "fresh8_dev.jsonl", True, languages=FULL_LANGUAGES),  # README_fresh8.md
    Dataset("fresh9-dev", LANG / "fresh9_dev.jsonl", True, languages=FULL_LANGUAGES),  # README_fresh9.md
    Dataset("fresh11-dev", LANG / "fresh11_dev.jsonl", True, languages=FULL_LANGUAGES),  # README_fresh11.md
    Dataset("fresh12-dev", LANG / "fresh12_dev.jsonl", True, languages=FULL_LANGUAGES),  # README_fresh12.md
    Dataset("fresh10-cf-dev", LANG / "fresh10_dev.jsonl", True, "ceasefire"),
    Dataset("fresh13-cf-dev", LANG / "fresh13_dev.jsonl", True, "ceasefire"),  # README_fresh13.md
    # fresh14_dev.jsonl (README_fresh14.md): Ukrainian states in every form (full taxonomy), and states plus hard
    # negatives in the nine ceasefire-only languages weakest on held-out (ceasefire + state alone).
    Dataset("fresh14-dev", LANG / "fresh14_dev.jsonl", True, languages=FULL_LANGUAGES),
    Dataset("fresh14-cf-dev", LANG / "fresh14_dev.jsonl", True, "ceasefire", languages=CEASEFIRE_ONLY_FRESH14),
    # fresh15_dev.jsonl (README_fresh15.md): lifecycle states in the 12 full-taxonomy languages, worded by outcome,
    # idiom, nominalisation and reported speech rather than the dev sets' verbs.
    Dataset("fresh15-dev", LANG / "fresh15_dev.jsonl", True, languages=FULL_LANGUAGES),
    # fresh16_dev.jsonl (README_fresh16.md): historical truces / anniversaries and policing programmes as hard
    # negatives, and present-day truces that mention a past one, in the 27 ceasefire-only languages.
    Dataset("fresh16-cf-dev", LANG / "fresh16_dev.jsonl", True, "ceasefire", languages=CEASEFIRE_ONLY_FRESH16),
)


def load_devset(path: Path = DEVSET) -> list[dict[str, Any]]:
    """The dev set items, one JSON object per line."""
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def short_form(title: str, text: str) -> str:
    """The first sentence of ``text`` (as the enricher splits it): the body of an item's short form."""
    from enrich.topics import split_sentences

    _, sents, _ = split_sentences(title, text)
    body = [s for s in sents if not s.in_title]
    return body[0].text if body else ""


FORM_TEXT: dict[str, Callable[[dict[str, Any]], str]] = {
    "full": lambda it: it["text"],
    "short": lambda it: short_form(it["title"], it["text"]),
    "headline": lambda it: "",
}


@lru_cache(maxsize=1)
def _family() -> dict[str, frozenset[str]]:
    """Language -> the languages it shares rules with (hr/bs/sr, id/ms): detection among them is a tie."""
    from enrich.topics import TAXONOMY_PATH

    langs = json.loads(TAXONOMY_PATH.read_text(encoding="utf-8"))["languages"]
    sets = {c: {c, *spec.get("rules", ())} for c, spec in langs.items()}
    return {c: frozenset(o for o, s in sets.items() if s & g) for c, g in sets.items()}


def same_language(got: str, gold: str) -> bool:
    """Whether ``got`` is ``gold`` or shares its rules."""
    return got == gold or got in _family().get(gold, frozenset())


def evaluate(items: Iterable[dict[str, Any]], enricher: Any | None = None, form: str = "full",
             scope: str = "full", in_force_as_agreed: bool | None = None) -> dict[str, Any]:
    """Run the enricher over ``items`` (``form``: full / short / headline) and compute every metric,
    pooled and per language."""
    if enricher is None:
        from enrich.pipeline import shared_enricher

        enricher = shared_enricher()
    items = list(items)
    if in_force_as_agreed is None:
        in_force_as_agreed = not any(it.get("state") == "in_force" for it in items)
    topics = list(enricher.topics.topics) if scope == "full" else ["ceasefire"]
    states = list(enricher.topics.precedence)
    acc = _Counts(topics, states)
    per_lang: dict[str, _Counts] = {}
    errors: list[dict[str, Any]] = []
    for it in items:
        art = RawArticle(id=it["id"], title=it["title"], content=FORM_TEXT[form](it), published_at=_EPOCH)
        out, raw = enricher.analyse(art)
        state = "agreed" if in_force_as_agreed and out.state == "in_force" else out.state
        pred = {t.name for t in out.topics} & set(topics)
        gold = set(it["topics"]) & set(topics)
        lc = per_lang.setdefault(it["lang"], _Counts(topics, states))
        for c in (acc, lc):
            c.add(it, out, raw, pred, gold, state)
        missed = [g for g in (x.lower() for x in it.get("entities", [])) if g not in
                  {e.name.lower() for e in out.entities}]
        if pred != gold or (form == "full" and missed) or (it.get("state") and state != it["state"]) \
                or not same_language(out.lang, it["lang"]):
            errors.append({"id": it["id"], "form": form, "lang": [it["lang"], out.lang], "fp": sorted(pred - gold),
                           "fn": sorted(gold - pred), "state": [it.get("state"), state, raw.states],
                           "missed": missed if form == "full" else []})
    return acc.result() | {"per_lang": {k: v.result() for k, v in sorted(per_lang.items())}, "errors": errors,
                           "form": form, "scope": scope}


class _Counts:
    """Confusion counts of one set or one language of it."""

    def __init__(self, topics: list[str], states: list[str]) -> None:
        self.topics, self.states = topics, states
        self.topic = {t: [0, 0, 0] for t in topics}
        self.state = {s: [0, 0, 0] for s in states}
        self.n = self.state_ok = self.state_n = self.state_any = 0
        self.ent_found = self.ent_gold = self.ent_topk_ok = self.ent_topk_n = 0
        self.lang_ok = self.lang_family_ok = self.hard_n = 0
        self.hard: dict[str, list[str]] = {}

    def add(self, it: dict[str, Any], out: Any, raw: Any, pred: set[str], gold: set[str], state: str | None) -> None:
        self.n += 1
        for t in self.topics:
            c = self.topic[t]
            c[0] += t in pred and t in gold
            c[1] += t in pred and t not in gold
            c[2] += t in gold and t not in pred
        self.lang_ok += out.lang == it["lang"]
        self.lang_family_ok += same_language(out.lang, it["lang"])
        if it.get("state"):
            self.state_n += 1
            self.state_ok += state == it["state"]
            self.state_any += it["state"] in raw.states or (it["state"] == "agreed" and state == "agreed")
            for s in self.states:
                c = self.state[s]
                c[0] += state == s and it["state"] == s
                c[1] += state == s and it["state"] != s
                c[2] += it["state"] == s and state != s
        names = [e.name.lower() for e in out.entities]
        gold_ents = [g.lower() for g in it.get("entities", [])]
        self.ent_found += sum(1 for g in gold_ents if g in names)
        self.ent_gold += len(gold_ents)
        k = len(gold_ents)
        self.ent_topk_ok += sum(1 for n in names[:k] if n in gold_ents)
        self.ent_topk_n += min(k, len(names))
        if it.get("hard_negative"):
            self.hard_n += 1
            self.hard.setdefault(it["hard_negative"], []).extend(sorted(pred - gold))

    def result(self) -> dict[str, Any]:
        per_topic = {t: dict(zip(("p", "r", "f1"), _prf(*self.topic[t]), strict=True))
                     | {"n": self.topic[t][0] + self.topic[t][2]} for t in self.topics}
        state_f1 = [_prf(*self.state[s])[2] for s in self.states if self.state[s][0] + self.state[s][2]]
        return {
            "n": self.n,
            "per_topic": per_topic,
            "macro_f1": sum(v["f1"] for v in per_topic.values()) / len(per_topic),
            "ceasefire_f1": per_topic["ceasefire"]["f1"],
            "ceasefire_p": per_topic["ceasefire"]["p"],
            "ceasefire_r": per_topic["ceasefire"]["r"],
            "ceasefire_n": per_topic["ceasefire"]["n"],
            "state_n": self.state_n,
            "state_accuracy": self.state_ok / self.state_n if self.state_n else 1.0,
            "state_macro_f1": sum(state_f1) / len(state_f1) if state_f1 else 1.0,
            "state_detected_any": self.state_any / self.state_n if self.state_n else 1.0,
            "entity_recall": self.ent_found / self.ent_gold if self.ent_gold else 1.0,
            "entity_precision_at_k": self.ent_topk_ok / self.ent_topk_n if self.ent_topk_n else 1.0,
            "lang_accuracy": self.lang_ok / self.n if self.n else 1.0,
            "lang_family_accuracy": self.lang_family_ok / self.n if self.n else 1.0,
            "hard_negative_n": self.hard_n,
            "hard_negative_fp": {k: len(v) for k, v in sorted(self.hard.items())},
            "hard_negative_fp_topics": {k: sorted(set(v)) for k, v in sorted(self.hard.items()) if v},
            "hard_negative_ceasefire_fp": sum(v.count("ceasefire") for v in self.hard.values()),
        }


def format_report(r: dict[str, Any]) -> str:
    """The human-readable table of one set (full text)."""
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
    """Names of the goals (of the English-first dev set) the result misses."""
    return [f"{k} {r[k]:.3f} < {v}" for k, v in GOALS.items() if r[k] < v]


def evaluate_set(ds: Dataset, enricher: Any | None = None) -> dict[str, Any]:
    """Every form of one set: {"full": ..., "short": ..., "headline": ...} (see :func:`evaluate`)."""
    items = [it for path in ds.paths for it in load_devset(path) if ds.languages is None or it["lang"] in ds.languages]
    in_force_as_agreed = not any(it.get("state") == "in_force" for it in items)
    return {form: evaluate(items, enricher, form, ds.scope, in_force_as_agreed) for form in FORMS}


def language_table(ds: Dataset, res: dict[str, Any]) -> str:
    """Per-language figures of one set, then the pooled row."""
    full = ds.scope == "full"
    head = (f"{'lang':<6}{'n':>4}{'pos':>5}{'cf-P':>7}{'cf-R':>7}{'cf-F1':>7}{'short':>7}{'head':>7}"
            f"{'state':>7}{'st-sh':>7}" + (f"{'macro':>7}" if full else "") + f"{'hn':>4}{'hnFP':>5}{'hnOK':>6}"
            f"{'lang':>7}")
    rows = [f"== {ds.name} ({ds.label()}): {res['full']['n']} items, "
            f"{'dev: goals checked' if ds.dev else 'held out: reported only'} ==", head]
    langs = list(res["full"]["per_lang"])
    for lang in [*langs, "ALL"]:
        f, s, h = (res[x] if lang == "ALL" else res[x]["per_lang"][lang] for x in FORMS)
        rows.append(f"{lang:<6}{f['n']:>4}{f['ceasefire_n']:>5}{f['ceasefire_p']:>7.3f}{f['ceasefire_r']:>7.3f}"
                    f"{f['ceasefire_f1']:>7.3f}{s['ceasefire_f1']:>7.3f}{h['ceasefire_f1']:>7.3f}"
                    f"{f['state_accuracy']:>7.3f}{s['state_accuracy']:>7.3f}"
                    + (f"{f['macro_f1']:>7.3f}" if full else "")
                    + f"{f['hard_negative_n']:>4}{f['hard_negative_ceasefire_fp']:>5}{_hn_ok(f):>6.2f}"
                    f"{f['lang_family_accuracy']:>7.3f}")
    return "\n".join(rows)


def _hn_ok(r: dict[str, Any]) -> float:
    """Share of the hard negatives left without a ceasefire tag (1.0 when there are none)."""
    n = r["hard_negative_n"]
    return 1.0 - r["hard_negative_ceasefire_fp"] / n if n else 1.0


LEGEND = ("columns: pos = gold ceasefire items; cf-P/R/F1 = ceasefire on the full text; short / head = ceasefire "
          "F1 on headline + first sentence / headline alone; state / st-sh = lifecycle-state accuracy on gold "
          "ceasefire items (full / short); macro = macro-F1 over the taxonomy's 8 topics; hn = hard negatives, "
          "hnFP = of them tagged ceasefire, hnOK = share left untagged; lang = language detected (hr/bs/sr and id/ms, which share rules, count as one)")


def set_goals(ds: Dataset, res: dict[str, Any]) -> list[str]:
    """Goals one dev set misses: ceasefire precision and short-form parity, pooled."""
    full, short = res["full"], res["short"]
    missed = []
    for form, r in (("full", full), ("short", short)):
        if r["ceasefire_p"] < CEASEFIRE_PRECISION:
            missed.append(f"{ds.name}: ceasefire precision ({form}) {r['ceasefire_p']:.3f} < {CEASEFIRE_PRECISION}")
    if short["ceasefire_f1"] < full["ceasefire_f1"] - SHORT_FORM_GAP:
        missed.append(f"{ds.name}: short-form ceasefire F1 {short['ceasefire_f1']:.3f} more than {SHORT_FORM_GAP} "
                      f"below full text {full['ceasefire_f1']:.3f}")
    return missed


HELD_OUT_GROUPS: tuple[tuple[str, frozenset[str]], ...] = (
    ("held-out", frozenset({"lang-full-heldout", "lang-cf-heldout"})),
    ("held-out 2", frozenset({"lang-full-heldout2", "lang-cf-heldout2"})),
    ("held-out pooled (sets 1 + 2)", frozenset({"lang-full-heldout-pooled", "lang-cf-heldout-pooled"})),
    ("held-out 3", frozenset({"lang-full-heldout3", "lang-cf-heldout3"})),
    ("held-out pooled (sets 1 + 2 + 3)", frozenset({"lang-full-heldout-pooled3", "lang-cf-heldout-pooled3"})),
)
"""The held-out verdicts printed: the first sets as always, each later blind set alone, and the sets pooled."""


def working_languages(results: dict[str, dict[str, Any]], dev: bool = True,
                      names: frozenset[str] | None = None) -> tuple[list[str], list[str]]:
    """Languages meeting the per-language bars on the dev (or held-out) sets: (ceasefire + state, full taxonomy).

    A language counts for ceasefire + state when its ceasefire F1 (full text and short form) and state
    accuracy meet the bars on every such set it appears in, and for the full taxonomy when its macro-F1
    does too on the full-taxonomy set. ``names``: only these sets (default: every set of that kind).
    """
    cf: dict[str, bool] = {}
    tax: dict[str, bool] = {}
    for ds in DATASETS:
        if ds.dev != dev or ds.name not in results or ds.name in ("devset", "holdout"):
            continue
        if names is not None and ds.name not in names:
            continue
        res = results[ds.name]
        for lang, f in res["full"]["per_lang"].items():
            s = res["short"]["per_lang"][lang]
            ok = (f["ceasefire_f1"] >= LANG_CEASEFIRE_F1 and s["ceasefire_f1"] >= LANG_CEASEFIRE_F1
                  and f["state_accuracy"] >= LANG_STATE_ACCURACY)
            cf[lang] = cf.get(lang, True) and ok
            if ds.scope == "full":
                tax[lang] = tax.get(lang, True) and ok and f["macro_f1"] >= LANG_MACRO_F1
    return sorted(k for k, v in cf.items() if v), sorted(k for k, v in tax.items() if v)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devset", type=Path, default=None, help="score this one file (old single-set report)")
    ap.add_argument("--only", action="append", default=None, help="score only this set (repeatable)")
    ap.add_argument("--json", type=Path, default=None, help="write all metrics (and errors) here")
    ap.add_argument("--errors", action="store_true", help="print misclassified items")
    args = ap.parse_args(argv)
    if args.devset is not None:
        r = evaluate(load_devset(args.devset))
        print(format_report(r))
        if args.errors:
            for e in r["errors"]:
                print(json.dumps(e, ensure_ascii=False))
        missed = missed_goals(r)
        print("\nGOALS " + ("MISSED: " + "; ".join(missed) if missed else "MET"))
        return 1 if missed else 0
    results: dict[str, dict[str, Any]] = {}
    missed = []
    for ds in DATASETS:
        if (args.only and ds.name not in args.only) or not all(p.exists() for p in ds.paths):
            continue
        res = results[ds.name] = evaluate_set(ds)
        if ds.name in ("devset", "holdout"):
            aside = sum(1 for it in load_devset(ds.path) if ds.languages and it["lang"] not in ds.languages)
            print(f"== {ds.name} ({ds.label()}) ==" + (
                f"  [{aside} items in languages labelled before they had rules set aside]" if aside else ""))
            print(format_report(res["full"]))
            print(f"short form (headline + first sentence): ceasefire F1 {res['short']['ceasefire_f1']:.3f}, "
                  f"state accuracy {res['short']['state_accuracy']:.3f}; headline alone: ceasefire F1 "
                  f"{res['headline']['ceasefire_f1']:.3f}\n")
        print(language_table(ds, res) + "\n")
        if args.errors:
            for form in FORMS:
                for e in res[form]["errors"]:
                    print(json.dumps({"set": ds.name} | e, ensure_ascii=False))
        if ds.dev:
            if ds.name == "devset":
                missed += [f"devset: {m}" for m in missed_goals(res["full"])]
            missed += set_goals(ds, res)
    print(LEGEND)
    if not args.only:
        for label, dev, names in (("dev", True, None), *((g, False, n) for g, n in HELD_OUT_GROUPS)):
            if names is not None and not names <= results.keys():
                continue
            cf, tax = working_languages(results, dev, names)
            print(f"\n{label}: ceasefire + state meet the per-language bars (F1 >= "
                  f"{LANG_CEASEFIRE_F1} full and short, state accuracy >= {LANG_STATE_ACCURACY}) in {len(cf)} "
                  f"languages: {' '.join(cf)}")
            print(f"{label}: full taxonomy (also macro-F1 >= {LANG_MACRO_F1}) in {len(tax)} "
                  f"languages: {' '.join(tax)}")
            if dev and len(cf) < MIN_CEASEFIRE_LANGS:
                missed.append(f"ceasefire + state work in {len(cf)} languages < {MIN_CEASEFIRE_LANGS}")
            if dev and len(tax) < MIN_FULL_LANGS:
                missed.append(f"full taxonomy works in {len(tax)} languages < {MIN_FULL_LANGS}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    print("\nGOALS " + ("MISSED: " + "; ".join(missed) if missed else "MET") + " (dev sets)")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
