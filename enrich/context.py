"""Country names in every taxonomy language, for the armed-conflict context next to a ceasefire word.

Why: "India and Pakistan agree to ceasefire" names no conflict entity of the gazetteer and no war
word, yet two states next to a ceasefire word are armed-conflict context (a tariff truce between two
states is dropped before this is asked: its trade negative sits in the same sentence). The names come
from CLDR through Babel (``Locale(lang).territories``), the well-kept list every language has; the
taxonomy adds what CLDR lacks per language (short forms such as "US", demonyms such as "Thai",
headline abbreviations such as 俄 or 印) and says how names inflect there.

Cost: a matcher is built on first use per language (Babel reads one locale, ~2-40 ms; the regex of
~300 names compiles in a few ms), so English-only processes never load the other locales. A matcher
holds one compiled regex and a name -> code dict (~40 kB).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

# CLDR territory codes that are not states (or not on the map news is about).
_NOT_STATES = frozenset({"EU", "EZ", "UN", "ZZ", "QO", "XA", "XB", "AQ", "BV", "HM", "UM", "TA", "DG", "IC", "EA",
                         "CP", "AC", "GS", "IO", "TF", "CC", "CX", "NF", "PN"})
_PARTS = re.compile(r"\s+[-–—]\s+|[()（）]|,\s")
_MIN_LEN = 2


@dataclass(frozen=True)
class CountrySpec:
    """How one language names countries: CLDR locales to read, extra names, inflection.

    ``suffix``: letters an inflected or derived form may add (Россия -> России, India -> Indian);
    ``stem``: final letters dropped before that (Россия -> Росси-, Ukraine -> Ukrain-ian); an alias may
    name two countries at once ("RU+UA": 俄乌, "US+CN": 미·중), as headlines in CJK languages do;
    ``bounded``: names start and end at word boundaries (False for scripts without spaces or whose
    vowel signs are not word characters, where a name is matched anywhere); ``prefix``: a regex of
    proclitics a name may carry inside that boundary (Hebrew ב/ל/מ/ה/ו: בעזה, לישראל).
    """

    locales: tuple[str, ...]
    aliases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    suffix: int = 0
    stem: str = ""
    bounded: bool = True
    prefix: str = ""


@lru_cache(maxsize=64)
def cldr_names(locale: str) -> dict[str, str]:
    """Country name -> ISO 3166 code in CLDR ``locale`` (with the parts of "Congo - Kinshasa",
    "Myanmar (Burma)" as names too); {} for a locale Babel does not know."""
    from babel import Locale, UnknownLocaleError, localedata

    try:
        territories = dict(Locale.parse(locale).territories)
    except (UnknownLocaleError, ValueError):
        return {}
    # Babel keeps every locale it reads (~1 MB each: dates, numbers, units...); only the names are needed.
    name = str(Locale.parse(locale))
    for cache in (getattr(localedata, "_cache", None), getattr(localedata, "_dict_cache", None)):
        if isinstance(cache, dict) and name != "root":
            cache.pop(name, None)
    out: dict[str, str] = {}
    for code, name in territories.items():
        if len(code) != 2 or not code.isalpha() or code in _NOT_STATES:
            continue
        for part in (name, *_PARTS.split(name)):
            part = part.strip(" \u200f\u200e")
            if len(part) >= _MIN_LEN:
                out.setdefault(part, code)
    return out


class CountryMatcher:
    """Which countries a span of text names."""

    def __init__(self, names: Mapping[str, str], *, suffix: int = 0, stem: str = "", bounded: bool = True,
                 prefix: str = "") -> None:
        self._codes: dict[str, str] = {}
        keys: dict[str, str] = {}
        for name, code in names.items():
            key = name[:-1] if stem and len(name) > 4 and name[-1] in stem and " " not in name[-2:] else name
            keys.setdefault(key, code)
            self._codes.setdefault(key.casefold(), code)
        alts = "|".join(re.escape(k) for k in sorted(keys, key=len, reverse=True))
        tail = rf"[^\W\d_]{{0,{suffix}}}" if suffix else ""
        body = f"(?:{prefix})?(?P<name>{alts}){tail}" if prefix else f"(?P<name>{alts}){tail}"
        self._rx = re.compile(rf"(?<![^\W_]){body}(?![^\W_])" if bounded else body)

    def codes(self, text: str, start: int, end: int, lo: int, hi: int) -> set[str]:
        """ISO codes of the countries named in ``text[start:end]`` by a name overlapping ``[lo, hi)``."""
        out: set[str] = set()
        for m in self._rx.finditer(text, start, end):
            if m.start() < hi and m.end() > lo:
                code = self._codes.get(m.group("name").casefold())
                if code:
                    out.update(code.split("+"))  # "RU+UA": a pair name such as 俄乌 or 미·중
        return out


def build(spec: CountrySpec, fallback_locales: Iterable[str] = ("en",)) -> CountryMatcher:
    """The matcher of one language: its CLDR names, English ones (news quotes them everywhere), aliases."""
    names: dict[str, str] = {}
    for code, extra in spec.aliases.items():
        for name in extra:
            names.setdefault(name, code)
    for loc in (*spec.locales, *fallback_locales):
        for name, code in cldr_names(loc).items():
            names.setdefault(name, code)
    return CountryMatcher(names, suffix=spec.suffix, stem=spec.stem, bounded=spec.bounded, prefix=spec.prefix)
