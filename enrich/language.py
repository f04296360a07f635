"""Per-article language detection.

Why: topic lexicons and entity linking exist only for a handful of languages;
an article in any other language must say so (``lang_supported=False``) rather
than get a guessed topic. py3langid is small, offline and fast; its model is
loaded once per process and restricted to a plausible set of news languages so
short texts are not labelled as exotic ones.
"""

from __future__ import annotations

from functools import lru_cache

SUPPORTED: frozenset[str] = frozenset({"en", "uk", "ru", "ar", "fr", "es", "de"})
# Languages the detector may answer; anything outside SUPPORTED is reported but not tagged.
CANDIDATES: tuple[str, ...] = (
    "en", "uk", "ru", "ar", "fr", "es", "de", "it", "pt", "pl", "tr", "nl", "ro", "cs", "he", "fa",
    "sv", "da", "no", "fi", "el", "hu", "bg", "sr", "hr", "be", "ka", "hy", "az", "zh", "ja", "ko",
)


@lru_cache(maxsize=1)
def _identifier():  # type: ignore[no-untyped-def]
    from py3langid.langid import _load_identifier

    return _load_identifier(norm_probs=False, langs=list(CANDIDATES))


def detect(title: str, text: str, hint: str | None = None, max_chars: int = 300) -> str:
    """ISO 639-1 code of ``title`` + ``text``; ``hint`` (the feed's declared language) breaks empty input."""
    sample = f"{title}\n{text}"[:max_chars].strip()
    if len(sample) < 3:
        return (hint or "en").split("-")[0].lower()
    lang, _score = _identifier().classify(sample)
    return str(lang)


def is_supported(lang: str | None) -> bool:
    """Whether topics and entities are produced for ``lang``."""
    return lang in SUPPORTED
