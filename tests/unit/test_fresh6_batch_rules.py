"""Rule classes found by the sixth fresh dev batch (tests/data/lang/fresh6_dev.jsonl, README_fresh6.md).

Why: the batch covered every topic and state in the five full-taxonomy languages still short of the held-out
bars (en ar de fr he), English above all with hard negatives that use the conflict words. Its errors fell into
classes: hard negatives tagged ceasefire (a truce between parliament factions in a country at war, anniversaries
of the day "the guns fell silent" or "die Waffen schweigen", a policing campaign named «أوقفوا إطلاق النار») and
history rows tagged peace talks; a truce word after an Arabic proclitic ("لوقف القتال") and French demonyms
("entre Russes et Ukrainiens") that named no country; idiomatic state verbs (en "pitch", "calls on … to sign",
"still standing", "roll over"; ar "غير مقبول", "تعرض خطة"; de "bleibt … bestehen", "soll weitere … gelten",
"legt … Plan … vor"; he "הגיעו להבנות", "תוארך", "התפרקה"); and other-topic verbs and objects (earmarked money for
weapons, airlifts, "محطة توليد كهرباء", "تزود … بصواريخ", asset freezes in ar and de, airdrops in ar fr he, a
German compound "-kraftwerk", prisoners back "after an exchange" in de and fr, "flotte fantôme", the Hebrew energy
truce). Probes written after the batch (not added to it) found more hard negatives: metaphorical business "wars"
(cola, console, burger), chess federations and the Olympiad (also in fr ar he: the new French demonyms had made
one a ceasefire), central banks and lenders, police and protesters, the Eurovision charts, a political feud.
The cases are worded for this test, not copied from the batch; each fails on the rules before the batch's rule
changes (the taxonomy of commit 6824fde) unless marked a control.
"""

from __future__ import annotations

import pytest

from enrich.pipeline import Enricher
from tests.unit.tagging import tagger

tag = tagger("f6")


# (language, headline, state): ceasefire and this state expected.
STATES = [
    ("en", "Negotiators pitch a two-week truce to the warring generals in Sudan", "proposed"),
    ("en", "Western envoys call on Moscow and Kyiv to sign an Easter truce", "proposed"),
    ("en", "Kashmir ceasefire still standing a year on, army says", "in_force"),
    ("en", "Truce in Hodeidah remains intact despite sporadic shelling", "in_force"),
    ("en", "Houthis and Saudi Arabia roll over their truce for six months", "extended"),
    ("ar", "الجيش السوداني يعتبر مقترح الهدنة مرفوضاً", "rejected"),
    ("ar", "إسرائيل: شروط حماس للتهدئة غير مقبولة", "rejected"),
    ("ar", "الوسطاء يعرضون خطة لوقف إطلاق النار في غزة", "proposed"),
    ("ar", "مصر تدعو إلى وقف فوري للقتال في السودان", "proposed"),
    ("de", "Die Feuerpause im Libanon bleibt vorerst bestehen", "in_force"),
    ("de", "Feuerpause in Gaza soll weitere zwei Wochen gelten", "extended"),
    ("de", "Ägypten legt einen Plan für eine Waffenruhe im Gazastreifen vor", "proposed"),
    ("fr", "Le pape appelle à une trêve entre Russes et Ukrainiens", "proposed"),
    ("fr", "Trêve acceptée entre Libanais et Israéliens", "agreed"),
    ("he", "חמאס וישראל הגיעו להבנות על הפוגה", "agreed"),
    ("he", "הפסקת האש בלבנון תוארך בחודש", "extended"),
    ("he", "ההפוגה בעזה התפרקה אחרי יומיים", "collapsed"),
]


@pytest.mark.parametrize(("lang", "title", "state"), STATES, ids=[f"{s[0]}-{s[2]}-{k}" for k, s in enumerate(STATES)])
def test_ceasefire_and_state_in_new_wordings(enricher: Enricher, lang: str, title: str, state: str) -> None:
    topics, got = tag(enricher, title)
    assert "ceasefire" in topics, (lang, title, topics)
    assert got == state, (lang, title, got)


