"""Headline event kinds (enrich/event_kinds.py) and how the link rule weighs them (api/sink/linking.py).

Spec: a headline's kinds are what it says happened, main kind first; an "after …" clause is background;
generic kinds (deaths, arrests) never make a main kind; cue words of one kind inside another word do not
count ("abgefangen" is no prisoner, "לתוקף" is no attack, "اسرائیل" is no captive). Two reports of the same
parties on the same day whose main kinds each miss from the other headline are evidence of two events; a
shared kind is evidence of one. The sentences are written for this test, not taken from the dev stream.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from api.sink.grouping import Grouping
from api.sink.linking import FEATURES, LinkRules, Profile, features, keys, kind_match, kinds_clash, linked
from enrich.event_kinds import KINDS_PATH, KindModel, kinds
from services.vocabulary import EVENT_KINDS, GENERIC_EVENT_KINDS


@pytest.mark.parametrize(("lang", "headline", "expected"), [
    ("en", "Sudan's army and RSF agree week-long truce in El Fasher", ["ceasefire"]),
    ("en", "Drone barrage sets Odesa fuel depot ablaze", ["attack"]),
    ("en", "Kyiv and Moscow trade 250 captives in UAE-brokered deal", ["prisoners"]),
    ("en", "Rebels seize Bunagana border post", ["capture"]),
    ("en", "Magnitude 6.8 quake jolts Hindu Kush, dozens dead", ["disaster", "killing"]),
    ("fr", "Cessez-le-feu à Gaza : les otages libérés en échange de prisonniers", ["ceasefire", "prisoners"]),
    ("es", "Ataque con misiles contra Járkov deja al menos 12 muertos", ["attack", "killing"]),
    ("de", "Gefangenenaustausch zwischen Moskau und Kiew", ["prisoners"]),
    ("ru", "Россия и Украина провели переговоры в Стамбуле", ["talks"]),
    ("uk", "Перемир'я на Великдень: Москва порушила його за годину", ["ceasefire"]),
    ("ar", "غارات جوية على خان يونس", ["attack"]),
    ("he", "הפסקת האש נכנסה לתוקף בצפון", ["ceasefire"]),
    ("zh", "以色列与哈马斯达成停火协议", ["ceasefire"]),
    ("ja", "ウクライナ東部でミサイル攻撃", ["attack"]),
])
def test_headlines_get_their_kinds_main_first(lang: str, headline: str, expected: list[str]) -> None:
    assert kinds(headline, lang) == expected


@pytest.mark.parametrize(("lang", "headline", "not_kind"), [
    ("de", "Luftabwehr hat fast alle Geschosse abgefangen", "prisoners"),  # intercepted, not captives
    ("he", "ההסכם נכנס לתוקף הלילה", "attack"),  # "into force", not "attacks"
    ("fa", "سفر وزیر خارجه به اسرائیل لغو شد", "prisoners"),  # Israel, not captives
    ("ar", "السماح بدخول المساعدات إلى غزة", "capture"),  # aid let in, not a city taken
])
def test_cue_words_inside_other_words_do_not_count(lang: str, headline: str, not_kind: str) -> None:
    assert not_kind not in kinds(headline, lang)


@pytest.mark.parametrize(("lang", "headline", "expected"), [
    ("en", "Turkey closes border crossing after weekend shelling", ["measure"]),
    ("en", "Hostages freed a day after Doha talks", ["prisoners"]),
    ("de", "Nach dem Raketenangriff: Kiew bittet um Flugabwehr", []),
    ("fr", "Manifestation à Tbilissi après l'arrestation d'un opposant", ["protest"]),
])
def test_an_after_clause_is_background(lang: str, headline: str, expected: list[str]) -> None:
    assert kinds(headline, lang) == expected


def test_no_cues_no_kinds() -> None:
    assert kinds("Markets open flat ahead of the holiday", "en") == []
    assert kinds("ceasefire", "xx") == [] and kinds("", "en") == [] and kinds("ceasefire", None) == []


def test_the_data_names_only_vocabulary_kinds(tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(KINDS_PATH.read_text(encoding="utf-8"))
    assert set(data["kinds"]) == set(EVENT_KINDS)
    assert {k for k, v in data["kinds"].items() if v.get("generic")} == GENERIC_EVENT_KINDS
    data["kinds"]["picnic"] = {"cues": {"en": ["picnic"]}}
    bad = tmp_path / "kinds.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError, match="picnic"):
        KindModel.load(bad)


def test_kind_match_and_clash() -> None:
    assert kind_match(["ceasefire"], ["ceasefire", "talks"], 0.25) == 1.0
    assert kind_match(["attack", "killing"], ["disaster", "killing"], 0.25) == 0.25  # only a generic kind
    assert kind_match(["attack"], [], 0.25) == 0.0
    assert kinds_clash(["ceasefire"], ["attack"])
    assert kinds_clash(["prisoners", "talks"], ["ceasefire", "talks"])  # a shared minor kind is no shared event
    assert not kinds_clash(["attack", "ceasefire"], ["ceasefire"])  # "strikes since the truce" / "truce collapses"
    assert not kinds_clash(["killing"], ["attack"])  # a generic kind never decides
    assert not kinds_clash([], ["attack"])  # no kinds, no evidence


T0 = datetime(2025, 5, 10, 9, 0, tzinfo=UTC)
INDIA, PAKISTAN = "Q668", "Q843"


def _report(aid: str, hours: float, lang: str, headline_kinds: tuple[str, ...], topics: tuple[str, ...]) -> Profile:
    return Profile(article_id=aid, published_at=T0 + timedelta(hours=hours), lang=lang,
                   entities={INDIA: 0.75, PAKISTAN: 0.75}, title_entities=frozenset({INDIA, PAKISTAN}),
                   topics=frozenset(topics), kinds=headline_kinds,
                   terms={"kashmir": 2.5, "frontier": 2.0, "army": 1.0} if lang == "en" else {})


def test_same_parties_same_day_different_kinds_stay_two_stories() -> None:
    """A truce between India and Pakistan and the strikes of that morning share both states and the day; the
    kinds keep them apart, and the truce's reports join across languages."""
    rules = LinkRules()
    strikes = [_report("s-en", 0, "en", ("attack",), ()), _report("s-es", 1, "es", ("attack",), ())]
    truce = [_report("t-en", 8, "en", ("ceasefire",), ("ceasefire",)),
             _report("t-ru", 9, "ru", ("ceasefire", "talks"), ("ceasefire",))]
    assert not linked(strikes[0], truce[0], rules)
    assert linked(truce[0], truce[1], rules)
    g = Grouping(rules)
    for p in strikes + truce:
        g.add(p, keys(p))
    assert g.story_of["t-en"] == g.story_of["t-ru"] != g.story_of["s-en"]
    # without the kinds the same four reports are one story: the test is about the kinds
    blind = Grouping(rules)
    for p in strikes + truce:
        q = Profile(**{**p.__dict__, "kinds": ()})
        blind.add(q, keys(q))
    assert blind.story_of["t-en"] == blind.story_of["s-en"]


def test_kind_features_are_in_the_vector() -> None:
    a = _report("a", 0, "en", ("ceasefire",), ("ceasefire",))
    b = _report("b", 1, "en", ("attack",), ("ceasefire",))
    f = dict(zip(FEATURES, features(a, b, LinkRules()), strict=True))
    assert f["kind_clash"] == 1.0 and f["kind_match"] == 0.0


def test_profiles_keep_their_kinds_through_json() -> None:
    p = _report("a", 0, "en", ("ceasefire", "talks"), ("ceasefire",))
    assert Profile.from_json("a", p.to_json()).kinds == ("ceasefire", "talks")
    old = p.to_json()
    del old["k"]  # a profile stored before kinds existed
    assert Profile.from_json("a", old).kinds == ()
