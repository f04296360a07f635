"""Rule classes found by the thirteenth fresh dev batch (tests/data/lang/fresh13_dev.jsonl, README_fresh13.md).

Why: the batch gave each of the 27 ceasefire-only languages the same cover (3 positives, 3 hard negatives) and its
errors, with the three probe rounds written after it, fell into classes: hard negatives the rules tagged (truces
between criminal gangs, drug clans and bandits — the ceasefire topic vetoes only the "policing" class for these,
so gang words go there —, exhibitions and book launches on old ceasefires, a Korean Armistice anniversary whose
body sentence has war context, a novel called "Ceasefire"), truce phrases without the usual noun (pl "panuje
spokój na linii frontu", "wstrzymuje ostrzał", ro "opresc luptele", sh "nakon N dana mira"), and state verbs the
rules did not know (nl "zegt nee tegen", "N weken langer", "geldt vanaf", sh "ne pristaje", "borbe ponovo
počinju", ko 일축, ja 一蹴, zh 吁, bn "মেনে চলতে সম্মত", my attacks "during the truce period", so "weli way socotaa",
sw "wataka", ps "ډزې نه دي شوې", hy "պահպանում են", az "yox dedi", ka "კიდევ … -ით გაგრძელდა", am "እንደተጠበቀ").
The cases are worded for this test, not copied from the batch; each fails on the rules before the batch (the
taxonomy of commit 875d082) unless marked a control: 40 of the 46 fail there, the 6 controls pass on both.
"""

from __future__ import annotations

import pytest

from enrich.language import detect
from enrich.pipeline import Enricher
from tests.unit.tagging import tagger

tag = tagger("f13")


# (language, headline, state): ceasefire and this state expected.
STATES = [
    ("nl", "Bestand in Libanon blijft drie weken langer van kracht", "extended"),
    ("nl", "Hamas zegt nee tegen Israëlisch voorstel voor een staakt-het-vuren", "rejected"),
    ("nl", "Staakt-het-vuren tussen Thailand en Cambodja geldt vanaf middernacht", "agreed"),
    ("sh", "Izrael ne pristaje na primirje bez oslobađanja talaca", "rejected"),  # not the proposal
    ("sh", "Nakon dve nedelje mira borbe u Kordofanu ponovo počinju", "collapsed"),  # no truce noun
    ("ko", "하마스, 이스라엘의 휴전안 일축", "rejected"),
    ("ja", "ハマス、イスラエルの停戦案を一蹴", "rejected"),
    ("zh", "联合国吁苏丹交战双方立即停火", "proposed"),  # 吁, the short form of 呼吁
    ("zh", "俄方吁乌克兰接受停火", "proposed"),  # 接受 after 吁 is what is asked for
    ("bn", "ভারত ও পাকিস্তান যুদ্ধবিরতি মেনে চলতে সম্মত", "agreed"),  # "agreed to observe", not "observed"
    ("my", "အပစ်ရပ်ကာလအတွင်း ရခိုင်တွင် ဗုံးကြဲတိုက်ခိုက်", "violated"),  # air strikes during the truce period
    ("so", "Xabbad joojinta Galmudug weli way socotaa", "in_force"),
    ("sw", "Umoja wa Mataifa wataka usitishaji mapigano Sudan", "proposed"),
    ("ps", "د پکتیا پر پوله اوربند پلی دی او ډزې نه دي شوې", "in_force"),
    ("ro", "Rusia și Ucraina opresc luptele de Paște", "agreed"),
    ("ro", "ONU cere ca armata și RSF să oprească luptele în Sudan", "proposed"),  # "să": asked for, not agreed
    ("hy", "Հայաստանը և Ադրբեջանը պահպանում են հրադադարը", "in_force"),
    ("az", "Rusiya atəşkəs təklifinə yox dedi", "rejected"),
    ("ka", "ზავი ლიბანში კიდევ ერთი თვით გაგრძელდა", "extended"),
    ("am", "በትግራይ የተኩስ አቁም ስምምነቱ እንደተጠበቀ ነው", "in_force"),
    ("pl", "Izrael wstrzymuje ostrzał Gazy na czas wymiany zakładników", "agreed"),  # a unilateral halt
]


@pytest.mark.parametrize(("lang", "title", "state"), STATES, ids=[f"{s[0]}-{s[2]}-{k}" for k, s in enumerate(STATES)])
def test_ceasefire_and_state_in_new_wordings(enricher: Enricher, lang: str, title: str, state: str) -> None:
    topics, got = tag(enricher, title)
    assert "ceasefire" in topics, (lang, title, topics)
    assert got == state, (lang, title, got)


