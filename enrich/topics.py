"""Context-aware topic tagging and ceasefire lifecycle state, driven by ``taxonomy.json``.

Why: keyword tagging confuses a tariff "truce", a golf "truce" or a policing
programme called "Operation Ceasefire" with an armed-conflict ceasefire. Here a
trigger counts only with the context its rule demands (armed-conflict words or a
conflict-zone entity nearby or in the article), and a negative context (trade,
sport, policing, firefighting, business, arts, labour, history...) in the same
sentence drops the hit. When negative sentences outnumber conflict sentences, the
article as a whole gives no conflict context.

Headlines rarely carry a war word: "India and Pakistan agree to ceasefire". So a
ceasefire word with two countries (CLDR names, see :mod:`enrich.context`), a
country at war, one armed actor ("rebels", "junta", "clans"), or a country and a
word such as "rivals" or "attacks" within a few words of it makes its sentence
armed-conflict context. (A tariff truce between two states never gets this far:
the trade negative in its sentence drops the hit first.)

Languages: every rule is data. ``languages`` in the taxonomy gives per language
its context, armed actors, negatives, country-name settings, the rule sets it
shares (Serbian, Croatian and Bosnian share ``sh``) and its ``boundary``: "word"
(patterns start and end at word boundaries and are gated by their leading
literals) or "none" (no word boundary: scripts without spaces, scripts whose
vowel signs are not word characters, Arabic proclitics; these patterns run over
the whole text of a document in that language only).

Confidence of a hit: the trigger weight if its context is met in its sentence
window; x0.85 if met only elsewhere in the article; x0.55 for a
sentence-context trigger met only elsewhere; x0.35 if not met, except that a
"clean" trigger (a literal "cease fire" phrase: it needs armed-conflict context
like a "doc" one, or else an article where none of its negative contexts occurs)
scores x0.6 in an article without any negative context. A topic's
confidence is its best hit + 0.03 per further good hit (capped at 0.99). In an
article dominated by negative contexts, ambiguous triggers score at most x0.5.

Lifecycle state: state cues are read in the sentences that carry ceasefire
evidence and the sentence after each (which often says "... violated it"). The
event's ``state`` is the one the lead gives: the first evidence sentence that
cues a state (or whose next sentence does), the headline first; the body often
recalls how the truce was agreed or how an earlier one collapsed. Within that
sentence the state furthest along the lifecycle wins (the taxonomy's
precedence: collapsed > violated > extended > in_force > agreed > rejected >
proposed), so a partial ceasefire agreed while a full one is rejected is
``agreed``, and a truce "holding" since it was agreed is ``in_force``. A cue
right after a negation word of the language ("no violations", "sans
prolongation", "لم تسجل أي خروقات") does not count, nor does an extension cue
right after a proposal word ("propose extending": proposed). Weak cues (talks
about a truce: proposed) are read only when no other state is cued. Then the
taxonomy's ``states.resolve`` rules settle cues that running text mixes in one
sentence: a new truce agreed "after the previous one collapsed" is ``agreed``,
one "holding despite accusations" is ``in_force``, one side accepting while the
other "has yet to respond" is ``proposed``, talks that "resumed" are not fighting
that did. All detected states are returned too, furthest along first.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from services.events import Evidence, TopicTag

from .context import CountryMatcher, CountrySpec
from .context import build as build_countries
from .patterns import NeedleIndex, Scanner, Token, Where, _rx, _within, needles
from .sentences import Sentence, split_sentences

__all__ = ["TAXONOMY_PATH", "NeedleIndex", "Scanner", "Sentence", "Token", "TopicModel", "TopicResult", "Where",
           "needles", "split_sentences"]

TAXONOMY_PATH = Path(__file__).with_name("taxonomy.json")
_FULL = "full"
_DOC = "doc"
_NONE = "none"
_SENTENCE = "sentence"
_CLEAN = "clean"
CLEAN_FACTOR = 0.6  # a "clean" trigger with no context in an article free of its negative contexts


@dataclass(frozen=True)
class _Trigger:
    topic: str
    rx: Scanner
    context: str
    weight: float
    also: re.Pattern[str] | None
    negatives: tuple[str, ...]
    probe: bool  # a hit without context asks for armed-conflict context next to it (see _near_conflict)
    war_only: bool = False  # "local": "war": only a country at war next to it counts (aid to a flood-hit country does not)


@dataclass
class TopicResult:
    """Tags (all confidences; the caller applies its threshold) and lifecycle states."""

    tags: list[TopicTag] = field(default_factory=list)
    state: str | None = None
    states: list[str] = field(default_factory=list)


@dataclass
class _Rules:
    """Everything compiled for one detected language: its own rule sets, shared ones, the shared lists."""

    triggers: list[_Trigger]
    gates: dict[str, frozenset[int]]  # gate literal -> the triggers it may fire
    always: frozenset[int]  # triggers with ungated patterns
    context: tuple[Scanner, ...]
    negatives: dict[str, tuple[Scanner, ...]]
    states: tuple[dict[str, Scanner], ...]  # cue sets, own first, English last
    weak: tuple[dict[str, Scanner], ...]  # cues read only when no other state is cued ("talks": proposed)
    cancel: tuple[tuple[frozenset[str], re.Pattern[str]], ...]  # (states, words cancelling their cues after them)
    resolve: tuple[tuple[frozenset[str], frozenset[str], str | None, re.Pattern[str]], ...]  # see _resolved
    actor_patterns: tuple[str, ...]
    country_word_patterns: tuple[str, ...]
    bounded: bool
    countries: CountrySpec
    window: int
    _matcher: CountryMatcher | None = None
    _local: tuple[re.Pattern[str] | None, re.Pattern[str] | None] | None = None
    _state_needles: frozenset[str] | None = None

    def state_needles(self) -> frozenset[str]:
        """The gate literals of every state and weak cue scanner: all a sentence's ``where`` needs for them."""
        if self._state_needles is None:
            self._state_needles = frozenset().union(*(sc.needles() for cues in (*self.states, *self.weak)
                                                      for sc in cues.values()))
        return self._state_needles

    def country_matcher(self) -> CountryMatcher:
        """Built on first use (reads CLDR names through Babel): most processes never need most languages."""
        if self._matcher is None:
            self._matcher = build_countries(self.countries)
        return self._matcher

    def local_words(self) -> tuple[re.Pattern[str] | None, re.Pattern[str] | None]:
        """(armed actors, conflict-party words), compiled on first use."""
        if self._local is None:
            self._local = (_rx(self.actor_patterns, self.bounded) if self.actor_patterns else None,
                           _rx(self.country_word_patterns, self.bounded) if self.country_word_patterns else None)
        return self._local


