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
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from re._casefix import _EXTRA_CASES as _EXTRA  # type: ignore[import-not-found]


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


def fold(text: str) -> str:
    """Lower-cased, with re's extra case equivalences merged; same length as ``text``. The last answer is
    kept: a clause is tested against a score of cues in a row."""
    global _last
    if _last[0] is text:
        return _last[1]
    low = (text.translate(_TABLE) if _SPECIAL.search(text) else text).lower()
    _last = (text, low)
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


class _Doc(threading.local):
    text: str | None = None
    folded: str = ""
    present: dict[Cue, tuple[str, ...]]


_doc = _Doc()


@contextmanager
def document(text: str) -> Iterator[None]:
    """While open, every text a cue is asked about is a part of ``text``: each cue's literals are looked for
    in the whole document once, and a clause is then searched for only those the document holds (none:
    the answer is no at once)."""
    outer = _doc.text, _doc.folded, getattr(_doc, "present", {})
    _doc.text, _doc.folded, _doc.present = text, fold(text), {}
    try:
        yield
    finally:
        _doc.text, _doc.folded, _doc.present = outer


class Cue:
    """A compiled pattern that is only run when one of its required literals is in the text."""

    __slots__ = ("rx", "literals", "pattern")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.rx = re.compile(pattern, flags)
        self.pattern = pattern
        self.literals = required_literals(pattern, flags)

    def possible(self, text: str, folded: str | None = None) -> bool:
        """False only when no match can exist in ``text`` (``folded``: ``fold(text)``, when the caller has it)."""
        if self.literals is None:
            return True
        literals: Iterable[str] = self.literals
        if _doc.text is not None:
            present = _doc.present.get(self)
            if present is None:
                present = _doc.present[self] = tuple(filter(_doc.folded.__contains__, literals))
            if not present or text is _doc.text:
                return bool(present)
            literals = present
        low = fold(text) if folded is None else folded
        return any(map(low.__contains__, literals))

    def search(self, text: str, folded: str | None = None) -> re.Match[str] | None:
        return self.rx.search(text) if self.possible(text, folded) else None

    def finditer(self, text: str, folded: str | None = None) -> Iterator[re.Match[str]]:
        return self.rx.finditer(text) if self.possible(text, folded) else iter(())
