"""Rule classes found by the seventh fresh dev batch (tests/data/lang/fresh7_dev.jsonl, README_fresh7.md).

Why: the batch was mostly full article bodies (datelines, a scene-setting lead, the topic words in the 3rd-5th
sentence, quotes, background sentences) in the four full-taxonomy languages still short of the held-out bars
(de en fr he). Its errors fell into classes: full-text hard negatives whose headline truce was vetoed by its
domain but whose body said "the truce" next to a war named in passing (port fees, a handball federation, a
milk-price war, anniversaries of old armistices: Suez 1956, Dayton 1995, Geneva 1954, Rhodes 1949), fixed by
giving each domain enough words that the article is negative-dominated and by history cues for anniversaries;
truce words the rules lacked (de "stellen das Feuer ein", fr "renoncer à frapper les centrales", he a
commitment to stop strikes on energy facilities, en "ending a month of calm"); state verbs (en "keeping to the
terms", "trampling", "sees no point in", "until … accepts"; de "Makulatur", "Tag eins der Feuerpause",
"Frist … verschoben"; fr "balaie"; he "נשבר", "התחדשו" a few words on, "למרות ההבנות", "החלה בחצות"); and
other-topic objects and verbs that full texts use (en "return captured soldiers", "restrictive measures on";
de "Austausch von … Gefangenen", "im Gegenzug … frei", "Patriot-Abfangraketen", "Kontensperren gegen …
Kommandeure", power lines and "ohne Strom"; fr "remis … en contrepartie de", "camions de vivres"; he
"משאיות עם מזון"). The cases are worded for this test, not copied from the batch; each fails on the rules of
commit f71514a (before the batch's rule changes) unless it is marked a control.
"""

from __future__ import annotations

import pytest

from enrich.pipeline import Enricher
from tests.unit.tagging import tagger

tag = tagger("f7")


# (language, headline, state): ceasefire and this state expected.
STATES = [
    ("en", "Rival militias in Tripoli keep to the terms of last week's truce, residents say", "in_force"),
    ("en", "Kyiv accuses Moscow of trampling the energy truce with overnight strikes", "violated"),
    ("en", "Hamas sees no point in a truce that leaves Israeli troops in Gaza", "rejected"),
    ("en", "Kremlin turns down a truce, says fighting will go on until Kyiv accepts its terms", "rejected"),
    ("en", "Artillery duels end a week of calm along the Line of Control", "collapsed"),
    ("de", "Armee und RSF stellen in Darfur das Feuer ein", "agreed"),
    ("de", "Die Feuerpause im Jemen ist nach drei Tagen Makulatur", "collapsed"),
    ("de", "Tag eins der Waffenruhe im Libanon: Tausende kehren in den Süden zurück", "agreed"),
    ("de", "Waffenruhe zwischen Armenien und Aserbaidschan: Frist um einen Monat verschoben", "extended"),
    ("fr", "Moscou balaie l'appel de Kiev à un cessez-le-feu de Noël", "rejected"),
    ("he", "הפסקת האש בעזה נשברה אחרי שלושה ימים", "collapsed"),
    ("he", "הפסקת האש בטריפולי: הקרבות בין המיליציות המתחרות התחדשו", "collapsed"),
    ("he", "חיזבאללה ירה רקטות לגליל למרות ההבנות על הפסקת האש", "violated"),
    ("he", "רגיעה בגבול הצפון: הפסקת האש החלה בחצות", "agreed"),
]


@pytest.mark.parametrize(("lang", "title", "state"), STATES, ids=[f"{s[0]}-{s[2]}-{k}" for k, s in enumerate(STATES)])
def test_ceasefire_and_state_in_new_wordings(enricher: Enricher, lang: str, title: str, state: str) -> None:
    topics, got = tag(enricher, title)
    assert "ceasefire" in topics, title
    assert got == state, (title, got)