def test_a_truce_actually_signed_is_still_agreed(enricher: Enricher) -> None:
    # control: a call to sign makes "sign" a proposal, a signing without a call stays agreed
    _, got = tag(enricher, "Russia and Ukraine sign a ceasefire in Istanbul")
    assert got == "agreed"


# (language, headline, topic): the topic expected.
TOPICS = [
    ("en", "Netherlands allocates 500 million euros for air defences for Kyiv", "military_aid"),
    ("en", "Britain earmarks £1.6bn for drones for Ukraine", "military_aid"),
    ("en", "Jordan airlifts medicines and tents to Gaza", "humanitarian_aid"),
    ("ar", "قصف أوكراني يصيب محطة توليد الكهرباء في بيلغورود", "energy_infrastructure_strike"),
    ("ar", "فرنسا تزود كييف بذخائر مدفعية", "military_aid"),
    ("ar", "الاتحاد الأوروبي يجمد أصول مصارف روسية", "sanctions"),
    ("ar", "الأردن ينفذ إنزالاً جوياً لطرود الإغاثة فوق غزة", "humanitarian_aid"),
    ("ar", "تجديد الهدنة في اليمن برعاية الأمم المتحدة", "peace_talks"),
    ("de", "Ukrainischer Drohnenangriff trifft Heizkraftwerk in Belgorod", "energy_infrastructure_strike"),
    ("de", "Zwölf Kriegsgefangene nach Austausch wieder in der Heimat", "prisoner_exchange"),
    ("de", "Großbritannien friert Guthaben russischer Oligarchen ein", "sanctions"),
    ("de", "Hilfsflüge der Luftwaffe bringen Zelte in den Gazastreifen", "humanitarian_aid"),
    ("fr", "Paris sanctionne des pétroliers de la flotte fantôme", "sanctions"),
    ("fr", "Une centaine de soldats ukrainiens rentrent chez eux après un échange", "prisoner_exchange"),
    ("fr", "Des vivres largués par parachute au-dessus de Gaza", "humanitarian_aid"),
    ("he", "ירדן הצניחה סיוע מעל עזה", "humanitarian_aid"),
    ("he", "אוקראינה: רוסיה הפרה את ההפוגה האנרגטית", "energy_infrastructure_strike"),
]


@pytest.mark.parametrize(("lang", "title", "topic"), TOPICS, ids=[f"{t[0]}-{t[2]}-{k}" for k, t in enumerate(TOPICS)])
def test_other_topics_in_new_wordings(enricher: Enricher, lang: str, title: str, topic: str) -> None:
    topics, _ = tag(enricher, title)
    assert topic in topics, (lang, title, topics)


def test_captured_soldiers_handed_back_are_no_territory(enricher: Enricher) -> None:
    topics, _ = tag(enricher, "Kyiv returns captured Russian sailors in swap")
    assert "territorial_change" not in topics, topics


def test_a_captured_town_is_still_territory(enricher: Enricher) -> None:
    # control
    topics, _ = tag(enricher, "Russian forces captured Pokrovsk after months of fighting")
    assert "territorial_change" in topics, topics


# Hard negatives that use the conflict words: no topic at all.
HARD_NEGATIVES = [
    "Parliamentary blocs in Kyiv agree a truce over the wartime election date",
    "Seventy years on, veterans recall the day the guns fell silent in Korea",
    "Survivors recall the day the guns fell silent over Europe",
    "مبادرة أهلية «أوقفوا إطلاق النار» للحد من السلاح في المخيمات",
    "مؤرخون يستذكرون وقف إطلاق النار في حرب أكتوبر",
    "Vor achtzig Jahren endet der Krieg in Europa: die Waffen schweigen",
    "קצינים לשעבר נזכרים בהפסקת האש במלחמת יום הכיפורים",
    "Ceasefire in the burger wars as rivals agree a price freeze",
    "Console wars ceasefire: two gaming giants agree cross-play",
    "Russian and Ukrainian chess federations agree a truce at the Olympiad",
    "Central bank and lenders call a truce on exchange rates in Khartoum",
    "Police and protesters agree a truce after a week of clashes in Tbilisi",
    "Ukraine's Eurovision entry 'Ceasefire' tops the charts",
    "Zelensky and the Kyiv mayor call a truce in their political feud",
    "الاتحادان الروسي والأوكراني للشطرنج يتفقان على هدنة",
    "הפסקת אש בין איגודי השחמט של רוסיה ואוקראינה",
]


