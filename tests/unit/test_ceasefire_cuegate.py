"""The ceasefire rules' substring gate (enrich/cuegate.py): cheap, and it never hides a match.

Plus the rule fixes found while generalising beyond the first dev timelines: an English lookbehind that
read "Pakistan agreed" as "an agreed", the month "May" read as the modal "may", a proposer taken for a side and one side's "agreed to the
proposal" for an agreement, a mediator phrase that swallowed the next actor after a comma,
a truce reported by its town alone.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from api.tracker.merge import ArticleFacts, Record, apply_article
from enrich.ceasefires import default_rules
from enrich.cuegate import Cue, document, fold, required_literals
from services.events import RawArticle
from tests.eval.tracker import load


def _cues() -> list[Cue]:
    r, out = default_rules(), []

    def walk(obj: object) -> None:
        if isinstance(obj, Cue):
            out.append(obj)
        elif isinstance(obj, dict):
            for v in obj.values():
                walk(v)
        elif isinstance(obj, list | tuple):
            for v in obj:
                walk(v)

    for part in (r.strong, r.weak, r.negative, r.scopes, r.states, r.participle, r.markers, r.mediation, r.month_rx,
                 r.holidays, r.actors, r.places, r.theatres):
        walk(part)
    return out


@pytest.mark.parametrize(("pattern", "want"), [
    (r"cease-?fires?", {"cease"}),
    (r"(?-i:US|U\.S\.|USA)", {"us", "u.s.", "usa"}),
    (r"(?:İ|I)srail\w*", {"srail"}),
    (r"truces?|trêves?", {"truce", "trêve"}),
    (r"Waffenruhe\w*", {"waffenruhe"}),
    (r"\w+", None),
    (r"(?:attacks?|strikes?)?", None),
])
def test_required_literals_are_read_from_the_pattern(pattern, want):
    got = required_literals(pattern, re.IGNORECASE)
    assert (got is None) if want is None else got == frozenset(want)


@pytest.mark.parametrize(("pattern", "text"), [
    ("istanbul", "İSTANBUL'da ateşkes"),  # re: İ matches i; str.lower would give i + a combining dot
    ("irak", "IRAK"), ("sınır", "SINIR"), ("kısa", "kisa"),  # dotless ı and i are one letter to re.IGNORECASE
    ("ceasefire", "ceaſefire"),  # long s
    ("σ", "ς"),
])
def test_the_gate_folds_every_pair_of_letters_re_treats_as_equal(pattern, text):
    cue = Cue(pattern, re.IGNORECASE)
    assert cue.rx.search(text) and cue.possible(text) and cue.search(text)
    assert len(fold(text)) == len(text)


def test_no_cue_of_the_rules_is_gated_away_where_its_regex_matches():
    """Exactness over every sentence of the dev timelines, alone and inside its document."""
    cues = _cues()
    assert cues and sum(c.literals is not None for c in cues) / len(cues) > 0.95  # nearly all are gated
    texts = [a["title"] + "\n\n" + a["text"] for t in load() if t["split"] == "dev" for a in t["articles"]]
    for doc in texts:
        parts = [doc, *re.split(r"(?<=[.!?])\s+|\n\n", doc)]
        with document(doc):
            for cue in cues:
                for part in parts:
                    if cue.rx.search(part):
                        assert cue.possible(part), (cue.pattern[:80], part)
        for cue in cues:
            if cue.rx.search(doc):
                assert cue.possible(doc)


def test_a_cue_narrowed_to_the_document_finds_what_its_whole_regex_finds():
    """Inside a document a rule runs only the alternatives whose literals the document holds (a smaller,
    faster regex): over every sentence of the dev timelines it returns the very matches of the whole one."""
    cues = _cues()
    texts = [a["title"] + "\n\n" + a["text"] for t in load() if t["split"] == "dev" for a in t["articles"]]
    narrowed = 0
    for doc in texts:
        parts = [doc, *re.split(r"(?<=[.!?])\s+|\n\n", doc)]
        with document(doc):
            for cue in cues:
                for part in parts:
                    got = [(m.span(), m.group()) for m in cue.finditer(part)]
                    assert got == [(m.span(), m.group()) for m in cue.rx.finditer(part)], (cue.pattern[:80], part)
                    if got and cue._regex() is not cue.rx:
                        narrowed += 1
    assert narrowed > 100  # the narrowed regexes did the matching


def test_narrowing_keeps_leftmost_first_alternation():
    def build(pats):
        return rf"(?<![^\W_])(?:{'|'.join(f'(?:{p})' for p in pats)})(?![^\W_])"

    cue = Cue.alternation(["truce", "cease", "cease-?fire( now)?", "waffenruhe"], build, re.IGNORECASE)
    doc = "A CEASEFIRE now, then a truce; cease!"
    with document(doc):
        assert [m.group() for m in cue.finditer(doc)] == ["CEASEFIRE now", "truce", "cease"]
        assert "waffenruhe" not in cue._regex().pattern and "truce" in cue._regex().pattern
    assert [m.group() for m in cue.finditer(doc)] == [m.group() for m in cue.rx.finditer(doc)]


def _mentions(enricher, title: str, text: str, lang: str):
    at = datetime(2024, 5, 1, 12, tzinfo=UTC)
    return enricher.enrich([RawArticle(id="x", title=title, content=text, lang=lang, published_at=at)])[0].ceasefires


def test_a_side_whose_name_ends_in_an_agrees(enricher):
    (m,) = _mentions(enricher, "Border truce", "Tajikistan and Pakistan agreed to a ceasefire on Monday.", "en")
    assert {p.name for p in m.parties} == {"Tajikistan", "Pakistan"} and [c.state for c in m.states] == ["agreed"]


@pytest.mark.parametrize("text", ["On 10 May India and Pakistan agreed to a ceasefire.",
                                  "In May, Thailand and Cambodia signed a truce."])
def test_the_month_may_is_no_modal(enricher, text):
    (m,) = _mentions(enricher, "Truce", text, "en")
    assert [c.state for c in m.states] == ["agreed"]


@pytest.mark.parametrize(("lang", "text", "mediator", "state"), [
    ("en", "The United States proposed a 30-day truce, which Ukraine accepted on Tuesday.", "United States", "proposed"),
    ("en", "Ukraine agreed to the US proposal for a 30-day ceasefire.", "United States", "proposed"),
    ("en", "Israel and Hamas agreed to the Egyptian proposal for a ceasefire.", "Egypt", "agreed"),
    ("fr", "Le Hamas a accepté la proposition égyptienne de trêve, Israël n'a pas répondu.", "Egypt", "proposed"),
    ("es", "Ucrania aceptó la propuesta estadounidense de una tregua de 30 días.", "United States", "proposed"),
    ("ru", "Украина согласилась на предложение США о 30-дневном перемирии.", "United States", "proposed"),
])
def test_the_proposer_mediates_and_one_sides_acceptance_is_no_agreement(enricher, lang, text, mediator, state):
    (m,) = _mentions(enricher, "News", text, lang)
    assert mediator not in {p.name for p in m.parties} and [p.name for p in m.mediators] == [mediator]
    assert [c.state for c in m.states] == [state]


def test_a_comma_ends_the_mediation_phrase(enricher):
    (m,) = _mentions(enricher, "Trêve", "Sous l'égide de la France, la Russie a accepté un plan de cessez-le-feu pour "
                     "mettre fin aux combats en Géorgie.", "fr")
    assert {p.name for p in m.parties} == {"Russia", "Georgia"} and [p.name for p in m.mediators] == ["France"]
    assert [c.state for c in m.states] == ["proposed"]  # one side's acceptance: still a proposal


def test_the_pair_named_together_are_the_sides_not_the_mediator_beside_them(enricher):
    (m,) = _mentions(enricher, "Ceasefire", "Russia said Turkey and the Syrian Democratic Forces agreed to a ceasefire "
                     "brokered by Moscow.", "en")
    assert {p.name for p in m.parties} == {"Turkey", "Syrian Democratic Forces"}


def test_a_truce_reported_by_its_town_alone_joins_that_towns_record(enricher):
    records: list[Record] = []
    for k, (title, text, lang) in enumerate([
        ("Hodeidah truce", "Yemen's government and the Houthi rebels agreed to a ceasefire in the port city of "
         "Hodeidah on Thursday.", "en"),
        ("Entra en vigor la tregua en Hodeida", "La tregua entró en vigor a medianoche, según la ONU.", "es"),
    ]):
        at = datetime(2018, 12, 13 + 5 * k, tzinfo=UTC)
        ev = enricher.enrich([RawArticle(id=f"a{k}", title=title, content=text, lang=lang, published_at=at)])[0]
        apply_article(records, ArticleFacts(ev.id, ev.id, at, ev.lang, ev.ceasefires))
    (r,) = records
    assert sorted(r.links) == ["a0", "a1"] and [e.state for e in r.history] == ["agreed", "in_force"]
