"""Rule classes found by the fourteenth fresh dev batch (tests/data/lang/fresh14_dev.jsonl, README_fresh14.md).

Why: the batch aimed at the weaknesses the aggregate held-out figures showed (Ukrainian lifecycle state; hard
negatives and states in az ro bg bs hr pl hi hy zh). Its errors, with five probe rounds written after it, fell into
classes: Ukrainian state verbs in forms the cues lacked (imperfective "відхиляє", passive "запропонований",
"запроваджено", negated "не порушується", "не приймає", "не буде", future "продовжать", "розвалилося", "бої
поновилися", "втратила чинність", attacks "під час перемир'я"), Ukrainian truces without the noun ("зупинити
обстріли", "пауза в бойових діях", "зберігається тиша", holiday truces "на Великдень"), Azerbaijani "pozuldu /
pozulması" (unmatched: the violated cue listed only some suffixes) and negative suffixes ("pozulmur", "qəbul
etmədi"), Romanian "încetări a focului", Bulgarian "няма" as a negation and "не издържа", Serbo-Croatian
"nije / nisu" as negations and "ne prihvaća", Polish bi-national adjectives as conflict context, Hindi "कोई
उल्लंघन नहीं", and hard negatives (a police programme called «Припинення вогню», a Hindi coalition truce, an
Armenian book on the 1994 ceasefire, a Polish 1918 anniversary, a Croatian price-war truce). The cases are worded
for this test, not copied from the batch; each fails on the rules before the batch (the taxonomy of commit
189acbf) unless it is in CONTROLS / NOT_CEASEFIRE_CONTROLS, which pass on both.
"""

from __future__ import annotations

import pytest

from enrich.pipeline import Enricher
from tests.unit.tagging import tagger

tag = tagger("f14")


# (language, headline, state): ceasefire and this state expected.
STATES = [
    ("uk", "Кремль відхиляє пропозицію Вашингтона про тридцятиденне перемир'я", "rejected"),  # not the proposal
    ("uk", "Україна не приймає «перемир'я» на умовах окупантів", "rejected"),
    ("uk", "Ізраїль виключає припинення вогню до звільнення заручників", "rejected"),
    ("uk", "Кремль: жодного перемир'я на Різдво не буде", "rejected"),
    ("uk", "Москва проігнорувала заклик до перемир'я і завдала удару по Києву", "rejected"),
    ("uk", "Перемир'я на Запорізькому напрямку не порушувалося вже добу", "in_force"),  # negated violation
    ("uk", "На Донеччині не було жодних порушень режиму тиші", "in_force"),
    ("uk", "Режим тиші в Газі триває п'ятий день", "in_force"),
    ("uk", "Перемир'я між Ізраїлем і Хезболлою розвалилося за тиждень", "collapsed"),
    ("uk", "Бої під Часовим Яром поновилися після короткого перемир'я", "collapsed"),
    ("uk", "Угода про припинення вогню в Лівані втратила чинність", "collapsed"),
    ("uk", "Сторони домовилися продовжувати перемир'я в Ємені", "extended"),  # not agreed
    ("uk", "Перемир'я в Судані пролонгували ще на тиждень", "extended"),
    ("uk", "Енергетичне перемир'я продовжать ще на місяць", "extended"),
    ("uk", "Росія знову обстріляла Херсон незважаючи на оголошене перемир'я", "violated"),  # not agreed
    ("uk", "Росія атакувала Запоріжжя під час «перемир'я»", "violated"),
    ("uk", "Вірменія та Азербайджан дійшли згоди щодо припинення вогню", "agreed"),
    ("uk", "Київ пристав на пропозицію США про перемир'я", "agreed"),  # accepting, not proposing
    ("uk", "Трамп просить Путіна про перемир'я", "proposed"),
    ("az", "Atəşkəs yenidən pozuldu, Xankəndi yaxınlığında atışma", "violated"),
    ("az", "Ermənistan atəşkəs təklifini qəbul etmədi", "rejected"),
    ("az", "İsrail atəşkəsi pozaraq Livana zərbələr endirib", "violated"),
    ("az", "Sudanda humanitar atəşkəs cəmi iki gün davam etdi", "collapsed"),
    ("ro", "Armistițiul din Liban nu a rezistat nici o săptămână", "collapsed"),
    ("ro", "Luptele au reizbucnit în Sudan după armistițiu", "collapsed"),
    ("ro", "Rusia nu este de acord cu încetarea focului propusă de SUA", "rejected"),
    ("bg", "Примирието в Газа не издържа и седмица", "collapsed"),
    ("bg", "Хамас не прие предложението за примирие", "rejected"),
    ("bg", "Израел поднови ударите по Газа след края на примирието", "collapsed"),
    ("hr", "Hamas nije prihvatio izraelski prijedlog primirja", "rejected"),  # "nije" cancels the agreed cue
    ("hr", "Rusija ne prihvaća američki plan primirja", "rejected"),
    ("pl", "Rozejm w Gazie nie został naruszony", "in_force"),
    ("hi", "गाजा में संघर्षविराम का कोई उल्लंघन नहीं", "in_force"),
    ("hi", "रूस ने युद्धविराम प्रस्ताव को नकार दिया", "rejected"),
    ("hi", "सूडान में युद्धविराम नाकाम, फिर भड़की लड़ाई", "collapsed"),
    ("hi", "रूस ने यूक्रेन के साथ युद्धविराम बढ़ाने पर सहमति जताई", "extended"),
]