# (headline, topics expected among the tags): energy truces told as a renunciation or a commitment.
ENERGY_TRUCES = [
    ("Kiev et Moscou renoncent à frapper les centrales pendant l'hiver", {"ceasefire", "energy_infrastructure_strike"}),
    ("רוסיה ואוקראינה הסכימו להימנע מתקיפות על תחנות כוח", {"ceasefire", "energy_infrastructure_strike"}),
]


@pytest.mark.parametrize(("title", "expected"), ENERGY_TRUCES, ids=["fr", "he"])
def test_energy_truces_told_as_a_renunciation(enricher: Enricher, title: str, expected: set[str]) -> None:
    topics, state = tag(enricher, title)
    assert expected <= topics, (title, topics)
    assert state == "agreed", (title, state)


# (language, headline, topic): the topic expected among the tags.
TOPICS = [
    ("en", "Armenia and Azerbaijan return captured soldiers after border clashes", "prisoner_exchange"),
    ("en", "EU extends restrictive measures against Belarus over its support for the war", "sanctions"),
    ("de", "Israel und Hamas vereinbaren den Austausch von 30 Gefangenen", "prisoner_exchange"),
    ("de", "Gaza: Im Gegenzug für zwei Geiseln kommen 60 Häftlinge frei", "prisoner_exchange"),
    ("de", "Niederlande übergeben der Ukraine weitere Patriot-Abfangraketen", "military_aid"),
    ("de", "EU verhängt Kontensperren gegen sechs russische Kommandeure", "sanctions"),
    ("de", "Russischer Angriff beschädigt Hochspannungsleitung, Zehntausende in Odessa ohne Strom", "energy_infrastructure_strike"),
    ("fr", "Moscou a remis 120 militaires ukrainiens en contrepartie de 120 soldats russes", "prisoner_exchange"),
    ("fr", "Trente camions de vivres de l'ONU entrent à El-Fasher assiégée", "humanitarian_aid"),
    ("he", "עשרות משאיות עם מזון ותרופות נכנסו לחאן יונס", "humanitarian_aid"),
]


@pytest.mark.parametrize(("lang", "title", "topic"), TOPICS, ids=[f"{t[0]}-{t[2]}-{k}" for k, t in enumerate(TOPICS)])
def test_other_topics_in_new_wordings(enricher: Enricher, lang: str, title: str, topic: str) -> None:
    topics, _ = tag(enricher, title)
    assert topic in topics, (title, topics)


# Full texts whose headline truce belongs to another domain and whose body names a war in passing:
# no topic at all. (The French one is also cleared by the headline-sense change of commit e406efb in
# enrich/topics.py alone; the others need this batch's negative words.)
FULL_TEXT_NEGATIVES = [
    ("Shipping: Washington and Brussels reach a truce over docking charges",
     "ROTTERDAM, May 4 (Wire) - The two sides will drop the port fees they added in March. Carriers had warned that "
     "the docking charges would be passed on to importers. The truce was welcomed by the industry. Shipping has "
     "already suffered from the war in Ukraine and from missile attacks in the Red Sea. Freight rates eased on "
     "the news."),
    ("Waffenstillstand im Eishockey: Liga und Spielergewerkschaft einigen sich",
     "MANNHEIM, 2. März (Wire) - Der Streit um die Zahl der Spiele pro Saison ist beigelegt. Der Bundestrainer "
     "begrüßte die Einigung. Die Nationalspieler sollen künftig mehr Pausen bekommen. Ein ukrainischer Verteidiger, "
     "der wegen des Krieges nach Deutschland kam, hatte die Debatte ausgelöst. Die Regelung gilt ab Herbst."),
    ("Trêve dans la guerre du lait entre laiteries et distributeurs",
     "RENNES, 9 avril (Wire) - Les laiteries obtiennent un prix plancher pour le lait bio. Les distributeurs "
     "acceptent une hausse de 3 %. « C'est une trêve », a dit un négociateur. La flambée des coûts de l'énergie "
     "depuis la guerre en Ukraine pèse toujours sur la filière. Le prix de base sera revu en septembre."),
    ("Fünfzig Jahre danach: Zeitzeugen erinnern sich an den Waffenstillstand",
     "BERLIN, 5. Juni (Wire) - Eine Ausstellung im Stadtmuseum zeigt Briefe und Fotos aus den letzten Kriegstagen. "
     "Zeitzeugen berichten, wie die Waffenruhe an einem Sonntagmorgen begann. Soldaten beider Seiten hätten sich "
     "an der Brücke die Hand gegeben. Die Ausstellung ist bis Oktober zu sehen."),
    ("לפני 50 שנה: תערוכה על הסכם שביתת הנשק",
     "ירושלים, 3 במרץ (Wire) - תערוכה בארכיון המדינה מציגה את מסמכי המשא ומתן. ההסכם נחתם ב-1974 לאחר שבועות של "
     "שיחות. חיילים ששירתו בחזית סיפרו על הימים שלפני החתימה. הכניסה חופשית."),
]


