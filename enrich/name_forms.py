"""How names change inside words, per script: tokens, stems, proclitics, unspaced scripts.

Why: the gazetteer matches names on word tokens in every language; the rules that say which
forms of a word may stand for a name (Путина -> Путин, بالخرطوم -> الخرطوم, "MOSCOW" -> Moscow,
Thai or Chinese names inside longer runs) are data per script, kept apart from the index.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from services.text import WORD

TOKEN_RE = WORD
Token = tuple[str, int, int]
"""A word of a text with its character span (see :func:`tokenize`)."""

_KEY_CACHE = 50_000
_VARIANT_CACHE = 50_000
_MIN_CAPS = 3  # all-caps words shorter than this are not read capitalised ("US" stays the acronym)


@dataclass(frozen=True)
class ScriptRule:
    """How words of one script change around a name; one row per script, read by :func:`_key` and
    :func:`_variants`."""

    name: str
    detect: re.Pattern[str]
    suffixes: tuple[str, ...] = ()
    """endings stripped (longest first) to compare words by stem"""
    min_stem: int = 4
    """a stem keeps at least this many letters (shorter names list their inflected forms instead)"""
    proclitics: str = ""
    """letters that attach to the front of a word ("and", "in", "to", "the" …)"""
    max_proclitics: int = 0
    article: str = ""
    """the definite article, which a name may carry or not (بالخرطوم -> الخرطوم, خرطوم)"""
    elisions: tuple[tuple[str, str], ...] = ()
    """(proclitic, letters restored after it): the article a proclitic swallows (Arabic ل + ال = لل;
    Hebrew ב + ה = ב: בים האדום -> הים האדום)"""


_CYR_SUFFIXES = tuple(sorted({
    "ами", "ями", "ого", "его", "ому", "ему", "ыми", "ими", "ией", "ією",
    "ою", "ею", "ой", "ей", "ий", "ый", "ій", "їй", "ая", "яя", "ое", "ее", "ую", "юю", "ые", "ие", "ых", "их",
    "ім", "ом", "ем", "ым", "им", "ах", "ях", "ам", "ям", "ия", "ии", "ию", "ія", "ії", "ію", "ья", "ьи", "ью",
    "а", "я", "о", "е", "у", "ю", "ы", "и", "і", "ї", "ь", "й", "є",
}, key=len, reverse=True))

SCRIPT_RULES: tuple[ScriptRule, ...] = (
    ScriptRule("cyrillic", re.compile(r"[\u0400-\u04ff]"), suffixes=_CYR_SUFFIXES, min_stem=4),
    ScriptRule("arabic", re.compile(r"[\u0600-\u06ff]"), proclitics="وفبلك", max_proclitics=2, article="ال",
               elisions=(("ل", "ا"),)),
    ScriptRule("hebrew", re.compile(r"[\u0590-\u05ff]"), proclitics="והבלמשכ", max_proclitics=3,
               elisions=(("ב", "ה"), ("ל", "ה"), ("כ", "ה"))),
)
_STEMMED = tuple(r for r in SCRIPT_RULES if r.suffixes)
_PREFIXED = tuple(r for r in SCRIPT_RULES if r.proclitics)

# Scripts matched as substrings. Value: which sides need a word boundary ("" none, "l" left, "lr" both).
_UNSPACED_BLOCKS: tuple[tuple[int, int, str], ...] = (
    (0x0900, 0x0DFF, "lr"),  # Devanagari … Sinhala: spaced, but our tokens split at vowel signs
    (0x0E00, 0x0EFF, ""), (0x1000, 0x109F, ""), (0x1780, 0x17FF, ""),  # Thai, Lao; Myanmar; Khmer
    (0x3040, 0x30FF, ""), (0x3400, 0x4DBF, ""), (0x4E00, 0x9FFF, ""),  # Kana; Han
    (0xAC00, 0xD7AF, "l"),  # Hangul: particles follow the name (러시아는)
)
# Languages whose nouns take case endings (Polska -> Polski, Ρωσία -> Ρωσίας, რუსეთი -> რუსეთის): in their
# CLDR index a capitalised word also matches a one-word name it extends by a short ending.
INFLECTING: frozenset[str] = frozenset({
    "pl", "cs", "sk", "sl", "hr", "bs", "sr", "bg", "mk", "ro", "hu", "fi", "et", "lv", "lt", "el", "hy", "ka",
    "az", "tr", "uz", "kk", "so", "sw", "is",
})
_FINAL_VOWELS = "aeiouyąęóáéíúàèìòùâêîôûäëïöüıαεηιουωάέήίόύώაეიოუաեէըիոօ"
_MAX_ENDING = 4
_MIN_STEM_LEN = 4
_UNSPACED = re.compile("[" + "".join(f"{chr(a)}-{chr(b)}" for a, b, _ in _UNSPACED_BLOCKS) + "]")


def slugify(text: str) -> str:
    """A stable ``ww:`` slug for an unknown entity name."""
    return "-".join(TOKEN_RE.findall(text.lower()))[:80] or "x"


def tokenize(text: str) -> list[Token]:
    """Word tokens with character offsets (the enricher shares them between the gazetteer and the topic gates)."""
    return [(m.group(), m.start(), m.end()) for m in TOKEN_RE.finditer(text)]


def _key(word: str) -> str:
    """The form a word is indexed and looked up by: its stem for stemmed scripts, else itself."""
    return word if word.isascii() else _stem(word)


@lru_cache(maxsize=_KEY_CACHE)
def _stem(word: str) -> str:
    for rule in _STEMMED:
        if rule.detect.search(word):
            for suf in rule.suffixes:
                if word.endswith(suf) and len(word) - len(suf) >= rule.min_stem:
                    return word[: -len(suf)]
            return word
    return word


def _unspaced_sides(text: str) -> str:
    for ch in text:
        o = ord(ch)
        for lo, hi, sides in _UNSPACED_BLOCKS:
            if lo <= o <= hi:
                return sides
    return ""


def _is_wordish(ch: str) -> bool:
    return ch.isalnum() or unicodedata.category(ch).startswith("M")


@lru_cache(maxsize=_VARIANT_CACHE)
def _variants(word: str) -> tuple[tuple[str, bool], ...]:
    """Other keys ``word`` may stand for, with whether following all-caps words are capitalised:
    proclitics off (وبالخرطوم -> الخرطوم), a genitive "s" off (Putins), a dateline capitalised."""
    out: list[tuple[str, bool]] = []
    if word.isupper() and len(word) >= _MIN_CAPS and word.isalpha():
        out.append((_key(word.capitalize()), True))
    if word.isascii():
        if len(word) > 4 and word.endswith("s") and word[0].isupper():
            out.append((word[:-1], False))
        return tuple(out)
    for rule in _PREFIXED:
        if rule.detect.search(word):
            out += ((v, False) for v in _strip_proclitics(word, rule))
            break
    return tuple(dict.fromkeys(out))


def _strip_proclitics(word: str, rule: ScriptRule) -> list[str]:
    out: list[str] = []
    rest = word
    for n in range(1, rule.max_proclitics + 1):
        ch = rest[:1]
        if not ch or ch not in rule.proclitics:
            break
        rest = rest[1:]
        if len(rest) < 2:
            break
        out.append(rest)
        out += [restore + rest for after, restore in rule.elisions if after == ch]
        art = rule.article
        if art and rest.startswith(art) and len(rest) > len(art) + 1:
            out.append(rest[len(art):])
        if n == rule.max_proclitics:
            break
    return out
