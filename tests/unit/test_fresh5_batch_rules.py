"""Rule classes found by the fifth fresh dev batch (tests/data/lang/fresh5_dev.jsonl, README_fresh5.md).

Why: the batch covered every topic and state in the five full-taxonomy languages still short of the held-out
bars (en ar de fr he). Its errors fell into classes: partial truces named by their object ("energy
moratorium", "pauses in fighting", "moratoire … sur les frappes"), state verbs in forms the cues lacked (en
"falls apart", de "drängen … zu", a "Waffenruhe" that "hält" several words later, ar "انتهك" and "hours after
the truce took effect"), a truce ruled out "before a deal" read as agreed, base-form and -ing headline verbs and
objects behind numbers with separators ("capture village", "handover of 1,200 detainees"), hyphenated
"air-defence", food convoys, the grid "knocked out", direct talks and delegations next to a party at war (he
adjectives of nationality were not country names), Arabic "تبادل 300 أسير" and "تضرب محطة لضخ النفط", German
drone attacks that were no war context, French typographic apostrophes, and German displaced people read as
aid by themselves. Probes after the batch added numbers written with separators in every language ("3,350",
"1 200", "1200"), sale verbs for weapons and state verbs ("comes under strain", "on the brink", "will observe",
"turns down", "تصمد", "bricht … Waffenruhe", "שורדת", "אישר"). The cases are worded for this test, not copied
from the batch; each fails on the rules before the batch's rule changes (checked with the taxonomy of commit
745d91b) unless marked a control.
"""

from __future__ import annotations

import pytest

from enrich.pipeline import Enricher
from tests.unit.tagging import tagger

tag = tagger("f5")


# (language, headline, state): ceasefire and this state expected.
STATES = [
    ("en", "Truce between the two clans falls apart after a week", "collapsed"),
    ("en", "Army announces daily pauses in fighting around the besieged city", "agreed"),  # plural "pauses"
    ("en", "Kyiv says Russia breached the energy moratorium overnight", "violated"),  # the moratorium is a truce
    ("de", "Vermittler drängen Armee und RSF zu einer Feuerpause", "proposed"),
    ("de", "Die Waffenruhe im Süden des Libanon hält weitgehend", "in_force"),  # "hält" four words on
    ("ar", "الجيش يتهم الدعم السريع بأنه انتهك الهدنة في الفاشر", "violated"),  # finite verb, not the noun
    ("ar", "روسيا تقصف خاركيف بعد ساعات من بدء سريان الهدنة", "violated"),  # hours after it took effect
    ("fr", "Le Hamas écarte un cessez-le-feu avant un accord sur le retrait israélien", "rejected"),  # a condition
    ("fr", "Kiev propose un moratoire mutuel sur les frappes visant les raffineries", "proposed"),
    ("fr", "Le Hamas et Israël s’accordent sur une trêve", "agreed"),  # typographic apostrophe in a state cue
    # state verbs probed after the batch in the same languages
    ("en", "Truce between Thailand and Cambodia comes under strain as shots ring out", "violated"),
    ("en", "Gaza truce on the brink after deadly strike on Khan Younis", "violated"),
    ("en", "Russia says it will observe a 72-hour Victory Day truce", "agreed"),
    ("en", "Kremlin turns down Trump's ceasefire plan", "rejected"),
    ("ar", "الهدنة في لبنان تصمد لليوم الخامس", "in_force"),
    ("de", "Israel bricht Waffenruhe im Libanon, sagt Hisbollah", "violated"),
    ("he", "ישראל: הפסקת האש בעזה שורדת למרות התקריות", "in_force"),
    ("he", "הקבינט אישר את הפסקת האש בצפון", "agreed"),
]


@pytest.mark.parametrize(("lang", "title", "state"), STATES, ids=[f"{s[0]}-{s[2]}-{k}" for k, s in enumerate(STATES)])
def test_ceasefire_and_state_in_new_wordings(enricher: Enricher, lang: str, title: str, state: str) -> None:
    topics, got = tag(enricher, title)
    assert "ceasefire" in topics, (lang, title, topics)
    assert got == state, (lang, title, got)


def test_a_deal_reached_before_a_holiday_is_still_agreed(enricher: Enricher) -> None:
    # control: "avant" only turns "accord" into a condition next to a rejection
    _, got = tag(enricher, "Moscou et Kiev concluent un accord de trêve avant Pâques")
    assert got == "agreed"


# Controls for the state cues above (these pass on the old rules too).
STATE_CONTROLS = [
    ("Israel bricht Verhandlungen über Waffenruhe ab", "violated", False),  # talks broken off, no breach
    ("צה\"ל אישר כי הפסקת האש הופרה", "violated", True),  # "confirmed that": the breach, not an approval
]


@pytest.mark.parametrize(("title", "state", "expected"), STATE_CONTROLS, ids=["ctl-de", "ctl-he"])
def test_state_controls(enricher: Enricher, title: str, state: str, expected: bool) -> None:
    _, got = tag(enricher, title)
    assert (got == state) is expected, (title, got)


