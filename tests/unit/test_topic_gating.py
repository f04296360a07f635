"""Topic-rule gating is a pure speed-up: gated scanners find exactly what running every pattern finds."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from enrich.gazetteer import default_gazetteer, tokenize
from enrich.topics import Scanner, TopicModel, Where, _within, needles, split_sentences
from tests.eval.enrich import LANG, load_devset

TRICKY = [
    "CEASEFIRE AGREED in Gaza as Hamas and Israel sign",
    "Waffenruhe; Weihnachtswaffenruhe. ateşkesi. перемирие. 停火协议 युद्धविराम הפסקת האש وقف إطلاق النار",
    "A cease-fire, a _truce, Truce's end; F-16 jets sent. xceasefire 2truce truce_talks",
    "İstanbul talks: ceasefire proposed. Il s'est emparé de la ville. Se retiraron las tropas.",
    "The the the.\n\nNew para: Zelenskyy's truce\nviolated. Weapons production rose; bodies of soldiers returned.",
    "", "Kyiv", "in exchange for 40 prisoners",
]


@pytest.fixture(scope="module")
def model() -> TopicModel:
    return TopicModel()


LANG_DEV = [LANG / "full_dev.jsonl", LANG / "ceasefire_dev.jsonl"]


@pytest.fixture(scope="module")
def docs() -> list[tuple[str, str]]:
    """(language, document) for every dev-set item (English-first and multilingual), plus tricky strings
    (checked with every scanner)."""
    items = [*load_devset(), *(it for path in LANG_DEV if path.exists() for it in load_devset(path))]
    out = [(it["lang"], split_sentences(it["title"], it["text"])[0]) for it in items]
    return out + [("*", t) for t in TRICKY]


@pytest.mark.parametrize(("pattern", "expected"), [
    ("truce", {"truce"}),
    ("cease-?fire", {"cease"}),
    ("ceasefires?", {"ceasefire"}),
    ("(?<!trade )truce", {"truce"}),
    ("(?:halt|pause)d? (?:to|in) fighting", {"halt", "pause"}),
    ("(?:(?:weapons?|arms) (?:production|makers))", {"weapon", "arms"}),
    ("truce|armistice", {"truce", "armistice"}),
    ("F-16 jets", {"f"}),
    ("(?:un)?rest", None),  # optional leading group: "rest" alone matches
    ("(?:truce|)x", None),
    ("[Tt]ruce", None),
    (r"\w+ truce", None),
    ("(?=x)truce", None),
])
def test_needles(pattern: str, expected: set[str] | None) -> None:
    got = needles(pattern)
    assert (set(got) if got is not None else None) == expected


def _scanners(model: TopicModel, lang: str) -> Iterator[Scanner]:
    """The scanners tagging a ``lang`` document runs (every scanner for the tricky strings)."""
    yield from model.scanners(None if lang == "*" else lang)


def _reference(sc: Scanner, doc: str) -> list[tuple[int, int, str]]:
    rxs: list[re.Pattern[str]] = [*sc.always, *(rx for _, rx in sc.gated)]
    return [(m.start(), m.end(), m.group()) for rx in rxs for m in rx.finditer(doc)]


def test_gated_scanners_find_every_match(model: TopicModel, docs: list[tuple[str, str]]) -> None:
    for lang, doc in docs:
        where = model._needles.find(doc)
        assert where == model._needles.find(doc, tokenize(doc))
        for sc in _scanners(model, lang):
            got = [(m.start(), m.end(), m.group()) for m in sc.finditer(doc, where)]
            assert got == _reference(sc, doc), doc[:80]
            assert sc.search(doc, where) == bool(got)


def test_sentence_needles_are_the_documents(model: TopicModel, docs: list[tuple[str, str]]) -> None:
    for it in load_devset()[:80]:
        doc, sents, _ = split_sentences(it["title"], it["text"])
        where = model._needles.find(doc)
        for s in sents:
            assert doc[s.start:s.end] == s.text
            assert _within(where, s) == model._needles.find(s.text)


def test_where_lists_word_starts(model: TopicModel) -> None:
    where: Where = model._needles.find("Ceasefire talks; a ceasefire-truce. xtruce")
    assert where["ceasefire"] == [0, 19] and where["truce"] == [29]


def test_gazetteer_shared_tokens_change_nothing(docs: list[tuple[str, str]]) -> None:
    gaz = default_gazetteer()
    for _, doc in docs:
        assert list(gaz.find(doc, tokenize(doc))) == list(gaz.find(doc))
