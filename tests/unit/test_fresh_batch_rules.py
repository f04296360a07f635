"""Rule classes found by the fresh dev batch (tests/data/lang/fresh_dev.jsonl, README_fresh.md).

Why: each case below is a class of error the batch exposed before any rule was changed (an inflection or
word order a cue list lacked, a negative word that also means something else, a scoped truce with a
duration in the middle, a Bulgarian headline read as Russian). The cases are worded for this test, not
copied from the batch, so they fail if the rule class breaks rather than if one item changes.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from enrich.pipeline import Enricher
from services.events import RawArticle

T0 = datetime(2026, 3, 18, tzinfo=UTC)


def tag(enricher: Enricher, title: str, text: str = "") -> tuple[set[str], str | None, str]:
    out = enricher.enrich([RawArticle(id="f", title=title, content=text, published_at=T0)])[0]
    return {t.name for t in out.topics}, out.state, out.lang


# (language, headline, body, state): ceasefire and state expected.
POSITIVES = [
    # 'golf' (sports negative) must not read the Romance "Gulf" (golfo, golfe)
    ("es", "El Gobierno ofrece un cese al fuego a las milicias del Golfo de Urabá", "", "proposed"),
    ("fr", "Les Houthis rejettent un cessez-le-feu dans le golfe d'Aden", "", "rejected"),
    # German 'Flammen' (firefighting) is the noun; "Kämpfe flammen auf" is fighting flaring up
    ("de", "Waffenruhe in Tripolis gescheitert, Gefechte flammen erneut auf", "", "collapsed"),
    # a duration between the truce noun and its scope (air / sea)
    ("fr", "Paris propose une trêve d'un mois dans les airs", "", "proposed"),
    ("es", "Madrid plantea una tregua de dos semanas en el aire", "", "proposed"),
    # strike moratoria and Black Sea truces are truces without another war word
    ("uk", "Мораторій на удари по енергетиці продовжили до травня", "", "extended"),
    ("ru", "Черноморское перемирие продлили ещё на месяц", "", "extended"),
    ("de", "Das Energie-Moratorium zwischen Moskau und Kiew ist in Kraft getreten", "", "agreed"),
    ("bg", "Анкара предлага примирие в Черно море за търговските кораби", "", "proposed"),
    # state cues: inflections and word orders
    ("en", "Militia leaders float a week-long truce in Tripoli", "", "proposed"),
    ("en", "Shelling resumes in Sumy hours into the Easter ceasefire", "", "violated"),
    ("de", "Papst regt eine Waffenruhe zum Osterfest im Sudan an", "", "proposed"),
    ("fr", "Kinshasa et le M23 signent un cessez-le-feu", "", "agreed"),
    ("pl", "Rozejm w Strefie Gazy nie wytrzymał nawet tygodnia", "", "collapsed"),
    ("nl", "Bestand tussen Thailand en Cambodja blijft voorlopig stand te houden", "", "in_force"),
    ("ja", "停戦期間中も砲撃　ウクライナ軍が発表", "", "violated"),
    ("ar", "هدوء حذر في حمص مع صمود التهدئة", "", "in_force"),
]


@pytest.mark.parametrize(("lang", "title", "text", "state"), POSITIVES, ids=[f"{p[0]}-{p[3]}-{k}" for k, p in enumerate(POSITIVES)])
def test_fresh_batch_rule_classes(enricher: Enricher, lang: str, title: str, text: str, state: str) -> None:
    topics, got_state, got_lang = tag(enricher, title, text)
    assert got_lang == lang, (title, got_lang)
    assert "ceasefire" in topics, (lang, title)
    assert got_state == state, (lang, title, got_state)


# A Japanese anniversary of a decades-old armistice is history, not ceasefire news.
def test_old_armistice_anniversary_is_not_a_ceasefire(enricher: Enricher) -> None:
    topics, state, _ = tag(enricher, "朝鮮戦争の休戦協定から70年　板門店で式典")
    assert "ceasefire" not in topics and state is None


# (language, headline, topic): other topics the batch showed rules missing.
OTHER = [
    ("uk", "США пропонують енергетичне перемир'я на місяць", "energy_infrastructure_strike"),
    ("fr", "Berlin plaide pour une trêve énergétique avant l'hiver", "energy_infrastructure_strike"),
    ("pt", "Bombardeio russo com drones deixa Odessa sem luz", "energy_infrastructure_strike"),
    ("de", "Berlin liefert der Ukraine ein weiteres Patriot-System", "military_aid"),
    ("de", "Im Gegenzug sollen 30 Geiseln schon am Montag freikommen, vereinbart ist eine Waffenruhe", "prisoner_exchange"),
    ("ar", "دخول 60 شاحنة مساعدات إلى رفح", "humanitarian_aid"),
    ("fr", "Des camions d'aide entrent enfin à Gaza", "humanitarian_aid"),
    ("fr", "Au Soudan du Sud, un cessez-le-feu conclu sous l'égide de l'Union africaine met fin aux combats", "peace_talks"),
]


@pytest.mark.parametrize(("lang", "title", "topic"), OTHER, ids=[f"{o[0]}-{o[2]}" for o in OTHER])
def test_fresh_batch_other_topics(enricher: Enricher, lang: str, title: str, topic: str) -> None:
    topics, _, got_lang = tag(enricher, title)
    assert got_lang == lang, (title, got_lang)
    assert topic in topics, (lang, title, topics)
