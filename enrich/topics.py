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
evidence and the sentence after each (which often says "... violated it"); the
event's ``state`` is the detected state furthest along the lifecycle (the
taxonomy's precedence: collapsed > violated > extended > in_force > agreed >
rejected > proposed), so a partial ceasefire agreed while a full one is rejected
is ``agreed``, and a truce "holding" since it was agreed is ``in_force``. All
detected states are returned too.
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
from services.text import WORD  # the gazetteer's tokens too: the enricher hands them to tag()

from .context import CountryMatcher, CountrySpec
from .context import build as build_countries

TAXONOMY_PATH = Path(__file__).with_name("taxonomy.json")
# A sentence ends at . ! ? ؟ + closing quotes + a space before a word that is not lower-case (checked in
# split_sentences: caseless scripts start sentences too), at a mark no abbreviation uses (CJK 。！？, the
# danda, Burmese, Khmer, Ethiopic, Armenian and Urdu full stops) whatever follows, or at a line break.
_SENT_END = re.compile(r"(?<=[.!?؟])(?P<gap>[\"”’»)]*\s+)(?=[\"“‘«(]?[^\W_])"
                       r"|(?<=[。！？।॥။។።։۔])[\"”’»)」』）]*\s*(?=\S)|\n\s*\n|\n(?=\S)")
_OPENERS = "\"“‘«("
_GEORGIAN = ("\u10d0", "\u10ff")  # Mkhedruli letters are lower-case to Unicode, yet they start sentences
_ABBREV = re.compile(r"(?:\b[A-Z]|\b(?:Mr|Mrs|Ms|Dr|Gen|Lt|Col|Sgt|St|Sen|Rep|Gov|Prof|No|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|U\.S|U\.N|U\.K|E\.U|vs|etc))\.$")
_FULL = "full"
_DOC = "doc"
_NONE = "none"
_SENTENCE = "sentence"
_CLEAN = "clean"
CLEAN_FACTOR = 0.6  # a "clean" trigger with no context in an article free of its negative contexts


@dataclass(frozen=True)
class Sentence:
    """A sentence of the analysed document with its character span."""

    text: str
    start: int
    end: int
    in_title: bool = False


def split_sentences(title: str, body: str) -> tuple[str, list[Sentence], int]:
    """Join title and body into one document; return it, its sentences and the body offset."""
    title = title.strip()
    doc = f"{title}\n\n{body}" if title else body
    offset = len(title) + 2 if title else 0
    sents: list[Sentence] = []
    if title:
        sents.append(Sentence(title, 0, len(title), True))
    pos = offset
    for m in _SENT_END.finditer(doc, offset):
        if m.group("gap") is not None:
            first = doc[m.end() + 1] if doc[m.end()] in _OPENERS else doc[m.end()]
            if first.islower() and not _GEORGIAN[0] <= first <= _GEORGIAN[1]:
                continue
            if m.group().strip() == "" and _ABBREV.search(doc, max(pos, m.start() - 6), m.start()):
                continue
        _add(doc, pos, m.start(), sents)
        pos = m.end()
    _add(doc, pos, len(doc), sents)
    return doc, sents, offset


def _add(doc: str, start: int, end: int, out: list[Sentence]) -> None:
    text = doc[start:end]
    stripped = text.strip()
    if stripped:
        lead = len(text) - len(text.lstrip())
        out.append(Sentence(stripped, start + lead, start + lead + len(stripped)))


def _rx(patterns: Sequence[str], bounded: bool = True) -> re.Pattern[str]:
    """One case-insensitive regex of ``patterns``, held to word boundaries unless ``bounded`` is False."""
    body = "|".join(f"(?:{p})" for p in patterns)
    if not bounded:
        return re.compile(f"(?:{body})", re.IGNORECASE)
    return re.compile(rf"(?<![^\W_])(?:{body})(?![^\W_])", re.IGNORECASE)


def _lead(pattern: str) -> str | None:
    """The literal text every match of ``pattern`` starts with (lower-cased), if easy to see."""
    out: list[str] = []
    for i, c in enumerate(pattern):
        if not c.isalpha():
            if c in "?*{" and out:
                out.pop()
            break
        if i + 1 < len(pattern) and pattern[i + 1] in "?*{":
            break
        out.append(c.lower())
    return "".join(out) or None


def _structure(pattern: str) -> Iterator[tuple[int, str]]:
    """Positions of the ``(``, ``)`` and ``|`` that are syntax (not escaped, not in a character class)."""
    in_class = escaped = False
    for i, c in enumerate(pattern):
        if escaped:
            escaped = False
        elif c == "\\":
            escaped = True
        elif in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c in "()|":
            yield i, c