@pytest.mark.parametrize(("title", "text"), FULL_TEXT_NEGATIVES, ids=["en-trade", "de-sports", "fr-trade", "de-history",
                                                                     "he-history"])
def test_full_text_hard_negatives_stay_untagged(enricher: Enricher, title: str, text: str) -> None:
    topics, _ = tag(enricher, title, text)
    assert topics == set(), (title, topics)


# Headline hard negatives of the new policing and sports words (the German one is a control: the rules of
# f71514a left it untagged too, it guards the new sports words against a country at war in the headline).
HARD_NEGATIVES = [
    "Street peacekeepers broker a summer truce between rival crews on the West Side",
    "Waffenstillstand zwischen Bundestrainer und Handball-Bundesliga im Streit um ukrainische Nationalspieler",
]


@pytest.mark.parametrize("title", HARD_NEGATIVES, ids=["en-policing", "de-sports-control"])
def test_hard_negatives_stay_untagged(enricher: Enricher, title: str) -> None:
    topics, _ = tag(enricher, title)
    assert "ceasefire" not in topics, (title, topics)


# Controls: wordings the new rules must not take away (they pass before and after the batch's rule changes).
def test_an_age_is_no_anniversary(enricher: Enricher) -> None:
    topics, state = tag(enricher, "Trotz Waffenruhe: 45 Jahre alter Mann bei Drohnenangriff in Cherson getötet")
    assert "ceasefire" in topics and state == "violated"


def test_exposure_is_no_exhibition(enricher: Enricher) -> None:
    topics, state = tag(enricher, "Liban : l'exposition des civils aux frappes malgré le cessez-le-feu inquiète l'ONU")
    assert "ceasefire" in topics and state == "violated"


def test_a_truce_of_this_decade_is_no_history(enricher: Enricher) -> None:
    topics, _ = tag(enricher, "India and Pakistan say the ceasefire agreed in May 2025 still holds")
    assert "ceasefire" in topics


def test_hostages_held_back_are_no_exchange(enricher: Enricher) -> None:
    topics, _ = tag(enricher, "Israel: Hamas hält die Geiseln trotz der Waffenruhe weiter zurück")
    assert "ceasefire" in topics and "prisoner_exchange" not in topics


def test_flour_exports_are_no_aid(enricher: Enricher) -> None:
    topics, _ = tag(enricher, "L'Ukraine exporte deux millions de tonnes de farine malgré la guerre")
    assert "humanitarian_aid" not in topics


def test_a_truce_taking_effect_while_calm_holds_is_in_force(enricher: Enricher) -> None:
    topics, state = tag(enricher, "הפסקת האש בגבול הצפון מחזיקה מעמד זה שבוע")
    assert "ceasefire" in topics and state == "in_force"


