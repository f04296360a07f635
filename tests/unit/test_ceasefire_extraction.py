"""Ceasefire mentions read from text (enrich/ceasefires.py), through the real enricher, no servers.

The seed article must give exactly two records (the energy pause agreed, the full ceasefire proposed
by the US and rejected); the cases below are our own sentences (not the tracker dev set), one per
rule and language; hard negatives give nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from api.tracker.merge import ArticleFacts, Record, apply_article
from services.events import EnrichedArticle, RawArticle
from tests.conftest import ROOT
from tests.eval.tracker import load, run_timeline

SEED = (ROOT / "tests" / "data" / "seed_article.txt").read_text(encoding="utf-8")
WHEN = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def enrich(enricher, title: str, text: str, lang: str | None = None, at: datetime = WHEN) -> EnrichedArticle:
    return enricher.enrich([RawArticle(id="t", title=title, content=text, lang=lang, published_at=at)])[0]


def records_of(ev: EnrichedArticle) -> list[Record]:
    records: list[Record] = []
    apply_article(records, ArticleFacts(ev.id, ev.id, ev.article.published_at, ev.lang, ev.ceasefires))
    return records


def test_the_seed_gives_the_energy_pause_agreed_and_the_full_ceasefire_rejected(enricher):
    title, body = SEED.split("\n", 1)
    ev = enrich(enricher, title, body, at=datetime(2025, 3, 18, 19, 30, tzinfo=UTC))
    recs = {r.scope: r for r in records_of(ev)}
    assert sorted(recs) == ["energy_infrastructure", "full"]
    energy, full = recs["energy_infrastructure"], recs["full"]
    for r in (energy, full):
        assert [p.name for p in r.parties] == ["Russia", "Ukraine"] and r.duration_days == 30
        assert [p.name for p in r.mediators] == ["United States"]
    assert energy.title == "Russia–Ukraine: pause on strikes on energy infrastructure"
    assert [e.state for e in energy.history] == ["agreed"] and energy.state == "agreed"
    assert "Putin agreed to pause attacks on Ukrainian energy targets" in (energy.history[0].evidence or "")
    assert [e.state for e in full.history] == ["proposed", "rejected"] and full.state == "rejected"
    assert "proposed by the U.S." in (full.history[0].evidence or "")
    assert "refused to accept a full ceasefire" in (full.history[1].evidence or "")


CASES = [  # (lang, title, text, parties, mediators, scope, duration, states)
    ("en", "Ethiopia and Eritrea agree border truce",
     "Ethiopia and Eritrea agreed on Sunday to a 72-hour ceasefire along their border, the African Union said.",
     {"Ethiopia", "Eritrea"}, {"African Union"}, "full", 3, ["agreed"]),
    ("de", "Israel und Hamas einigen sich auf Feuerpause",
     "Israel und die Hamas haben sich auf eine viertägige Feuerpause geeinigt, teilte Katar mit.",
     {"Israel", "Hamas"}, {"Qatar"}, "full", 4, ["agreed"]),
    ("es", "Rusia y Ucrania pactan tregua en el mar Negro",
     "Rusia y Ucrania acordaron un alto el fuego de 30 días en el mar Negro, según Turquía.",
     {"Russia", "Ukraine"}, {"Turkey"}, "maritime", 30, ["agreed"]),
    ("ru", "Россия и Украина договорились о перемирии",
     "Россия и Украина договорились о 30-дневном перемирии на энергетических объектах.",
     {"Russia", "Ukraine"}, set(), "energy_infrastructure", 30, ["agreed"]),
    ("tr", "Rusya ve Ukrayna ateşkeste anlaştı", "Rusya ve Ukrayna 30 günlük ateşkes konusunda anlaştı.",
     {"Russia", "Ukraine"}, set(), "full", 30, ["agreed"]),
    ("fr", "Israël et le Hamas concluent une trêve",
     "Israël et le Hamas ont conclu une trêve de quatre jours sous l'égide du Qatar et de l'Égypte.",
     {"Israel", "Hamas"}, {"Qatar", "Egypt"}, "full", 4, ["agreed"]),
    ("ar", "إسرائيل وحماس تتفقان على هدنة", "اتفقت إسرائيل وحماس على هدنة إنسانية لمدة أربعة أيام بوساطة قطرية ومصرية.",
     {"Israel", "Hamas"}, {"Qatar", "Egypt"}, "humanitarian", 4, ["agreed"]),
    ("en", "Army declares unilateral truce",
     "Myanmar's military declared a unilateral ceasefire for two weeks with immediate effect.",
     {"Tatmadaw", "People's Defence Force"}, set(), "unilateral", 14, ["agreed", "in_force"]),
    ("uk", "Україна і Росія погодили великоднє перемир'я", "Україна і Росія погодили великоднє перемир'я на три дні.",
     {"Ukraine", "Russia"}, set(), "holiday", 3, ["agreed"]),
]


@pytest.mark.parametrize(("lang", "title", "text", "parties", "mediators", "scope", "days", "states"), CASES,
                         ids=[f"{c[0]}-{c[5]}" for c in CASES])
def test_one_mention_with_its_sides_terms_and_states(enricher, lang, title, text, parties, mediators, scope, days,
                                                     states):
    (rec,) = records_of(enrich(enricher, title, text, lang))
    assert {p.name for p in rec.parties} == parties and {p.name for p in rec.mediators} == mediators
    assert (rec.scope, rec.duration_days, [e.state for e in rec.history]) == (scope, days, states)


NEGATIVES = [  # our own: the ceasefire words used of something else
    ("Airlines call truce in fare war", "Two budget airlines agreed a truce in their price war until the summer."),
    ("Tennis rivals declare truce", "The two tennis stars declared a truce after their heated final at the tournament."),
    ("Parties agree budget truce", "Parliament's two largest parties agreed a budget truce until the summer recess."),
    ("Armistice anniversary", "Veterans gathered to mark the 80th anniversary of the armistice that ended the war."),
    ("US and China extend tariff truce", "Washington and Beijing extended their tariff truce by 90 days."),
    ("Operation Ceasefire expands", "The city council expanded Operation Ceasefire, its gun violence programme."),
    ("Regional airline ceased operations", "The carrier ceased operations on Monday and suspended all flights."),
]


@pytest.mark.parametrize(("title", "text"), NEGATIVES, ids=[n[0] for n in NEGATIVES])
def test_hard_negatives_create_nothing(enricher, title, text):
    assert records_of(enrich(enricher, title, text, "en")) == []


NEGATIVE_TIMELINES = [t for t in load() if t["split"] == "dev" and not t["ceasefires"]]


@pytest.mark.parametrize("timeline", NEGATIVE_TIMELINES, ids=[t["id"] for t in NEGATIVE_TIMELINES])
def test_dev_hard_negative_timelines_create_nothing(enricher, timeline):
    assert run_timeline(timeline, enricher) == []


def test_an_article_about_something_else_costs_one_search(enricher):
    ev = enrich(enricher, "Central bank holds rates", "The central bank kept its benchmark rate unchanged.")
    assert ev.ceasefires == []


def test_extraction_and_merge_are_pure():
    code = ("import sys, json; import enrich.ceasefires, api.tracker.merge; "
            "print(json.dumps([m for m in ('aiokafka', 'sqlalchemy', 'httpx', 'fastapi', 'starlette') if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert json.loads(out.stdout) == []
