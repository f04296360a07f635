"""Context-aware topic tagging and ceasefire lifecycle state, driven by ``taxonomy.json``.

Why: keyword tagging confuses a tariff "truce", a golf "truce" or a policing
programme called "Operation Ceasefire" with an armed-conflict ceasefire. Here a
trigger counts only with the context its rule demands (armed-conflict words or a
conflict-zone entity nearby or in the article), and a negative context (trade,
sport, policing, firefighting, business, arts, labour...) in the same sentence
drops the hit. When negative sentences outnumber conflict sentences, the
article as a whole gives no conflict context.

Confidence of a hit: the trigger weight if its context is met in its sentence
window; x0.85 if met only elsewhere in the article; x0.55 for a
sentence-context trigger met only elsewhere; x0.35 if not met. A topic's
confidence is its best hit + 0.03 per further good hit (capped at 0.99). In an
article dominated by negative contexts, ambiguous triggers score at most x0.5.

Lifecycle state: state cues are read in the sentences that carry ceasefire
evidence and the sentence after each (which often says "... violated it"); the event's ``state`` is the detected state furthest along the
lifecycle (precedence collapsed > violated > extended > agreed > rejected >
proposed), so a partial ceasefire agreed while a full one is rejected is
``agreed``. All detected states are returned too.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from services.events import Evidence, TopicTag
from services.text import WORD  # the gazetteer's tokens too: the enricher hands them to tag()

TAXONOMY_PATH = Path(__file__).with_name("taxonomy.json")
_SENT_END = re.compile(r"(?<=[.!?。؟])[\"”’»)]*\s+(?=[\"“‘«(]?[A-ZА-ЯЁІЇЄҐ0-9\u0600-\u06ff])|\n\s*\n|\n(?=\S)")
_ABBREV = re.compile(r"(?:\b[A-Z]|\b(?:Mr|Mrs|Ms|Dr|Gen|Lt|Col|Sgt|St|Sen|Rep|Gov|Prof|No|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|U\.S|U\.N|U\.K|E\.U|vs|etc))\.$")
_FULL = "full"
_DOC = "doc"
_NONE = "none"
_SENTENCE = "sentence"


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


def _rx(patterns: list[str], lang: str = "") -> re.Pattern[str]:
    body = "|".join(f"(?:{p})" for p in patterns)
    if lang == "ar":
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
    starts at a word boundary, see :func:`_rx`). Arabic patterns have no word
    boundary (proclitics), so they run over the whole text.
    """

    def __init__(self, patterns: list[str], lang: str = "") -> None:
        self.always: list[re.Pattern[str]] = []
        self.gated: list[tuple[frozenset[str], re.Pattern[str]]] = []
        ungated: list[str] = []
        for p in patterns:
            leads = needles(p) if lang != "ar" else None
            if leads is None:
                ungated.append(p)
            else:
                self.gated.append((leads, _rx([p], lang)))
        if ungated:
            self.always = [_rx(ungated, lang)]
        self._by_needle: dict[str, list[int]] = {}
        for k, (ns, _) in enumerate(self.gated):
            for n in ns:
                self._by_needle.setdefault(n, []).append(k)
        self._all = frozenset(self._by_needle)

    def needles(self) -> set[str]:
        return set(self._all)

    def search(self, doc: str, where: Where) -> bool:
        """Whether any pattern matches ``doc``."""
        if not self.always and self._all.isdisjoint(where):
            return False
        return next(self.finditer(doc, where), None) is not None

    def finditer(self, doc: str, where: Where) -> Iterator[re.Match[str]]:
        """Matches of every pattern in ``doc`` (``where``: its :meth:`NeedleIndex.find`); may overlap."""
        for rx in self.always:
            yield from rx.finditer(doc)
        if self._all.isdisjoint(where):
            return
        present = self._all.intersection(where)
        for k in sorted({k for n in present for k in self._by_needle[n]}):
            ns, rx = self.gated[k]
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


@dataclass
class TopicResult:
    """Tags (all confidences; the caller applies its threshold) and lifecycle states."""

    tags: list[TopicTag] = field(default_factory=list)
    state: str | None = None
    states: list[str] = field(default_factory=list)


