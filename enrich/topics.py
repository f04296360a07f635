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
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from services.events import Evidence, TopicTag

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
    return "".join(out) if len(out) >= 2 else None


def needles(pattern: str) -> frozenset[str] | None:
    """Literals one of which must occur in any text ``pattern`` matches; None = cannot tell."""
    body = re.sub(r"^(?:\(\?<!?[^()]*\))+", "", pattern)  # leading look-behinds
    if body.startswith("(?:"):
        depth, end = 0, -1
        for i, c in enumerate(body):
            depth += c == "(" and body[i - 1:i] != "\\"
            depth -= c == ")" and body[i - 1:i] != "\\"
            if depth == 0:
                end = i
                break
        alts = body[3:end].split("|") if end > 0 else []
        if not alts or any(re.search(r"[()\[\]]", a) for a in alts):
            return None
        leads = [_lead(a) for a in alts]
        return None if any(x is None for x in leads) else frozenset(x for x in leads if x)
    lead = _lead(body)
    return frozenset([lead]) if lead else None


class Scanner:
    """A set of patterns run only when one of their leading literals occurs in the text.

    Equivalent to one alternation regex but far cheaper on long articles: a C
    substring test per literal replaces a regex attempt at every position.
    """

    def __init__(self, patterns: list[str], lang: str = "") -> None:
        self.always: list[re.Pattern[str]] = []
        self.gated: list[tuple[frozenset[str], re.Pattern[str]]] = []
        for p in patterns:
            rx = _rx([p], lang)
            n = needles(p) if lang != "ar" else None
            if n is None:
                self.always.append(rx)
            else:
                self.gated.append((n, rx))
        if len(self.always) > 1:
            self.always = [_rx([p for p in patterns if (needles(p) if lang != "ar" else None) is None], lang)]

    def needles(self) -> set[str]:
        return {n for ns, _ in self.gated for n in ns}

    def finditer(self, doc: str, present: frozenset[str] | set[str]) -> Iterator[re.Match[str]]:
        """Matches of every pattern in ``doc`` (``present``: the needles found in it); may overlap."""
        for rx in self.always:
            yield from rx.finditer(doc)
        for ns, rx in self.gated:
            if not ns.isdisjoint(present):
                yield from rx.finditer(doc)


class NeedleIndex:
    """Which gate literals occur in a text, found in one regex pass instead of one ``in`` test per literal.

    The scan reports the longest literal starting at each position; every literal contained in a reported
    one is present too, so the closure below makes the answer exact.
    """

    def __init__(self, needles: set[str]) -> None:
        ordered = sorted(needles, key=len, reverse=True)
        self._rx = re.compile("(?=(" + "|".join(map(re.escape, ordered)) + "))") if ordered else None
        self._inside = {n: frozenset(m for m in ordered if m in n) for n in ordered}

    def present(self, low: str) -> set[str]:
        if self._rx is None:
            return set()
        found: set[str] = set()
        for m in self._rx.finditer(low):
            hit = m.group(1)
            if hit not in found:
                found |= self._inside[hit]
        return found


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
        scanners = [self._context, self._context_ar, *self._neg.values(),
                    *(t.rx for ts in self._triggers.values() for t in ts)]
        self._needles = NeedleIndex(set().union(*(sc.needles() for sc in scanners)))
        st = data["states"]
        self.precedence: list[str] = st["precedence"]
        self._states = {lang: {s: _rx(p, lang) for s, p in cues.items()} for lang, cues in st["cues"].items()}

    def languages(self) -> set[str]:
        """Languages that have at least one trigger."""
        return set(self._triggers)

    def tag(self, doc: str, sents: list[Sentence], lang: str, conflict_offsets: list[int] = ()) -> TopicResult:  # type: ignore[assignment]
        """Tag one document (``doc`` split into ``sents``); ``conflict_offsets``: starts of conflict entities."""
        triggers = self._triggers.get(lang)
        if not triggers or not sents:
            return TopicResult()
        starts = [s.start for s in sents]

        def idx(pos: int) -> int:
            return max(0, bisect.bisect_right(starts, pos) - 1)

        present = self._needles.present(doc.lower())
        ctx = {idx(m.start()) for m in self._context.finditer(doc, present)}
        if lang == "ar":
            ctx |= {idx(m.start()) for m in self._context_ar.finditer(doc, present)}
        ctx |= {idx(o) for o in conflict_offsets}
        neg_cache: dict[str, set[int]] = {}

        def neg(cls: str) -> set[int]:
            if cls not in neg_cache:
                neg_cache[cls] = {idx(m.start()) for m in self._neg[cls].finditer(doc, present)}
            return neg_cache[cls]

        hits: dict[str, list[tuple[float, int, str]]] = {}
        for trig in triggers:
            for m in trig.rx.finditer(doc, present):
                i = idx(m.start())
                sent = sents[i]
                if trig.also is not None and not trig.also.search(doc, sent.start, sent.end):
                    continue
                neg_sents: set[int] = set()
                for cls in trig.negatives:
                    neg_sents |= neg(cls)
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
                result.states = self.states_in([sents[i].text for i in good_sents], lang)
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

    def states_in(self, sentences: list[str], lang: str) -> list[str]:
        """Lifecycle states cued in ``sentences``, ordered by precedence (first = the event's state)."""
        found: set[str] = set()
        for cues in (self._states.get(lang), self._states.get("en") if lang != "en" else None):
            if not cues:
                continue
            for sent in sentences:
                for state, rx in cues.items():
                    if state not in found and rx.search(sent):
                        found.add(state)
        return [s for s in self.precedence if s in found]
