"""The ceasefire extractor's shortcuts answer exactly as the plain paths they skip (issue 14).

- ``CeasefireExtractor._nothing_to_follow``: an article naming a ceasefire but no actor, theatre, conflict place
  or waters returns no mention without its frames being read; the full path (kept: the shortcut switched off)
  gives the same on every dev text;
- ``cuegate.document_literals`` fills every cue's present literals at once from the document's literals: each
  cue of the rules answers ``possible`` / ``finditer`` inside a document as it does outside one (the plain
  substring test), on the dev texts and their sentences.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from enrich import cuegate
from enrich.ceasefires import CeasefireExtractor, default_rules
from enrich.cuegate import Cue, document, document_literals
from enrich.entities import EntityLinker
from enrich.gazetteer import default_gazetteer, tokenize
from enrich.language import detect
from enrich.sentences import split_sentences

DATA = Path(__file__).resolve().parents[1] / "data"
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


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


class _Plain(CeasefireExtractor):
    """The extractor without the shortcut: every article's frames are read."""

    def _nothing_to_follow(self, *args: Any) -> bool:
        return False


class _Counting(CeasefireExtractor):
    def __init__(self) -> None:
        super().__init__()
        self.skipped = 0

    def _nothing_to_follow(self, *args: Any) -> bool:
        skip = super()._nothing_to_follow(*args)
        self.skipped += skip
        return skip


def test_nothing_to_follow_changes_no_extraction() -> None:
    gaz = default_gazetteer()
    linker = EntityLinker(gaz)
    fast, plain = _Counting(), _Plain()
    found = 0
    for title, text, lang in DEV:
        lang = detect(title, text, hint=lang)  # the enricher's language (the set's label may be a family member)
        doc, sents, _ = split_sentences(title, text)
        toks = tokenize(doc)
        entities = linker.link(doc, len(title.strip()), list(gaz.find(doc, toks, lang=lang)), [], lang)
        got = fast.extract(doc, sents, lang, entities, _EPOCH)
        assert got == plain.extract(doc, sents, lang, entities, _EPOCH), (title, lang)
        found += bool(got)
    assert fast.skipped >= 20  # the shortcut is taken (and changed nothing above)
    assert found >= 500


def _cues(obj: Any, seen: set[int] | None = None) -> Iterator[Cue]:
    """Every Cue reachable from the compiled rules."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, Cue):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _cues(v, seen)
    elif isinstance(obj, (list, tuple, set, frozenset)):
        for v in obj:
            yield from _cues(v, seen)


@pytest.mark.parametrize("lang", ["en", "fr", "ar", "ru", "uk", "de", "tr", "zh", "ja", "el", "hi"])
def test_document_fan_out_answers_as_plain_gate(lang: str) -> None:
    rules = default_rules()
    cues = [c for c in _cues(vars(rules)) if c.literals is not None]
    assert len(cues) > 300
    items = [(t, x) for t, x, lg in DEV if lg == lang][:25]
    assert items
    for title, text in items:
        doc, sents, _ = split_sentences(title, text)
        parts = [doc, *(s.text for s in sents)]
        plain = [[(c.possible(p), [m.span() for m in c.finditer(p)]) for p in parts] for c in cues]
        with document(doc):
            document_literals()
            assert cuegate._local.doc.complete
            inside = [[(c.possible(p), [m.span() for m in c.finditer(p)]) for p in parts] for c in cues]
        assert inside == plain, title