class TopicModel:
    """Compiled taxonomy: build once, call :meth:`tag` per article."""

    def __init__(self, path: Path = TAXONOMY_PATH) -> None:
        data = json.loads(path.read_text(encoding="utf-8"))
        self.version: str = data["version"]
        self.topics: list[str] = list(data["topics"])
        self._context = Scanner(data["context"])
        self._context_ar = Scanner([p for p in data["context"] if re.search(r"[\u0600-\u06ff]", p)], "ar")
        self._neg = {name: Scanner(pats) for name, pats in data["negatives"].items()}
        self._triggers: dict[str, list[_Trigger]] = {}
        for topic, spec in data["topics"].items():
            for trig in spec["triggers"]:
                lang = trig["lang"]
                also = _rx(trig["all"], lang) if trig.get("all") else None
                self._triggers.setdefault(lang, []).append(
                    _Trigger(topic, Scanner(trig["patterns"], lang), trig["context"], float(trig["weight"]),
                             also, tuple(spec.get("negatives", ()))))
        # Per language: gate literal -> the triggers it may fire, and the triggers that always run.
        self._trigger_gates: dict[str, tuple[dict[str, frozenset[int]], frozenset[int]]] = {}
        for lang, trigs in self._triggers.items():
            by_needle: dict[str, set[int]] = {}
            for k, t in enumerate(trigs):
                for n in t.rx.needles():
                    by_needle.setdefault(n, set()).add(k)
            always = frozenset(k for k, t in enumerate(trigs) if t.rx.always)
            self._trigger_gates[lang] = ({n: frozenset(ks) for n, ks in by_needle.items()}, always)
        st = data["states"]
        self.precedence: list[str] = st["precedence"]
        self._states = {lang: {s: Scanner(p, lang) for s, p in cues.items()} for lang, cues in st["cues"].items()}
        scanners = [self._context, self._context_ar, *self._neg.values(),
                    *(t.rx for ts in self._triggers.values() for t in ts),
                    *(sc for cues in self._states.values() for sc in cues.values())]
        self._needles = NeedleIndex(set().union(*(sc.needles() for sc in scanners)))

    def languages(self) -> set[str]:
        """Languages that have at least one trigger."""
        return set(self._triggers)

    def tag(self, doc: str, sents: list[Sentence], lang: str, conflict_offsets: Sequence[int] = (),
            tokens: Sequence[Token] | None = None) -> TopicResult:
        """Tag one document (``doc`` split into ``sents``); ``conflict_offsets``: starts of conflict entities;
        ``tokens``: the words of ``doc`` if already known (see :meth:`NeedleIndex.find`)."""
        triggers = self._triggers.get(lang)
        if not triggers or not sents:
            return TopicResult()
        starts = [s.start for s in sents]

        def idx(pos: int) -> int:
            return max(0, bisect.bisect_right(starts, pos) - 1)

        where = self._needles.find(doc, tokens)
        by_needle, active = self._trigger_gates[lang]
        for n in by_needle.keys() & where.keys():
            active = active | by_needle[n]
        if not active:  # no trigger can fire: skip the context and negative scans
            return TopicResult()
        ctx = {idx(m.start()) for m in self._context.finditer(doc, where)}
        if lang == "ar":
            ctx |= {idx(m.start()) for m in self._context_ar.finditer(doc, where)}
        ctx |= {idx(o) for o in conflict_offsets}
        neg_cache: dict[str, set[int]] = {}

        def neg(cls: str) -> set[int]:
            if cls not in neg_cache:
                neg_cache[cls] = {idx(m.start()) for m in self._neg[cls].finditer(doc, where)}
            return neg_cache[cls]

        hits: dict[str, list[tuple[float, int, str]]] = {}
        for k in sorted(active):  # taxonomy order: ties between equal scores keep it
            trig = triggers[k]
            neg_sents: set[int] | None = None
            for m in trig.rx.finditer(doc, where):
                i = idx(m.start())
                sent = sents[i]
                if trig.also is not None and not trig.also.search(doc, sent.start, sent.end):
                    continue
                if neg_sents is None:
                    neg_sents = set().union(*(neg(cls) for cls in trig.negatives))
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
            return 0.85 if kind == _DOC else 0.55
        return 0.35

    def states_in(self, sentences: list[str], lang: str, wheres: Sequence[Where] | None = None) -> list[str]:
        """Lifecycle states cued in ``sentences``, ordered by precedence (first = the event's state).

        ``wheres``: each sentence's :meth:`NeedleIndex.find`, when the caller has it.
        """
        found: set[str] = set()
        cue_sets = [c for c in (self._states.get(lang), self._states.get("en") if lang != "en" else None) if c]
        for k, sent in enumerate(sentences):
            where = wheres[k] if wheres is not None else self._needles.find(sent)
            for cues in cue_sets:
                for state, sc in cues.items():
                    if state not in found and sc.search(sent, where):
                        found.add(state)
        return [s for s in self.precedence if s in found]
