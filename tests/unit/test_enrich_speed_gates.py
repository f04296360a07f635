"""The speed work's gates and rewrites change no answer (issue 14: enrich at >= 0.8 of bare spaCy).

- cuegate's literal index (one pass over a document's words for every cue) finds exactly the literals a
  substring search for each finds, so no cue is gated away where it could match;
- the ceasefire rules' number patterns with a lookbehind on their word alternative ("(?<![…])[…]+") find what
  the patterns without it found: the same first match, span and groups.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from enrich.ceasefires import RULES_PATH, default_rules
from enrich.cuegate import _index, document, document_literals, fold

DATA = Path(__file__).resolve().parents[1] / "data"
_WORDCLASS = "[a-zа-яіїєґ'’\\u0600-\\u06ff-]"
_GUARD = f"(?<!{_WORDCLASS})"


def _dev_texts() -> list[str]:
    """Titles and texts of the dev sets (never the held-out files)."""
    out = []
    for path in [DATA / "devset.jsonl", *sorted((DATA / "lang").glob("*_dev.jsonl"))]:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                it = json.loads(line)
                out.append(f"{it.get('title', '')}\n\n{it.get('text', '')}")
    return out


def _tricky(rng: random.Random, n: int) -> list[str]:
    """Texts built from the literals themselves: glued to words, cut, upper-cased, next to punctuation."""
    lits = sorted(_index.literals)
    glue = ["", " ", "-", ".", "'", "’", "x", "É", "İ", "ı", "ſ", "2", "_", "\n"]
    out = []
    for _ in range(n):
        parts = []
        for _ in range(rng.randint(1, 8)):
            lit = rng.choice(lits)
            if rng.random() < 0.3:
                lit = lit[: rng.randint(1, max(1, len(lit)))]
            if rng.random() < 0.3:
                lit = lit.upper()
            parts.append(lit + rng.choice(glue))
        out.append(rng.choice(glue).join(parts))
    return out


def test_the_literal_index_finds_exactly_what_substring_searches_find():
    default_rules()  # registers every cue of the rules
    assert len(_index.literals) > 1000
    rng = random.Random(14)
    for text in [*_dev_texts(), *_tricky(rng, 3000)]:
        folded = fold(text)
        want = {lit for lit in _index.literals if lit in folded}
        assert _index.present(folded) == want, text[:120]


def test_every_cue_answers_inside_a_document_as_it_does_alone():
    """The index is used from a document's third cue on: every cue's gate, inside the document (index) and
    outside it (its own substring search), lets the regex run on every part where it matches."""
    r = default_rules()
    cues = [c for table in (*r.states.values(), *r.scopes.values(), *r.markers.values()) for c in table.values()
            if c is not None]
    cues += [c for c in (*r.strong.values(), *r.weak.values()) if c is not None]
    for doc in _dev_texts()[::3]:
        parts = [doc, *re.split(r"(?<=[.!?,;])\s+|\n\n", doc)]
        with document(doc):
            assert document_literals() is not None
            for cue in cues:
                for part in parts:
                    if cue.rx.search(part):
                        assert cue.search(part) is not None, (cue.pattern[:80], part)
    assert document_literals() is None


def _guarded() -> list[str]:
    data = json.loads(RULES_PATH.read_text(encoding="utf-8"))
    pats = [p for table in (data["durations"], data["extension"]) for ps in table.values() for p in ps]
    return [p for p in pats if _GUARD in p]


@pytest.mark.parametrize("pattern", _guarded())
def test_a_guarded_number_pattern_finds_what_the_unguarded_one_found(pattern):
    """``(?P<n>\\d+…|[C]+)REST`` searched: a match whose word alternative starts after a letter of C has an
    earlier one (the whole run of C), so the leftmost match never starts there; the guard only stops re from
    trying every position inside a word (each a backtracking scan of the rest of the word)."""
    assert pattern.startswith("(?P<n>")
    plain = pattern.replace(_GUARD, "", 1)
    new, old = re.compile(pattern, re.I), re.compile(plain, re.I)
    rng = random.Random(pattern)
    units = re.findall(r"\(\?P<unit>([^)]*)\)", pattern)[0].split("|")
    pieces = [*units, "thirty", "forty-eight", "30", "2,5", "dreißig", "тридцять", "ثلاثين", "on", "a", "'", "’", "-",
              " ", "  ", "s", "long ", "ceasefire", "truce", "phase", "pause", "daha", "süreyle", "lık", "x", "É", "ı"]
    texts = [*(s for t in _dev_texts() for s in re.split(r"(?<=[.!?,;])\s+", t)),
             *("".join(rng.choice(pieces) for _ in range(rng.randint(1, 12))) for _ in range(4000))]
    for text in texts:
        a, b = old.search(text), new.search(text)
        assert (a and (a.span(), a.groupdict())) == (b and (b.span(), b.groupdict())), text