class TopicModel:
    """Compiled taxonomy: build once, call :meth:`tag` per article."""

    def __init__(self, path: Path = TAXONOMY_PATH) -> None:
        data = json.loads(path.read_text(encoding="utf-8"))
        self.version: str = data["version"]
        self.topics: list[str] = list(data["topics"])
        langs: dict[str, dict[str, Any]] = data["languages"]
        local = data["local_context"]
        self._compiled: dict[tuple[tuple[str, ...], bool], Scanner] = {}

        def bounded(lang: str) -> bool:
            return langs[lang].get("boundary", "word") == "word"

        def scanner(patterns: Sequence[str], lang: str) -> Scanner:
            key = (tuple(patterns), bounded(lang))
            if key not in self._compiled:
                self._compiled[key] = Scanner(patterns, key[1])
            return self._compiled[key]

        shared_context = Scanner(data["context"])
        shared_neg = {name: Scanner(pats) for name, pats in data["negatives"].items()}
        triggers: dict[str, list[_Trigger]] = {}
        for topic, spec in data["topics"].items():
            for trig in spec["triggers"]:
                lang = trig["lang"]
                if lang not in langs:
                    raise ValueError(f"taxonomy: trigger language {lang!r} has no entry in 'languages'")
                also = _rx(trig["all"], bounded(lang)) if trig.get("all") else None
                triggers.setdefault(lang, []).append(
                    _Trigger(topic, scanner(trig["patterns"], lang), trig["context"], float(trig["weight"]),
                             also, tuple(spec.get("negatives", ())), bool(trig.get("local", topic in local["topics"])),
                             trig.get("local") == "war"))
        cues = {lang: {s: scanner(p, lang) for s, p in by_state.items()}
                for lang, by_state in data["states"]["cues"].items()}
        weak = {lang: {s: scanner(p, lang) for s, p in by_state.items()}
                for lang, by_state in data["states"].get("weak", {}).items()}
        self.precedence: list[str] = data["states"]["precedence"]
        st = data["states"]
        gap = int(st.get("negation_gap", 2))
        self._negation_gap = re.compile(rf"\W*(?:\w+\W+){{0,{gap}}}")
        # "no violations", "without an extension": negation words cancel the cues of the negatable states;
        # "propose extending": proposal words cancel an extension cue (the proposal is the news)
        groups = [(frozenset(st.get("negatable", ())), st.get("negation", {})),
                  (frozenset(st.get("hypothetical_states", ())), st.get("hypothetical", {}))]

        def cancel_rx(sets: Sequence[str]) -> tuple[tuple[frozenset[str], re.Pattern[str]], ...]:
            out = []
            for states, words in groups:
                # the language's own words only: English "no" is Portuguese "in the"
                alts = [f"(?:{_rx(words[r], bounded(r)).pattern})" for r in sets if words.get(r)]
                if states and alts:
                    out.append((states, re.compile("|".join(alts), re.IGNORECASE)))
            return tuple(out)

        def resolve_rx(sets: Sequence[str]) -> tuple[tuple[frozenset[str], frozenset[str], str | None,
                                                             re.Pattern[str]], ...]:
            out = []
            for rule in st.get("resolve", ()):
                alts = [f"(?:{_rx(rule['cues'][r], bounded(r)).pattern})" for r in sets if rule["cues"].get(r)]
                if alts:
                    out.append((frozenset(rule["if"]), frozenset(rule["drop"]), rule.get("add"),
                                re.compile("|".join(alts), re.IGNORECASE)))
            return tuple(out)
        self._rules: dict[str, _Rules] = {}
        for lang, spec in langs.items():
            sets = [lang, *spec.get("rules", ())]
            own = [langs[r] for r in sets]
            trigs = [t for r in sets for t in triggers.get(r, ())]
            by_needle: dict[str, set[int]] = {}
            for k, t in enumerate(trigs):
                for n in t.rx.needles():
                    by_needle.setdefault(n, set()).add(k)
            negatives = {name: (sc, *(scanner(o["negatives"][name], r) for r, o in zip(sets, own, strict=True)
                                      if o.get("negatives", {}).get(name)))
                         for name, sc in shared_neg.items()}
            actors = [p for o in own for p in o.get("actors", ())]
            words = [p for o in own for p in o.get("country_words", ())]
            country = spec.get("countries", {})
            self._rules[lang] = _Rules(
                triggers=trigs,
                gates={n: frozenset(ks) for n, ks in by_needle.items()},
                always=frozenset(k for k, t in enumerate(trigs) if t.rx.has_ungated),
                context=(shared_context, *(scanner(o["context"], r) for r, o in zip(sets, own, strict=True)
                                           if o.get("context"))),
                negatives=negatives,
                states=tuple(cues[r] for r in dict.fromkeys((*sets, "en")) if r in cues),
                weak=tuple(weak[r] for r in dict.fromkeys((*sets, "en")) if r in weak),
                cancel=cancel_rx(sets),
                resolve=resolve_rx(sets),
                actor_patterns=tuple(actors),
                country_word_patterns=tuple(words),
                bounded=bounded(lang),
                countries=CountrySpec(
                    locales=tuple(country.get("locales", [lang])),
                    aliases={c: tuple(v) for o in own for c, v in o.get("countries", {}).get("aliases", {}).items()},
                    suffix=int(country.get("suffix", 0)), stem=country.get("stem", ""),
                    bounded=bool(country.get("bounded", bounded(lang))), prefix=country.get("prefix", "")),
                window=int(spec.get("window", local["window"])),
            )
        self._min_countries = int(local["countries"])
        self._at_war = frozenset(local.get("countries_at_war", ()))
        self._needles = NeedleIndex(set().union(*(sc.needles() for sc in self.scanners())))

    def languages(self) -> set[str]:
        """Languages that have at least one trigger (their own or a shared rule set's)."""
        return {lang for lang, r in self._rules.items() if r.triggers}

    def scanners(self, lang: str | None = None) -> Iterator[Scanner]:
        """Every compiled scanner (of ``lang``'s rules only, if given): the gate literals come from these."""
        rules = [self._rules[lang]] if lang is not None else list(self._rules.values())
        seen: set[int] = set()
        for r in rules:
            for sc in (*r.context, *(s for ss in r.negatives.values() for s in ss), *(t.rx for t in r.triggers),
                       *(c for cues in (*r.states, *r.weak) for c in cues.values())):
                if id(sc) not in seen:
                    seen.add(id(sc))
                    yield sc

    def tag(self, doc: str, sents: list[Sentence], lang: str, conflict_offsets: Sequence[int] = (),
            tokens: Sequence[Token] | None = None) -> TopicResult:
        """Tag one document (``doc`` split into ``sents``); ``conflict_offsets``: starts of conflict entities;
        ``tokens``: the words of ``doc`` if already known (see :meth:`NeedleIndex.find`)."""
        rules = self._rules.get(lang)
        if rules is None or not rules.triggers or not sents:
            return TopicResult()
        starts = [s.start for s in sents]

        def idx(pos: int) -> int:
            return max(0, bisect.bisect_right(starts, pos) - 1)

        where = self._needles.find(doc, tokens)
        active = rules.always.union(*(rules.gates[n] for n in rules.gates.keys() & where.keys()))
        if not active:  # no trigger can fire: skip the context and negative scans
            return TopicResult()
        triggers = rules.triggers
        found: list[tuple[_Trigger, re.Match[str], int]] = []
        for k in sorted(active):  # taxonomy order: ties between equal scores keep it
            trig = triggers[k]
            for m in trig.rx.finditer(doc, where):
                i = idx(m.start())
                sent = sents[i]
                if trig.also is None or trig.also.search(doc, sent.start, sent.end):
                    found.append((trig, m, i))
        if not found:
            return TopicResult()
        ctx = {idx(m.start()) for sc in rules.context for m in sc.finditer(doc, where)}
        ctx |= {idx(o) for o in conflict_offsets}
        neg_cache: dict[str, set[int]] = {}

        def neg(cls: str) -> set[int]:
            if cls not in neg_cache:
                neg_cache[cls] = {idx(m.start()) for sc in rules.negatives[cls] for m in sc.finditer(doc, where)}
            return neg_cache[cls]

        trig_neg: dict[tuple[str, ...], set[int]] = {}

        def negs(trig: _Trigger) -> set[int]:
            if trig.negatives not in trig_neg:
                trig_neg[trig.negatives] = set().union(*(neg(cls) for cls in trig.negatives))
            return trig_neg[trig.negatives]

        for trig, m, i in found:
            if trig.probe and trig.context != _NONE and i not in ctx and i not in negs(trig) \
                    and self._near_conflict(rules, doc, sents[i], m, trig.war_only):
                ctx.add(i)
        # The headline gives the article's sense: when every trigger of a topic there is vetoed (a tariff
        # "truce", a "Waffenstillstand im Handball"), the body's mentions of it ("welcomed the truce") refer
        # back to that, and count only in a sentence with conflict context of its own.
        in_title = {trig.topic for trig, _, i in found if sents[i].in_title}
        vetoed = in_title - {trig.topic for trig, _, i in found if sents[i].in_title and i not in negs(trig)}
        hits: dict[str, list[tuple[float, int, str]]] = {}
        for trig, m, i in found:
            neg_sents = negs(trig)
            if i in neg_sents or (trig.topic in vetoed and i not in ctx):
                continue
            score = trig.weight * self._context_factor(trig.context, i, ctx, neg_sents, len(sents))
            hits.setdefault(trig.topic, []).append((score, i, m.group()))
        result = TopicResult()
        for topic in self.topics:
            th = hits.get(topic)
            if not th:
                continue
            th.sort(key=lambda h: -h[0])
            good = sum(1 for h in th if h[0] >= 0.5)
            conf = min(0.99, th[0][0] + 0.03 * max(0, good - 1))
            seen: set[int] = set()
            evidence: list[Evidence] = []
            for score, i, phrase in th:
                if i not in seen and len(evidence) < 3 and (score >= 0.5 or not evidence):
                    seen.add(i)
                    evidence.append(Evidence(sentence=sents[i].text, phrase=phrase))
            result.tags.append(TopicTag(name=topic, confidence=round(conf, 3), evidence=evidence))
            if topic == "ceasefire":
                result.states, result.state = self._lifecycle(th, sents, where, lang)
        return result

    def _lifecycle(self, hits: list[tuple[float, int, str]], sents: list[Sentence], where: Where,
                   lang: str) -> tuple[list[str], str | None]:
        """The states cued next to the good ceasefire ``hits``, and the event's state: the one the first
        cueing hit sentence (or the sentence after it) gives, the headline first (it reports the news)."""
        rules = self._rules.get(lang) or self._rules["en"]
        hit = sorted({i for s, i, _ in hits if s >= 0.5})
        order = sorted({j for i in hit for j in (i, i + 1) if j < len(sents)})
        found: set[str] = set()
        lead: set[str] | None = None
        needed = rules.state_needles()
        for cue_sets in (rules.states, rules.weak):
            cued: dict[int, set[str]] = {}
            for j in order:
                # until the lead is known every state counts; after it, only those not yet found
                cued[j] = self._sentence_states(rules, sents[j].text, _within(where, sents[j], needed), cue_sets,
                                                found if lead is not None else set())
                found |= cued[j]
                if lead is None:
                    lead = _lead_states(hit, cued, j)
            if found:
                break
        states = [s for s in self.precedence if s in found]
        return states, next((s for s in self.precedence if s in (lead or ())), states[0] if states else None)

    def _near_conflict(self, rules: _Rules, doc: str, sent: Sentence, m: re.Match[str], war_only: bool = False) -> bool:
        """Whether, within ``rules.window`` characters of the trigger ``m`` (in its sentence), there is an
        armed actor, two distinct countries, a country at war (the taxonomy lists them), or a country with
        a conflict-party word ("rivals", "attacks"); with ``war_only``, a country at war alone."""
        lo, hi = m.start() - rules.window, m.end() + rules.window
        if war_only:
            return not self._at_war.isdisjoint(rules.country_matcher().codes(doc, sent.start, sent.end, lo, hi))

        def near(rx: re.Pattern[str] | None) -> bool:
            return rx is not None and any(x.start() < hi and x.end() > lo and not (x.start() >= m.start()
                                          and x.end() <= m.end()) for x in rx.finditer(doc, sent.start, sent.end))

        actors, country_words = rules.local_words()
        if near(actors):
            return True
        codes = rules.country_matcher().codes(doc, sent.start, sent.end, lo, hi)
        return (len(codes) >= self._min_countries or not self._at_war.isdisjoint(codes)
                or (bool(codes) and near(country_words)))

    @staticmethod
    def _context_factor(kind: str, i: int, ctx: set[int], neg_sents: set[int], n: int) -> float:
        if kind == _NONE:
            return 1.0
        near = any(j in ctx and j not in neg_sents for j in (i - 1, i, i + 1))
        dominated = len(neg_sents) >= 2 and len(neg_sents) > len(ctx)
        if dominated:
            return 0.5 if near else 0.35
        if near:
            return 1.0
        if ctx - neg_sents:
            return 0.85 if kind in (_DOC, _CLEAN) else 0.55
        if kind == _CLEAN and not neg_sents:
            return CLEAN_FACTOR
        return 0.35

    def states_in(self, sentences: list[str], lang: str, wheres: Sequence[Where] | None = None) -> list[str]:
        """Lifecycle states cued in ``sentences``, ordered by precedence (first = the furthest along).

        ``wheres``: each sentence's :meth:`NeedleIndex.find`, when the caller has it.
        """
        rules = self._rules.get(lang) or self._rules["en"]
        found: set[str] = set()
        for k, sent in enumerate(sentences):
            found |= self._sentence_states(rules, sent, wheres[k] if wheres is not None else self._needles.find(sent),
                                           rules.states, found)
        return [s for s in self.precedence if s in found]

    def _sentence_states(self, rules: _Rules, sent: str, where: Where,
                         cue_sets: tuple[dict[str, Scanner], ...], skip: set[str] | frozenset[str] = frozenset()) -> set[str]:
        """The states ``cue_sets`` cue in one sentence (``where``: its :meth:`NeedleIndex.find`), ``skip`` aside."""
        found: set[str] = set()
        ends_of: dict[int, list[int]] = {}  # cancel group -> where its words end in ``sent``, found on first need
        for cues in cue_sets:
            for state, sc in cues.items():
                if state in found or state in skip or not sc.search(sent, where):
                    continue
                ends: list[int] = []
                for g, (states, rx) in enumerate(rules.cancel):
                    if state in states:
                        if g not in ends_of:
                            ends_of[g] = [m.end() for m in rx.finditer(sent)]
                        ends += ends_of[g]
                if not ends or self._stands(sent, sorted(m.start() for m in sc.finditer(sent, where)), ends):
                    found.add(state)
        return self._resolved(rules, sent, found, skip)

    @staticmethod
    def _resolved(rules: _Rules, sent: str, found: set[str], skip: set[str] | frozenset[str]) -> set[str]:
        """``found`` after the taxonomy's ``states.resolve`` rules: when a sentence cues one of a rule's ``if``
        states and one of its ``drop`` states, and the rule's words of the language occur in it, the ``drop``
        states go (and ``add`` comes in). So a new truce agreed "after the previous one collapsed" is
        ``agreed``, a truce "holding despite mutual accusations" is ``in_force``, and one side accepting while
        the other "has yet to respond" is still ``proposed``."""
        for need, drop, add, rx in rules.resolve:
            if found & need and found & drop and rx.search(sent):
                found -= drop
                if add and add not in skip:
                    found.add(add)
        return found

    def _stands(self, sent: str, starts: list[int], ends: list[int]) -> bool:
        """Whether a cue match at one of ``starts`` (ascending) is not cancelled. A cancelled cue scopes over the
        rest of its sentence: in "propose extending the truce by another week" or "no violations, no breach of
        the truce", the later cues of the same state belong to the cancelled one."""
        return bool(starts) and not self._negated(sent, starts[0], ends)

    def _negated(self, sent: str, start: int, ends: list[int]) -> bool:
        """Whether a cancelling word ends shortly before ``start`` (at most ``negation_gap`` words between)."""
        return any(e <= start and self._negation_gap.fullmatch(sent, e, start) for e in ends)


def _lead_states(hit: list[int], cued: dict[int, set[str]], upto: int) -> set[str] | None:
    """The states of the first hit sentence that cues any (or whose next sentence does), once the sentences
    up to ``upto`` are read; None while that is not yet known."""
    for i in hit:
        if i > upto:
            return None
        if cued.get(i):
            return cued[i]
        if i + 1 > upto:
            return None
        if cued.get(i + 1):
            return cued[i + 1]
    return None
