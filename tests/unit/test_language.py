"""Language detection on short news texts in the tagged languages and a few others.

Why: the language decides whether topics are tagged at all and with which rules; a wrong guess either
tags an article with a lexicon of the wrong language or hides a supported one. Headlines are the hard
case: fastText scores many of them below 10 % (Somali, Swahili), reads Urdu as Persian, Bulgarian as
Russian and Indonesian as Italian; scripts, letters and cue words (see enrich/language.py) fix those.
"""

from __future__ import annotations

import pytest

from enrich import language
from enrich.topics import TopicModel

CASES = [
    ("en", "Russia and Ukraine agree partial ceasefire", "The Kremlin said the truce would start at midnight."),
    ("uk", "Росія та Україна погодили часткове перемир'я", "Зеленський заявив, що Київ дзеркально відповість."),
    ("ru", "Россия и Украина договорились о частичном перемирии", "Кремль заявил, что перемирие начнётся в полночь."),
    ("ar", "اتفاق على وقف إطلاق النار في غزة", "قال الوسطاء إن الهدنة تبدأ صباح الأحد."),
    ("fr", "La Russie et l'Ukraine conviennent d'un cessez-le-feu partiel", "Le Kremlin a annoncé la trêve."),
    ("es", "Rusia y Ucrania acuerdan un alto el fuego parcial", "El Kremlin dijo que la tregua empieza hoy."),
    ("de", "Russland und die Ukraine vereinbaren eine teilweise Waffenruhe", "Der Kreml kündigte sie an."),
    ("zh", "停火协议今天生效", ""),
    ("ja", "停戦合意が本日発効した", ""),
    ("ko", "휴전 협정이 오늘 발효되었다", ""),
    ("tr", "Ateşkes anlaşması bugün yürürlüğe girdi", "Taraflar esir takasında da anlaştı."),
    # headlines alone, one per script or fastText weakness
    ("it", "Cessate il fuoco tra Israele e Hamas entrato in vigore", ""),
    ("pt", "Governo e rebeldes acordam cessar-fogo no leste do Congo", ""),
    ("pl", "Rosja i Ukraina uzgodniły zawieszenie broni na Morzu Czarnym", ""),
    ("nl", "Israël en Hamas sluiten een staakt-het-vuren", ""),
    ("ro", "Armenia și Azerbaidjan au convenit asupra încetării focului", ""),
    ("bg", "САЩ предлагат примирие в Черно море", ""),
    ("el", "Συμφωνία για εκεχειρία στη Γάζα", ""),
    ("hy", "Հայաստանն ու Ադրբեջանը հրադադար են հաստատել", ""),
    ("az", "Ermənistan və Azərbaycan atəşkəs barədə razılığa gəlib", ""),
    ("ka", "ისრაელი და ჰამასი ცეცხლის შეწყვეტაზე შეთანხმდნენ", ""),
    ("he", "הפסקת האש בעזה נכנסה לתוקף", ""),
    ("fa", "آتش‌بس میان ایران و اسرائیل برقرار شد", ""),
    ("ur", "پاکستان اور بھارت کے درمیان فوری جنگ بندی پر اتفاق", ""),
    ("ps", "افغانستان او پاکستان په دوحه کې پر سمدستي اوربند موافقه وکړه", ""),
    ("hi", "भारत और पाकिस्तान युद्धविराम पर सहमत", ""),
    ("bn", "ভারত-পাকিস্তান যুদ্ধবিরতিতে সম্মত", ""),
    ("th", "ไทย-กัมพูชาตกลงหยุดยิงทันที", ""),
    ("km", "កម្ពុជា និងថៃ ព្រមព្រៀងបទឈប់បាញ់", ""),
    ("my", "စစ်ကောင်စီနှင့် ကိုးကန့်တပ် အပစ်ရပ်ရန် သဘောတူ", ""),
    ("vi", "Israel và Hamas đạt thỏa thuận ngừng bắn ở Gaza", ""),
    ("am", "በጋዛ የተኩስ አቁም ስምምነቱ ፈረሰ", ""),
    ("so", "Dowladda Federaalka oo diiday xabbad joojin lala galo al-Shabaab", ""),
    ("sw", "Marekani na Saudi Arabia zapendekeza usitishaji mapigano wa kibinadamu nchini Sudan", ""),
]
# Languages that share rules: detection may pick either member; tagging is the same.
FAMILIES = [{"sr", "hr", "bs"}, {"id", "ms"}]
FAMILY_CASES = [
    ("sr", "Израел и Хамас постигли договор о прекиду ватре у Гази", ""),
    ("sr", "Hamas odbio izraelski predlog o privremenom primirju", ""),
    ("hr", "Prekid vatre u Gazi stupio na snagu, izraelska vojska se povlači", ""),
    ("bs", "Primirje u Jemenu produženo za još dva mjeseca", ""),
    ("id", "Israel dan Hamas sepakati gencatan senjata di Gaza", ""),
    ("ms", "Thailand, Kemboja setuju gencatan senjata serta-merta", ""),
]


@pytest.mark.parametrize(("lang", "title", "text"), CASES, ids=[c[0] for c in CASES])
def test_detects_short_news_texts(lang: str, title: str, text: str) -> None:
    assert language.detect(title, text) == lang


@pytest.mark.parametrize(("lang", "title", "text"), FAMILY_CASES, ids=[c[1][:20] for c in FAMILY_CASES])
def test_rule_sharing_languages_are_detected_as_one_of_their_family(lang: str, title: str, text: str) -> None:
    family = next(f for f in FAMILIES if lang in f)
    assert language.detect(title, text) in family


def test_serbo_croatian_label_maps_by_script() -> None:
    assert language._letters("Примирје у Гази", "sh") == "sr" and language._letters("Primirje u Gazi", "sh") == "hr"


def test_the_feeds_declared_language_breaks_ties() -> None:
    title = "Primirje u Gazi i dalje drži"
    assert language.detect(title, "", hint="bs-BA") == "bs"


def test_empty_text_falls_back_to_the_declared_language() -> None:
    assert language.detect("", "", hint="fr-FR") == "fr"
    assert language.detect(" ", "") == "en"


def test_support() -> None:
    assert language.is_supported("uk") and language.is_supported("tr") and language.is_supported("so")
    assert not language.is_supported("sv") and not language.is_supported(None)
    assert not language.is_supported("sh") and not language.is_supported("msa")  # shared rule sets, never detected


def test_supported_languages_are_the_taxonomys() -> None:
    model = TopicModel()
    assert language.supported_languages() <= model.languages()
    assert len(language.supported_languages()) >= 39


def test_the_model_ships_with_the_installed_packages() -> None:
    path = language.model_path()
    assert path.name == "lid.176.ftz" and path.stat().st_size > 500_000