def _alternatives(pattern: str) -> list[str]:
    """``pattern`` split at its top-level ``|``."""
    parts, depth, start = [], 0, 0
    for i, c in _structure(pattern):
        if c == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
        elif c != "|":
            depth += 1 if c == "(" else -1
    return [*parts, pattern[start:]]


def _group_end(pattern: str) -> int:
    """Index of the ``)`` closing the group that opens ``pattern``; -1 if none."""
    depth = 0
    for i, c in _structure(pattern):
        if c != "|":
            depth += 1 if c == "(" else -1
            if depth == 0:
                return i
    return -1


_LOOKBEHINDS = re.compile(r"^(?:\(\?<!?[^()]*\))+")


def needles(pattern: str) -> frozenset[str] | None:
    """Literals one of which starts every text ``pattern`` matches; None = cannot tell."""
    leads: set[str] = set()
    for alt in _alternatives(pattern):
        alt = _LOOKBEHINDS.sub("", alt)
        found: frozenset[str] | None = None
        if alt.startswith("(?:"):
            end = _group_end(alt)
            if end > 0 and alt[end + 1:end + 2] not in ("?", "*", "{"):
                found = needles(alt[3:end])
        elif lead := _lead(alt):
            found = frozenset([lead])
        if found is None:
            return None
        leads |= found
    return frozenset(leads) or None


Where = dict[str, list[int]]
"""Gate literal -> offsets of the words of a document that start with it."""


class Scanner:
    """A set of patterns, each tried only where one of its leading literals starts a word.

    Equivalent to running each pattern over the whole document, but far cheaper:
    a pattern whose literals are absent is skipped by a set test, and a present
    one is tried with ``match`` at those word starts only (every gated pattern
    starts at a word boundary, see :func:`_rx`). Patterns of a language without
    word boundaries (``bounded=False``: Arabic proclitics, Chinese, Thai, Hindi...)
    run over the whole text; they are compiled only into that language's rules.
    """

    def __init__(self, patterns: Sequence[str], bounded: bool = True) -> None:
        self._bounded = bounded
        self._gated_src: list[tuple[frozenset[str], str]] = []
        ungated: list[str] = []
        for p in patterns:
            leads = needles(p) if bounded else None
            if leads is None:
                ungated.append(p)
            else:
                self._gated_src.append((leads, p))
        self._ungated = ungated
        # Compiled on first use: a process compiles the patterns its documents' words can reach only
        # (the taxonomy has ~10,000 patterns in 40 languages; compiling all takes seconds).
        self._gated_rx: list[re.Pattern[str] | None] = [None] * len(self._gated_src)
        self._always: list[re.Pattern[str]] | None = None
        self._by_needle: dict[str, list[int]] = {}
        for k, (ns, _) in enumerate(self._gated_src):
            for n in ns:
                self._by_needle.setdefault(n, []).append(k)
        self._all = frozenset(self._by_needle)

    @property
    def always(self) -> list[re.Pattern[str]]:
        """The ungated patterns as one regex (empty list if none)."""
        if self._always is None:
            self._always = [_rx(self._ungated, self._bounded)] if self._ungated else []
        return self._always

    @property
    def gated(self) -> list[tuple[frozenset[str], re.Pattern[str]]]:
        """Every gated pattern with its leading literals (compiles them all)."""
        return [(ns, self._gated(k)) for k, (ns, _) in enumerate(self._gated_src)]

    def _gated(self, k: int) -> re.Pattern[str]:
        rx = self._gated_rx[k]
        if rx is None:
            rx = self._gated_rx[k] = _rx([self._gated_src[k][1]], self._bounded)
        return rx

    @property
    def has_ungated(self) -> bool:
        return bool(self._ungated)

    def needles(self) -> set[str]:
        return set(self._all)

    def search(self, doc: str, where: Where) -> bool:
        """Whether any pattern matches ``doc``."""
        if not self._ungated and self._all.isdisjoint(where):
            return False
        return next(self.finditer(doc, where), None) is not None

    def finditer(self, doc: str, where: Where) -> Iterator[re.Match[str]]:
        """Matches of every pattern in ``doc`` (``where``: its :meth:`NeedleIndex.find`); may overlap."""
        if self._ungated:
            for rx in self.always:
                yield from rx.finditer(doc)
        if self._all.isdisjoint(where):
            return
        present = self._all.intersection(where)
        for k in sorted({k for n in present for k in self._by_needle[n]}):
            ns = self._gated_src[k][0]
            rx = self._gated(k)
            starts = [pos for n in ns & present for pos in where[n]]
            if len(starts) > 1:
                starts = sorted(set(starts))
            end = 0
            for pos in starts:
                if pos >= end and (m := rx.match(doc, pos)):
                    end = m.end()
                    yield m


Token = tuple[str, int, int]
"""A word of a document (a run of letters and digits) with its start and end offsets."""
_NO_NEEDLES: tuple[str, ...] = ()


