"""The bundled demo feed (deploy/demo/demo.rss): four outlets' reports of the same Putin–Trump call fold into
the seed's two records, and the two rules its reports needed, each also on short texts of our own.

1. The leaders who agree on a call are not always the warring sides: "Trump and Putin agree ..." in a report
   naming Ukraine is a Russia–Ukraine ceasefire the US brokered (the theatre's pair), not a Russia–US one.
2. A refusal is of the ceasefire its own sentence names: "turned down the 30-day ceasefire" followed by
   "talks on a maritime truce" does not make the maritime truce rejected.
"""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import pytest

from api.tracker.merge import ArticleFacts, Record, apply_article
from services.events import CeasefireMention, EnrichedArticle, RawArticle
from tests.conftest import ROOT

WHEN = datetime(2025, 3, 18, 21, 0, tzinfo=UTC)
CALL = ("putin-trump-energy-pause", "bosphorus-energy-halt", "danube-energy-truce", "atlantic-partial-ceasefire")


def demo_items() -> dict[str, tuple[str, str, datetime]]:
    root = ET.parse(ROOT / "deploy" / "demo" / "demo.rss").getroot()
    return {(it.findtext("link") or "").rsplit("/", 1)[-1]: (it.findtext("title") or "", it.findtext("description") or "",
                                                              parsedate_to_datetime(it.findtext("pubDate") or ""))
            for it in root.iter("item")}


def enrich(enricher, title: str, text: str, at: datetime = WHEN, id_: str = "t") -> EnrichedArticle:
    return enricher.enrich([RawArticle(id=id_, title=title, content=text, lang="en", published_at=at)])[0]


def fold(*articles: EnrichedArticle) -> list[Record]:
    records: list[Record] = []
    for ev in articles:
        apply_article(records, ArticleFacts(ev.id, ev.id, ev.article.published_at, ev.lang, ev.ceasefires))
    return records


def names(refs) -> list[str]:
    return sorted(p.name for p in refs)


def by_scope(mentions: list[CeasefireMention], scope: str) -> list[CeasefireMention]:
    return [m for m in mentions if m.scope == scope]


# -- 1. the warring pair, not the two leaders on the phone -------------------------------------------------

OUTSIDER_CASES = [  # our own: one side and an outsider agree; the other side is named elsewhere in the report
    ("Washington and Moscow agree halt to strikes on power plants",
     "Washington and Moscow agreed on Friday to a pause in attacks on energy facilities, officials said. "
     "Kyiv said it would observe the pause on strikes against its power grid."),
    ("Trump and Putin agree pause on attacks on power plants",
     "The two leaders agreed in a phone call to pause attacks on power plants. Ukraine welcomed the step."),
]


@pytest.mark.parametrize(("title", "text"), OUTSIDER_CASES, ids=["capitals", "leaders"])
def test_an_outsider_who_agrees_with_one_side_is_the_mediator(enricher, title, text):
    (rec,) = fold(enrich(enricher, title, text))
    assert names(rec.parties) == ["Russia", "Ukraine"] and names(rec.mediators) == ["United States"]
    assert (rec.scope, rec.state) == ("energy_infrastructure", "agreed")


def test_two_fighting_states_that_agree_stay_the_sides_whatever_war_the_report_also_names(enricher):
    (rec,) = fold(enrich(enricher, "Israel and Iran agree to a ceasefire",
                         "Israel and Iran agreed to a ceasefire on Monday after twelve days of strikes. "
                         "Fighting in Gaza between Israel and Hamas went on."))
    assert names(rec.parties) == ["Iran", "Israel"] and rec.mediators == []