@pytest.mark.parametrize("title", HARD_NEGATIVES, ids=[f"neg-{k}" for k in range(len(HARD_NEGATIVES))])
def test_hard_negatives_stay_untagged(enricher: Enricher, title: str) -> None:
    topics, state = tag(enricher, title)
    assert not topics, (title, topics)
    assert state is None, (title, state)


# History rows whose body names negotiations: no peace talks (peace_talks now drops history sentences).
HISTORY_TALKS = [
    ("ארבעים ושש שנה להסכם השלום עם מצרים", "בכנס בירושלים נזכרו משתתפי המשא ומתן בימים שאחרי מלחמת יום הכיפורים."),
    ("ندوة في القاهرة عن حرب أكتوبر", "وعرض باحثون وثائق من أرشيف الخارجية عن المفاوضات التي تلت الحرب."),
]


@pytest.mark.parametrize(("title", "text"), HISTORY_TALKS, ids=["he", "ar"])
def test_history_rows_are_no_peace_talks(enricher: Enricher, title: str, text: str) -> None:
    topics, _ = tag(enricher, title, text)
    assert not topics, (title, topics)


# Controls: the new negatives stay where they belong (these pass on the old rules too).
CONTROLS = [
    ("Protesters in Tel Aviv demand a ceasefire in Gaza", "ceasefire", True),  # protesters alone are no policing
    ("A year after the Lebanon ceasefire, villages remain empty", "ceasefire", True),
    ("Two years on, Gaza truce still elusive as talks stall", "ceasefire", True),  # "N years on," only from 30
    ("حملة «أوقفوا الرصاص» في الأحياء الشعبية", "ceasefire", False),
    ("Les fédérations russe et ukrainienne de tennis concluent une trêve", "ceasefire", False),
    ("Historians revisit the 1978 Camp David talks in a new book", "peace_talks", False),
]


@pytest.mark.parametrize(("title", "topic", "expected"), CONTROLS, ids=[f"ctl-{k}" for k in range(len(CONTROLS))])
def test_controls(enricher: Enricher, title: str, topic: str, expected: bool) -> None:
    topics, _ = tag(enricher, title)
    assert (topic in topics) is expected, (title, topics)


# State verbs probed after the batch in the same languages (headlines written for probing, not in the batch).
STATES_PROBED = [
    ("en", "Truce between the two clans frays as gunmen open fire", "violated"),
    ("en", "Ceasefire in South Kordofan hangs by a thread", "violated"),
    ("en", "Kyiv says Moscow made a mockery of the energy truce", "violated"),
    ("en", "Lebanon truce survives its first week", "in_force"),
    ("en", "Hamas says it could accept a phased ceasefire", "proposed"),  # a modal acceptance is an offer
    ("en", "Armenia and Azerbaijan agree to silence their guns along the border", "agreed"),
    ("ar", "التهدئة في الحديدة تدخل يومها العاشر", "in_force"),
    ("ar", "الجيش يرفض تمديد الهدنة في الفاشر", "rejected"),  # a refused extension is no extension
    ("de", "Feuerpause im Sudan geht in die zweite Woche", "in_force"),
    ("de", "Kreml lässt die Feuerpause auslaufen", "collapsed"),
    ("de", "Hisbollah: Israel tritt die Waffenruhe mit Füßen", "violated"),
    ("fr", "La trêve au Soudan entre dans sa deuxième semaine", "in_force"),
    ("fr", "La trêve à Hodeïda arrive à échéance", "collapsed"),
    ("fr", "Le Hezbollah accuse Israël de piétiner le cessez-le-feu", "violated"),
    ("he", "צה\"ל הודיע על סיום ההפוגה ברצועה", "collapsed"),
    ("he", "חמאס: ישראל רומסת את ההפוגה", "violated"),
]


