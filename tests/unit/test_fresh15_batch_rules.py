"""Rule classes found by the fifteenth fresh dev batch (tests/data/lang/fresh15_dev.jsonl, README_fresh15.md).

Why: the aggregate held-out figures showed the lifecycle state (0.725) and ceasefire recall in the 12 full-taxonomy
languages weakest, with dev sets at 1.0: the rules knew the dev verbs, not the other ways wires phrase a state. The
batch (written blind) and three probe rounds found classes: truces named without the usual noun ("de-escalation
deal", "lull", "accalmie", "затишшя", "pausa temporal", "fin des hostilités", "pôr fim aos confrontos", "çatışmalara
son verme", "توقف موقت جنگ", "зупинка вогню", "schweigen … die Waffen"); "press X to accept" read as agreed (it is a
proposal); states said by idiom or outcome ("in tatters", "a vécu", "розсипалося", "desfez-se", "از هم پاشید",
"نهاية الهدنة", "lasted only three days", a deadline put off, "a further week of calm", "schlägt … vor", "verstößt",
"запрацює", "concordam", "se alarga"); quiet "since" the parties agreed is in_force; a refused lull is rejected;
"l'accalmie se prolonge" is in_force; a Turkish "kabul etmeleri için" (so that they accept) is no refusal; price
wars are business; the German club negative "Verein" swallowed "Vereinte Nationen". The cases are worded for this
test, not copied from the batch; each fails on the rules of commit 423fb00 unless it is in a CONTROLS list, which
pass on both.
"""

from __future__ import annotations

import pytest

from enrich.pipeline import Enricher
from tests.unit.tagging import tagger

tag = tagger("f15")


# (language, headline, text, state): ceasefire and this state expected.
STATES = [
    ("en", "Azerbaijan and Armenia reach de-escalation agreement on the border", "", "agreed"),
    ("en", "Lull holds along the Lebanese border for a third day", "", "in_force"),
    ("en", "Truce in shreds as artillery pounds Omdurman", "", "collapsed"),
    ("en", "US envoy secures another week of calm in Gaza", "", "extended"),
    ("en", "Line of Control quiet",
     "Not a single shot has been fired since the two armies agreed to hold their fire on Sunday.", "in_force"),
    ("en", "Russia keeps up its offensive despite truce calls, refuses to halt attacks", "", "rejected"),
    ("de", "Im Süden des Libanon schweigen seit vier Tagen die Waffen", "", "in_force"),
    ("de", "Ägypten schlägt Israel und der Hamas eine zweiwöchige Waffenruhe vor", "", "proposed"),
    ("de", "Russland verstößt nach ukrainischen Angaben gegen die Waffenruhe", "", "violated"),
    ("de", "Vereinte Nationen verlangen Feuerpause im Sudan", "", "proposed"),
    ("de", "Waffenruhe im Jemen bleibt bis Ende Juni in Kraft", "", "extended"),
    ("fa", "سازمان ملل خواهان توقف موقت جنگ در سودان شد", "", "proposed"),
    ("fa", "آتش‌بس در غزه پس از دو روز از هم پاشید", "", "collapsed"),
    ("fa", "مهلت آتش‌بس لبنان یک ماه دیگر افزایش یافت", "", "extended"),
    ("fa", "آتش‌بس میان هند و پاکستان از فردا اجرا می‌شود", "", "agreed"),
    ("fa", "حماس پیشنهاد توقف موقت جنگ را نپذیرفت", "", "rejected"),
    ("uk", "Перемир'я на сході Конго розсипалося за тиждень", "", "collapsed"),
    ("uk", "ХАМАС відкинув ідею тимчасового затишшя", "", "rejected"),
    ("uk", "Катар закликає Ізраїль і ХАМАС погодитися на двотижневе припинення вогню", "", "proposed"),
    ("uk", "Перемир'я між Вірменією та Азербайджаном запрацює в понеділок", "", "agreed"),
    ("uk", "Сторони відклали завершення перемир'я в Газі на тиждень", "", "extended"),
    ("pt", "Rússia e Ucrânia concordam com trégua no mar Negro", "", "agreed"),
    ("pt", "Trégua em Gaza desfez-se ao fim de dois dias", "", "collapsed"),
    ("pt", "Hamas descarta pausa temporária proposta por Israel", "", "rejected"),
    ("pt", "Mediadores pressionam Moscovo a aceitar cessar-fogo de 30 dias", "", "proposed"),
    ("pt", "Cessar-fogo no Iémen vai vigorar até ao fim de março", "", "extended"),
    ("es", "La tregua en Gaza se alarga una semana", "", "extended"),
    ("es", "El alto el fuego en Sudán duró solo dos días", "", "collapsed"),
    ("it", "La tregua a Gaza è durata solo due giorni", "", "collapsed"),
    ("it", "Israele colpisce il Libano violando la tregua", "", "violated"),
    ("fr", "Soudan : la trêve a vécu", "", "collapsed"),
    ("fr", "Israël et le Hezbollah s'entendent sur la fin des hostilités", "", "agreed"),
    ("tr", "Arabulucular Hamas'a ateşkesi kabul etmesi için baskı yapıyor", "", "proposed"),
    ("tr", "Ermenistan ve Azerbaycan çatışmalara son verme kararı aldı", "", "agreed"),
    ("ar", "الهدنة في غزة تستمر أسبوعاً إضافياً", "", "extended"),
    ("en", "Kashmir truce over after five days", "", "collapsed"),
    ("en", "Guns still silent on the Thai-Cambodian border", "", "in_force"),
    ("uk", "Ізраїль розглядає катарський план перемир'я", "", "proposed"),
    ("pt", "Israel analisa plano catari de cessar-fogo", "", "proposed"),
    ("en", "Yemen's warring sides roll the truce over for another month", "", "extended"),  # not "truce over"
]


