"""Words as every stage sees them: one word pattern and one case/accent fold.

Why one module: the enricher's tokens, the full-text search terms, the live stream's ``q`` matching
and the clustering shingles must agree on what a word is, or a story found by one path is missed
by another.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

WORD: Final = re.compile(r"[^\W_]+")


def fold(s: str) -> str:
    """Case- and accent-insensitive text, the way the FTS indexes see it."""
    return "".join(c for c in unicodedata.normalize("NFKD", s.casefold()) if not unicodedata.combining(c))


def words(s: str) -> list[str]:
    """The word tokens of ``s`` in order (letters and digits, no underscores)."""
    return WORD.findall(s)
