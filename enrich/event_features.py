"""What an article says about its event, beyond its entities: salient terms and the numbers it reports.

Why: reports of one event by different outlets share few exact phrases (so MinHash of the text only
merges near-copies), but they share the event's rare words ("maritime", "navigation", "prisoners")
and its numbers ("30-day", "175 prisoners"). The sink groups articles into stories with these next
to the language-independent entity ids (``api/sink/linking.py``).

- :func:`salient_terms`: content words weighted by how rare they are in the language (an inverse
  document frequency taken from the frequency lists that the ``wordfreq`` package ships, loaded
  lazily per language), title words counted twice; words inside an entity mention are left out
  (entities are compared by id). Languages written without spaces (zh, ja, th, my, km) use
  character bigrams.
- :func:`names`: capitalised words and acronyms that no entity covers ("Pahalgam", "Bukavu", "PSG"), and
  every Latin-script word of a text in another script ("Wiz" in Hebrew, "SpaceX" in Chinese), folded to
  plain lower-case letters: they are spelt alike across languages, so they carry names the gazetteer does
  not know from one language to another.
- :func:`numbers`: the numbers a text reports (any digits, Arabic-Indic and Persian ones included),
  without years and clock times, as language-independent tokens ("n:30", "n:175").

Pure: no I/O beyond reading the package's frequency data once per language.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence

import numpy as np

from services.text import WORD

MAX_TERMS = 40
RARE_ZIPF = 0.0  # a word absent from the language's list counts as this rare (zipf scale)
COMMON_ZIPF = 6.0  # at or above this, a word carries no weight ("the", "said", "and")
KEEP_ZIPF = 3.0  # only words at least this common are kept in memory; rarer ones weigh the most anyway
MIN_WORD = 3
NO_SPACE_SCRIPTS = frozenset({"zh", "ja", "th", "my", "km", "lo", "bo"})
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹०१२३४५६७८९", "0123456789" * 3)
_NUMBER = re.compile(r"(?<![\d.,:])(\d{1,3}(?:[ ,.\u00a0\u202f]\d{3})+|\d+)(?:[.,]\d+)?(?![\d:])")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\u0e00-\u0e7f\u1000-\u109f\u1780-\u17ff]+")


class ZipfTable:
    """The common words of one language as sorted 64-bit string hashes next to their zipf frequencies.

    Why not a dict of words: 30 languages hold about a million common words, ~100 MB as Python strings
    and ~10 MB as two arrays. A hash collision with a rare word is odds of 1 in 10**14 per look-up (the
    hashes are Python's own, consistent within a process, which is the table's lifetime).
    """

    def __init__(self, words: Mapping[int, int]) -> None:
        keys = np.fromiter(words.keys(), dtype=np.int64, count=len(words))
        order = np.argsort(keys)
        self._keys = keys[order]
        self._centizipf = np.fromiter(words.values(), dtype=np.uint16, count=len(words))[order]

    def __len__(self) -> int:
        return len(self._keys)

    def zipf(self, words: Sequence[str]) -> list[float]:
        """Zipf frequency of each word, :data:`RARE_ZIPF` for the words the list does not hold."""
        if not words:
            return []
        probe = np.fromiter((hash(w) for w in words), dtype=np.int64, count=len(words))
        at = np.minimum(np.searchsorted(self._keys, probe), len(self._keys) - 1)
        found = self._keys[at] == probe
        return np.where(found, self._centizipf[at] / 100.0, RARE_ZIPF).tolist()


@functools.cache
def _zipf_table(lang: str) -> ZipfTable | None:
    """The common words of ``lang`` (None when wordfreq has no list for it)."""
    try:
        import wordfreq
    except ImportError:  # pragma: no cover - a declared dependency
        return None
    if lang not in wordfreq.available_languages(wordlist="small"):
        return None
    words: dict[int, int] = {}
    try:
        # buckets of words, the i-th at -i centibels (frequency 10**(-i/100), zipf 9 - i/100), commonest first
        for index, bucket in enumerate(wordfreq.get_frequency_list(lang, wordlist="small")):
            centizipf = 900 - index
            if centizipf < KEEP_ZIPF * 100:
                break
            for word in bucket:
                words[hash(word)] = centizipf
    finally:
        # wordfreq caches every list it reads, whole and as a dict (~5 MB a language): the table has its words
        wordfreq.get_frequency_list.cache_clear()
        wordfreq.get_frequency_dict.cache_clear()
    return ZipfTable(words) if words else None


WEIGHT_CACHE = 1 << 15
"""Words whose weights are kept per language (news vocabulary repeats: most of an article's words were seen
in the last few hundred articles). Cleared when full, which bounds a long-running worker's memory (~3 MB)."""
_weights: dict[str, dict[str, float]] = {}


