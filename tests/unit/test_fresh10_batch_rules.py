"""Rule classes found by the tenth fresh dev batch (tests/data/lang/fresh10_dev.jsonl, README_fresh10.md).

Why: the batch reworded ceasefire news in the 27 ceasefire-only languages (other truce words, inflected and
passive state verbs, reported speech) after the earlier dev sets had been tuned for many rounds. Its errors and
the probes written after it fell into classes: truce words the rules did not know (pl "przerwa w walkach",
"cisza na froncie", nl "wapenrust", ro "să înceteze focul" as a verb, az "barışıq", ko "정전" before a proposal
noun), state verbs in another inflection or idiom (nl "pleiten voor", "van de hand wijzen", "opgerekt", "loopt
af"; az "rədd etdi" (the stem only allowed "rədd ed-"), "qorunub saxlanılır", "riayət etmədiyini"; bg
"се споразумяха", "се разпадна"; ka "დაირღვა"; hy "համաձայնել են"; hi "तोड़ने का आरोप"; bn a bare
"রাজি"; id/ms "buyar", "terima"; pl "przystały na", "kruchy"; zh 宣布 with words before 停火), Bulgarian
headlines fastText reads as Russian, and an Armenian armistice whose only context is Baku and the OSCE. The
cases are worded for this test, not copied from the batch; each fails on the rules before the batch (checked
with the taxonomy of commit 5320693) unless marked a control.
"""

from __future__ import annotations

import pytest

from enrich.language import detect
from enrich.pipeline import Enricher
from tests.unit.tagging import tagger

tag = tagger("f10")


# (language, headline, state): ceasefire and this state expected.
STATES = [
    ("nl", "VN pleiten voor een humanitaire pauze in Jemen", "proposed"),
    ("nl", "Hamas wijst het nieuwe voorstel voor een bestand van de hand", "rejected"),  # not the proposal
    ("nl", "Staakt-het-vuren in Libanon nog eens twee weken opgerekt", "extended"),
    ("nl", "Wapenrust in Oekraïne loopt af zonder verlenging", "collapsed"),  # another truce noun
    ("ro", "Armenia și Azerbaidjan convin să înceteze focul la frontieră", "agreed"),  # the verb, not the noun
    ("bg", "Израел и Хамас се споразумяха за примирие", "agreed"),
    ("bg", "Примирието се разпадна, боевете в Судан продължават", "collapsed"),
    ("az", "Rusiya atəşkəs təklifini rədd etdi", "rejected"),  # "rədd etdi", not only "rədd ed-"
    ("az", "Livanda atəşkəs qorunub saxlanılır", "in_force"),
    ("az", "Ermənistan atəşkəsə riayət edilmədiyini bildirdi", "violated"),
    ("ka", "ზავი ღაზაში დაირღვა", "violated"),
    ("hy", "Ադրբեջանը և Հայաստանը համաձայնել են հրադադարի շուրջ", "agreed"),
    ("ko", "하마스, 이스라엘의 60일 정전 제안 거부", "rejected"),  # "정전" before a proposal noun
    ("hi", "पाकिस्तान पर फिर युद्धविराम तोड़ने का आरोप", "violated"),
    ("bn", "ভারত ও পাকিস্তান যুদ্ধবিরতিতে রাজি", "agreed"),  # a bare "রাজি" at the end
    ("id", "Gencatan senjata di Sudan buyar setelah dua hari", "collapsed"),
    ("ms", "Hamas terima usulan gencatan senjata", "agreed"),  # accepting a proposal
    ("pl", "Armia i RSF przystały na rozejm w Sudanie", "agreed"),
    ("pl", "Rozejm w Strefie Gazy coraz bardziej kruchy", "violated"),
    ("zh", "俄罗斯宣布单方面停火三天", "agreed"),  # words between 宣布 and 停火
    # third probe round
    ("el", "Λήγει η ανακωχή στην Υεμένη χωρίς παράταση", "collapsed"),  # "expires" before the noun
    ("ka", "ჰამასი ცეცხლის შეწყვეტას არ ეთანხმება", "rejected"),  # negated "agrees"
    ("zh", "以色列接受停火方案", "agreed"),  # accepting
    ("hi", "संघर्षविराम पर अमल जारी, गाँवों में लौटे लोग", "in_force"),
    ("ms", "Junta isytihar gencatan senjata sementara di Myanmar", "agreed"),
    # fourth probe round
    ("pl", "Izrael i Hamas porozumieli się w sprawie rozejmu w Strefie Gazy", "agreed"),  # reflexive verb
    ("nl", "Staakt-het-vuren in Soedan bezegeld in Jeddah", "agreed"),
    ("th", "การหยุดยิงในเลบานอนยังคงอยู่ในวันที่สี่", "in_force"),
]


