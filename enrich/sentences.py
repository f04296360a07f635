"""Sentence splitting for tagging: one document of headline and body, with character spans.

Why: topic evidence, context windows and lifecycle cues are all read per sentence; the
headline is a sentence of its own (``in_title``) because it reports the news.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A sentence ends at . ! ? ؟ + closing quotes + a space before a word that is not lower-case (checked in
# split_sentences: caseless scripts start sentences too), at a mark no abbreviation uses (CJK 。！？, the
# danda, Burmese, Khmer, Ethiopic, Armenian and Urdu full stops) whatever follows, or at a line break.
_SENT_END = re.compile(r"(?<=[.!?؟])(?P<gap>[\"”’»)]*\s+)(?=[\"“‘«(]?[^\W_])"
                       r"|(?<=[。！？।॥။។።։۔])[\"”’»)」』）]*\s*(?=\S)|\n\s*\n|\n(?=\S)")
_OPENERS = "\"“‘«("
_GEORGIAN = ("\u10d0", "\u10ff")  # Mkhedruli letters are lower-case to Unicode, yet they start sentences
# "bis zum 18. Februar": an ordinal's dot before a (capitalised, German) month name ends no sentence; a
# lower-case word after a dot never starts one anyway ("do 18. veljače")
_ORDINAL = re.compile(r"(?<![\d.])\d{1,2}\.$")
_MONTH = re.compile(r"(?:Januar|Jänner|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember)\b")
_ABBREV = re.compile(r"(?:\b[A-Z]|\b(?:Mr|Mrs|Ms|Dr|Gen|Lt|Col|Sgt|St|Sen|Rep|Gov|Prof|No|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|U\.S|U\.N|U\.K|E\.U|vs|etc))\.$")

@dataclass(frozen=True)
class Sentence:
    """A sentence of the analysed document with its character span."""

    text: str
    start: int
    end: int
    in_title: bool = False


def split_sentences(title: str, body: str) -> tuple[str, list[Sentence], int]:
    """Join title and body into one document; return it, its sentences and the body offset."""
    title = title.strip()
    doc = f"{title}\n\n{body}" if title else body
    offset = len(title) + 2 if title else 0
    sents: list[Sentence] = []
    if title:
        sents.append(Sentence(title, 0, len(title), True))
    pos = offset
    for m in _SENT_END.finditer(doc, offset):
        if m.group("gap") is not None:
            first = doc[m.end() + 1] if doc[m.end()] in _OPENERS else doc[m.end()]
            if first.islower() and not _GEORGIAN[0] <= first <= _GEORGIAN[1]:
                continue
            if m.group().strip() == "" and _ABBREV.search(doc, max(pos, m.start() - 6), m.start()):
                continue
            if doc[m.start() - 1] == "." and _ORDINAL.search(doc, max(pos, m.start() - 4), m.start()) \
                    and _MONTH.match(doc, m.end()):
                continue
        _add(doc, pos, m.start(), sents)
        pos = m.end()
    _add(doc, pos, len(doc), sents)
    return doc, sents, offset


def _add(doc: str, start: int, end: int, out: list[Sentence]) -> None:
    text = doc[start:end]
    stripped = text.strip()
    if stripped:
        lead = len(text) - len(text.lstrip())
        out.append(Sentence(stripped, start + lead, start + lead + len(stripped)))
