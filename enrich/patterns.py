"""Taxonomy patterns compiled and run cheaply: word-boundary regexes gated by their leading literals.

Why: the taxonomy holds ~10,000 patterns in 40 languages; running each over every document
would cost milliseconds. A pattern is tried only where one of the literals every match starts
with begins a word of the document (:class:`NeedleIndex` finds those words in one pass).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterator, Sequence

from services.text import WORD  # the gazetteer's tokens too: the enricher hands them to tag()

from .cuegate import fold, required_literals
from .sentences import Sentence


def _rx(patterns: Sequence[str], bounded: bool = True) -> re.Pattern[str]:
    """One case-insensitive regex of ``patterns``, held to word boundaries unless ``bounded`` is False."""
    body = "|".join(f"(?:{p})" for p in patterns)
    if not bounded:
        return re.compile(f"(?:{body})", re.IGNORECASE)
    return re.compile(rf"(?<![^\W_])(?:{body})(?![^\W_])", re.IGNORECASE)


def _lead(pattern: str) -> str | None:
    """The literal text every match of ``pattern`` starts with (lower-cased), if easy to see."""
    out: list[str] = []
    for i, c in enumerate(pattern):
        if not c.isalpha():
            if c in "?*{" and out:
                out.pop()
            break
        if i + 1 < len(pattern) and pattern[i + 1] in "?*{":
            break
        out.append(c.lower())
    return "".join(out) or None


def _structure(pattern: str) -> Iterator[tuple[int, str]]:
    """Positions of the ``(``, ``)`` and ``|`` that are syntax (not escaped, not in a character class)."""
    in_class = escaped = False
    for i, c in enumerate(pattern):
        if escaped:
            escaped = False
        elif c == "\\":
            escaped = True
        elif in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c in "()|":
            yield i, c


def _alternatives(pattern: str) -> list[str]:
    """``pattern`` split at its top-level ``|``."""
    parts, depth, start = [], 0, 0
    for i, c in _structure(pattern):
        if c == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
        elif c != "|":
            depth += 1 if c == "(" else -1
    return [*parts, pattern[start:]]


def _group_end(pattern: str) -> int:
    """Index of the ``)`` closing the group that opens ``pattern``; -1 if none."""
    depth = 0
    for i, c in _structure(pattern):
        if c != "|":
            depth += 1 if c == "(" else -1
            if depth == 0:
                return i
    return -1


_LOOKBEHINDS = re.compile(r"^(?:\(\?<!?[^()]*\))+")


def needles(pattern: str) -> frozenset[str] | None:
    """Literals one of which starts every text ``pattern`` matches; None = cannot tell."""
    leads: set[str] = set()
    for alt in _alternatives(pattern):
        alt = _LOOKBEHINDS.sub("", alt)
        found: frozenset[str] | None = None
        if alt.startswith("(?:"):
            end = _group_end(alt)
            if end > 0 and alt[end + 1:end + 2] not in ("?", "*", "{"):
                found = needles(alt[3:end])
        elif lead := _lead(alt):
            found = frozenset([lead])
        if found is None:
            return None
        leads |= found
    return frozenset(leads) or None


Where = dict[str, list[int]]
"""Gate literal -> offsets of the words of a document that start with it."""


class _Where(dict[str, list[int]]):
    """A :data:`Where` that also holds its keys as a frozenset (``keyset``), made once per document or sentence.

    Why: every scanner asked about a document intersects its gate literals (hundreds) with the document's
    (a few dozen); a frozenset on both sides lets the intersection walk the smaller, where a plain dict
    made each scanner walk all the document's keys twice (``isdisjoint``, then ``intersection``)."""

    __slots__ = ("keyset",)

    def seal(self) -> _Where:
        self.keyset = frozenset(self)
        return self


def _present(literals: frozenset[str], where: Where) -> frozenset[str]:
    """The gate ``literals`` that ``where`` holds."""
    keys = getattr(where, "keyset", None)
    return literals & keys if keys is not None else literals.intersection(where)