@pytest.mark.parametrize(("lang", "title", "state"), STATES, ids=[f"{s[0]}-{s[2]}-{k}" for k, s in enumerate(STATES)])
def test_ceasefire_and_state_in_new_wordings(enricher: Enricher, lang: str, title: str, state: str) -> None:
    topics, got = tag(enricher, title)
    assert "ceasefire" in topics, (lang, title, topics)
    assert got == state, (lang, title, got)


# Truce words the rules did not know (the state is not the point here).
CEASEFIRE = [
    ("pl", "Wojska Izraela i Hezbollahu przestały się ostrzeliwać"),
    ("pl", "Przerwa w walkach pod Pokrowskiem na czas wymiany jeńców"),
    ("nl", "Vuurpauze in Gaza voor vaccinatiecampagne tegen polio"),
    ("hy", "Բաքուն մերժում է ԵԱՀԿ-ի զինադադարի ծրագիրը"),  # Baku and the OSCE are the only context
]


@pytest.mark.parametrize(("lang", "title"), CEASEFIRE, ids=[f"{c[0]}-{k}" for k, c in enumerate(CEASEFIRE)])
def test_other_truce_words(enricher: Enricher, lang: str, title: str) -> None:
    topics, _ = tag(enricher, title)
    assert "ceasefire" in topics, (lang, title, topics)


@pytest.mark.parametrize(("lang", "title"), [
    ("sh", "Hamas odbija primirje bez povlačenja vojske"),  # fastText: Slovenian, which says "premirje"
    ("ps", "اسرائیلو اوربند ومانه"),  # fastText: Persian
])
def test_short_headline_language_from_cue_words(lang: str, title: str) -> None:
    got = detect(title, "")
    assert got == lang or (lang == "sh" and got in {"hr", "sr", "bs"}), got


def test_a_call_to_accept_is_still_a_proposal(enricher: Enricher) -> None:
    # control: 接受 after a call verb is what is asked for, not what was agreed
    _, got = tag(enricher, "联合国敦促双方接受停火方案")
    assert got == "proposed"


@pytest.mark.parametrize("title", ["Тайланд обяви едностранно примирие", "Тайланд и Мианмар подписаха примирие"])
def test_bulgarian_headline_is_not_read_as_russian(title: str) -> None:
    assert detect(title, "") == "bg"


def test_russian_headline_stays_russian() -> None:
    # control: the new Bulgarian cues must not pull Russian into the Bulgarian rules
    assert detect("Таиланд объявил одностороннее перемирие", "") == "ru"


# Controls: truce words outside war (these pass on the old rules too).
NOT_CEASEFIRE = [
    "Przerwa w walkach gali KSW potrwa do marca",  # combat sports
    "Cisza na froncie walki z inflacją, stopy bez zmian",
    "Pompierii au oprit focul după șase ore la depozitul din Ploiești",  # firefighters "stopped the fire"
    "러시아 공습으로 키이우 대규모 정전 사흘째",  # 정전 is also a power cut
    "Politieke wapenrust in de Tweede Kamer tot na de begroting",
    "Hökumət və müxalifət arasında barışıq əldə olundu",  # political reconciliation
    "Syarikat telekomunikasi terima tawaran pengambilalihan",
    "Supermarktketens sluiten wapenstilstand in prijzenoorlog",
    "Пожарникарите спряха огъня в склада след десет часа",
    "与野党が休戦協定、国会正常化へ",
    "कांग्रेस और भाजपा के बीच राजनीतिक युद्धविराम",
    "Lính cứu hỏa ngừng phun nước sau khi dập tắt đám cháy",
]


@pytest.mark.parametrize("title", NOT_CEASEFIRE, ids=[f"ctl-{k}" for k in range(len(NOT_CEASEFIRE))])
def test_controls_no_ceasefire(enricher: Enricher, title: str) -> None:
    topics, _ = tag(enricher, title)
    assert "ceasefire" not in topics, (title, topics)


# A negation look-behind such as "(?<!nie )" must see the word "nie", not the end of a longer word: Polish
# locatives ("w Sudanie", "w Ukrainie") and Serbo-Croatian "strane" (sides) end in the letters of the negation
# and silently hid the agreed cue that followed them.
@pytest.mark.parametrize(("title", "state"), [
    ("Strony konfliktu w Sudanie zgodziły się na rozejm", "agreed"),
    ("Armia i RSF w Sudanie przystały na rozejm", "agreed"),
    ("Zaraćene strane prihvatile primirje u Sudanu", "agreed"),
    ("Зараћене стране прихватиле примирје у Судану", "agreed"),
])
def test_a_negation_lookbehind_needs_the_whole_word(enricher: Enricher, title: str, state: str) -> None:
    topics, got = tag(enricher, title)
    assert "ceasefire" in topics, (title, topics)
    assert got == state, (title, got)