@pytest.mark.parametrize(("lang", "title", "state"), STATES_PROBED,
                         ids=[f"{s[0]}-{s[2]}-probe-{k}" for k, s in enumerate(STATES_PROBED)])
def test_state_verbs_probed_after_the_batch(enricher: Enricher, lang: str, title: str, state: str) -> None:
    topics, got = tag(enricher, title)
    assert "ceasefire" in topics, (lang, title, topics)
    assert got == state, (lang, title, got)


def test_a_truce_that_will_take_effect_is_still_agreed(enricher: Enricher) -> None:
    # control: only "could / would / might" before agree / accept make it an offer
    _, got = tag(enricher, "Israel and Hamas agree a ceasefire that will take effect on Sunday")
    assert got == "agreed"


# Other-topic wordings probed after the batch (headlines written for probing, not in the batch).
TOPICS_PROBED = [
    ("en", "Norway ships 100 armoured vehicles to Ukraine", "military_aid"),
    ("en", "Spain donates Hawk interceptors to Kyiv", "military_aid"),
    ("fr", "La Suède expédie des obusiers à l'Ukraine", "military_aid"),
    ("he", "בריטניה שולחת טנקים לאוקראינה", "military_aid"),
    ("en", "EU imposes travel bans on RSF commanders", "sanctions"),
    ("de", "London verhängt Einreiseverbote gegen russische Offiziere", "sanctions"),
    ("fr", "Bruxelles prononce des interdictions de séjour contre des oligarques russes", "sanctions"),
    ("he", "האיחוד האירופי הטיל איסור כניסה על בכירים רוסים", "sanctions"),
    ("en", "Russia and Ukraine trade 300 captives in Belarus", "prisoner_exchange"),
    ("en", "WHO trucks insulin and vaccines into Gaza", "humanitarian_aid"),
    ("en", "Medevac flights carry sick children out of Gaza", "humanitarian_aid"),
    ("de", "Hilfswerk bringt Medikamente und Decken in den Gazastreifen", "humanitarian_aid"),
    ("fr", "L'Unicef achemine du lait infantile à Gaza", "humanitarian_aid"),
    ("he", "שיירת האו\"ם הכניסה תרופות לרצועה", "humanitarian_aid"),
    ("en", "Russian troops push into the outskirts of Huliaipole", "territorial_change"),
    ("en", "Ukraine withdraws its troops from the town of Siversk", "territorial_change"),
    ("de", "Russische Einheiten rücken in die Vororte von Pokrowsk vor", "territorial_change"),
    ("fr", "Le M23 prend la ville d'Uvira", "territorial_change"),
    ("he", "כוחות רוסיים נכנסו לעיר פוקרובסק", "territorial_change"),
    ("de", "Ukrainische Drohnen treffen Tanklager bei Noworossijsk", "energy_infrastructure_strike"),
    ("de", "Russische Raketen beschädigen Wasserkraftwerk am Dnipro", "energy_infrastructure_strike"),
    ("en", "Peace envoys shuttle between Kigali and Kinshasa", "peace_talks"),
    ("de", "Sondergesandte pendeln zwischen Kiew und Moskau", "peace_talks"),
]


@pytest.mark.parametrize(("lang", "title", "topic"), TOPICS_PROBED,
                         ids=[f"{t[0]}-{t[2]}-probe-{k}" for k, t in enumerate(TOPICS_PROBED)])
def test_other_topics_probed_after_the_batch(enricher: Enricher, lang: str, title: str, topic: str) -> None:
    topics, _ = tag(enricher, title)
    assert topic in topics, (lang, title, topics)


