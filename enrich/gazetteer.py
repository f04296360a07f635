"""Known entities (people, bodies, places, groups) and a fast multilingual alias matcher.

Why: the small English spaCy model mislabels front-line places (Kyiv as PERSON,
Kursk as PRODUCT), splits one person over several spellings and knows no
Ukrainian, Russian or Arabic. A versioned gazetteer gives stable ids, canonical
names and types, and its matcher works the same in every language.

Matching is on word tokens (``[^\\W_]+``), case-sensitive, longest alias first.
Inflected forms are tolerated by a small fallback: a Cyrillic token matches a
single-word alias whose stem (alias minus a final vowel/soft sign) it extends by
at most three letters (Путіна -> Путін, Зеленського -> Зеленський); an Arabic token
may carry one proclitic (و ب ل ف ك); a Latin token may carry a genitive "s".
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from services.text import WORD

GAZETTEER_PATH = Path(__file__).with_name("gazetteer.json")
TOKEN_RE = WORD
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_ARABIC = re.compile(r"[\u0600-\u06ff]")
_CYR_ENDINGS = "аеиіїоуюяйьыэє"
_AR_PROCLITICS = "وبلفك"
MAX_SUFFIX = 3
MIN_STEM = 4
_FUZZY_CACHE = 50_000
Token = tuple[str, int, int]
"""A word of a text with its character span (see :func:`tokenize`)."""


@dataclass(frozen=True)
class Entity:
    """One gazetteer entry."""

    id: str
    name: str
    type: str
    aliases: tuple[str, ...]
    conflict: bool = False


@dataclass(frozen=True)
class Match:
    """A gazetteer hit: character span in the matched text and the entity."""

    start: int
    end: int
    surface: str
    entity: Entity


def slugify(text: str) -> str:
    """A stable ``ww:`` slug for an unknown entity name."""
    return "-".join(TOKEN_RE.findall(text.lower()))[:80] or "x"


def tokenize(text: str) -> list[Token]:
    """Word tokens with character offsets (the enricher shares them between the gazetteer and the topic gates)."""
    return [(m.group(), m.start(), m.end()) for m in TOKEN_RE.finditer(text)]


@dataclass
class Gazetteer:
    """Alias index over the gazetteer entries."""

    version: str
    entities: list[Entity]
    _index: dict[tuple[str, ...], Entity] = field(default_factory=dict, repr=False)
    _first: dict[str, int] = field(default_factory=dict, repr=False)
    _stems: dict[str, Entity] = field(default_factory=dict, repr=False)
    _by_name: dict[str, Entity] = field(default_factory=dict, repr=False)
    _fuzzy: dict[str, Entity | None] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for ent in self.entities:
            self._by_name[ent.name.lower()] = ent
            for alias in (ent.name, *ent.aliases):
                toks = tuple(TOKEN_RE.findall(alias))
                if not toks:
                    continue
                if toks[0] in ("the", "The") and len(toks) > 1:
                    toks = toks[1:]
                self._index.setdefault(toks, ent)
                self._first[toks[0]] = max(self._first.get(toks[0], 0), len(toks))
                if len(toks) == 1 and _CYRILLIC.search(toks[0]):
                    stem = toks[0].rstrip(_CYR_ENDINGS)
                    if len(stem) >= MIN_STEM:
                        self._stems.setdefault(stem, ent)

    @classmethod
    def load(cls, path: Path = GAZETTEER_PATH) -> Gazetteer:
        """Read the versioned JSON file."""
        data = json.loads(path.read_text(encoding="utf-8"))
        ents = [
            Entity(e["id"], e["name"], e["type"], tuple(e.get("aliases", ())), bool(e.get("conflict", False)))
            for e in data["entities"]
        ]
        return cls(version=data["version"], entities=ents)

    def by_name(self, name: str) -> Entity | None:
        """The entry whose canonical name is ``name`` (case-insensitive)."""
        return self._by_name.get(name.lower())

    def lookup(self, text: str) -> Entity | None:
        """The entity a whole string (e.g. a spaCy entity span) names, if any."""
        toks = TOKEN_RE.findall(text)
        if toks and toks[0] in ("the", "The"):
            toks = toks[1:]
        if not toks:
            return None
        if toks[-1] == "s" and len(toks) > 1:  # possessive: Putin's
            toks = toks[:-1]
        ent = self._index.get(tuple(toks))
        if ent is None and len(toks) == 1:
            ent = self._fuzzy_cached(toks[0])
        return ent

    def _fuzzy_single(self, tok: str) -> Entity | None:
        if _CYRILLIC.search(tok):
            for cut in range(1, MAX_SUFFIX + 1):
                stem = tok[:-cut].rstrip(_CYR_ENDINGS) if len(tok) - cut >= MIN_STEM else ""
                if stem and (ent := self._stems.get(stem) or self._stems.get(tok[:-cut])):
                    return ent
            return None
        if _ARABIC.search(tok):
            if tok[0] in _AR_PROCLITICS and len(tok) > 3:
                return self._index.get((tok[1:],))
            return None
        if len(tok) > 4 and tok.endswith("s") and tok[0].isupper():
            return self._index.get((tok[:-1],))
        return None

    def _fuzzy_cached(self, word: str) -> Entity | None:
        """:meth:`_fuzzy_single`, remembered per word: capitalised words repeat across articles."""
        try:
            return self._fuzzy[word]
        except KeyError:
            if len(self._fuzzy) >= _FUZZY_CACHE:
                self._fuzzy.clear()
            ent = self._fuzzy[word] = self._fuzzy_single(word)
            return ent

    def find(self, text: str, tokens: Sequence[Token] | None = None) -> Iterator[Match]:
        """All non-overlapping alias hits in ``text``, longest match first, left to right.

        ``tokens``: ``tokenize(text)`` when the caller already has it.
        """
        toks = tokenize(text) if tokens is None else tokens
        words = [t[0] for t in toks]
        n = len(words)
        i = 0
        first = self._first
        index = self._index
        while i < n:
            word = words[i]
            span = first.get(word)
            hit: Entity | None = None
            width = 1
            if span:
                for w in range(min(span, n - i), 0, -1):
                    hit = index.get(tuple(words[i:i + w]))
                    if hit is not None:
                        width = w
                        break
            elif word[0].isupper() or not word.isascii():
                hit = self._fuzzy_cached(word)
            if hit is not None:
                start, end = toks[i][1], toks[i + width - 1][2]
                yield Match(start, end, text[start:end], hit)
            i += width


@lru_cache(maxsize=1)
def default_gazetteer() -> Gazetteer:
    """The packaged gazetteer, loaded once per process."""
    return Gazetteer.load()