class Scanner:
    """A set of patterns, each tried only where one of its leading literals starts a word.

    Equivalent to running each pattern over the whole document, but far cheaper:
    a pattern whose literals are absent is skipped by a set test, and a present
    one is tried with ``match`` at those word starts only (every gated pattern
    starts at a word boundary, see :func:`_rx`). Patterns of a language without
    word boundaries (``bounded=False``: Arabic proclitics, Chinese, Thai, Hindi...)
    run over the whole text; they are compiled only into that language's rules.
    """

    def __init__(self, patterns: Sequence[str], bounded: bool = True) -> None:
        self._bounded = bounded
        self._gated_src: list[tuple[frozenset[str], str]] = []
        ungated: list[str] = []
        for p in patterns:
            leads = needles(p) if bounded else None
            if leads is None:
                ungated.append(p)
            else:
                self._gated_src.append((leads, p))
        self._ungated = ungated
        # Compiled on first use: a process compiles the patterns its documents' words can reach only
        # (the taxonomy has ~10,000 patterns in 40 languages; compiling all takes seconds).
        self._gated_rx: list[re.Pattern[str] | None] = [None] * len(self._gated_src)
        self._always: list[re.Pattern[str]] | None = None
        self._always_literals: frozenset[str] | None = None
        self._by_needle: dict[str, list[int]] = {}
        for k, (ns, _) in enumerate(self._gated_src):
            for n in ns:
                self._by_needle.setdefault(n, []).append(k)
        self._all = frozenset(self._by_needle)

    @property
    def always(self) -> list[re.Pattern[str]]:
        """The ungated patterns as one regex (empty list if none)."""
        if self._always is None:
            self._always = [_rx(self._ungated, self._bounded)] if self._ungated else []
            # literals one of which every match contains (enrich/cuegate.py): a text without any is not scanned
            self._always_literals = required_literals(self._always[0].pattern, re.IGNORECASE) if self._ungated else None
        return self._always

    @property
    def gated(self) -> list[tuple[frozenset[str], re.Pattern[str]]]:
        """Every gated pattern with its leading literals (compiles them all)."""
        return [(ns, self._gated(k)) for k, (ns, _) in enumerate(self._gated_src)]

    def _gated(self, k: int) -> re.Pattern[str]:
        rx = self._gated_rx[k]
        if rx is None:
            rx = self._gated_rx[k] = _rx([self._gated_src[k][1]], self._bounded)
        return rx

    @property
    def has_ungated(self) -> bool:
        return bool(self._ungated)

    def needles(self) -> set[str]:
        return set(self._all)

    def search(self, doc: str, where: Where) -> bool:
        """Whether any pattern matches ``doc``."""
        if not self._ungated and not _present(self._all, where):
            return False
        return next(self.finditer(doc, where), None) is not None

    def finditer(self, doc: str, where: Where) -> Iterator[re.Match[str]]:
        """Matches of every pattern in ``doc`` (``where``: its :meth:`NeedleIndex.find`); may overlap."""
        if self._ungated:
            return self._all_matches(doc, where)
        present = _present(self._all, where)  # most scanners asked hold none: no generator is made for them
        return self._gated_matches(doc, where, present) if present else iter(())

    def _all_matches(self, doc: str, where: Where) -> Iterator[re.Match[str]]:
        """:meth:`finditer` of a scanner with ungated patterns: theirs first, then the gated ones'."""
        for rx in self.always:
            lits = self._always_literals
            if lits is None or any(map(fold(doc).__contains__, lits)):
                yield from rx.finditer(doc)
        present = _present(self._all, where)
        if present:
            yield from self._gated_matches(doc, where, present)

    def _gated_matches(self, doc: str, where: Where, present: frozenset[str]) -> Iterator[re.Match[str]]:
        """The gated patterns' matches, ``present``: the scanner's literals that ``where`` holds (not empty)."""
        if len(present) == 1 and isinstance(where, _Where):
            # one literal of this scanner in the text (the common case): its patterns are in taxonomy order and
            # its word starts ascending and distinct (NeedleIndex.find reads each word once, in order)
            (n,) = present
            starts = where[n]
            for k in self._by_needle[n]:
                rx = self._gated(k)
                end = 0
                for pos in starts:
                    if pos >= end and (m := rx.match(doc, pos)):
                        end = m.end()
                        yield m
            return
        for k in sorted({k for n in present for k in self._by_needle[n]}):
            ns = self._gated_src[k][0]
            rx = self._gated(k)
            starts = [pos for n in ns & present for pos in where[n]]
            if len(starts) > 1:
                starts = sorted(set(starts))
            end = 0
            for pos in starts:
                if pos >= end and (m := rx.match(doc, pos)):
                    end = m.end()
                    yield m


Token = tuple[str, int, int]
"""A word of a document (a run of letters and digits) with its start and end offsets."""
_NO_NEEDLES: tuple[str, ...] = ()


def _within(where: Where, sent: Sentence, only: frozenset[str] | None = None) -> Where:
    """The part of a document's ``where`` inside ``sent``, in the sentence's own offsets (``only``: of these
    literals only, the gates of the scanners that will read it; the others' entries would go unread).

    Exact because a sentence never starts or ends inside a word (see :func:`split_sentences`).
    """
    out = _Where()
    start, end = sent.start, sent.end
    if only is not None:
        keys = getattr(where, "keyset", None)
        items = [(n, where[n]) for n in (only & keys if keys is not None else only.intersection(where))]
    else:
        items = list(where.items())
    for n, offsets in items:  # each list ascending: NeedleIndex.find reads the words in order
        lo = bisect_left(offsets, start)
        if lo < len(offsets) and offsets[lo] < end:
            out[n] = [p - start for p in offsets[lo:bisect_left(offsets, end, lo)]]
    return out.seal()


class NeedleIndex:
    """Where gate literals start a word of a document.

    The answer per distinct word is cached (news vocabulary repeats), so a
    document costs one tokenising pass plus a dict lookup per word, instead of
    trying ~600 literals at every position.
    """

    def __init__(self, needles: set[str], cache_size: int = 50_000) -> None:
        self._by_head: dict[str, tuple[str, ...]] = {}  # first two letters (or the one) -> literals
        for n in sorted(needles):
            self._by_head[n[:2]] = (*self._by_head.get(n[:2], ()), n)
        self._cache: dict[str, tuple[str, ...]] = {}
        self._cache_size = cache_size

    def _starting(self, word: str) -> tuple[str, ...]:
        low = word.lower()
        hits = [n for n in self._by_head.get(low[:2], ()) if low.startswith(n)]
        if len(low) > 1:
            hits += self._by_head.get(low[0], ())
        return tuple(hits) or _NO_NEEDLES

    def find(self, doc: str, tokens: Sequence[Token] | None = None) -> Where:
        """Each literal that starts a word of ``doc`` (case-insensitively), with those words' offsets.

        ``tokens``: the words of ``doc`` as ``(word, start, end)``, when the caller already has them.
        """
        if tokens is None:
            tokens = [(m.group(), m.start(), m.end()) for m in WORD.finditer(doc)]
        where = _Where()
        cache = self._cache
        for word, start, _ in tokens:
            hit = cache.get(word)
            if hit is None:
                if len(cache) >= self._cache_size:
                    cache.clear()
                hit = cache[word] = self._starting(word)
            for n in hit:
                where.setdefault(n, []).append(start)
        return where.seal()