# (language, headline, topic): the topic expected.
TOPICS = [
    ("en", "Rebel fighters capture two villages near the border", "territorial_change"),
    ("en", "Sweden to finance air-defence systems for Kyiv", "military_aid"),
    ("en", "Moscow and Kyiv complete handover of 1,000 detainees", "prisoner_exchange"),
    ("en", "Food convoys enter northern Gaza", "humanitarian_aid"),
    ("en", "Overnight drone attack knocks out power in Kharkiv", "energy_infrastructure_strike"),
    ("en", "Israeli and Lebanese officials hold direct talks under US auspices", "peace_talks"),
    ("ar", "تبادل 150 أسيراً بين الجيش والدعم السريع", "prisoner_exchange"),
    ("ar", "مسيرات أوكرانية تضرب خط أنابيب نفط في بريانسك", "energy_infrastructure_strike"),
    ("de", "Drohnenangriff auf Umspannwerk legt Stromversorgung lahm", "energy_infrastructure_strike"),  # war context
    ("fr", "Les troupes ukrainiennes s’emparent d’un village près de Koupiansk", "territorial_change"),  # ’
    ("fr", "L’armée s’empare d’une colline clé", "territorial_change"),
    ("fr", "Nouvelles livraisons d’armes à l’Ukraine", "military_aid"),
    ("he", "המשלחות הרוסית והאוקראינית נפגשו לשיחות באיסטנבול", "peace_talks"),  # adjectives of nationality
    ("he", "חילופי השבויים בין רוסיה לאוקראינה נדחו בשבוע", "prisoner_exchange"),  # the phrase with its article
    # numbers with separators and sale verbs, probed after the batch in the same languages
    ("en", "US approves sale of 3,350 extended-range missiles to Ukraine", "military_aid"),
    ("en", "Russia and Ukraine swap 1,000 prisoners each", "prisoner_exchange"),
    ("en", "Ukraine strikes Russian gas processing plant in Orenburg", "energy_infrastructure_strike"),
    ("fr", "La Russie et l’Ukraine échangent 1 200 prisonniers", "prisoner_exchange"),
    ("fr", "Washington va vendre 3 350 missiles à l’Ukraine", "military_aid"),
    ("de", "USA verkaufen 3.350 Raketen an die Ukraine", "military_aid"),
    ("ar", "روسيا وأوكرانيا تتبادلان 1200 أسير", "prisoner_exchange"),
    ("he", "ארה\"ב אישרה מכירת טילים לאוקראינה", "military_aid"),
]


@pytest.mark.parametrize(("lang", "title", "topic"), TOPICS, ids=[f"{t[0]}-{t[2]}" for t in TOPICS])
def test_other_topics_in_new_wordings(enricher: Enricher, lang: str, title: str, topic: str) -> None:
    topics, _ = tag(enricher, title)
    assert topic in topics, (lang, title, topics)


def test_displaced_people_going_home_are_not_aid(enricher: Enricher) -> None:
    topics, _ = tag(enricher, "Waffenruhe im Sudan hält: Tausende Vertriebene kehren in ihre Dörfer zurück")
    assert "humanitarian_aid" not in topics, topics


# Controls: the new rules stay where they belong (these pass on the old rules too).
CONTROLS = [
    ("Vertriebene in Darfur sind auf Nahrungsmittelhilfe angewiesen", "humanitarian_aid", True),
    ("Ukrainian delegation meets IMF for talks on new loan", "peace_talks", False),
    ("Russian and Indian delegations hold talks on oil trade", "peace_talks", False),
    ("משלחת ישראלית יצאה לשיחות על הסכם סחר חופשי עם הודו", "peace_talks", False),
    ("Photographers capture the village at dawn", "territorial_change", False),
    ("Storm knocks out power to 200,000 homes in Texas", "energy_infrastructure_strike", False),
    ("Lightning strike knocks out power to 5,000 homes", "energy_infrastructure_strike", False),
    ("عمال محطة ضخ النفط يبدأون إضراباً عن العمل", "energy_infrastructure_strike", False),
    ("Die Waffenruhe zwischen den beiden Clubs hält", "ceasefire", False),
    ("Le gouvernement et l’opposition concluent une trêve jusqu’au budget", "ceasefire", False),
    ("הפסקת אש בין האוהדים הישראלים והרוסים אחרי המשחק", "ceasefire", False),
    ("Israel erhält Raketen-Warnungen aus dem Libanon", "military_aid", False),  # a compound, not missiles
    ("Russland feuert 40 Raketen auf Kiew ab", "military_aid", False),
    ("Les deux clubs échangent deux joueurs", "prisoner_exchange", False),
    ("Police release 1,200 detainees after protests", "prisoner_exchange", False),
    ("Company to sell 2,000 shares of gas plant", "energy_infrastructure_strike", False),
]


@pytest.mark.parametrize(("title", "topic", "expected"), CONTROLS, ids=[f"ctl-{k}" for k in range(len(CONTROLS))])
def test_controls(enricher: Enricher, title: str, topic: str, expected: bool) -> None:
    topics, _ = tag(enricher, title)
    assert (topic in topics) is expected, (title, topics)
