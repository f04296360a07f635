"""Cue patterns with a substring gate: a regex is run only when a literal every match must contain is there.

Why: the ceasefire rules are hundreds of case-insensitive alternations, scanned per document, sentence
and clause; Python's ``re`` tries each branch at each position, so most of the extraction's time went
into scans that find nothing. Every pattern's *required literals* (a set such that any match contains
at least one of them) are read once from its parse tree; a ``str in str`` test over the case-folded text
(C speed) then answers "no match possible" for most texts without running the regex. The gate is exact:
it never hides a match, because the folding maps every pair of characters ``re.IGNORECASE`` treats as
equal to one character and keeps the text's length.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from re._casefix import _EXTRA_CASES as _EXTRA  # type: ignore[import-not-found]
from typing import Any, TypeVar, cast


def _fold_table() -> dict[int, int]:
    """Characters ``re`` matches case-insensitively beyond ``str.lower`` (ı/i, ſ/s, µ/μ, ς/σ …), to one."""
    table: dict[int, int] = {0x130: ord("i")}  # İ: str.lower gives two characters, re's tolower gives "i"
    for k, vs in _EXTRA.items():
        cls = {chr(c).lower() for c in (k, *vs)}
        rep = min(cls)
        table.update({ord(c): ord(rep) for c in cls if c != rep and len(c) == 1})
    return table


_TABLE = _fold_table()
_SPECIAL = re.compile("[" + "".join(re.escape(chr(c)) for c in _TABLE) + "]")


_last: tuple[str, str] = ("", "")
_before: tuple[str, str] = ("", "")


def fold(text: str) -> str:
    """Lower-cased, with re's extra case equivalences merged; same length as ``text``. The last two answers
    are kept: a clause is tested against a score of cues in a row, and the topic scanners go back and forth
    between a document and its sentences."""
    global _last, _before
    last = _last
    if last[0] is text:
        return last[1]
    if _before[0] is text:
        _last, _before = _before, last
        return _last[1]
    if text.isascii():  # no ASCII character is in the table, and lower() keeps ASCII
        low = text.lower()
    else:
        # lower-cased first: Greek capitals lower to letters of the table (Σ to σ, Μ to μ, Ι to ι), which must
        # be merged as their small forms are ("ΠΑΥΣΗΣ" holds the cue "παύσης" written with ς); only İ is
        # replaced before, as lower() makes two characters of it
        low = (text.replace("İ", "i") if "İ" in text else text).lower()
        if _SPECIAL.search(low):
            low = low.translate(_TABLE)
    _last, _before = (text, low), last
    return low


def _best(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
    if b is None or not b or "" in b:
        return a
    if a is None:
        return b
    return b if min(map(len, b)) > min(map(len, a)) else a


def _lead(items: list[tuple[object, object]]) -> str:
    """The literal text a sequence starts with ("" when it starts with anything else)."""
    out = []
    for op, av in items:
        if op is not sre.LITERAL:
            break
        out.append(chr(av))  # type: ignore[arg-type]
    return "".join(out)


def _required(items: list[tuple[object, object]]) -> frozenset[str] | None:
    """Literals one of which every match of this sequence contains (folded), or None when unknown."""
    best: frozenset[str] | None = None
    run: list[str] = []

    def flush() -> None:
        nonlocal best
        if run:
            best = _best(best, frozenset({fold("".join(run))}))
        run.clear()

    for op, av in items:
        if op is sre.LITERAL:
            run.append(chr(av))  # type: ignore[arg-type]
            continue
        if op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):
            continue  # zero width: the run goes on
        if op is sre.BRANCH and run:  # "U(?:S|\.S\.)": the run and each alternative's leading letters
            head = "".join(run)
            best = _best(best, frozenset(fold(head + _lead(list(b))) for b in av[1]))  # type: ignore[index]
        flush()
        if op is sre.SUBPATTERN:
            best = _best(best, _required(list(av[-1])))  # type: ignore[index]
        elif op is sre.ATOMIC_GROUP:
            best = _best(best, _required(list(av)))  # type: ignore[call-overload]
        elif op is sre.BRANCH:
            alts = [_required(list(b)) for b in av[1]]  # type: ignore[index]
            if all(s is not None and s and "" not in s for s in alts):
                best = _best(best, frozenset().union(*alts))  # type: ignore[arg-type]
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT, getattr(sre, "POSSESSIVE_REPEAT", None)):
            lo, _, sub = av  # type: ignore[misc]
            if int(lo) >= 1:  # type: ignore[has-type]
                best = _best(best, _required(list(sub)))  # type: ignore[has-type]
    flush()
    return best


def required_literals(pattern: str, flags: int = 0) -> frozenset[str] | None:
    """Folded strings one of which every match of ``pattern`` contains; None when there is no such set."""
    try:
        return _required(list(sre_parse.parse(pattern, flags)))
    except (re.error, TypeError, ValueError):
        return None


_RUN = re.compile(r"[^\W_]+")


class _LiteralIndex:
    """Every cue's literals, found in a document through its words (``document_literals``).

    Why: a cue asks the whole document once for each of its literals (a substring search each); an article
    about a ceasefire asks ~60 cues for ~550 literals, most of them absent. A literal made of word characters
    only lies inside one word (a maximal run of them), so the literals a document holds are those its
    distinct words hold: each word's answer is cached (news vocabulary repeats), and a document costs one
    pass over its words. A literal with other characters ("mediated by", "u.s.") is searched for in the
    document only when its longest run of word characters is there. The answer is exact, not a superset.
    """

    def __init__(self) -> None:
        self.literals: set[str] = set()
        self.serial = 0  # cues registered so far: a document's answer covers the cues registered before it
        self._words: set[str] = set()  # word literals, and the longest run of each other literal
        self._by_head: dict[str, tuple[str, ...]] = {}  # words of two or more letters by their first two
        self._singles: frozenset[str] = frozenset()  # words of one letter
        self._phrases: dict[str, tuple[str, ...]] = {}  # a run -> the other literals whose longest run it is
        self._bare: tuple[str, ...] = ()  # literals without a word character: always searched for
        self._cache: dict[str, frozenset[str]] = {}
        self._cues: dict[str, tuple[Cue, ...]] = {}  # literal -> the cues holding it (see document_literals)

    def add(self, literals: frozenset[str] | None, cue: Cue | None = None) -> int:
        """Register a cue's literals; returns the cue's serial number."""
        new = [lit for lit in literals or () if lit not in self.literals]
        if new:
            by_head, phrases, words = dict(self._by_head), dict(self._phrases), set(self._words)
            singles, bare = set(self._singles), list(self._bare)
            for lit in new:
                runs = _RUN.findall(lit)
                if not runs:
                    bare.append(lit)
                    continue
                key = max(runs, key=len)
                if key != lit:
                    phrases[key] = (*phrases.get(key, ()), lit)
                if key not in words:
                    words.add(key)
                    if len(key) == 1:
                        singles.add(key)
                    else:
                        by_head[key[:2]] = (*by_head.get(key[:2], ()), key)
            # swapped in whole: a thread reading the old tables reads a consistent (older) universe
            self._by_head, self._phrases, self._words = by_head, phrases, words
            self._singles, self._bare, self._cache = frozenset(singles), tuple(bare), {}
            self.literals.update(new)
        if cue is not None:
            cues = self._cues
            for lit in literals or ():
                cues[lit] = (*cues.get(lit, ()), cue)  # a tuple swapped in whole: readers see the old or the new
        self.serial += 1
        return self.serial

    def cues_of(self, literal: str) -> tuple[Cue, ...]:
        """The registered cues that hold ``literal``."""
        return self._cues.get(literal, ())

    def _hits(self, run: str) -> frozenset[str]:
        """The registered words (and longest runs) inside ``run``."""
        out = set(self._singles.intersection(run)) if self._singles else set()
        by_head = self._by_head
        for i in range(len(run) - 1):
            for w in by_head.get(run[i:i + 2], ()):
                if run.startswith(w, i):
                    out.add(w)
        return frozenset(out)

    def present(self, folded: str) -> frozenset[str]:
        """The registered literals ``folded`` (a folded document) holds."""
        cache, phrases = self._cache, self._phrases
        if len(cache) >= MAX_WORDS:
            cache.clear()
        runs = set(_RUN.findall(folded))
        cached = list(map(cache.get, runs))
        hits = cached if None not in cached else [  # words not seen before: read once
            hit if hit is not None else cache.setdefault(run, self._hits(run)) for run, hit in zip(runs, cached, strict=True)]
        found: set[str] = set().union(*hits)  # type: ignore[arg-type]
        out = found & self.literals
        for key in found:
            if (held := phrases.get(key)) is not None:  # literals with other characters: searched for in the text
                out.update(filter(folded.__contains__, held))
        out.update(filter(folded.__contains__, self._bare))
        return frozenset(out)


MAX_WORDS = 50_000
"""Distinct words whose literals :class:`_LiteralIndex` keeps; cleared when full (bounds a worker's memory)."""
INDEX_AFTER = 2
"""Cues a document answers one by one before its words are read for all cues at once (most documents ask the
triggers alone: a pass over the words costs about what a few cues' own searches do)."""
_index = _LiteralIndex()


class _Doc:
    """The open document of one thread (see :func:`document`)."""

    __slots__ = ("text", "folded", "ascii", "present", "narrowed", "literals", "serial", "live", "complete")

    def __init__(self, text: str | None = None, folded: str = "") -> None:
        self.text = text
        self.folded = folded
        self.ascii = folded.isascii()
        self.present: dict[Cue, tuple[str, ...]] = {}
        self.narrowed: dict[Cue, re.Pattern[str]] = {}
        self.literals: frozenset[str] | None = None  # every registered literal the document holds, once read
        self.serial = 0  # the index's serial when ``literals`` was read
        self.complete = False  # ``present`` holds every cue up to ``serial`` with a literal here (document_literals)
        self.live: dict[int, tuple[Any, ...]] = {}  # live(): id of a rules' tuple -> its items that can match here


_IDLE = _Doc()
"""No document open (``text`` None): never written to, every reader returns before its tables."""
_local = threading.local()
"""``_local.doc``: the thread's open :class:`_Doc`. Why one plain object in a thread-local rather than a
thread-local subclass holding the fields: every read of a ``threading.local`` attribute costs ~0.1 µs, and the
gate reads the document's state several times per question, tens of questions per article."""


_T = TypeVar("_T")


def live(items: tuple[_T, ...], at: int | None = None) -> tuple[_T, ...]:
    """Inside :func:`document`: the ``items`` whose cue can match somewhere in the document, in their order;
    all of them outside one. ``at``: where the cue is in each item (a tuple, as ``(name, cue)``), None when
    the items are cues. Read once per document and tuple (``items`` must be a long-lived tuple of the rules:
    its identity is the key).

    Why: a clause loop asks every cue of a table, most of which the document cannot match; a cue the
    document cannot match matches in none of its parts (the gate answers no for each), so leaving it out
    of the loop changes nothing but the calls."""
    doc = getattr(_local, "doc", _IDLE)
    if doc.text is None:
        return items
    memo = doc.live
    got = memo.get(id(items))
    if got is None:
        text, folded = doc.text, doc.folded
        got = memo[id(items)] = tuple(
            it for it in items if cast(Cue, it if at is None else it[at])._gate(text, folded) is not None)  # type: ignore[index]
    return got


def document_literals() -> frozenset[str] | None:
    """Inside :func:`document`: the registered cue literals the document holds (read once per document from
    its words); None outside one."""
    doc = getattr(_local, "doc", _IDLE)
    if doc.text is None:
        return None
    if doc.literals is None:
        serial = doc.serial = _index.serial  # read first: a cue registered meanwhile is not covered
        literals = doc.literals = _index.present(doc.folded)
        # every cue's present literals at once, from the few the document holds: a cue left out holds none,
        # so its questions are answered "no" without intersecting its literals with the document's (an
        # article about a ceasefire asks a hundred cues)
        held: dict[Cue, list[str]] = {}
        for lit in literals:
            for cue in _index.cues_of(lit):
                if cue._serial <= serial:
                    held.setdefault(cue, []).append(lit)
        present = doc.present
        for cue, lits in held.items():
            if cue not in present:
                present[cue] = tuple(lits)
        doc.complete = True
    return doc.literals


@contextmanager
def document(text: str) -> Iterator[None]:
    """While open, every text a cue is asked about is a part of ``text``: each cue's literals are looked for
    in the whole document once, and a clause is then searched for only those the document holds (none:
    the answer is no at once)."""
    outer = getattr(_local, "doc", _IDLE)
    _local.doc = _Doc(text, fold(text))
    try:
        yield
    finally:
        _local.doc = outer


_NEVER = re.compile(r"(?!)")
_NOT_YET = 1 << 62  # a serial above every document's: the cue is being registered (see document_literals)
MAX_NARROWED = 512
"""Narrowed regexes kept per cue (see :meth:`Cue.alternation`). A document's present literals select a few
of a cue's alternatives and news repeats the same few, so the cache stays far below this; it is cleared when
full, which bounds a long-running worker's memory."""


class Cue:
    """A compiled pattern that is only run when one of its required literals is in the text."""

    __slots__ = ("rx", "literals", "pattern", "_ascii", "_flags", "_alternatives", "_build", "_by_literal",
                 "_narrowed", "_serial")

    def __init__(self, pattern: str, flags: int = 0, literals: frozenset[str] | None = None) -> None:
        """``literals``: a gate to use instead of the pattern's own (a rarer word every match also holds)."""
        self.rx = re.compile(pattern, flags)
        self.pattern = pattern
        self.literals = literals or required_literals(pattern, flags)
        # an ASCII document (most news in Latin script) holds none of the others: they are not looked for
        self._ascii = tuple(lit for lit in self.literals or () if lit.isascii())
        self._flags = flags
        self._alternatives: tuple[str, ...] = ()
        self._build: Callable[[Sequence[str]], str] | None = None
        self._by_literal: dict[str, tuple[int, ...]] | None = None
        self._narrowed: dict[tuple[int, ...], re.Pattern[str]] = {}
        self._serial = _NOT_YET  # registered below: until then no document's fan-out covers this cue
        self._serial = _index.add(self.literals, self) if self.literals else 0

    @classmethod
    def alternation(cls, alternatives: Sequence[str], build: Callable[[Sequence[str]], str], flags: int = 0,
                    literals: frozenset[str] | None = None) -> Cue:
        """The cue of ``build(alternatives)``, a pattern that matches what one of ``alternatives`` matches
        (wrapped in the same lookarounds), and that can be narrowed to some of them.

        Why: a case-insensitive alternation is tried branch by branch at every position of a text, so a rule
        of a hundred phrases costs a hundred tries per character. Inside :func:`document`, an alternative
        none of whose own literals the document holds cannot match anywhere in it; the cue then runs
        ``build`` of the others (compiled once per such subset), which finds exactly the same matches:
        dropping a branch that never matches changes no other branch's outcome at any position. Group
        numbers do shift, so a cue whose callers read numbered groups must not be built this way.
        """
        cue = cls(build(alternatives), flags, literals)
        own = [required_literals(a, flags) or frozenset() for a in alternatives]
        if cue.literals and all(lits and lits <= cue.literals for lits in own):
            by_literal: dict[str, list[int]] = {}
            for i, lits in enumerate(own):
                for lit in lits:
                    by_literal.setdefault(lit, []).append(i)
            cue._alternatives, cue._build = tuple(alternatives), build
            cue._by_literal = {lit: tuple(ks) for lit, ks in by_literal.items()}
        return cue

    def _regex(self, doc: _Doc | None = None) -> re.Pattern[str]:
        """The regex to run on a part of the open document (``doc``: the thread's, when the caller has it): only
        the alternatives it can match (see :meth:`alternation`); the whole pattern outside a document or when
        it cannot be narrowed."""
        if doc is None:
            doc = getattr(_local, "doc", _IDLE)
        if self._by_literal is None or doc.text is None:
            return self.rx
        rx = doc.narrowed.get(self)
        if rx is None:
            present = doc.present.get(self, ())  # possible() has filled it in: the regex runs only after it
            keep = tuple(sorted({k for lit in present for k in self._by_literal.get(lit, ())}))
            if len(keep) == len(self._alternatives):
                rx = self.rx
            elif not keep:  # the present literals are the gate's own (``literals``), in no alternative
                rx = _NEVER
            else:
                rx = self._narrowed.get(keep)
                if rx is None:
                    if len(self._narrowed) >= MAX_NARROWED:
                        self._narrowed.clear()
                    assert self._build is not None
                    rx = self._narrowed[keep] = re.compile(self._build([self._alternatives[k] for k in keep]),
                                                           self._flags)
            doc.narrowed[self] = rx
        return rx

    def possible(self, text: str, folded: str | None = None) -> bool:
        """False only when no match can exist in ``text`` (``folded``: ``fold(text)``, when the caller has it)."""
        return self._gate(text, folded) is not None

    def _gate(self, text: str, folded: str | None) -> re.Pattern[str] | None:
        """The regex to run on ``text`` (see :meth:`_regex`), or None when :meth:`possible` says no match can
        exist: one call per question, the thread's document state read once (most questions are "no")."""
        literals = self.literals
        if literals is None:
            return self._regex()
        doc = getattr(_local, "doc", _IDLE)
        if doc.text is not None:
            present = doc.present.get(self)
            if present is None:
                if doc.complete and self._serial <= doc.serial:
                    return None  # none of its literals in the document (document_literals filled the others)
                if doc.literals is None and len(doc.present) >= INDEX_AFTER:
                    document_literals()
                if doc.literals is not None and self._serial <= doc.serial:
                    present = doc.present[self] = tuple(literals & doc.literals)
                else:
                    present = doc.present[self] = tuple(filter(doc.folded.__contains__,
                                                               self._ascii if doc.ascii else literals))
            if not present:
                return None
            if text is not doc.text:
                low = fold(text) if folded is None else folded
                if not any(map(low.__contains__, present)):
                    return None
            if self._by_literal is None:
                return self.rx
            rx = doc.narrowed.get(self)
            return rx if rx is not None else self._regex(doc)
        low = fold(text) if folded is None else folded
        return self.rx if any(map(low.__contains__, literals)) else None

    def search(self, text: str, folded: str | None = None) -> re.Match[str] | None:
        rx = self._gate(text, folded)
        return rx.search(text) if rx is not None else None

    def finditer(self, text: str, folded: str | None = None) -> Iterator[re.Match[str]]:
        rx = self._gate(text, folded)
        return rx.finditer(text) if rx is not None else iter(())
