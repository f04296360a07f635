"""Rule classes found by the ninth fresh dev batch (tests/data/lang/fresh9_dev.jsonl, README_fresh9.md).

Why: unseen, the batch missed German military aid entirely (separable "sagte … zu" with many words between,
"Rüstungspaket", drones "finanziert"), tagged sanctions on six articles that mention them only in a background
sentence (past perfect, "last year", a threat of sanctions, fr "par ailleurs", he "בעבר"), and read no state or
the wrong one for idioms such as de "übersteht die erste Woche", "ist Geschichte", en "sign off on", fr
"suggère", "n'a pas résisté", he "השיב בשלילה". Four probe rounds afterwards (165 items, none added to a set)
found more truces told without the usual noun (en "stop shooting", fr "faire taire les armes", "cesser le feu"),
state idioms ("teeters", "scraps", "Abfuhr", "allongent", "ביטלה") and other-topic wordings. The cases are
worded for this test, not copied from the batch or the probes; each fails on the rules of commit e70cb92 (before
this batch's rule changes) unless it is marked a control.
"""

from __future__ import annotations

import pytest

from enrich.pipeline import Enricher
from tests.unit.tagging import tagger

tag = tagger("f9")


# (language, headline, state): ceasefire and this state expected (new truce words, new state verbs, or both).
STATES = [
    ("de", "Feuerpause in Hodeida übersteht das erste Wochenende", "in_force"),
    ("de", "Die Osterwaffenruhe in der Ukraine ist Geschichte", "collapsed"),
    ("de", "Armee und Rebellen werfen sich Missachtung der Waffenruhe vor", "violated"),
    ("de", "Waffenruhe im Sudan gilt nach Vermittlung der Saudis drei weitere Wochen", "extended"),
    ("de", "Russland erteilt Vorschlag für eine Feuerpause eine Abfuhr", "rejected"),
    ("de", "Kiew und Moskau dehnen ihre Energie-Waffenruhe um einen Monat aus", "extended"),
    ("en", "Kinshasa and the M23 sign off on a two-week pause in eastern Congo", "agreed"),
    ("en", "Yemen's warring sides commit to stop shooting during Ramadan", "agreed"),
    ("en", "Guns stay silent in Kashmir for a third week", "in_force"),
    ("en", "Lebanon truce teeters after Israeli drone strike in Tyre", "violated"),
    ("en", "Kremlin scraps its Orthodox Christmas pause in Ukraine", "collapsed"),
    ("fr", "L'Égypte suggère une trêve de dix jours à Gaza", "proposed"),
    ("fr", "Au Soudan, la trêve de l'Aïd n'a pas résisté aux combats", "collapsed"),
    ("fr", "RDC : Kinshasa et le M23 allongent leur trêve de deux semaines", "extended"),
    ("fr", "Birmanie : junte et rebelles se rejettent la faute après une rupture de la trêve", "violated"),
    ("fr", "Soudan : l'armée et les FSR s'engagent à cesser le feu pendant le ramadan", "agreed"),
    ("he", "חיזבאללה השיב בשלילה להצעת הפסקת האש", "rejected"),
    ("he", "צבא רוסיה ביטל את הפסקת האש של חג המולד", "collapsed"),
    ("he", "הרגיעה בגבול לבנון נמשכת כבר שלושה שבועות", "in_force"),
]


@pytest.mark.parametrize(("lang", "title", "state"), STATES, ids=[f"{s[0]}-{s[2]}-{k}" for k, s in enumerate(STATES)])
def test_ceasefire_and_state_in_new_wordings(enricher: Enricher, lang: str, title: str, state: str) -> None:
    topics, got = tag(enricher, title)
    assert "ceasefire" in topics, title
    assert got == state, (title, got)


# (headline, body, topics expected among the tags)
OTHER_TOPICS = [
    ("Bundesregierung schnürt neues Rüstungspaket für die Ukraine", "", {"military_aid"}),
    ("Berlin hilft Kiew", "Die Regierung sagte der Ukraine weitere Flugabwehrsysteme, Munition und Ersatzteile im "
     "Wert von 800 Millionen Euro für den Winter zu.", {"military_aid"}),
    ("Dänemark finanziert Langstreckendrohnen für die ukrainische Armee", "", {"military_aid"}),
    ("Großbritannien setzt 30 Schiffe der russischen Schattenflotte auf die schwarze Liste", "", {"sanctions"}),
    ("Ukrainische Soldaten nach zwei Jahren aus russischer Gefangenschaft heimgekehrt", "", {"prisoner_exchange"}),
    ("Sweden to bankroll 155mm shells for Ukraine", "", {"military_aid"}),
    ("Ukraine brings home 120 captives in a Gulf-mediated handover", "", {"prisoner_exchange"}),
    ("Militia hoists its flag over the Libyan town of Gharyan", "", {"territorial_change"}),
    ("Serbia and Kosovo envoys resume peace-treaty drafting in Brussels", "", {"peace_talks"}),
    ("La Norvège finance des obus pour l'armée ukrainienne", "", {"military_aid"}),
    ("Ukraine : 200 soldats capturés rendus à leurs familles après un échange", "", {"prisoner_exchange"}),
    ("מתקפת רחפנים השביתה את רשת החשמל בדניפרו", "", {"energy_infrastructure_strike"}),
    ("צבא סודאן השיב לשליטתו את העיר אל-עובייד", "", {"territorial_change"}),
]