# Probed after the batch (full texts written after the rule changes, not added to the batch): a truce over
# airport charges and one between supermarkets and dairies, each with the war named in passing. (The rules of
# f71514a pass every control below and fail every other case of the two probe rounds.)
PROBED_NEGATIVES = [
    ("Airlines and airports agree a truce over landing charges at Heathrow",
     "LONDON, March 2 (Wire) - Carriers will pay a flat fee for two years under the deal. The charges had risen 30% "
     "since 2023. \"It is a truce, not a settlement,\" an airline chief said. Many long-haul routes are still longer "
     "because Russian airspace has been closed since the invasion of Ukraine. Passenger numbers are expected to hit "
     "a record this summer."),
    ("Supermärkte und Molkereien schließen Waffenstillstand im Streit um Milchpreise",
     "MÜNCHEN, 4. Juni (Wire) - Die Handelsketten zahlen künftig einen Mindestpreis für Milch. Die Molkereien hatten "
     "mit Lieferstopps gedroht. „Die Waffen ruhen vorerst“, sagte ein Verbandssprecher. Seit Beginn des Krieges in "
     "der Ukraine sind die Energiekosten der Betriebe stark gestiegen. Die Vereinbarung gilt ein Jahr."),
]


@pytest.mark.parametrize(("title", "text"), PROBED_NEGATIVES, ids=["en-landing-charges", "de-dairies"])
def test_probed_full_text_negatives(enricher: Enricher, title: str, text: str) -> None:
    topics, _ = tag(enricher, title, text)
    assert topics == set(), (title, topics)


def test_a_strike_on_a_supermarket_is_still_a_breach(enricher: Enricher) -> None:
    """Control: shops hit in a war are no business context (only dairies, milk prices, discounters are)."""
    topics, state = tag(enricher, "Israelischer Angriff trifft Supermarkt in Gaza trotz Waffenruhe")
    assert "ceasefire" in topics and state == "violated"


# A second probe round (full texts and headlines written after the rule changes, not added to the batch).
PROBED_STATES = [
    ("Clashes erupt again in Suwayda, burying a week-old truce",
     "DAMASCUS, July 21 (Wire) - Heavy gunfire was reported in the western villages. Druze fighters and Bedouin "
     "tribes traded mortar fire for several hours.", "collapsed"),
    ("Waffenruhe in Gaza: Seit zwei Wochen schweigen die Waffen weitgehend",
     "GAZA, 24. Oktober (Wire) - In den Straßen räumen Bewohner Trümmer beiseite. Beide Seiten hätten sich an die "
     "Vereinbarung gehalten, sagten UN-Vertreter.", "in_force"),
]


@pytest.mark.parametrize(("title", "text", "state"), PROBED_STATES, ids=["en-collapsed", "de-in_force"])
def test_state_idioms_probed_after_the_batch(enricher: Enricher, title: str, text: str, state: str) -> None:
    topics, got = tag(enricher, title, text)
    assert "ceasefire" in topics and got == state, (title, topics, got)


def test_clashes_flaring_again_despite_a_truce_are_a_breach(enricher: Enricher) -> None:
    """Control for the 'erupt again' collapse cue: 'despite the truce' keeps it standing."""
    topics, state = tag(enricher, "Clashes flare again in Tripoli despite the truce")
    assert "ceasefire" in topics and state == "violated"


PROBED_TOPICS = [
    ("Ukraine welcomes home 84 soldiers in the first swap since spring", "", "prisoner_exchange"),
    ("Les troupes russes entrent dans Koupiansk, selon Moscou",
     "MOSCOU, 20 novembre (Wire) - Le ministère russe de la Défense affirme contrôler désormais la majeure partie de "
     "la ville. Kiev dément et évoque des groupes infiltrés.", "territorial_change"),
]


@pytest.mark.parametrize(("title", "text", "topic"), PROBED_TOPICS, ids=["en-swap", "fr-entrent-dans"])
def test_topics_probed_after_the_batch(enricher: Enricher, title: str, text: str, topic: str) -> None:
    topics, _ = tag(enricher, title, text)
    assert topic in topics, (title, topics)


@pytest.mark.parametrize("title", ["Ukrainian soldiers trade positions after an exchange of fire",
                                   "Les troupes russes entrent dans une nouvelle phase de l'offensive"],
                         ids=["en-exchange-of-fire", "fr-new-phase"])
def test_probed_topic_controls(enricher: Enricher, title: str) -> None:
    topics, _ = tag(enricher, title)
    assert not topics & {"prisoner_exchange", "territorial_change"}, (title, topics)