@pytest.mark.parametrize(("lang", "title", "state"), STATES, ids=[f"{s[0]}-{s[2]}-{k}" for k, s in enumerate(STATES)])
def test_ceasefire_and_state_in_new_wordings(enricher: Enricher, lang: str, title: str, state: str) -> None:
    topics, got = tag(enricher, title)
    assert "ceasefire" in topics, (lang, title, topics)
    assert got == state, (lang, title, got)


# Truce phrases without the usual noun, or in a form the rules missed (the state is not the point here).
CEASEFIRE = [
    ("uk", "Індія та Пакистан домовилися припинити обстріли на лінії контролю"),
    ("uk", "Ізраїль і ХАМАС оголосили про паузу в бойових діях"),
    ("uk", "Папа Римський закликав до перемир'я на Різдво"),
    ("uk", "Місяць без пострілів: на кордоні Вірменії та Азербайджану зберігається тиша"),
    ("ro", "Israelul și Hamas au convenit asupra încetării focului"),
    ("pl", "Rozejm na granicy indyjsko-pakistańskiej złamany"),
    ("pl", "Izrael i Hezbollah uzgodnili zawieszenie ognia"),
    ("bs", "U Gazi već deset dana vlada zatišje"),
    ("bg", "ООН призова за незабавно примирие в Судан"),  # was read as Russian
    ("bs", "Hamas odbacuje izraelski plan primirja"),  # was read as Czech
]


@pytest.mark.parametrize(("lang", "title"), CEASEFIRE, ids=[f"{c[0]}-{k}" for k, c in enumerate(CEASEFIRE)])
def test_truce_phrases_the_rules_missed(enricher: Enricher, lang: str, title: str) -> None:
    topics, _ = tag(enricher, title)
    assert "ceasefire" in topics, (lang, title, topics)


# Hard negatives the old rules tagged.
NOT_CEASEFIRE = [
    ("uk", "Поліція Львова перейняла програму «Припинення вогню» проти вуличного насильства", ""),
    ("hi", "महाराष्ट्र में गठबंधन सहयोगियों के बीच युद्धविराम", ""),
    ("hy", "Գյումրիում ներկայացվել է 1994 թվականի հրադադարի մասին գիրք",
     "Գրքում հավաքված են Ղարաբաղյան պատերազմի վերջին ամիսների վկայությունները։"),
    ("pl", "Rocznica rozejmu w Compiègne",
     "11 listopada 1918 roku podpisano rozejm kończący I wojnę światową. W Warszawie odbyły się uroczystości z "
     "udziałem żołnierzy."),
    ("hr", "Tvrtke su potpisale primirje u cjenovnom ratu", ""),
]


@pytest.mark.parametrize(("lang", "title", "text"), NOT_CEASEFIRE, ids=[f"{c[0]}-{k}" for k, c in enumerate(NOT_CEASEFIRE)])
def test_hard_negatives_are_not_ceasefire(enricher: Enricher, lang: str, title: str, text: str) -> None:
    topics, _ = tag(enricher, title, text)
    assert "ceasefire" not in topics, (lang, title, topics)


# Controls (pass on the old rules too): the new verb and phrase rules must not reach these.
NOT_CEASEFIRE_CONTROLS = [
    ("uk", "ЗСУ зупинили наступ ворога під Покровськом"),  # a halted offensive is repelled, not a truce
    ("uk", "ЗСУ зупинили атаку ворога на Куп'янськ"),
    ("uk", "Вогнеборці зупинили вогонь на складі у Дніпрі"),
    ("uk", "Вогнеборці зупинили поширення вогню на торфовищах"),
    ("uk", "Депутати продовжили політичне перемир'я до кінця сесії"),
    ("uk", "Після поразки «Динамо» на стадіоні запанувала тиша"),
    ("uk", "Уряд продовжив мораторій на підвищення тарифів"),
    ("az", "Yanğınsöndürənlər alovu söndürüb atəşi dayandırdı"),
    ("ro", "Pompierii au oprit focul de la fabrica din Ploiești"),
    ("hr", "U Saboru vlada mir nakon dogovora stranaka"),
    ("pl", "Polsko-niemiecki rozejm handlowy w sprawie cła na stal"),
]


@pytest.mark.parametrize(("lang", "title"), NOT_CEASEFIRE_CONTROLS,
                         ids=[f"ctl-neg-{c[0]}-{k}" for k, c in enumerate(NOT_CEASEFIRE_CONTROLS)])
def test_controls_stay_untagged(enricher: Enricher, lang: str, title: str) -> None:
    topics, _ = tag(enricher, title)
    assert "ceasefire" not in topics, (lang, title, topics)


CONTROLS = [
    ("uk", "Росія скасувала великоднє перемир'я і відновила обстріли Харкова", "collapsed"),
    ("uk", "Пропозицію про енергетичне перемир'я передано обом сторонам", "proposed"),
    ("az", "Qəzzada atəşkəs pozulmur, üçüncü gün sakitlik", "in_force"),
    ("bg", "Няма нарушения на примирието в Южен Ливан", "in_force"),
]


@pytest.mark.parametrize(("lang", "title", "state"), CONTROLS, ids=[f"ctl-{c[0]}-{k}" for k, c in enumerate(CONTROLS)])
def test_controls_keep_their_state(enricher: Enricher, lang: str, title: str, state: str) -> None:
    topics, got = tag(enricher, title)
    assert "ceasefire" in topics, (lang, title, topics)
    assert got == state, (lang, title, got)
