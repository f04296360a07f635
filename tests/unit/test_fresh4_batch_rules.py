"""Rule classes found by the fourth fresh dev batch (tests/data/lang/fresh4_dev.jsonl, README_fresh4.md).

Why: the batch reworded ceasefire news in the languages weakest on held-out (he hy ur km sw ps sr bs ms) with
inflections, reported speech, passive voice and separable verbs, and covered every topic in six full-taxonomy
languages. Its errors fell into classes: a verb before its object (hy "stop the fire"), a definite article inside
a construct noun (he "שביתת הנשק"), clipped or passive state verbs (ms "cadang", "dipersetujui"; de "nicht
einzuhalten"; fr "met sur la table"), Cyrillic twins missing from Latin cues (sr), language cues for Swahili
headline verbs and Serbian Cyrillic, Persian stems cut off at the zero-width non-joiner, sanctioned companies
read as business news, mediation of a prisoner swap read as peace talks (also fixed in ru uk es pt it tr ar), "captured soldiers" and a deadline
"pushed back" read as territory changing hands. The cases are worded for this test, not copied from the batch;
each fails on the rules before the batch (checked with the taxonomy of commit 36e5379) unless marked a control.
"""

from __future__ import annotations

import pytest

from enrich.language import detect
from enrich.pipeline import Enricher
from tests.unit.tagging import tagger

tag = tagger("f4")


# (language, headline, state): ceasefire and this state expected.
STATES = [
    ("hy", "ՄԱԿ-ը կոչ է անում անհապաղ դադարեցնել կրակը Գազայում", "proposed"),  # verb before its object
    ("sr", "Примирје на северу Сирије се распало после напада дроновима", "collapsed"),  # Cyrillic twin of a cue
    ("bs", "Primirje u Libanu još uvijek na snazi, tvrde posmatrači UN-a", "in_force"),  # "still in force" holds
    ("ms", "Malaysia cadang gencatan senjata kemanusiaan di Myanmar", "proposed"),
    ("ms", "Gencatan senjata di sempadan dipersetujui kedua-dua negara", "agreed"),  # passive
    ("he", "שביתת הנשק בסודן קרסה אחרי שלושה ימים", "collapsed"),  # construct noun with its article
    ("he", "הוחלט להאריך את ההפוגה ההומניטרית", "extended"),  # a humanitarian pause needs no other context
    ("ar", "قطر تدعو إلى وقف النار في السودان", "proposed"),  # the short "وقف النار"
    ("fr", "Washington met sur la table un cessez-le-feu de trente jours au Soudan", "proposed"),
    ("de", "Russland wirft der Ukraine vor, die Feuerpause nicht einzuhalten", "violated"),
    ("en", "Truce in Sudan: guns largely silent in Khartoum", "in_force"),
    # passive and inflected state verbs, probed after the batch in the weak languages
    ("ps", "اسرائیلو او حماس د اوربند موده وغځوله", "extended"),
    ("ps", "روسیې د اوربند وړاندیز ونه منه", "rejected"),
    ("he", "הפסקת האש בלבנון הופרה שוב", "violated"),
    ("sw", "Usitishaji mapigano Gaza wavunjwa na mashambulizi mapya ya anga", "violated"),
    ("sw", "Makubaliano ya kusitisha mapigano yaanza kutumika Kongo", "agreed"),
    ("ms", "Gencatan senjata Gaza dicabuli, serangan udara bersambung", "violated"),
    ("ms", "Thailand dan Kemboja meterai perjanjian gencatan senjata", "agreed"),
    ("he", "הפסקת האש בעזה נכנסת לשבוע השני", "in_force"),
    ("he", "ישראל הודיעה על הפסקת אש חד-צדדית בלבנון", "agreed"),
    ("fa", "آتش‌بس در غزه وارد هفته دوم شد", "in_force"),
]


@pytest.mark.parametrize(("lang", "title", "state"), STATES, ids=[f"{s[0]}-{s[2]}" for s in STATES])
def test_ceasefire_and_state_in_new_wordings(enricher: Enricher, lang: str, title: str, state: str) -> None:
    topics, got = tag(enricher, title)
    assert "ceasefire" in topics, (lang, title, topics)
    assert got == state, (lang, title, got)