def term_weights(words: Sequence[str], lang: str) -> list[float]:
    """How much each shared word says about sharing an event: 0 for the commonest words, up to ~6.

    Each word's weight is remembered (per language, up to :data:`WEIGHT_CACHE` words): one dict look-up
    instead of a numpy round trip for the words seen before; the others are looked up together."""
    table = _zipf_table(lang)
    if table is None:
        return [1.0] * len(words)
    known = _weights.get(lang)
    if known is None:
        known = _weights[lang] = {}
    unique = list(dict.fromkeys(words))
    values = list(map(known.get, unique))  # a local copy: another thread may clear
    if None in values:
        new = [w for w, v in zip(unique, values, strict=True) if v is None]
        weights = dict(zip(new, [max(COMMON_ZIPF - z, 0.0) for z in table.zipf(new)], strict=True))
        values = [weights[w] if v is None else v for w, v in zip(unique, values, strict=True)]
        if len(known) + len(new) > WEIGHT_CACHE:
            known.clear()
        known.update(weights)
    if len(unique) == len(words):  # distinct words (salient_terms asks so): in their order already
        return values  # type: ignore[return-value]
    got = dict(zip(unique, values, strict=True))
    return [got[w] for w in words]  # type: ignore[misc]


def term_weight(word: str, lang: str) -> float:
    """:func:`term_weights` of one word."""
    return term_weights([word], lang)[0]


def _tokens(text: str, lang: str, words: Iterable[tuple[str, int, int]] | None = None
            ) -> Iterable[tuple[str, int, int]]:
    """``words``: ``(word, start, end)`` of ``WORD.finditer(text)`` when the caller has them (the enricher's
    tokens: the text is not scanned again)."""
    bigrams = lang in NO_SPACE_SCRIPTS
    if words is None:
        words = ((m.group(), m.start(), m.end()) for m in WORD.finditer(text))
    for word, start, end in words:
        if bigrams or (not word.isascii() and _CJK.fullmatch(word)):  # _CJK has no ASCII: skip the regex
            for i in range(max(len(word) - 1, 1)):
                yield word[i:i + 2].lower(), start + i, start + i + 2
        elif len(word) >= MIN_WORD and not word.isdigit():
            yield word.lower(), start, end


class Spans:
    """Entity spans, asked "how far do the spans starting at or before this offset reach?" in O(log n):
    a word is inside one when that reach passes it (the pairwise scan cost words x spans per article)."""

    def __init__(self, spans: Iterable[tuple[int, int]]) -> None:
        ordered = sorted(spans)
        self._starts = [s for s, _ in ordered]
        self._reach = list(itertools.accumulate((e for _, e in ordered), max))

    def reach(self, offset: int) -> int:
        i = bisect.bisect_right(self._starts, offset) - 1
        return self._reach[i] if i >= 0 else -1


def salient_terms(doc: str, title_end: int, lang: str, entity_spans: Iterable[tuple[int, int]] = (),
                  limit: int = MAX_TERMS, tokens: Sequence[tuple[str, int, int]] | None = None) -> dict[str, float]:
    """The ``limit`` most telling words of ``doc`` (title first, ending at ``title_end``), with weights.

    ``tokens``: the words of ``doc`` as ``(word, start, end)`` (``services.text.WORD``), when the caller has them."""
    covered = Spans(entity_spans)
    counts: dict[str, float] = {}  # title words count twice
    starts, reach, right = covered._starts, covered._reach, bisect.bisect_right  # Spans.reach, inlined (per word)
    for word, start, end in _tokens(doc, lang, tokens):
        i = right(starts, start) - 1
        if (reach[i] if i >= 0 else -1) < end:  # not inside an entity's span
            counts[word] = counts.get(word, 0.0) + (2.0 if start < title_end else 1.0)
    words = list(counts)
    scores = {word: w * counts[word] for word, w in zip(words, term_weights(words, lang), strict=True) if w > 0}
    # Sub-linear in repetitions: a word repeated in a long text should not drown the rest.
    ranked = sorted(((math.sqrt(v), k) for k, v in scores.items()), reverse=True)[:limit]
    return {k: round(v, 3) for v, k in ranked}


