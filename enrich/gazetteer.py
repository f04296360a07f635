"""Known entities (people, bodies, places, groups) and a fast multilingual alias matcher.

Why: the small English spaCy model mislabels front-line places (Kyiv as PERSON,
Kursk as PRODUCT), splits one person over several spellings and knows no
Ukrainian, Russian or Arabic. A versioned gazetteer gives stable,
language-independent ids (Wikidata QIDs where certain), canonical names and
types, and its matcher works the same in every language and script, so one
person or place gets the same id in every language the stories are told in.

Sources: ``gazetteer.json`` (hand-written entries, with names per language) and
CLDR through Babel (:mod:`enrich.countries`): every country and territory, and
the big cities that name a time zone, in every CLDR language. CLDR names of a
language other than English are loaded when the first article in that
language arrives, so the worker pays only for the languages it sees.

Matching is on word tokens (``[^\\W_]+``), case-sensitive, longest alias first.
Inflection is handled by per-script rules (:data:`SCRIPT_RULES`, data not
code): Cyrillic words are compared by stem (case endings stripped, so Путина,
Путиным -> Путин; Зеленського -> Зеленський); Arabic and Hebrew words may carry
proclitics (و ب ل ف ك, with ال merging: بالخرطوم, للكرملين; ו ה ב ל מ ש כ:
בלבנון, ובעזה); a capitalised Latin word may carry a genitive "s"; an all-caps
word (a dateline: "MOSCOW", "KYIV (Reuters)") matches its capitalised alias.
Scripts written without spaces or with marks our tokens split on (Chinese,
Japanese, Korean, Thai, Khmer, Burmese, Indic) are matched as substrings.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from . import countries
from .name_forms import (
    _FINAL_VOWELS,
    _MAX_ENDING,
    _MIN_STEM_LEN,
    _UNSPACED,
    INFLECTING,
    SCRIPT_RULES,
    TOKEN_RE,
    ScriptRule,
    Token,
    _is_wordish,
    _key,
    _stem,
    _unspaced_sides,
    _variants,
    slugify,
    tokenize,
)

__all__ = ["GAZETTEER_PATH", "INFLECTING", "SCRIPT_RULES", "TOKEN_RE", "Entity", "Gazetteer", "Match", "ScriptRule",
           "Token", "default_gazetteer", "slugify", "tokenize"]

GAZETTEER_PATH = Path(__file__).with_name("gazetteer.json")


@dataclass(frozen=True)
class Entity:
    """One gazetteer entry (hand-written or generated from CLDR)."""

    id: str
    name: str
    type: str
    aliases: tuple[str, ...]
    conflict: bool = False
    names: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """hand-written names per language: ((lang, (name, …)), …)"""
    iso: str = ""
    """the CLDR territory code this entry stands for, if any"""
    tz: str = ""
    """the time zone whose CLDR exemplar city this entry is, if any"""
    of: str = ""
    """for a demonym entry ("Ukrainian", "российский"): the id of the country its mentions name"""

    def names_in(self, lang: str) -> tuple[str, ...]:
        """Hand-written names in ``lang`` (CLDR names are in the gazetteer's per-language index)."""
        return next((n for code, n in self.names if code == lang), ())


@dataclass(frozen=True)
class Match:
    """A gazetteer hit: character span in the matched text and the entity."""

    start: int
    end: int
    surface: str
    entity: Entity


class _Index:
    """Alias keys of one source (hand-written + English CLDR, or one language's CLDR names)."""

    __slots__ = ("keys", "first", "unspaced", "stems", "_rx")

    def __init__(self, inflecting: bool = False) -> None:
        self.keys: dict[tuple[str, ...], Entity] = {}
        self.first: dict[str, int] = {}
        self.unspaced: dict[str, Entity] = {}
        self.stems: dict[str, Entity] | None = {} if inflecting else None
        self._rx: re.Pattern[str] | None = None

    def add(self, alias: str, ent: Entity) -> None:
        if _UNSPACED.search(alias):
            self.unspaced.setdefault(alias.strip(), ent)
            self._rx = None
            return
        toks = TOKEN_RE.findall(alias)
        if len(toks) > 1 and toks[0] in ("the", "The"):
            toks = toks[1:]
        if not toks:
            return
        key = tuple(_key(t) for t in toks)
        self.keys.setdefault(key, ent)
        self.first[key[0]] = max(self.first.get(key[0], 0), len(key))
        if self.stems is not None and len(toks) == 1:
            stem = toks[0].rstrip(_FINAL_VOWELS) or toks[0]
            if len(stem) >= _MIN_STEM_LEN:
                self.stems.setdefault(stem, ent)

    def inflected(self, word: str) -> Entity | None:
        """The one-word name ``word`` is an inflected form of (its stem plus at most a short ending)."""
        if not self.stems or (word[0].lower() != word[0].upper() and not word[0].isupper()):
            return None
        for cut in range(1, _MAX_ENDING + 1):
            if len(word) - cut < _MIN_STEM_LEN:
                break
            ent = self.stems.get(word[:-cut])
            if ent is not None:
                return ent
        return None

    def longest(self, words: Sequence[str], keys: Sequence[str], i: int, head: str | None = None,
                caps: bool = False) -> tuple[Entity, int] | None:
        """The longest alias starting at token ``i`` (first key replaced by ``head``; ``caps``: the
        following all-caps words are read capitalised too)."""
        k0 = keys[i] if head is None else head
        span = self.first.get(k0)
        if not span:
            return None
        for width in range(min(span, len(keys) - i), 0, -1):
            rest = keys[i + 1:i + width]
            if caps:
                rest = [_key(w.capitalize()) if w.isupper() else k for w, k in zip(words[i + 1:i + width], rest,
                                                                                    strict=True)]
            ent = self.keys.get((k0, *rest))
            if ent is not None:
                return ent, width
        return None

    def scan(self, text: str) -> list[tuple[int, int, Entity]]:
        """Substring hits of the unspaced-script aliases, longest first, boundaries per script."""
        if not self.unspaced:
            return []
        if self._rx is None:
            alts = sorted(self.unspaced, key=len, reverse=True)
            self._rx = re.compile("|".join(re.escape(a) for a in alts))
        out = []
        for m in self._rx.finditer(text):
            sides = _unspaced_sides(m.group())
            if "l" in sides and m.start() > 0 and _is_wordish(text[m.start() - 1]):
                continue
            if "r" in sides and m.end() < len(text) and _is_wordish(text[m.end()]):
                continue
            out.append((m.start(), m.end(), self.unspaced[m.group()]))
        return out


@dataclass
class Gazetteer:
    """Alias index over the gazetteer entries, plus CLDR names per language loaded on first use."""

    version: str
    entities: list[Entity]
    cldr: bool = True
    """also index CLDR territory and city names (English at once, other languages on first use)"""
    _base: _Index = field(default_factory=_Index, repr=False)
    _langs: dict[str, _Index] = field(default_factory=dict, repr=False)
    _by_name: dict[str, Entity] = field(default_factory=dict, repr=False)
    _by_id: dict[str, Entity] = field(default_factory=dict, repr=False)
    _territories: dict[str, Entity] = field(default_factory=dict, repr=False)
    _zones: dict[str, Entity] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        demonyms = [e for e in self.entities if e.of]
        self.entities = [e for e in self.entities if not e.of]
        for ent in self.entities:
            self._by_id.setdefault(ent.id, ent)
            self._by_name.setdefault(ent.name.lower(), ent)
            for alias in (ent.name, *ent.aliases):
                self._base.add(alias, ent)
            if ent.tz:
                self._zones[ent.tz] = ent
        if self.cldr:
            self._add_territories()
        self._add_demonyms(demonyms)
        if self.cldr:
            self._langs["en"] = self._base
            self._fill(self._base, "en")

    def _add_demonyms(self, demonyms: Sequence[Entity]) -> None:
        """A demonym's forms name its country (same id in every language: "Ukrainian", "українські",
        "الأوكرانية"), but keep the demonym's own ``conflict`` flag (topic rules read "Russian ballet" as no
        war context). A demonym whose country is unknown stays an entity of its own."""
        for dem in demonyms:
            country = self._by_id.get(dem.of)
            if country is None:
                self.entities.append(replace(dem, of=""))
                self._by_id.setdefault(dem.id, self.entities[-1])
                for alias in (dem.name, *dem.aliases):
                    self._base.add(alias, self.entities[-1])
                continue
            proxy = replace(country, aliases=dem.aliases, conflict=dem.conflict, names=dem.names)
            for alias in (dem.name, *dem.aliases):
                self._base.add(alias, proxy)

    # -- CLDR ---------------------------------------------------------------
    def _add_territories(self) -> None:
        claimed = {e.iso: e.id for e in self.entities if e.iso}
        english = countries.territory_names("en")
        for code in countries.territory_codes():
            tid = countries.territory_id(code, claimed)
            ent = self._by_id.get(tid)
            if ent is None:
                names = english.get(code)
                if not names:
                    continue
                ent = Entity(tid, names[0], "LOC" if code.isdigit() else "GPE", (), iso=code)
                self.entities.append(ent)
                self._by_id[tid] = ent
                self._by_name.setdefault(ent.name.lower(), ent)
            self._territories[code] = ent

    def _fill(self, index: _Index, lang: str) -> None:
        if index.stems is not None:  # hand-written names too, so their inflected forms match
            for ent in self.entities:
                for name in ent.names_in(lang):
                    index.add(name, ent)
        for code, names in countries.territory_names(lang).items():
            territory = self._territories.get(code)
            if territory is not None:
                for name in names:
                    index.add(name, territory)
        for tz, city in countries.city_names(lang, self._zones).items():
            index.add(city, self._zones[tz])

    def _lang(self, lang: str | None) -> _Index | None:
        """The CLDR index of ``lang`` (built on first use), or None for English or no CLDR."""
        if not self.cldr or not lang or lang == "en":
            return None
        index = self._langs.get(lang)
        if index is None:
            with self._lock:
                index = self._langs.get(lang)
                if index is None:
                    index = _Index(inflecting=lang in INFLECTING)
                    self._fill(index, lang)
                    self._langs[lang] = index
        return index

    def warm(self, langs: Sequence[str] = countries.LANGS) -> None:
        """Build the CLDR indexes of ``langs`` now (a worker may prefer its start-up to pay)."""
        for lang in langs:
            self._lang(lang)

    # -- loading ------------------------------------------------------------
    @classmethod
    def load(cls, path: Path = GAZETTEER_PATH, cldr: bool = True) -> Gazetteer:
        """Read the versioned JSON file (and, with ``cldr``, the CLDR names through Babel)."""
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(version=data["version"], entities=[_entity(e) for e in data["entities"]], cldr=cldr)

    # -- queries ------------------------------------------------------------
    def by_name(self, name: str) -> Entity | None:
        """The entry whose canonical name is ``name`` (case-insensitive)."""
        return self._by_name.get(name.lower())

    def by_id(self, id_: str) -> Entity | None:
        """The entry with id ``id_``."""
        return self._by_id.get(id_)

    def territory(self, code: str) -> Entity | None:
        """The entity of CLDR territory ``code`` ("UA", "PS", "EU")."""
        return self._territories.get(code)

    def lookup(self, text: str, lang: str | None = None) -> Entity | None:
        """The entity a whole string (e.g. a spaCy entity span) names, if any."""
        words = TOKEN_RE.findall(text)
        if len(words) > 1 and words[0] in ("the", "The", "THE"):
            words = words[1:]
        if words and words[-1] == "s" and len(words) > 1:  # possessive: Putin's
            words = words[:-1]
        if not words:
            return None
        if _UNSPACED.search(text):
            whole = text.strip()
            for index in self._indexes(lang):
                if whole in index.unspaced:
                    return index.unspaced[whole]
            return None
        keys = [_key(w) for w in words]
        hit = self._at(self._indexes(lang), words, keys, 0)
        return hit[0] if hit is not None and hit[1] == len(words) else None

    def find(self, text: str, tokens: Sequence[Token] | None = None, lang: str | None = None) -> Iterator[Match]:
        """All non-overlapping alias hits in ``text``, longest match first, left to right.

        ``tokens``: ``tokenize(text)`` when the caller already has it; ``lang``: the text's language
        (adds that language's CLDR names).
        """
        toks = tokenize(text) if tokens is None else tokens
        indexes = self._indexes(lang)
        words = [t[0] for t in toks]
        keys = [w if w.isascii() else _stem(w) for w in words]
        hits: list[Match] = []
        n = len(words)
        first = indexes[0].first
        other = indexes[-1].first  # the language's own index, or the base one again (_indexes: one or two)
        i = 0
        while i < n:
            key, word = keys[i], words[i]
            # most words are lower-case ASCII that start no alias: _at would answer None for them
            if key not in first and key not in other and word.isascii() and not word[0].isupper():
                i += 1
                continue
            hit = self._at(indexes, words, keys, i)
            if hit is None:
                i += 1
                continue
            ent, width = hit
            start, end = toks[i][1], toks[i + width - 1][2]
            hits.append(Match(start, end, text[start:end], ent))
            i += width
        if _UNSPACED.search(text):
            hits = _merge(hits, [Match(s, e, text[s:e], ent) for index in indexes for s, e, ent in index.scan(text)])
        return iter(hits)

    # -- internals ----------------------------------------------------------
    def _indexes(self, lang: str | None) -> tuple[_Index, ...]:
        extra = self._lang(lang)
        return (self._base,) if extra is None or extra is self._base else (self._base, extra)

    @staticmethod
    def _at(indexes: Sequence[_Index], words: Sequence[str], keys: Sequence[str], i: int) -> tuple[Entity, int] | None:
        best: tuple[Entity, int] | None = None
        for index in indexes:
            hit = index.longest(words, keys, i)
            if hit is not None and (best is None or hit[1] > best[1]):
                best = hit
        if best is not None:
            return best
        word = words[i]
        if word.isascii() and not word[0].isupper():
            return None
        for head, caps in _variants(word):
            for index in indexes:
                hit = index.longest(words, keys, i, head, caps)
                if hit is not None and (best is None or hit[1] > best[1]):
                    best = hit
            if best is not None:
                return best
        for index in indexes:
            ent = index.inflected(word)
            if ent is not None:
                return ent, 1
        return None


def _merge(first: list[Match], more: list[Match]) -> list[Match]:
    """``first`` plus the hits of ``more`` that overlap none already taken (longest first), in text order."""
    taken = list(first)
    for m in sorted(more, key=lambda m: (m.start, -(m.end - m.start))):
        if not any(m.start < t.end and t.start < m.end for t in taken):
            taken.append(m)
    return sorted(taken, key=lambda m: m.start)


def _entity(e: Mapping[str, Any]) -> Entity:
    names = tuple((str(lang), tuple(dict.fromkeys(map(str, v)))) for lang, v in sorted((e.get("names") or {}).items()))
    aliases = [str(a) for a in e.get("aliases") or ()]
    aliases += [n for _, ns in names for n in ns]
    return Entity(str(e["id"]), str(e["name"]), str(e["type"]), tuple(dict.fromkeys(aliases)),
                  bool(e.get("conflict", False)), names, str(e.get("iso", "")), str(e.get("tz", "")),
                  str(e.get("of", "")))


@lru_cache(maxsize=1)
def default_gazetteer() -> Gazetteer:
    """The packaged gazetteer, loaded once per process."""
    return Gazetteer.load()
