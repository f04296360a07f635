"""Lifecycle-state rules: the headline decides, negation and proposals cancel cues, talk is a weak cue.

Why: a report's body recalls how a truce was agreed or who broke an earlier one, while its headline
says what is new; "no violations were recorded" is news of a truce holding, "mediators propose
extending" is a proposal, and "the Kremlin announces it rejects the truce" is a rejection. The cases
are written for this test; ``tests/data/lang/more_dev.jsonl`` scores the same rules at scale.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from enrich.pipeline import Enricher
from enrich.topics import TopicModel
from services.events import RawArticle

T0 = datetime(2026, 3, 18, tzinfo=UTC)

# (language, headline, body, state)
STATES = [
    # the headline's state wins over what the body recalls
    ("en", "Israel and Hamas extend Gaza truce by two days",
     "The truce, agreed last week, has been violated several times, both sides say.", "extended"),
    ("fr", "La Russie et l'Ukraine prolongent la trêve énergétique",
     "Kiev et Moscou s'accusent de violations depuis l'entrée en vigueur de l'accord.", "extended"),
    # negation cancels the cue right after it
    ("en", "Ceasefire between Armenia and Azerbaijan holds, no violations reported", "", "in_force"),
    ("ar", "الهدنة بين الجيش والمتمردين صامدة", "ولم يسجل أي خرق منذ مساء الجمعة بحسب الطرفين.", "in_force"),
    ("he", "הפסקת האש בלבנון מחזיקה מעמד", "לא נרשמו הפרות מאז הבוקר, כך נמסר בצה\"ל.", "in_force"),
    ("fr", "Soudan : la trêve expire sans prolongation", "", "collapsed"),
    ("sw", "Mapatano ya Sudan yamalizika bila kuongezwa", "", "collapsed"),
    ("fr", "Le cessez-le-feu n'a pas tenu au Mali : les combats ont repris", "", "collapsed"),
    # a proposal to extend is a proposal
    ("en", "Mediators propose extending the Lebanon ceasefire", "", "proposed"),
    ("ru", "Посредники предлагают продлить перемирие в Ливане", "", "proposed"),
    ("ar", "مصر تقترح تمديد الهدنة في غزة أسبوعين", "", "proposed"),
    # announcing is agreeing only with a truce as its object
    ("fr", "Le Kremlin annonce qu'il rejette la trêve proposée par l'Ukraine", "", "rejected"),
    ("ar", "إسرائيل تعلن رفضها الهدنة المقترحة في غزة", "", "rejected"),
    ("pt", "Forças de Apoio Rápido anunciam trégua", "O grupo anunciou nesta terça-feira um cessar-fogo de 72 horas.",
     "agreed"),
    # talk of a truce is a proposal, unless anything else is cued
    ("en", "Israel and Hamas resume ceasefire talks in Doha", "", "proposed"),
    ("en", "Israel and Hamas agree ceasefire after talks in Doha", "", "agreed"),
    # the leader of a state at war names the state; separable verbs; Greek accents; Hebrew final letters
    ("fr", "Poutine décrète une trêve de Pâques de trente heures", "", "agreed"),
    ("de", "Katar schlägt eine dreitägige Waffenruhe im Sudan vor", "", "proposed"),
    ("de", "Armenien und Aserbaidschan vereinbaren Waffenstillstand", "", "agreed"),
    ("el", "Ισραήλ και Λίβανος συμφώνησαν σε κατάπαυση του πυρός", "", "agreed"),
    ("he", "חמאס מסרב להצעה", "בתנועה אמרו כי לא יסכימו להפוגה שאינה כוללת את סיום המלחמה.", "rejected"),
    # a negation word of one language is not one of another ("no" is Portuguese "in the")
    ("pt", "Cessar-fogo no Iêmen se mantém há dez dias", "", "in_force"),
    # a negation after the cue (Slavic word order): "порушень не зафіксовано" is a truce holding
    ("uk", "Перемир'я в Газі тримається третю добу, порушень не зафіксовано", "", "in_force"),
    ("ru", "На границе Армении и Азербайджана сохраняется затишье",
     "Режим прекращения огня действует вторую неделю, о нарушениях не сообщается.", "in_force"),
    # a cancelled cue scopes over the rest of its sentence ("propose extending ... by another week")
    ("en", "Mediators propose extending the Gaza truce by another week", "", "proposed"),
    # a plea to announce or to agree is a proposal ("urge ... to agree", "يناشد ... إعلان هدنة")
    ("ar", "البابا يناشد روسيا وأوكرانيا إعلان هدنة في عيد الميلاد", "", "proposed"),
    ("fr", "L'Union africaine presse les belligérants soudanais de conclure une trêve", "", "proposed"),
    # verbs of strain are breaches, of crumbling a collapse, of ordering and committing an agreement
    ("en", "Drone attacks shake fragile ceasefire in southern Lebanon", "", "violated"),
    ("fr", "Nouvelles entorses au cessez-le-feu au Liban-Sud", "", "violated"),
    ("it", "Libano, la tregua traballa: droni israeliani colpiscono il sud", "", "violated"),
    ("es", "Se desmorona la tregua en Sudán y vuelven los combates a Jartum", "", "collapsed"),
    ("de", "Waffenruhe im Sudan zerbricht nach wenigen Stunden", "", "collapsed"),
    ("ru", "Срок энергетического перемирия истёк, удары по электростанциям возобновились", "", "collapsed"),
    ("en", "Putin orders Easter truce in Ukraine", "", "agreed"),
    ("he", "פוטין הורה על הפסקת אש לכבוד חג הפסחא", "", "agreed"),
    ("de", "Israel und Hamas verständigen sich auf Feuerpause im Gazastreifen", "", "agreed"),
    ("en", "Lebanon ceasefire deadline pushed back to February",
     "The White House said the arrangement would remain in effect until February 18.", "extended"),
    ("ru", "Перемирие в Ливане будет действовать дольше",
     "Срок действия режима прекращения огня продлён до 18 февраля, сообщил Белый дом.", "extended"),
    # a capital names its state ("Tehran and Jerusalem"), a qualifier names a war truce ("in the air and at sea")
    ("fr", "Téhéran et Jérusalem acceptent une trêve", "", "agreed"),
    ("ru", "Макрон предложил перемирие в небе и на море", "", "proposed"),
]

# (language, class, headline, body)
HARD_NEGATIVES = [
    ("fr", "policing", "Opération Cessez-le-feu : la police de Lyon lance un programme contre les règlements de comptes",
     ""),
    ("es", "policing", "La policía de Chicago amplía la Operación Alto el Fuego contra la violencia de pandillas", ""),
    ("ru", "policing", "Полиция запустила программу «Прекращение огня» против перестрелок между бандами", ""),
    ("ar", "policing", "حملة أمنية لوقف إطلاق النار العشوائي في الأفراح", ""),
    ("fr", "business", "Guerre des prix : trêve entre les enseignes de la grande distribution", ""),
    ("pl", "trade", "USA i Chiny przedłużają rozejm celny o kolejne 90 dni", ""),
    ("en", "history", "Veterans mark 70 years since the armistice that ended the war", ""),
    # a trade truce between capitals stays a trade truce; a labour or sports "truce talks" is no ceasefire
    ("ar", "trade", "هدنة تجارية بين واشنطن وبكين", ""),
    ("en", "trade", "Washington and Beijing agree to extend tariff truce", ""),
    ("en", "labour", "Rail unions and operators open truce talks over pay", ""),
    ("en", "business", "Energy truce between suppliers and regulator ends in price row", ""),
]


def tag(enricher: Enricher, title: str, text: str = "") -> tuple[set[str], str | None, str]:
    out = enricher.enrich([RawArticle(id="m", title=title, content=text, published_at=T0)])[0]
    return {t.name for t in out.topics}, out.state, out.lang


@pytest.mark.parametrize(("lang", "title", "text", "state"), STATES, ids=[f"{s[0]}-{s[3]}-{i}" for i, s in
                                                                        enumerate(STATES)])
def test_lifecycle_state(enricher: Enricher, lang: str, title: str, text: str, state: str) -> None:
    topics, got_state, got_lang = tag(enricher, title, text)
    assert got_lang == lang
    assert "ceasefire" in topics, (lang, title)
    assert got_state == state, (lang, title, got_state)


@pytest.mark.parametrize(("lang", "cls", "title", "text"), HARD_NEGATIVES, ids=[f"{n[0]}-{n[1]}" for n in HARD_NEGATIVES])
def test_hard_negatives_stay_untagged(enricher: Enricher, lang: str, cls: str, title: str, text: str) -> None:
    topics, state, _ = tag(enricher, title, text)
    assert "ceasefire" not in topics and state is None, (lang, cls, title, topics)


def test_negation_cancels_only_the_cue_right_after_it() -> None:
    model = TopicModel()
    assert model.states_in(["There were no violations overnight, observers said."], "en") == ["in_force"]
    assert "violated" in model.states_in(["No one doubts that the militia violated the truce on Sunday."], "en")


def test_weak_cues_and_cancel_words_are_data() -> None:
    import json

    from enrich.topics import TAXONOMY_PATH

    states = json.loads(TAXONOMY_PATH.read_text(encoding="utf-8"))["states"]
    assert set(states["negatable"]) <= set(states["precedence"])
    assert states["hypothetical_states"] == ["extended", "agreed"]  # "propose extending", "urge them to agree"
    assert all(set(by_state) <= set(states["precedence"]) for by_state in states["weak"].values())
    assert set(states["negation"]) | set(states["hypothetical"]) | set(states["weak"]) <= set(states["cues"])


def test_an_ordinal_before_a_month_ends_no_sentence() -> None:
    from enrich.sentences import split_sentences

    _, sents, _ = split_sentences("Waffenstillstand im Libanon", "Die Frist gilt bis zum 18. Februar. Es ist ruhig.")
    assert [s.text for s in sents[1:]] == ["Die Frist gilt bis zum 18. Februar.", "Es ist ruhig."]
