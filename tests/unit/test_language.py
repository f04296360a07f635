"""Language detection on short news texts in the supported languages and a few others.

Why: the language decides whether topics are tagged at all; a wrong guess either tags an article with a
lexicon of the wrong language or hides a supported one.
"""

from __future__ import annotations

import pytest

from enrich import language

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
]


@pytest.mark.parametrize(("lang", "title", "text"), CASES, ids=[c[0] for c in CASES])
def test_detects_short_news_texts(lang: str, title: str, text: str) -> None:
    assert language.detect(title, text) == lang


def test_empty_text_falls_back_to_the_declared_language() -> None:
    assert language.detect("", "", hint="fr-FR") == "fr"
    assert language.detect(" ", "") == "en"


def test_support() -> None:
    assert language.is_supported("uk") and not language.is_supported("tr") and not language.is_supported(None)


def test_the_model_ships_with_the_installed_packages() -> None:
    path = language.model_path()
    assert path.name == "lid.176.ftz" and path.stat().st_size > 500_000
