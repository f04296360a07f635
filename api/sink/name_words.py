"""The distinctive words of the gazetteer's entity names: what lets a report that names a person only in a
form the gazetteer lacks (so links no entity) meet one that links the person by QID (``Profile.name_words``
in :mod:`api.sink.linking`).

Why: across languages, the words of a linked entity's name are name keys (:func:`api.sink.linking.name_keys`)
that the other report's names and words may spell alike. They came from ``ww:<slug>`` ids only, so an entity
lost them the day it got its Wikidata QID (al-Burhan, Pezeshkian, Shmyhal). Keying every word of every QID
entity's name instead joined unrelated stories (dev pairwise precision 0.893 -> 0.676: "Abdel", "Mohammed",
"Ali", given names). So a word is kept only when the gazetteer itself shows it names one entity
(:func:`distinctive_words`):

* no other entry's names (canonical, aliases, per-language forms) contain it: "Sinwar" names two brothers,
  "Abbas" two people, "Fattah" both al-Burhan and el-Sisi, "Trump" also a corridor; none is kept;
* it does not open a multi-word person name anywhere in the gazetteer (a given name: "Masoud Pezeshkian",
  "Jair Bolsonaro"), unless the entry is called by that word alone ("Lula", "Neymar");
* it has ``MIN_NAME_KEY`` letters or more (as the ``ww:`` slug words have): "al", "bin", "Xi" are no keys.

The table is built once per process from ``enrich/gazetteer.json`` (:func:`gazetteer_words`);
:func:`distinctive_words` is the pure rule. How the words count is :func:`api.sink.linking.name_matches`'s.
"""

from __future__ import annotations

import functools
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from importlib import resources
from typing import Any

from api.sink.name_fold import MIN_NAME_KEY, fold

_WORD = re.compile(r"[^\W\d_]+")
# How many gazetteer entries may share a word for it to name one: a property of the definition (one entry).
MAX_ENTRIES_PER_WORD = 1


def _forms(entry: Mapping[str, Any]) -> list[str]:
    """Every written form of one gazetteer entry: canonical name, aliases, the names of each language."""
    names = entry.get("names") or {}
    return [entry.get("name") or "", *(entry.get("aliases") or ()), *(n for v in names.values() for n in v)]


def distinctive_words(entries: Iterable[Mapping[str, Any]]) -> dict[str, tuple[str, ...]]:
    """Entity id -> the folded words of its canonical name that name it alone (see the module docstring),
    in name order; entries with none are left out."""
    entries = list(entries)
    shared: Counter[str] = Counter()  # word -> how many entries' forms contain it
    given: set[str] = set()  # words that open a multi-word person name
    alone: dict[str, set[str]] = {}  # entity id -> the words it is called by on their own
    for e in entries:
        words: set[str] = set()
        for form in _forms(e):
            toks = [fold(t) for t in _WORD.findall(form)]
            words.update(toks)
            if e.get("type") == "PERSON" and len(toks) >= 2:
                given.add(toks[0])
            if len(toks) == 1:
                alone.setdefault(e["id"], set()).add(toks[0])
        shared.update(words)
    out: dict[str, tuple[str, ...]] = {}
    for e in entries:
        mine = alone.get(e["id"], set())
        kept = [w for w in dict.fromkeys(fold(t) for t in _WORD.findall(e.get("name") or ""))
                if len(w) >= MIN_NAME_KEY and shared[w] <= MAX_ENTRIES_PER_WORD and (w not in given or w in mine)]
        if kept:
            out[e["id"]] = tuple(kept)
    return out


@functools.cache
def gazetteer_words() -> Mapping[str, tuple[str, ...]]:
    """:func:`distinctive_words` of the packaged gazetteer (``enrich/gazetteer.json``), read once."""
    text = resources.files("enrich").joinpath("gazetteer.json").read_text(encoding="utf-8")
    return distinctive_words(json.loads(text)["entities"])