# Controls for the probed rules: the same verbs outside a war stay untagged (these pass on the old rules too).
TOPIC_CONTROLS = [
    ("Britain withdraws from the Eurovision final over the Israel row", "territorial_change"),  # no troops
    ("Protesters push into the city centre despite police lines", "territorial_change"),
    ("Amazon delivers medicines to rural Texas by drone", "humanitarian_aid"),
    ("Der Lieferdienst bringt Medikamente nach Hause", "humanitarian_aid"),
    ("Le PSG prend la tête de la Ligue 1", "territorial_change"),
    ("השחקנים נכנסו לעיר לקראת המשחק", "territorial_change"),
    ("Staudamm in Bayern: Hochwasser bedroht Dörfer", "energy_infrastructure_strike"),
    ("Sondergesandter für Klimafragen reist nach Peking", "peace_talks"),
]


@pytest.mark.parametrize(("title", "topic"), TOPIC_CONTROLS, ids=[f"topic-ctl-{k}" for k in range(len(TOPIC_CONTROLS))])
def test_topic_controls(enricher: Enricher, title: str, topic: str) -> None:
    topics, _ = tag(enricher, title)
    assert topic not in topics, (title, topics)


# Truces in disputes named by a non-military object (a diplomatic row, grain, licence plates, minority rights,
# a media or ratings "war"): two countries, one of them at war, used to be enough for a ceasefire. Probed after the
# batch in the five languages; no topic at all.
DISPUTE_TRUCES = [
    "Kosovo and Serbia call a truce in the licence-plate row",
    "Ukraine and Hungary agree a truce in their minority-rights dispute",
    "Israel and Turkey call a truce in their diplomatic spat",
    "Japan and South Korea end their export-control dispute with a truce",
    "Qatar and Saudi Arabia agree a truce in the media war",
    "Mexican cartels call a truce in the drug war",
    "Russian and Ukrainian hackers declare a ceasefire over the holidays",
    "Russia and the US agree to a truce on space station cooperation",
    "Ukraine and Poland agree a truce over grain imports",
    "Polen und Ukraine vereinbaren Waffenstillstand im Getreidestreit",
    "Israel und Türkei: Waffenruhe in der diplomatischen Krise",
    "Trêve entre Kiev et Budapest dans la querelle sur les droits des minorités",
    "Israël et la Turquie concluent une trêve diplomatique",
    "هدنة في الخلاف الدبلوماسي بين أنقرة وتل أبيب",
    "هدنة بين وارسو وكييف في خلاف الحبوب",
    "הפסקת אש במשבר הדיפלומטי בין אנקרה לירושלים",
    "הפסקת אש בין ורשה לקייב במחלוקת על התבואה",
]


@pytest.mark.parametrize("title", DISPUTE_TRUCES, ids=[f"dispute-{k}" for k in range(len(DISPUTE_TRUCES))])
def test_truces_in_non_military_disputes_are_no_ceasefire(enricher: Enricher, title: str) -> None:
    topics, _ = tag(enricher, title)
    assert not topics, (title, topics)


# Controls: disputes fought with arms stay ceasefires (these pass on the old rules too).
DISPUTE_CONTROLS = [
    "Thailand and Cambodia agree a truce in their border dispute",
    "Kyrgyzstan and Tajikistan agree a truce after clashes in water dispute",
    "Israel and Hamas agree a truce after weeks of dispute over hostages",
    "Waffenruhe zwischen Armenien und Aserbaidschan im Grenzstreit",
    "Trêve à Gaza malgré le conflit sur les otages",
]


@pytest.mark.parametrize("title", DISPUTE_CONTROLS, ids=[f"dispute-ctl-{k}" for k in range(len(DISPUTE_CONTROLS))])
def test_armed_disputes_stay_ceasefires(enricher: Enricher, title: str) -> None:
    topics, _ = tag(enricher, title)
    assert "ceasefire" in topics, (title, topics)


