"""Gazetteer entries added for the story-grouping dev errors (Gorbachev, Messi, the Suez Canal blockage, ...).

Why: stories are joined across languages by entity id, so each new entity must be found with the same id in
the scripts the reports come in, and its ambiguous short forms ("Barcelona" the city, another country's
"Congress", a bare "Harris" or "Suez") must not link to it.
"""

from __future__ import annotations

import pytest

from enrich.gazetteer import Gazetteer, default_gazetteer


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return default_gazetteer()


def ids(gaz: Gazetteer, text: str, lang: str) -> set[str]:
    return {m.entity.id for m in gaz.find(text, lang=lang)}


SAME_ID = [
    ("Q30487", [("Mikhail Gorbachev died", "en"), ("Умер Михаил Горбачёв", "ru"),
                              ("Помер Михайло Горбачов", "uk"), ("وفاة ميخائيل غورباتشوف", "ar"),
                              ("درگذشت میخائیل گورباچف", "fa"), ("מיכאיל גורבצ'וב מת", "he")]),
    ("Q615", [("Messi leaves", "en"), ("Месси покидает клуб", "ru"), ("ميسي يغادر", "ar"),
                         ("מסי עוזב", "he"), ("Messi ayrılıyor", "tr")]),
    ("ww:suez-canal", [("ship blocks the Suez Canal", "en"), ("سفينة تغلق قناة السويس", "ar"),
                       ("Судно перекрыло Суэцкий канал", "ru"), ("Süveyş Kanalı kapandı", "tr"),
                       ("le canal de Suez bloqué", "fr"), ("Schiff blockiert Suezkanal", "de")]),
    ("Q10853588", [("Kamala Harris concedes", "en"), ("كامالا هاريس تعترف", "ar"),
                          ("Камала Харрис признала", "ru"), ("קמלה האריס", "he")]),
    ("Q15180", [("the collapse of the Soviet Union", "en"), ("распад СССР", "ru"),
                         ("розпад СРСР", "uk"), ("انهيار الاتحاد السوفيتي", "ar"), ("Sovyetler Birliği", "tr")]),
]


@pytest.mark.parametrize(("eid", "forms"), SAME_ID, ids=[e for e, _ in SAME_ID])
def test_new_entity_has_one_id_in_every_script(gaz: Gazetteer, eid: str, forms: list[tuple[str, str]]) -> None:
    assert gaz.by_id(eid) is not None
    missed = [(text, lang) for text, lang in forms if eid not in ids(gaz, text, lang)]
    assert missed == []


@pytest.mark.parametrize(
    ("text", "lang", "not_id"),
    [
        ("Tourists flock to Barcelona this summer", "en", "Q7156"),
        ("Turistas llenan Barcelona en verano", "es", "Q7156"),
        ("El Congreso de Perú aprobó la ley", "es", "Q11268"),
        ("Harris Tweed sales rose", "en", "Q10853588"),
        ("Protesters gathered at the Capitole in Toulouse", "fr", "ww:us-capitol"),
        ("A factory opened in the city of Suez", "en", "ww:suez-canal"),
        ("Lyndon Johnson signed the act", "en", "Q180589"),
    ],
)
def test_ambiguous_words_do_not_link(gaz: Gazetteer, text: str, lang: str, not_id: str) -> None:
    assert not_id not in ids(gaz, text, lang)


def test_club_and_authority_are_not_the_city_or_the_canal(gaz: Gazetteer) -> None:
    assert "Q7156" in ids(gaz, "FC Barcelona signs a striker", "en")
    assert "ww:suez-canal-authority" in ids(gaz, "the Suez Canal Authority said", "en")
    assert "ww:suez-canal" not in ids(gaz, "the Suez Canal Authority said", "en")