# Truce phrases without the usual noun (the state is not the point here).
CEASEFIRE = [
    ("pl", "Na linii frontu w Donbasie od tygodnia panuje cisza"),
    ("pl", "Spokój na linii frontu pod Charkowem"),
    ("sh", "Poslije deset dana zatišja u Gazi ponovo odjekuju eksplozije"),
]


@pytest.mark.parametrize(("lang", "title"), CEASEFIRE, ids=[f"{c[0]}-{k}" for k, c in enumerate(CEASEFIRE)])
def test_truce_phrases_without_the_noun(enricher: Enricher, lang: str, title: str) -> None:
    topics, _ = tag(enricher, title)
    assert "ceasefire" in topics, (lang, title, topics)


def test_croatian_unatoc_headline_is_not_read_as_slovenian() -> None:
    # control (passes on the old rules too): the new sh cues unatoč / pucal* fixed the batch's own headline,
    # which fastText read as Slovenian; reworded ones like this were already Croatian, so this only guards them
    assert detect("Ruski vojnici pucali unatoč primirju", "") in {"hr", "sr", "bs"}


# Hard negatives the old rules tagged: gangs, an exhibition or book on an old ceasefire, fiction.
NOT_CEASEFIRE = [
    ("my", "မူးယစ်ဆေးဂိုဏ်းများ အပစ်ရပ်", ""),
    ("so", "Laba kooxood oo burcad ah oo Kismaayo ku heshiiyay xabbad joojin", ""),
    ("hy", "Երկու հանցախմբեր հրադադար են կնքել Երևանում", ""),
    ("az", "İki cinayətkar dəstə arasında atəşkəs əldə olunub", ""),
    ("ur", "کراچی میں دو گینگز کے درمیان جنگ بندی", ""),
    ("ur", "1971 کی جنگ بندی پر نئی کتاب کی رونمائی", ""),
    ("bn", "দুই গ্যাংয়ের মধ্যে যুদ্ধবিরতি, এলাকায় স্বস্তি", ""),
    ("bn", "১৯৭১ সালের যুদ্ধবিরতি নিয়ে প্রদর্শনী", ""),
    ("km", "ក្រុមក្មេងទំនើងពីរ ព្រមព្រៀងបទឈប់បាញ់", ""),
    ("ms", "Dua kumpulan samseng capai gencatan senjata di Johor Bahru", ""),
    ("am", "ሁለት የወንጀል ቡድኖች የተኩስ አቁም ስምምነት አደረጉ", ""),
    ("sw", "Magenge mawili ya wahalifu Nairobi yasitisha mapigano", ""),
    ("ps", "د دوو غلو ډلو ترمنځ اوربند", ""),
    ("th", "นิยาย 'หยุดยิง' เรื่องสงครามสมมติ คว้ารางวัลซีไรต์", ""),
    ("hi", "मुंबई की प्रदर्शनी में 1971 के युद्धविराम की याद", ""),
    ("zh", "停战协定纪念日 老兵重返板门店", "1953年签署的停战协定结束了朝鲜战争的激烈战斗。"),  # the body has war context
]


@pytest.mark.parametrize(("lang", "title", "text"), NOT_CEASEFIRE, ids=[f"{c[0]}-{k}" for k, c in enumerate(NOT_CEASEFIRE)])
def test_hard_negatives_are_not_ceasefire(enricher: Enricher, lang: str, title: str, text: str) -> None:
    topics, _ = tag(enricher, title, text)
    assert "ceasefire" not in topics, (lang, title, topics)


# Controls (pass on the old rules too): a recent year is no history cue, "মেনে চলছে" alone is still in_force,
# a Somali / Urdu truce that holds stays in_force.
CONTROLS = [
    ("zh", "2024年停火协议破裂 加沙战火再起", "collapsed"),
    ("hi", "नियंत्रण रेखा पर 2025 में हुए संघर्षविराम का उल्लंघन, गोलीबारी", "violated"),
    ("bn", "ভারত ও পাকিস্তান যুদ্ধবিরতি মেনে চলছে, সীমান্ত শান্ত", "in_force"),
    ("so", "Xabbad joojinta Laascaanood weli socota", "in_force"),
    ("ur", "لائن آف کنٹرول پر جنگ بندی برقرار", "in_force"),
]


@pytest.mark.parametrize(("lang", "title", "state"), CONTROLS, ids=[f"ctl-{c[0]}-{k}" for k, c in enumerate(CONTROLS)])
def test_controls_keep_their_state(enricher: Enricher, lang: str, title: str, state: str) -> None:
    topics, got = tag(enricher, title)
    assert "ceasefire" in topics, (lang, title, topics)
    assert got == state, (lang, title, got)
