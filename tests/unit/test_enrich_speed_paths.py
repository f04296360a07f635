"""The speed work's rewritten hot paths answer exactly as the plain code they replace (issue 14).

- ``cluster.signature`` hashes its band keys from the MinHash array's bytes: the same keys as ``band_keys`` of
  the values (the packing the stored keys were made with);
- ``event_features.term_weights`` answers distinct words without a second dict (salient_terms' case);
- ``event_features.names`` skips a lower-case word before asking for the entity spans, and ``salient_terms``
  reads the spans' reach inline: both give what the straightforward loops (kept here) give, on every dev text.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest

from enrich import cluster, event_features
from enrich.event_features import (
    _LATIN,
    _SENTENCE_START,
    ACRONYM,
    LATIN_SHARE_FOR_SCRIPT,
    MAX_NAMES,
    MAX_TERMS,
    Spans,
    _latin_share,
    _plain,
    _tokens,
    term_weights,
)
from enrich.name_forms import tokenize

DATA = Path(__file__).resolve().parents[1] / "data"


def _dev() -> list[tuple[str, str, str]]:
    """(title, text, lang) of the dev sets (never the held-out files)."""
    out = []
    for path in [DATA / "devset.jsonl", *sorted((DATA / "lang").glob("*_dev.jsonl"))]:
        for line in path.read_text(encoding="utf-8").splitlines():
            d = json.loads(line)
            if isinstance(d, dict) and "title" in d:
                out.append((d.get("title") or "", d.get("text") or "", d.get("lang") or "en"))
    return out


DEV = _dev()


def _spans(doc: str, rnd: random.Random) -> list[tuple[int, int]]:
    out = []
    for _ in range(rnd.randrange(0, 12)):
        a = rnd.randrange(0, max(1, len(doc)))
        out.append((a, min(len(doc), a + rnd.randrange(1, 30))))
    return out


def _names_plain(doc: str, entity_spans: list[tuple[int, int]], limit: int = MAX_NAMES) -> list[str]:
    covered = Spans(entity_spans)
    foreign = _latin_share(doc) < LATIN_SHARE_FOR_SCRIPT
    out: dict[str, None] = {}
    for m in _LATIN.finditer(doc):
        word, start = m.group(), m.start()
        if covered.reach(start) > start:
            continue
        if foreign:
            keep = len(word) >= 3
        elif word.isupper():
            keep = ACRONYM[0] <= len(word) <= ACRONYM[1]
        else:
            keep = (word[0].isupper() and len(word) >= 3 and any(c.islower() for c in word[1:])
                    and not _SENTENCE_START.search(doc[max(0, start - 3):start]))
        if keep and len(plain := _plain(word)) >= 3:
            out[f"nm:{plain}"] = None
            if len(out) >= limit:
                break
    return list(out)


def _salient_plain(doc: str, title_end: int, lang: str, entity_spans: list[tuple[int, int]]) -> dict[str, float]:
    covered = Spans(entity_spans)
    counts: dict[str, float] = {}
    for word, start, end in _tokens(doc, lang, tokenize(doc)):
        if covered.reach(start) < end:
            counts[word] = counts.get(word, 0.0) + (2.0 if start < title_end else 1.0)
    words = list(counts)
    scores = {w: v * counts[w] for w, v in zip(words, term_weights(words, lang), strict=True) if v > 0}
    ranked = sorted(((math.sqrt(v), k) for k, v in scores.items()), reverse=True)[:MAX_TERMS]
    return {k: round(v, 3) for v, k in ranked}


def test_signature_band_keys_are_band_keys_of_the_values() -> None:
    for title, text, _ in [*DEV[::3], ("", "", "en"), ("a", "", "en"), ("Ceasefire", "agreed", "en")]:
        sig = cluster.signature(title, text)
        assert sig.bands == cluster.band_keys(sig.minhash)
        assert sig.minhash == tuple(cluster.minhash_values(title, text).tolist())


@pytest.mark.parametrize("extra", ["", "ǀABC Ǆx ßeta Ärger ĸra NATO PSG U.S. İstanbul"])
def test_names_and_salient_terms_match_the_plain_loops(extra: str) -> None:
    rnd = random.Random(14)
    for title, text, lang in DEV:
        doc = f"{title}\n\n{text} {extra}"
        for spans in ([], _spans(doc, rnd)):
            assert event_features.names(doc, spans) == _names_plain(doc, spans)
            assert (event_features.salient_terms(doc, len(title), lang, spans, tokens=tokenize(doc))
                    == _salient_plain(doc, len(title), lang, spans))


def test_term_weights_of_repeated_and_distinct_words_agree() -> None:
    words = ["ceasefire", "the", "maritime", "ceasefire", "zzqx", "the", "prisoners"]
    one_by_one = [event_features.term_weights([w], "en")[0] for w in words]
    event_features._weights.clear()
    assert event_features.term_weights(words, "en") == one_by_one
    distinct = list(dict.fromkeys(words))
    assert event_features.term_weights(distinct, "en") == [one_by_one[words.index(w)] for w in distinct]