@pytest.mark.parametrize(("lang", "title", "text", "state"), STATES,
                         ids=[f"{s[0]}-{s[3]}-{k}" for k, s in enumerate(STATES)])
def test_ceasefire_and_state_in_new_wordings(enricher: Enricher, lang: str, title: str, text: str, state: str) -> None:
    topics, got = tag(enricher, title, text)
    assert "ceasefire" in topics, (lang, title, topics)
    assert got == state, (lang, title, got)


# Hard negatives the old rules tagged.
NOT_CEASEFIRE = [
    ("uk", "Мережі супермаркетів оголосили перемир'я у ціновій війні"),
]


@pytest.mark.parametrize(("lang", "title"), NOT_CEASEFIRE, ids=[f"{c[0]}-{k}" for k, c in enumerate(NOT_CEASEFIRE)])
def test_hard_negatives_are_not_ceasefire(enricher: Enricher, lang: str, title: str) -> None:
    topics, _ = tag(enricher, title)
    assert "ceasefire" not in topics, (lang, title, topics)


# Controls (pass on the old rules too): the new words must not tag these, and old states must stay.
NOT_CEASEFIRE_CONTROLS = [
    ("en", "Calm holds on Wall Street after a volatile week"),
    ("en", "Lull in trading as markets await the Fed"),
    ("uk", "Затишшя на ринку нерухомості Києва"),
    ("fr", "Accalmie sur les marchés après la chute du CAC 40"),
    ("es", "Pausa temporal en la producción de la fábrica de Seat"),
    ("it", "Pausa temporanea per i lavori della metro di Roma"),
    ("pt", "Fabricantes de automóveis põem fim aos confrontos judiciais sobre patentes"),
    ("fa", "توقف موقت تولید در کارخانه خودروسازی"),
    ("tr", "Sendika ile yönetim çatışmalara son verme konusunda anlaştı"),
    ("de", "Discounter schließen Waffenstillstand im Preiskrieg"),
]


@pytest.mark.parametrize(("lang", "title"), NOT_CEASEFIRE_CONTROLS,
                         ids=[f"ctl-neg-{c[0]}-{k}" for k, c in enumerate(NOT_CEASEFIRE_CONTROLS)])
def test_controls_stay_untagged(enricher: Enricher, lang: str, title: str) -> None:
    topics, _ = tag(enricher, title)
    assert "ceasefire" not in topics, (lang, title, topics)


CONTROLS = [
    ("en", "Hamas rejects Israeli truce offer", "rejected"),
    ("fr", "La trêve à Gaza prolongée d'une semaine", "extended"),
    ("de", "Waffenruhe im Gazastreifen um eine Woche verlängert", "extended"),
    ("uk", "Перемир'я в Газі зірвано: Ізраїль відновив авіаудари", "collapsed"),
    ("pt", "Trégua em Gaza prorrogada por mais uma semana", "extended"),
    ("fa", "آتش‌بس غزه یک هفته دیگر تمدید شد", "extended"),
    ("en", "Gulf mediators press Israel and Hamas to accept a ten-day humanitarian pause", "proposed"),
    ("uk", "Посередники закликають Росію погодитися на мораторій на удари по енергетиці", "proposed"),
    ("ar", "نهاية الهدنة في السودان وعودة المعارك", "collapsed"),
]


@pytest.mark.parametrize(("lang", "title", "state"), CONTROLS, ids=[f"ctl-{c[0]}-{k}" for k, c in enumerate(CONTROLS)])
def test_controls_keep_their_state(enricher: Enricher, lang: str, title: str, state: str) -> None:
    topics, got = tag(enricher, title)
    assert "ceasefire" in topics, (lang, title, topics)
    assert got == state, (lang, title, got)