def _within(where: Where, sent: Sentence) -> Where:
    """The part of a document's ``where`` inside ``sent``, in the sentence's own offsets.

    Exact because a sentence never starts or ends inside a word (see :func:`split_sentences`).
    """
    out: Where = {}
    for n, offsets in where.items():
        inside = [p - sent.start for p in offsets if sent.start <= p < sent.end]
        if inside:
            out[n] = inside
    return out


class NeedleIndex:
    """Where gate literals start a word of a document.

    The answer per distinct word is cached (news vocabulary repeats), so a
    document costs one tokenising pass plus a dict lookup per word, instead of
    trying ~600 literals at every position.
    """

    def __init__(self, needles: set[str], cache_size: int = 50_000) -> None:
        self._by_head: dict[str, tuple[str, ...]] = {}  # first two letters (or the one) -> literals
        for n in sorted(needles):
            self._by_head[n[:2]] = (*self._by_head.get(n[:2], ()), n)
        self._cache: dict[str, tuple[str, ...]] = {}
        self._cache_size = cache_size

    def _starting(self, word: str) -> tuple[str, ...]:
        low = word.lower()
        hits = [n for n in self._by_head.get(low[:2], ()) if low.startswith(n)]
        if len(low) > 1:
            hits += self._by_head.get(low[0], ())
        return tuple(hits) or _NO_NEEDLES

    def find(self, doc: str, tokens: Sequence[Token] | None = None) -> Where:
        """Each literal that starts a word of ``doc`` (case-insensitively), with those words' offsets.

        ``tokens``: the words of ``doc`` as ``(word, start, end)``, when the caller already has them.
        """
        if tokens is None:
            tokens = [(m.group(), m.start(), m.end()) for m in WORD.finditer(doc)]
        where: Where = {}
        cache = self._cache
        for word, start, _ in tokens:
            hit = cache.get(word)
            if hit is None:
                if len(cache) >= self._cache_size:
                    cache.clear()
                hit = cache[word] = self._starting(word)
            for n in hit:
                where.setdefault(n, []).append(start)
        return where


@dataclass(frozen=True)
class _Trigger:
    topic: str
    rx: Scanner
    context: str
    weight: float
    also: re.Pattern[str] | None
    negatives: tuple[str, ...]
    probe: bool  # a hit without context asks for armed-conflict context next to it (see _near_conflict)


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
    actor_patterns: tuple[str, ...]
    country_word_patterns: tuple[str, ...]
    bounded: bool
    countries: CountrySpec
    window: int
    _matcher: CountryMatcher | None = None
    _local: tuple[re.Pattern[str] | None, re.Pattern[str] | None] | None = None

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
                             also, tuple(spec.get("negatives", ())), bool(trig.get("local", topic in local["topics"]))))
        cues = {lang: {s: scanner(p, lang) for s, p in by_state.items()}
                for lang, by_state in data["states"]["cues"].items()}
        self.precedence: list[str] = data["states"]["precedence"]
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
                       *(c for cues in r.states for c in cues.values())):
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
        active = rules.always
        for n in rules.gates.keys() & where.keys():
            active = active | rules.gates[n]
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
                    and self._near_conflict(rules, doc, sents[i], m):
                ctx.add(i)
        hits: dict[str, list[tuple[float, int, str]]] = {}
        for trig, m, i in found:
            neg_sents = negs(trig)
            if i in neg_sents:
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
                good_sents = sorted({j for s, i, _ in th if s >= 0.5 for j in (i, i + 1) if j < len(sents)})
                result.states = self.states_in([sents[i].text for i in good_sents], lang,
                                               [_within(where, sents[i]) for i in good_sents])
                result.state = result.states[0] if result.states else None
        return result

    def _near_conflict(self, rules: _Rules, doc: str, sent: Sentence, m: re.Match[str]) -> bool:
        """Whether, within ``rules.window`` characters of the trigger ``m`` (in its sentence), there is an
        armed actor, two distinct countries, a country at war (the taxonomy lists them), or a country with
        a conflict-party word ("rivals", "attacks")."""
        lo, hi = m.start() - rules.window, m.end() + rules.window

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
        """Lifecycle states cued in ``sentences``, ordered by precedence (first = the event's state).

        ``wheres``: each sentence's :meth:`NeedleIndex.find`, when the caller has it.
        """
        rules = self._rules.get(lang) or self._rules["en"]
        found: set[str] = set()
        for k, sent in enumerate(sentences):
            where = wheres[k] if wheres is not None else self._needles.find(sent)
            for cues in rules.states:
                for state, sc in cues.items():
                    if state not in found and sc.search(sent, where):
                        found.add(state)
        return [s for s in self.precedence if s in found]