def test_a_truce_that_took_hold_is_not_read_as_holding(enricher: Enricher) -> None:
    # control: "takes hold" is the truce taking effect (agreed); only the silence that follows is in_force
    _, got = tag(enricher, "Truce takes hold in northern Syria after a week of clashes")
    assert got == "agreed"


# Short headlines fastText puts in another language (Hungarian, Russian): the cue words bring them back.
DETECT = [
    ("sw", "Urusi yakataa pendekezo jipya la Marekani"),
    ("sw", "Israel yakataa pendekezo la Hamas la kusitisha vita"),
    ("sr", "Анкара предлаже обуставу ватре на Црном мору"),
    ("sr", "Москва предлаже обуставу ватре"),
]


@pytest.mark.parametrize(("lang", "title"), DETECT, ids=[f"{d[0]}-{k}" for k, d in enumerate(DETECT)])
def test_headline_language_from_cue_words(lang: str, title: str) -> None:
    assert detect(title, "") == lang


def test_russian_headline_stays_russian() -> None:
    # control: the Serbian cues must not pull Russian into the Serbian rules
    assert detect("Москва предлагает прекращение огня на Черном море", "") == "ru"


def test_urdu_franchise_owners_truce_is_sport(enricher: Enricher) -> None:
    topics, _ = tag(enricher, "کراچی کنگز اور لاہور قلندرز کے مالکان میں جنگ بندی")
    assert "ceasefire" not in topics, topics


@pytest.mark.parametrize("title", [
    "ក្រុមពន្លត់អគ្គីភ័យឈប់បាញ់ទឹក ក្រោយភ្លើងឆេះផ្ទះប្រជាពលរដ្ឋ៣ខ្នង",
    "អ្នកពន្លត់អគ្គីភ័យឈប់បាញ់ទឹកនៅម៉ោង៣ទៀបភ្លឺ បន្ទាប់ពីភ្លើងត្រូវបានពន្លត់ទាំងស្រុង",
])
def test_firefighters_who_stop_spraying_water_are_no_ceasefire(enricher: Enricher, title: str) -> None:
    topics, _ = tag(enricher, title)
    assert "ceasefire" not in topics, topics


# (language, headline, topic): the topic expected.
TOPICS = [
    ("he", "בריטניה הטילה עיצומים על חברות הספנות של איראן", "sanctions"),  # "עיצומים", companies as targets
    ("fa", "اتحادیه اروپا شرکت‌های کشتیرانی ایران را تحریم کرد", "sanctions"),
    ("fa", "نخستین کاروان کامیون‌های کمک وارد غزه شد", "humanitarian_aid"),  # stem + ZWNJ + suffix
    ("en", "Jordan resumes airdrops of flour over Gaza", "humanitarian_aid"),
    ("ar", "مسيرات تستهدف مصفاة نفط في روسيا", "energy_infrastructure_strike"),
    ("ar", "الإفراج عن 90 أسيراً مقابل رهائن", "prisoner_exchange"),  # hostages are conflict context
    ("he", "רוסיה ואוקראינה החליפו 200 שבויים בתיווך טורקיה", "prisoner_exchange"),
    ("uk", "Україна повернула 150 захисників з полону за посередництва ОАЕ", "prisoner_exchange"),  # object in between
    # finite verbs, separable verbs and compounds in other-topic headlines (probed after the batch)
    ("fr", "Washington livre des missiles Patriot à l'Ukraine", "military_aid"),
    ("fr", "L'armée ukrainienne reprend le contrôle de deux villages près de Koupiansk", "territorial_change"),
    ("fr", "Frappe de drones sur une raffinerie russe à Riazan", "energy_infrastructure_strike"),
    ("fr", "Libération de 30 otages en échange de 90 prisonniers palestiniens", "prisoner_exchange"),
    ("de", "Russische Truppen nehmen Dorf bei Pokrowsk ein", "territorial_change"),
    ("de", "Raketenangriff auf Kraftwerk in Charkiw", "energy_infrastructure_strike"),
    ("de", "Deutschland liefert weitere Leopard-Panzer an die Ukraine", "military_aid"),
    ("de", "Hamas lässt drei Geiseln frei", "prisoner_exchange"),
    ("de", "Delegationen verhandeln in Kairo über Gaza", "peace_talks"),
    ("ar", "ضربة روسية تدمر محطة كهرباء في خاركيف", "energy_infrastructure_strike"),
    ("ar", "حماس تطلق سراح ثلاث رهائن", "prisoner_exchange"),
    ("ar", "وفدا روسيا وأوكرانيا يتفاوضان في إسطنبول", "peace_talks"),
    ("de", "EU verhängt Sanktionen gegen die Konzerne Rosneft und Lukoil", "sanctions"),  # targets, not business news
    ("he", "כוחות אוקראינים שחררו שני כפרים באזור חרקוב", "territorial_change"),  # "liberated" villages
    ("he", "ארה\"ב תספק לאוקראינה טילי טומהוק", "military_aid"),
    ("he", "חמאס שחרר שלושה חטופים", "prisoner_exchange"),
    ("he", "משלחות ישראל וחמאס נפגשו בקהיר", "peace_talks"),
    ("he", "האיחוד האירופי הקפיא נכסים של בנקים רוסיים", "sanctions"),
    ("fa", "نیروهای اوکراینی دو روستا را در خارکیف پس گرفتند", "territorial_change"),
    ("fa", "حماس سه گروگان اسرائیلی را آزاد کرد", "prisoner_exchange"),
    ("en", "Hamas frees three Israeli hostages", "prisoner_exchange"),
    ("en", "EU freezes assets of Russian banks", "sanctions"),
]


