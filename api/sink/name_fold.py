"""Name spellings folded for comparison across languages and scripts, shared by the story linker and the
gazetteer's name words.

Why a module of its own: ``linking`` keys names with these rules and ``name_words`` reads the gazetteer's
names with the same ones; each needs the other's results, so the rules live below both.
"""

from __future__ import annotations

import unicodedata

# Spelling keys of names across languages (``name_keys``). Cyrillic is romanised letter by letter (Russian
# and Ukrainian letters), so "Горбачёв" meets "Gorbachev"; the other scripts are left alone.
CYRILLIC = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюяіїєґ",
                     ("a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "i", "k", "l", "m", "n", "o", "p", "r",
                      "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya", "i", "i",
                      "e", "g"), strict=True))
# A folded spelling or a consonant skeleton this short matches too many other words to name anything.
MIN_NAME_KEY = 4


def fold(word: str) -> str:
    """Lower case, no accents, Cyrillic romanised: "Mikhaïl" -> "mikhail", "Горбачёв" -> "gorbachev"."""
    w = word.lower()
    if any("\u0400" <= c <= "\u04ff" for c in w):
        w = "".join(CYRILLIC.get(c, c) for c in w)
    return "".join(c for c in unicodedata.normalize("NFKD", w) if not unicodedata.combining(c))