# Full texts whose body speaks of "the truce" or "the ceasefire" of a non-military headline, with a war named
# further on: the body's negative sentences (grain and hauliers, rappers and albums) now outnumber its war context.
FULL_TEXT_NEGATIVES = [
    ("Kyiv and Warsaw strike a truce over grain exports",
     "The truce, reached after talks in Lublin, ends the blockade of border crossings by hauliers. Polish farmers' "
     "protests had closed three crossings since October. Kyiv says its grain exports are vital while the war goes "
     "on. The arrangement will be reviewed in spring."),
    ("Two rappers bury the hatchet after a year of insults",
     "The ceasefire was announced in a joint video on Sunday. The rappers had traded diss tracks since last summer. "
     "A joint album is due in May. Their world tour is to open in Kyiv, war permitting."),
]


@pytest.mark.parametrize(("title", "text"), FULL_TEXT_NEGATIVES, ids=["grain", "rappers"])
def test_full_text_hard_negatives(enricher: Enricher, title: str, text: str) -> None:
    topics, _ = tag(enricher, title, text)
    assert not topics, (title, topics)


def test_prisoners_of_war_home_in_a_swap_are_an_exchange(enricher: Enricher) -> None:
    # "POWs" and "prisoners of war" are war context themselves, and "in a … swap" names the exchange
    topics, _ = tag(enricher, "Hundreds of POWs come home in Turkish-brokered swap")
    assert "prisoner_exchange" in topics, topics


def test_a_currency_exchange_is_no_prisoner_exchange(enricher: Enricher) -> None:
    # control
    topics, _ = tag(enricher, "Soldiers return home after a currency exchange")
    assert "prisoner_exchange" not in topics, topics


def test_german_signing_verb_in_the_present_is_agreed(enricher: Enricher) -> None:
    topics, got = tag(enricher, "Armenien und Aserbaidschan unterzeichnen ein Waffenstillstandsabkommen")
    assert "ceasefire" in topics and got == "agreed", (topics, got)


# A last probe round (fr he ar hard negatives, an en order verb).
LAST_NEGATIVES = [
    "Trêve entre Kiev et l'Église orthodoxe liée à Moscou",  # church and state, not arms
    "הפסקת אש בין ראש העיר למועצה בתל אביב",  # a mayor and the city council
    "هدنة بين شركتي الطيران في حرب التذاكر",  # two airlines in a ticket-price war
]


@pytest.mark.parametrize("title", LAST_NEGATIVES, ids=["fr-church", "he-council", "ar-airlines"])
def test_last_probe_negatives(enricher: Enricher, title: str) -> None:
    topics, _ = tag(enricher, title)
    assert not topics, (title, topics)


@pytest.mark.parametrize(("title", "state"), [
    ("Putin orders his troops to stop firing for Easter", "agreed"),  # "orders", not only "ordered"
    ("ראש העיר שדרות: הפסקת האש הופרה", "violated"),  # control: a mayor quoted on a breach
    ("Frappe russe sur une église orthodoxe malgré la trêve", "violated"),  # control: a church that was hit
], ids=["en-orders", "he-mayor-ctl", "fr-church-ctl"])
def test_last_probe_states(enricher: Enricher, title: str, state: str) -> None:
    topics, got = tag(enricher, title)
    assert "ceasefire" in topics and got == state, (title, topics, got)


@pytest.mark.parametrize("title", [
    "Crime bosses order a truce between rival clans in Naples",  # "clans" is an armed actor word
    "Camorra clans declare a ceasefire in the suburbs",
    "Mafia families in Palermo call a truce",  # control: passed before too
], ids=["crime-boss", "camorra", "mafia-ctl"])
def test_organised_crime_truces_are_no_ceasefire(enricher: Enricher, title: str) -> None:
    topics, _ = tag(enricher, title)
    assert "ceasefire" not in topics, (title, topics)


def test_tribal_truces_stay_ceasefires(enricher: Enricher) -> None:
    # control: clans and tribes fighting with arms are still parties to a truce
    topics, _ = tag(enricher, "Rival tribes in Papua New Guinea's highlands agree a truce after deadly clashes")
    assert "ceasefire" in topics, topics
