"""Rules added while generalising to the "fresh" timelines (tl53-tl67), each checked on our own sentences
(not the timelines' wording): holiday words bounded, a warring pair not taken for mediators, specified
calls as proposals, an armed group's war supplying the other side, more places, scopes and cue words."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.events import EnrichedArticle, RawArticle

WHEN = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def mention(enricher, lang: str, title: str, text: str = ""):
    ev: EnrichedArticle = enricher.enrich([RawArticle(id="g", title=title, content=text, lang=lang, published_at=WHEN)])[0]
    assert len(ev.ceasefires) == 1, ev.ceasefires
    return ev.ceasefires[0]


def names(refs) -> list[str]:
    return sorted(r.name for r in refs)


def test_eid_is_not_read_inside_a_town_name(enricher):
    m = mention(enricher, "en", "Sudanese army turns down call for Kadugli truce")
    assert m.occasion is None and m.scope == "local"
    assert [c.state for c in m.states] == ["proposed", "rejected"]


def test_the_warring_pair_before_a_list_of_mediators_stays_the_sides(enricher):
    m = mention(enricher, "tr", "Rusya ile Ukrayna, Türkiye ve BM'nin arabuluculuğunda ateşkes konusunda anlaştı.")
    assert names(m.parties) == ["Russia", "Ukraine"]
    assert names(m.mediators) == ["Turkey", "United Nations"]


def test_a_specified_call_is_a_proposal_and_its_caller_a_mediator(enricher):
    m = mention(enricher, "en", "UN seeks Kadugli truce",
                "The United Nations called for a one-week humanitarian truce in Kadugli between the Sudanese army and the RSF.")
    assert [c.state for c in m.states] == ["proposed"] and not m.call_only
    assert names(m.mediators) == ["United Nations"] and m.scope == "humanitarian"


def test_a_bare_call_proposes_nothing(enricher):
    m = mention(enricher, "en", "Pope calls for ceasefire", "The pope called for a ceasefire between Israel and Hamas.")
    assert m.call_only and m.states == []


@pytest.mark.parametrize(("lang", "title", "parties"), [
    ("en", "M23 declares unilateral ceasefire", ["Democratic Republic of the Congo", "M23"]),
    ("es", "El ELN anunció una tregua unilateral de cinco días durante la Semana Santa.", ["Colombia", "ELN"]),
])
def test_an_armed_group_brings_its_war(enricher, lang, title, parties):
    m = mention(enricher, lang, title)
    assert names(m.parties) == parties and m.unilateral


def test_a_holiday_a_few_words_after_the_truce(enricher):
    m = mention(enricher, "es", "El ELN anunció una tregua unilateral de cinco días durante la Semana Santa.")
    assert m.scope == "holiday" and m.occasion == "Easter" and m.duration_days == 5


def test_karabakh_names_its_war(enricher):
    m = mention(enricher, "tr", "Karabağ'da ateşkes bozuldu.")
    assert names(m.parties) == ["Armenia", "Azerbaijan"] and [c.state for c in m.states] == ["collapsed"]


def test_an_evacuation_truce_is_humanitarian(enricher):
    m = mention(enricher, "es", "Rusia y Ucrania acordaron un alto el fuego para evacuar a los civiles de Sumy.")
    assert m.scope == "humanitarian" and [c.state for c in m.states] == ["agreed"]


def test_halting_all_firing_is_a_ceasefire(enricher):
    m = mention(enricher, "en", "Israel and Hamas agreed to halt all firing from midnight.")
    assert names(m.parties) == ["Hamas", "Israel"] and [c.state for c in m.states] == ["agreed"]


def test_quitting_the_deal_ends_it(enricher):
    m = mention(enricher, "en", "Russia withdrew from the Black Sea shipping deal, ending the arrangement with Ukraine.")
    assert [c.state for c in m.states] == ["collapsed"] and m.scope == "maritime"


def test_a_towns_truce_joins_the_humanitarian_pause_of_that_town(enricher):
    from api.tracker.merge import ArticleFacts, Record, apply_article

    records: list[Record] = []
    for k, (title, text) in enumerate([
            ("Russia and Ukraine agree evacuation pause for Sumy",
             "Russia and Ukraine agreed to a ceasefire to evacuate civilians from Sumy through a humanitarian corridor."),
            ("Sumy ceasefire collapses", "The ceasefire in Sumy collapsed within hours as shelling resumed.")]):
        at = datetime(2022, 3, 7 + k, 9, tzinfo=UTC)
        ev = enricher.enrich([RawArticle(id=f"s{k}", title=title, content=text, lang="en", published_at=at)])[0]
        apply_article(records, ArticleFacts(ev.id, ev.id, at, ev.lang, ev.ceasefires))
    assert [(r.scope, [e.state for e in r.history]) for r in records] == [("humanitarian", ["agreed", "collapsed"])]


@pytest.mark.parametrize(("lang", "title"), [
    ("fr", "La trêve entre l'Arménie et l'Azerbaïdjan, négociée par la Russie, a été signée."),
    ("en", "Armenia and Azerbaijan agreed to a truce at UN-sponsored talks in Geneva."),
])
def test_negotiated_by_and_sponsored_name_the_mediator(enricher, lang, title):
    m = mention(enricher, lang, title)
    assert names(m.parties) == ["Armenia", "Azerbaijan"] and len(m.mediators) == 1
