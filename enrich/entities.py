"""Entity linking: spaCy NER spans merged with gazetteer hits into ``EntityMention``s.

Why: the gazetteer gives ids, canonical names, correct types and non-English
coverage; spaCy finds the people and groups nobody listed. Rules:

* gazetteer hits win: a spaCy span overlapping one is dropped (fixes "Kyiv" as
  PERSON, "Kursk" as PRODUCT, "Trump" as ORG);
* a spaCy span whose text is a known alias is linked to that entry;
* headlines are not run through spaCy (title case fools it: "Trump Agree
  Halt"); title entities come from the gazetteer, and ``in_title`` is also set
  for body entities whose surface form appears in the title;
* unknown spans get ``ww:<slug>`` ids and are kept only if plausible (no
  numbers-only, single letters, lowercase starts, all-caps phrases, long runs);
* a bare surname of an unknown person merges into the full name seen earlier.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from services.events import EntityMention

from .gazetteer import Gazetteer, Match, slugify

KEEP_LABELS = frozenset({"PERSON", "ORG", "GPE", "LOC", "NORP"})
_LEADING = re.compile(r"^(?:the|The|THE)\s+")
_TRAILING = re.compile(r"(?:['’]s|['’])$")
_STOP = frozenset({
    "ceasefire", "truce", "breaking", "update", "live", "analysis", "opinion", "exclusive", "watch", "video",
    "president", "minister", "prime minister", "government", "army", "state", "reuters", "ap", "afp",
})


@dataclass(frozen=True)
class Span:
    """A spaCy entity in document coordinates."""

    start: int
    end: int
    label: str
    text: str


@dataclass
class _Acc:
    id: str
    name: str
    type: str
    first: int
    mentions: int = 0
    in_title: bool = False
    surface: list[str] = field(default_factory=list)
    labels: dict[str, int] = field(default_factory=dict)

    def add(self, surface: str, in_title: bool) -> None:
        self.mentions += 1
        self.in_title = self.in_title or in_title
        if surface not in self.surface:
            self.surface.append(surface)


def plausible(text: str, label: str) -> bool:
    """Whether an unknown spaCy entity looks like a real name rather than noise."""
    letters = sum(c.isalpha() for c in text)
    if letters < 2 or "\n" in text or len(text) > 60:
        return False
    if any(c.isdigit() for c in text) and (label != "ORG" or letters < len(text) / 2):
        return False
    first = text[0]
    if first.isalpha() and first.islower():
        return False
    words = text.split()
    if len(words) > 6:
        return False
    if text.isupper() and (len(words) > 1 or letters > 6):
        return False
    if label == "PERSON" and len(words) > 4:
        return False
    return text.lower() not in _STOP


def clean(text: str) -> str:
    """Strip a leading article and a trailing possessive."""
    return _TRAILING.sub("", _LEADING.sub("", text.strip())).strip(" -–,.;:\"'“”")


class EntityLinker:
    """Merge gazetteer matches and NER spans for one document."""

    def __init__(self, gazetteer: Gazetteer) -> None:
        self.gazetteer = gazetteer

    def link(self, doc: str, title_end: int, matches: Sequence[Match], spans: Iterable[Span] = ()) -> list[EntityMention]:
        """Entities of ``doc`` (title occupies ``doc[:title_end]``), most mentioned first."""
        accs: dict[str, _Acc] = {}
        taken: list[tuple[int, int]] = []
        for m in matches:
            ent = m.entity
            acc = accs.get(ent.id)
            if acc is None:
                acc = accs[ent.id] = _Acc(ent.id, ent.name, ent.type, m.start)
            acc.add(m.surface, m.start < title_end)
            taken.append((m.start, m.end))
        taken.sort()
        starts = [t[0] for t in taken]
        unknown: list[tuple[Span, str]] = []
        for sp in spans:
            if sp.label not in KEEP_LABELS or _overlaps(taken, starts, sp.start, sp.end):
                continue
            text = clean(sp.text)
            if not text:
                continue
            known = self.gazetteer.lookup(text)
            if known is not None:
                acc = accs.get(known.id)
                if acc is None:
                    acc = accs[known.id] = _Acc(known.id, known.name, known.type, sp.start)
                acc.add(text, False)
            elif plausible(text, sp.label):
                unknown.append((sp, text))
        self._add_unknown(accs, unknown)
        title = doc[:title_end]
        for acc in accs.values():
            if not acc.in_title and title and any(_word_in(s, title) for s in acc.surface):
                acc.in_title = True
        ordered = sorted(accs.values(), key=lambda a: (-a.mentions, a.first))
        return [EntityMention(id=a.id, name=a.name, type=a.type, mentions=a.mentions,  # type: ignore[arg-type]
                              in_title=a.in_title, surface=a.surface) for a in ordered]

    @staticmethod
    def _add_unknown(accs: dict[str, _Acc], unknown: list[tuple[Span, str]]) -> None:
        full_names: dict[str, str] = {}
        for sp, text in unknown:
            words = text.split()
            if sp.label == "PERSON" and len(words) > 1:
                full_names.setdefault(words[-1], text)
        for sp, text in unknown:
            name = text
            if sp.label == "PERSON" and " " not in text and text in full_names:
                name = full_names[text]
            key = "ww:" + slugify(name)
            acc = accs.get(key)
            if acc is None:
                acc = accs[key] = _Acc(key, name, sp.label, sp.start)
            acc.labels[sp.label] = acc.labels.get(sp.label, 0) + 1
            acc.type = max(acc.labels, key=lambda lab: acc.labels[lab])
            acc.add(text, False)


def _overlaps(taken: list[tuple[int, int]], starts: list[int], start: int, end: int) -> bool:
    i = bisect.bisect_left(starts, end)
    return any(taken[j][1] > start for j in range(max(0, i - 3), i))


def _word_in(surface: str, text: str) -> bool:
    pos = text.find(surface)
    while pos >= 0:
        before = text[pos - 1] if pos else " "
        after_i = pos + len(surface)
        after = text[after_i] if after_i < len(text) else " "
        if not before.isalnum() and not after.isalnum():
            return True
        pos = text.find(surface, pos + 1)
    return False