MAX_NUMBERS = 20
_DIGIT_RUN = re.compile(r"\d+")


def _numbers(text: str) -> Iterator[re.Match[str]]:
    """``_NUMBER.finditer(text)``, tried only where a run of digits starts: a match starts at a digit that no
    digit precedes (its lookbehind), and re would otherwise try the lookbehind at every character."""
    end = 0
    for run in _DIGIT_RUN.finditer(text):
        if run.start() >= end and (m := _NUMBER.match(text, run.start())):
            end = m.end()
            yield m


def numbers(text: str, limit: int = MAX_NUMBERS) -> list[str]:
    """The first ``limit`` distinct numbers reported in ``text`` as "n:<value>", leaving out years
    (1900-2100) and 0-1 (a report leads with its figures; a table of thousands says nothing more)."""
    out: dict[str, None] = {}
    for m in _numbers(text if text.isascii() else text.translate(_DIGITS)):  # _DIGITS maps no ASCII
        digits = re.sub(r"\D", "", m.group(1))
        if not digits or len(digits) > 9:
            continue
        value = int(digits)
        if value <= 1 or 1900 <= value <= 2100:
            continue
        out[f"n:{value}"] = None
        if len(out) >= limit:
            break
    return list(out)


MAX_NAMES = 20
_LATIN = re.compile(r"[A-Za-zÀ-ÖØ-öø-ɏ]+")
_SENTENCE_START = re.compile(r"(?:^|[.!?:;«»\"“”]\s*|\n\s*)$")
LATIN_SHARE_FOR_SCRIPT = 0.5  # below this share of Latin letters a text is written in another script
ACRONYM = (3, 5)  # letters of an all-capitals word taken as a name ("PSG", "NATO"; "US" is too common)


_NOT_LATIN = re.compile("[^\x00-\x7fÀ-ɏ]")


@functools.lru_cache(maxsize=1 << 16)
def _plain(word: str) -> str:
    """Cached: names() asks it for every capitalised word, and news vocabulary repeats."""
    return "".join(c for c in unicodedata.normalize("NFKD", word.casefold()) if c.isalpha() and c.isascii())


def _latin_share(doc: str) -> float:
    """Share of the letters that are Latin (ASCII or U+00C0-U+024F); only the other characters, found by a
    regex, are walked in Python. An ASCII text (most English news) is all Latin: answered without counting."""
    if doc.isascii():
        return 1.0
    letters = sum(map(str.isalpha, doc))
    if not letters:
        return 1.0
    other = sum(map(str.isalpha, _NOT_LATIN.findall(doc)))
    return (letters - other) / letters


def names(doc: str, entity_spans: Iterable[tuple[int, int]] = (), limit: int = MAX_NAMES) -> list[str]:
    """Names no entity covers, as "nm:<plain>": in a Latin-script text the capitalised words not at a
    sentence start and the acronyms; in a text in another script every Latin-script word (there it is a
    name: "Wiz", "SpaceX", "Starship"). Spelt alike across languages, they carry names the gazetteer does
    not know from one language to another."""
    covered = Spans(entity_spans)
    foreign = _latin_share(doc) < LATIN_SHARE_FOR_SCRIPT
    out: dict[str, None] = {}
    for m in _LATIN.finditer(doc):
        word = m.group()
        if not foreign and word[0].islower():
            continue  # neither a capitalised word nor an acronym (the commonest case: tested first)
        start = m.start()
        if covered.reach(start) > start:  # inside an entity's span
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