@pytest.mark.parametrize(("title", "text", "expected"), OTHER_TOPICS, ids=[f"t{k}" for k in range(len(OTHER_TOPICS))])
def test_other_topics_in_new_wordings(enricher: Enricher, title: str, text: str, expected: set[str]) -> None:
    topics, _ = tag(enricher, title, text)
    assert expected <= topics, (title, topics)


# (headline, body, topic): a topic named only in a background sentence is not what the article is about.
BACKGROUND = [
    ("Niederlande liefern Haubitzen an die Ukraine",
     "Die Regierung in Den Haag schickt zwölf Panzerhaubitzen. Die EU hatte bereits im Winter neue Sanktionen gegen "
     "Russland verhängt.", "sanctions"),
    ("Rebels seize a key town in northern Myanmar",
     "The Arakan Army took the town after a week of fighting. Western governments sanctioned the junta's arms "
     "suppliers last year.", "sanctions"),
    ("Les rebelles s'emparent de la ville de Walikale",
     "Le M23 contrôle désormais la ville. Washington a de nouveau menacé Kigali de sanctions.", "sanctions"),
    ("צבא סודאן כבש את העיר ואד מדני",
     "הכוחות נכנסו לעיר אחרי קרבות של שבוע. ארה\"ב הטילה בעבר סנקציות על מפקדי הצבא.", "sanctions"),
    ("Le cessez-le-feu vole en éclats au Mali",
     "Les combats ont repris à Niono. La trêve, négociée par des chefs religieux en 2023, avait permis le retour "
     "des paysans.", "peace_talks"),
]


@pytest.mark.parametrize(("title", "text", "topic"), BACKGROUND, ids=[f"b{k}" for k in range(len(BACKGROUND))])
def test_background_mentions_do_not_tag(enricher: Enricher, title: str, text: str, topic: str) -> None:
    topics, _ = tag(enricher, title, text)
    assert topic not in topics, (title, topics)
    assert topics, title  # the article's own topic stays


# Hard negatives: no ceasefire.
NOT_CEASEFIRE = [
    ("Thousands gather in Compiègne 108 years after the Armistice", ""),
    ("משטרת ישראל: הפסקת האש בין משפחות הפשע בלוד נשמרת", ""),
    # controls (no tag on the old rules either)
    ("Waldbrand unter Kontrolle: Feuerwehr meldet Feuer aus", ""),
    ("Le chausseur historique cesse son activité", ""),
    ("Beloved bookshop to cease trading after 60 years", ""),
]


@pytest.mark.parametrize(("title", "text"), NOT_CEASEFIRE, ids=[f"n{k}" for k in range(len(NOT_CEASEFIRE))])
def test_hard_negatives_stay_untagged(enricher: Enricher, title: str, text: str) -> None:
    topics, _ = tag(enricher, title, text)
    assert "ceasefire" not in topics, (title, topics)


def test_controls_keep_their_tags(enricher: Enricher) -> None:
    """Controls: a sanctions headline and a mediated truce keep their topics next to the background class."""
    assert "sanctions" in tag(enricher, "EU imposes sanctions on five RSF commanders")[0]
    assert "sanctions" in tag(enricher, "Die EU verhängt neue Sanktionen gegen Russland")[0]
    assert "peace_talks" in tag(enricher, "Qatar-mediated truce takes effect in Gaza")[0]
    # an advance on a town is not a territorial change (fresh6 / fresh8 label it so)
    assert "territorial_change" not in tag(enricher, "Waffenstillstand gescheitert: M23 rückt auf Bukavu vor")[0]


# Aid and weapons triggers marked "local": "war" find their context in a country at war next to them, and in
# nothing else: aid to a flood- or quake-hit country and an arms purchase between two states at peace stay untagged.
LOCAL_WAR = [
    ("Berlin earmarks €2bn for Ukrainian air defence", "military_aid", True),
    ("Japan channels emergency relief to families displaced in southern Lebanon", "humanitarian_aid", True),
    ("Japan sends food aid to flood-hit Philippines", "humanitarian_aid", False),
    ("Deutschland schickt Hilfsgüter in das Erdbebengebiet in Marokko", "humanitarian_aid", False),
    ("Poland buys 250 Abrams tanks from the United States", "military_aid", False),
]


@pytest.mark.parametrize(("title", "topic", "tagged"), LOCAL_WAR, ids=[f"w{k}" for k in range(len(LOCAL_WAR))])
def test_local_war_context(enricher: Enricher, title: str, topic: str, tagged: bool) -> None:
    topics, _ = tag(enricher, title)
    assert (topic in topics) == tagged, (title, topics)