@pytest.mark.parametrize(("lang", "title", "topic"), TOPICS, ids=[f"{t[0]}-{t[2]}" for t in TOPICS])
def test_other_topics_in_new_wordings(enricher: Enricher, lang: str, title: str, topic: str) -> None:
    topics, _ = tag(enricher, title)
    assert topic in topics, (lang, title, topics)


# (headline, topic): the topic must not be tagged.
NOT_TOPICS = [
    ("רוסיה ואוקראינה החליפו 200 שבויים בתיווך טורקיה", "peace_talks"),  # a mediated swap is not peace talks
    ("Kiev et Moscou échangent 200 prisonniers grâce à la médiation d'Abou Dhabi", "peace_talks"),
    ("Échange de 200 prisonniers entre Kiev et Moscou sous l'égide des Émirats", "peace_talks"),
    ("Россия и Украина обменялись пленными при посредничестве ОАЭ", "peace_talks"),  # the same class elsewhere
    ("Rusia y Ucrania canjean 150 prisioneros gracias a la mediación de Emiratos", "peace_talks"),
    ("Rusya ile Ukrayna, BAE arabuluculuğunda esir takası yaptı", "peace_talks"),
    ("Hamas gunmen captured soldiers near the fence", "territorial_change"),  # captives, not territory
    ("Talks on Gaza truce pushed back to next week", "territorial_change"),  # a date, not a front line
]


@pytest.mark.parametrize(("title", "topic"), NOT_TOPICS, ids=[f"{t[1]}-{k}" for k, t in enumerate(NOT_TOPICS)])
def test_words_that_belong_to_another_topic(enricher: Enricher, title: str, topic: str) -> None:
    topics, _ = tag(enricher, title)
    assert topic not in topics, (title, topics)


# Controls: the narrowed rules still fire where they should (these pass on the old rules too).
CONTROLS = [
    ("Cessez-le-feu à Gaza: la médiation qatarie obtient une trêve", "peace_talks", True),  # mediating a truce
    ("הסכם הפסקת האש בעזה נחתם בתיווך מצרים", "peace_talks", True),
    ("При посредничестве Катара стороны договорились о перемирии в Газе", "peace_talks", True),
    ("Ukrainian troops pushed back Russian units near Kupiansk", "territorial_change", True),
    ("ועד העובדים פתח בעיצומים בנמל חיפה", "sanctions", False),  # a union's "sanctions" are labour action
    ("آتش‌بس در جنگ قیمت شرکت‌های خودروسازی", "ceasefire", False),  # the business negative still holds
    ("Die Armee nimmt im Grenzstreit eine abwartende Haltung ein", "territorial_change", False),  # not a place
]


@pytest.mark.parametrize(("title", "topic", "expected"), CONTROLS, ids=[f"ctl-{k}" for k in range(len(CONTROLS))])
def test_controls(enricher: Enricher, title: str, topic: str, expected: bool) -> None:
    topics, _ = tag(enricher, title)
    assert (topic in topics) is expected, (title, topics)