def test_the_atlantic_report_is_a_russia_ukraine_energy_pause_brokered_by_the_us(enricher):
    title, text, at = demo_items()["atlantic-partial-ceasefire"]
    assert title == "Trump and Putin agree partial ceasefire on energy infrastructure"
    (energy,) = by_scope(enrich(enricher, title, text, at).ceasefires, "energy_infrastructure")
    assert names(energy.parties) == ["Russia", "Ukraine"] and names(energy.mediators) == ["United States"]
    assert [c.state for c in energy.states] == ["agreed"]


# -- 2. a refusal stays with the ceasefire its sentence names ---------------------------------------------

def test_a_refusal_of_one_truce_is_not_given_to_the_truce_named_next(enricher):
    ev = enrich(enricher, "Kremlin halts strikes on Ukraine's power grid",
                "Putin told Trump on Tuesday that Moscow would stop hitting Ukraine's energy infrastructure for 30 days. "
                "Putin turned down the 30-day ceasefire that Washington had put forward and Kyiv had already endorsed. "
                "The White House said the two presidents would start talks on a maritime truce in the Black Sea.")
    for scope in ("energy_infrastructure", "maritime"):
        assert all("rejected" not in {c.state for c in m.states} for m in by_scope(ev.ceasefires, scope)), scope
    (refused,) = [m for m in ev.ceasefires if "rejected" in {c.state for c in m.states}]
    assert refused.scope in (None, "full") and refused.duration_days == 30
    assert "turned down" in next(c.evidence for c in refused.states if c.state == "rejected")


def test_a_broader_ceasefire_is_the_full_one(enricher):
    ev = enrich(enricher, "Putin rejects broader truce",
                "Russia turned down a broader ceasefire with Ukraine but agreed to halt strikes on power plants.")
    assert {m.scope for m in ev.ceasefires if "rejected" in {c.state for c in m.states}} == {"full"}


def test_the_bosphorus_report_rejects_the_full_ceasefire_not_a_maritime_one(enricher):
    title, text, at = demo_items()["bosphorus-energy-halt"]
    assert "turned down the broader 30-day ceasefire" in text and "maritime truce in the Black Sea" in text
    records = fold(enrich(enricher, title, text, at))
    states = {r.scope: [e.state for e in r.history] for r in records}
    assert states.get("full") == ["proposed", "rejected"] and states.get("energy_infrastructure") == ["agreed"]
    assert states.get("maritime", ["proposed"]) == ["proposed"]


# -- the four reports together --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def call_reports(enricher) -> list[EnrichedArticle]:
    items = demo_items()
    return [enrich(enricher, *items[slug], id_=slug) for slug in CALL]


def test_the_four_reports_of_the_call_give_the_seeds_two_records_in_any_order(call_reports):
    for order in itertools.permutations(call_reports):
        records = fold(*order)
        got = {r.scope: r for r in records}
        assert len(got) == len(records), [r.title for r in records]
        assert set(got) - {"maritime"} == {"energy_infrastructure", "full"}, [r.title for r in records]
        energy, full = got["energy_infrastructure"], got["full"]
        for r in (energy, full):
            assert names(r.parties) == ["Russia", "Ukraine"] and names(r.mediators) == ["United States"]
        assert [e.state for e in energy.history] == ["agreed"] and sorted(energy.links) == sorted(CALL)
        assert [e.state for e in full.history] == ["proposed", "rejected"] and full.duration_days == 30
        if "maritime" in got:
            assert [e.state for e in got["maritime"].history] == ["proposed"]
            assert names(got["maritime"].parties) == ["Russia", "Ukraine"]


def test_one_clause_naming_two_truces_of_different_scopes_gives_each_its_own_cues(enricher):
    ev = enrich(enricher, "Moscow welcomes energy truce, spurns complete ceasefire",
                "Russia said it would rather keep fighting in Ukraine than accept a Western plan.")
    (energy,) = by_scope(ev.ceasefires, "energy_infrastructure")
    assert "rejected" not in {c.state for c in energy.states}
    assert [m.scope for m in ev.ceasefires if "rejected" in {c.state for c in m.states}] == ["full"]
