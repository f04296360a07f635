"""Whether two articles report the same event: the pairwise rule behind stories.

Why pairwise: a story is a connected component of "same event" links between articles. A component
does not depend on the order the articles arrive in or on how they are batched, so a replay, a second
sink or a shuffled backfill groups exactly as the evaluation does; and when a later article links two
stories, they merge.

What a link looks at (all carried on the enriched event, so the sink needs no language models) is a
small vector of :func:`features`: the overlap of the two articles' linked, language-independent entity
ids (weighted: title mentions and specific entities weigh more than the countries every report of a
conflict names) and of the entities their headlines name; the overlap of their salient words (the
words are not translated: across languages only those spelt alike count, by consonant skeleton,
:func:`cognates`); a shared reported number ("30-day", "175 prisoners"); names spelt alike across
languages (``names_alike``: accents, transliteration, Cyrillic romanised, a name that opens one headline
and is only a word there) and headline words spelt alike (``title_alike``); shared or clashing topics;
a ceasefire reported standing by one and ended by the other; what their headlines say happened
(``kinds``: a shared kind, or two main kinds that each miss from the other headline, as between a truce
and that morning's strikes by the same two states); how far apart they were published; their MinHash similarity. :func:`probability` weighs them with a logistic model
whose weights (``LinkRules.weights``) were fitted on the dev part of the labelled story stream
(``python -m tests.eval.fit_links``; the held-out part is never used).

A pair links when its probability reaches ``alone`` — or reaches ``supported`` and the two have a
common neighbour they both link to at ``supported``: one borderline link between two events is the
usual way single-link grouping chains unrelated stories, and a triangle of borderline links rarely
happens between different events. Near-copies (MinHash Jaccard at or above ``near_duplicate``) and
articles outside ``window_s`` are decided before any of that.

Pure: no I/O imports.
"""

from __future__ import annotations

import functools
import math
import operator
import re
import struct
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from api.sink.name_fold import MIN_NAME_KEY, fold
from api.sink.name_words import gazetteer_words
from services.vocabulary import GENERIC_EVENT_KINDS

# States that report the end of a ceasefire, and those that report it standing: two different events.
ENDED = frozenset({"collapsed", "violated"})
STANDING = frozenset({"proposed", "agreed", "in_force", "extended"})
KEY_TERMS = 8  # salient words per article used as index keys (the rest still count in the score)
KEY_ENTITIES = 30  # heaviest entities per article used as index keys: bounds the lookup of a hostile text


# Spellings of one sound that transliteration conventions write differently ("Gorbatschow", "Gorbatchev",
# "Gorbachov"), longest first; then every vowel after the first letter is dropped and doubled letters merge.
_SOUNDS = (("shch", "s"), ("tsch", "c"), ("tch", "c"), ("sch", "s"), ("ch", "c"), ("sh", "s"), ("zh", "j"),
           ("kh", "h"), ("ph", "f"), ("th", "t"), ("w", "v"), ("k", "c"), ("q", "c"), ("x", "cs"))
_VOWELS = frozenset("aeiouy")
# Words compared across languages by their skeleton (:func:`cognates`) from this many letters: shorter ones
# ("para", "sobre") are the function words of neighbouring languages more often than shared vocabulary.
MIN_COGNATE = 5
_WORD = re.compile(r"[^\W\d_]+")

FEATURES = ("entities", "entities_strict", "title_entities", "words", "no_shared_words", "names", "same_language",
            "number", "topics", "topic_clash", "state_clash", "days_apart", "recency", "minhash", "kind_match",
            "kind_clash", "names_alike", "title_alike")


@dataclass(frozen=True, eq=False)
class LinkRules:
    """The link rule's thresholds and weights; the defaults' reasons are in the comments."""

    window_s: float = 72 * 3600  # follow-ups a day or two later still join; a week later is news of its own
    near_duplicate: float = 0.5  # MinHash Jaccard of wire copies and light rewrites
    # Chosen on the dev part with the weights below (``python -m tests.eval.fit_links``): at 0.8 both ways
    # pairwise P/R/F1 0.922/0.797/0.855, BCubed 0.900. A higher ``alone`` bought precision (0.939 at 0.85)
    # with more recall than it was worth; the triangle rule is kept for a stricter ``alone``.
    alone: float = 0.8  # a link that needs no support
    supported: float = 0.8  # a link confirmed by a common neighbour
    # Logistic weights, one per FEATURES entry, then the intercept: fitted on the dev part, except
    # ``names_alike`` (added later, set by hand with the others kept): on the dev part (749 articles) 0 /
    # 1.0 / 1.5 / 2.0 gave pairwise P/R/F1 0.880/0.688/0.772, 0.887/0.737/0.805, 0.889/0.752/0.815,
    # 0.881/0.763/0.818 and cross-language recall 0.687, 0.736, 0.751, 0.761; at 2.0 the older 654 dev
    # articles fell below 0.90 precision (0.897; 0.908 at 1.5): names spelt alike are good evidence, but
    # weaker than names spelt the same ("Congress", "Kremlin" are spelt alike too), so less than ``names``.
    # ``title_alike`` (headline words spelt alike, no linked entity's words) set by hand the same way, with
    # ``min_title_matches`` 1: 0.25 / 0.5 / 0.75 / 1.0 gave dev P/R/F1 0.890/0.754/0.816, 0.892/0.772/0.828,
    # 0.893/0.776/0.830, 0.885/0.778/0.828, cross-language 0.752, 0.771, 0.775, 0.777: 0.5, away from the
    # fall in precision at 1.0 (with the linked entities' words counted too, 0.5 cost precision: 0.883).
    # ``words`` across languages (:func:`cognates`) keeps the weight fitted in one language: dev P/R/F1
    # 0.892/0.772/0.828 -> 0.893/0.778/0.831, cross-language 0.771 -> 0.777 (1.0 in both: 0.893/0.779/0.832,
    # but that changes the same-language weight too; a floor of 10 instead of ``term_floor``: the same).
    weights: tuple[float, ...] = (2.33, 1.63, 0.95, 0.44, -1.45, 2.32, -0.44, 1.2, -0.46, -1.53, -0.57, -1.94, 0.57,
                                  0.02, 0.4, -2.16, 1.5, 0.5, -0.57)
    # Countries and cities are named by every report of a conflict, nationalities even more: they say
    # less about which event it is than a person, an organisation or a named sea or region does.
    type_weights: Mapping[str, float] = field(default_factory=lambda: {
        "PERSON": 1.0, "ORG": 1.0, "LOC": 1.0, "GPE": 0.5, "NORP": 0.2})
    title_entity_boost: float = 1.5  # what the headline names is what the report is about
    # Overlaps are relative to the lighter side, but never to less than this much weight: two reports
    # that share one nationality adjective, or two common words, are not thereby the same event.
    entity_floor: float = 2.0
    strict_entity_floor: float = 4.0
    term_floor: float = 6.0
    # Before any weighing, two reports must share something specific: this much entity weight (one
    # person, organisation or named place, or two countries), or in one language this much word overlap.
    min_shared_entity: float = 0.5
    min_shared_words: float = 0.15
    # Sharing only a generic kind ("killed" in both headlines) is a quarter of the evidence of sharing what
    # happened: deaths are told with strikes, quakes, crashes and shootings alike.
    generic_kind_share: float = 0.25
    # Across languages, two names spelt alike (accents, transliteration and a name opening a headline
    # aside: :func:`name_matches`) are something specific to share, as two shared names are in one language.
    min_name_matches: int = 2
    # A capitalised headline word (no linked entity's) spelt alike in both headlines is what both report
    # about ("Suez", "Gorbatchev" / "Горбачёв", "Messi"): something specific to share, as two names are.
    min_title_matches: int = 1

    def __post_init__(self) -> None:
        if len(self.weights) != len(FEATURES) + 1:
            raise ValueError(f"LinkRules.weights has {len(self.weights)} values for {len(FEATURES)} features "
                             "and the intercept")


@dataclass(frozen=True)
class Profile:
    """One article as the linking rule sees it."""

    article_id: str
    published_at: datetime
    lang: str | None = None
    entities: Mapping[str, float] = field(default_factory=dict)  # id -> weight
    title_entities: frozenset[str] = frozenset()  # the ids the headline names
    topics: frozenset[str] = frozenset()
    states: frozenset[str] = frozenset()  # every lifecycle state the article reports
    terms: Mapping[str, float] = field(default_factory=dict)
    numbers: frozenset[str] = frozenset()
    names: frozenset[str] = frozenset()  # capitalised words no entity covers (Latin script: alike across languages)
    minhash: Sequence[int] = ()
    kinds: tuple[str, ...] = ()  # what the headline says happened, main kind first (enrich/event_kinds.py)
    title_names: frozenset[str] = frozenset()  # the headline's capitalised words, lower case (:func:`title_words`)
    # Linked entity id (not a ``ww:`` slug: its words come from the id) -> the words of its name that name it
    # alone (:func:`entity_name_words`), keyed across languages as the names are.
    name_words: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Derived once here, whatever is passed (so ``Profile(**p.__dict__)`` stays right), never stored: the
    # total weights every pair's overlap divides by (summed per pair, they were a tenth of its cost).
    entity_total: float = field(default=0.0, compare=False, repr=False)
    term_total: float = field(default=0.0, compare=False, repr=False)
    # Across languages (:func:`name_matches`): the spelling keys of each name (its own, those of the ``ww:``
    # entities' slug words and of ``name_words``), and every key of the article's names and words together.
    name_keys: tuple[frozenset[str], ...] = field(default=(), compare=False, repr=False)
    # Per ``name_keys`` entry, the entity of ``name_words`` whose word it keys (None: a name of the text or a
    # ``ww:`` slug's word): against a report that links that entity too it is no name (:func:`name_matches`).
    key_owners: tuple[str | None, ...] = field(default=(), compare=False, repr=False)
    all_keys: frozenset[str] = field(default=frozenset(), compare=False, repr=False)
    title_keys: tuple[frozenset[str], ...] = field(default=(), compare=False, repr=False)
    title_all: frozenset[str] = field(default=frozenset(), compare=False, repr=False)  # every key of title_keys
    cognates: Mapping[str, float] = field(default_factory=dict, compare=False, repr=False)
    # For :func:`scores`: the publication time in integer µs (a pair's seconds are exactly those of the two
    # datetimes' difference) and the MinHash values packed in one integer (:func:`_as_lanes`).
    at_us: int = field(default=0, compare=False, repr=False)
    minhash_lanes: int | None = field(default=None, compare=False, repr=False)
    entity_positive: bool = field(default=True, compare=False, repr=False)  # no entity weighs below 0
    # Which of the features a pair scores only when both sides have something has something here
    # (:func:`_presence`): a pair's score in one language is capped by what the two have in common
    # (:func:`same_language_caps`).
    presence: int = field(default=0, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "at_us", (self.published_at - (_EPOCH if self.published_at.tzinfo else _NAIVE_EPOCH))
                           // _MICROSECOND)
        object.__setattr__(self, "minhash_lanes", _as_lanes(self.minhash))
        object.__setattr__(self, "entity_total", sum(self.entities.values()))
        object.__setattr__(self, "entity_positive", min(self.entities.values(), default=0.0) >= 0)
        object.__setattr__(self, "term_total", sum(self.terms.values()))
        per_name: list[tuple[frozenset[str], str | None]] = [(name_keys(n.removeprefix("nm:")), None)
                                                              for n in sorted(self.names)]
        per_name += [(name_keys(w, as_is=False), None) for e in sorted(self.entities) if e.startswith("ww:")
                     for w in e[3:].split("-") if len(w) >= MIN_NAME_KEY]
        per_name += [(name_keys(w, as_is=False), e) for e, ws in sorted(self.name_words.items()) for w in ws]
        keyed = tuple(k for k, _ in per_name if k)
        object.__setattr__(self, "name_keys", keyed)
        object.__setattr__(self, "key_owners", tuple(o for k, o in per_name if k))
        object.__setattr__(self, "all_keys", frozenset().union(*keyed, *(name_keys(t) for t in self.terms)))
        object.__setattr__(self, "title_keys", tuple(k for k in (name_keys(w) for w in sorted(self.title_names))
                                                     if k))
        object.__setattr__(self, "title_all", frozenset().union(*self.title_keys))
        object.__setattr__(self, "cognates", cognates(self.terms))
        object.__setattr__(self, "presence", _presence(self))

    def to_json(self) -> dict[str, Any]:
        return {"t": self.published_at.isoformat(), "lang": self.lang, "e": dict(self.entities),
                "te": sorted(self.title_entities),
                "topics": sorted(self.topics), "states": sorted(self.states), "terms": dict(self.terms),
                "n": sorted(self.numbers), "nm": sorted(self.names), "mh": list(self.minhash),
                "k": list(self.kinds), "tn": sorted(self.title_names),
                **({"ew": {e: list(ws) for e, ws in sorted(self.name_words.items())}} if self.name_words else {})}

    @classmethod
    def from_json(cls, article_id: str, d: Mapping[str, Any]) -> Profile:
        when = datetime.fromisoformat(d["t"])
        return cls(article_id=article_id, published_at=when if when.tzinfo else when.replace(tzinfo=UTC),
                   lang=d.get("lang"), entities=d.get("e") or {}, title_entities=frozenset(d.get("te") or ()),
                   topics=frozenset(d.get("topics") or ()),
                   states=frozenset(d.get("states") or ()), terms=d.get("terms") or {},
                   numbers=frozenset(d.get("n") or ()), names=frozenset(d.get("nm") or ()),
                   minhash=tuple(d.get("mh") or ()), kinds=tuple(d.get("k") or ()),
                   title_names=frozenset(d.get("tn") or ()),
                   name_words={e: tuple(ws) for e, ws in (d.get("ew") or {}).items()})


DEFAULT_RULES = LinkRules()  # what :func:`keys` keys by when it is given no rules

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NAIVE_EPOCH = datetime(1970, 1, 1)
_MICROSECOND = timedelta(microseconds=1)


def _as_lanes(minhash: Sequence[int]) -> int | None:
    """The MinHash values packed into one integer for :func:`_jaccards`, or None when they are not all
    unsigned 32-bit integers (then :func:`jaccard` compares them one by one, as ever).

    Each value takes a five-byte lane: its four bytes, then a zero byte. XOR-ing one article's lanes with
    that zero byte set to 0xFF (:data:`_SENTINELS`) against another's leaves 0xFF between lanes, so a run
    of four zero bytes can only be a whole lane whose values were equal: ``bytes.count`` of that run is the
    number of equal positions, in C, without numpy in the sink (which stays lean, see
    tests/unit/test_cluster_signature.py)."""
    if not minhash or set(map(type, minhash)) != {int} or min(minhash) < 0 or max(minhash) >= 1 << 32:
        return None
    return int.from_bytes(struct.pack("<" + "Ix" * len(minhash), *minhash), "little")


@functools.cache
def _sentinels(n: int) -> int:
    """0xFF in the fifth byte of each of ``n`` lanes."""
    return int.from_bytes(b"\0\0\0\0\xff" * n, "little")


# The features a pair scores as 0 (or False) unless both articles have something there: a bit each in
# ``Profile.presence``. The entity features need entities on both sides, the headline one headline entities,
# ``names`` names, ``number`` numbers, ``topics`` and ``topic_clash`` topics, ``state_clash`` states,
# ``kind_match`` and ``kind_clash`` kinds.
HAS_ENTITIES, HAS_TITLE_ENTITIES, HAS_NAMES, HAS_NUMBERS, HAS_TOPICS, HAS_STATES, HAS_KINDS = (1 << n for n in range(7))
_PRESENCES = 1 << 7


def _presence(p: Profile) -> int:
    return ((HAS_ENTITIES if p.entities else 0) | (HAS_TITLE_ENTITIES if p.title_entities else 0)
            | (HAS_NAMES if p.names else 0) | (HAS_NUMBERS if p.numbers else 0) | (HAS_TOPICS if p.topics else 0)
            | (HAS_STATES if p.states else 0) | (HAS_KINDS if p.kinds else 0))


@functools.lru_cache(maxsize=64)
def same_language_caps(rules: LinkRules) -> tuple[float, ...]:
    """Per presence mask (``Profile.presence`` of one article, or of two AND-ed): an upper bound of the
    logistic score :func:`probability` gives any pair in one language whose common presence is that mask
    (a pair that passes the gate, inside the window, no near-copy; those that do not get 0 or 1 before any
    score). Every feature counts at its most favourable value: those of the mask at their largest, those
    outside it at 0 (each is 0 unless both articles have something there), the rest at their largest in one
    language (``words``, ``recency`` 1, ``days_apart`` 3, ``minhash`` just below ``near_duplicate``,
    ``names_alike`` and ``title_alike`` 0 there). +inf for every mask (no cap) when a weight of a feature
    that may be negative (the entity and word overlaps, for negative item weights) is negative itself.

    Why: two reports in one language with no entity, name, number, kind or topic in common cannot reach the
    link threshold on words and time alone (with the fitted weights at most -0.57 + 0.44 - 0.44 + 0.57 +
    0.01 = 0.01, p 0.50); with only a number in common 1.21, p 0.77 (:func:`words_may_link`)."""
    w_ent, w_strict, w_title, ww, wn, w_names, w_lang, w_number, w_topics, w_clash, w_states, w_days, \
        w_recent, w_minhash, w_kind, w_kind_clash, _wa, _wt, intercept = rules.weights
    if w_ent < 0 or w_strict < 0 or ww < 0:
        return (math.inf,) * _PRESENCES
    pos = functools.partial(max, 0.0)
    base = (intercept + ww + pos(wn) + w_lang + 3 * pos(w_days) + pos(w_recent)
            + pos(w_minhash) * min(rules.near_duplicate, 1.0))
    extra = {HAS_ENTITIES: w_ent + w_strict, HAS_TITLE_ENTITIES: pos(w_title), HAS_NAMES: pos(w_names),
             HAS_NUMBERS: pos(w_number), HAS_TOPICS: pos(w_topics) + pos(w_clash), HAS_STATES: pos(w_states),
             HAS_KINDS: pos(w_kind) * max(1.0, rules.generic_kind_share) + pos(w_kind_clash)}
    return tuple(base + sum(v for bit, v in extra.items() if mask & bit) for mask in range(_PRESENCES))


def words_may_link(p: Profile, rules: LinkRules) -> bool:
    """Whether ``p`` may link to a report in its own language other than as a near-copy (MinHash Jaccard at
    ``near_duplicate`` or more): whether its :func:`same_language_caps` reaches the lower of ``alone`` and
    ``supported``. When not, its word keys (``w:<lang>:<word>``, shared only in one language) hand it and
    the reports that read them candidates it cannot link to (but as near-copies, which its MinHash band keys
    find): :func:`keys` leaves them out."""
    z_floor = _z_floor(min(rules.alone, rules.supported))
    return z_floor is None or same_language_caps(rules)[p.presence] >= z_floor


def _skeleton(folded: str) -> str:
    """The consonants of a folded word after its first letter, one spelling per sound, no doubles:
    "gorbatschow", "gorbatchev", "gorbachov" -> "grbcv"; "barcelona", "barcelone" -> "brcln"."""
    for a, b in _SOUNDS:
        folded = folded.replace(a, b)
    out = folded[:1] + "".join(c for c in folded[1:] if c not in _VOWELS)
    return "".join(c for i, c in enumerate(out) if i == 0 or c != out[i - 1])


@functools.lru_cache(maxsize=1 << 16)
def name_keys(word: str, as_is: bool = True) -> frozenset[str]:
    """How a name may be matched in another language: its folded spelling and its consonant skeleton,
    each only when at least ``MIN_NAME_KEY`` long (cached, as :func:`_cognate`), and (``as_is``) the word itself, as two equal names
    always matched ("PSG"); only for letters, a number is no name. The words of an unlinked ``ww:`` entity
    are keyed without ``as_is`` and only from ``MIN_NAME_KEY`` letters: "us" of "ww:us-congress" is no name."""
    f = fold(word)
    if not f.isalpha():
        return frozenset()
    sk = _skeleton(f)
    keys = frozenset(k for k in (f"f:{f}", f"s:{sk}") if len(k) - 2 >= MIN_NAME_KEY)
    return keys | {f"n:{word}"} if as_is else keys


def name_matches(a: Profile, b: Profile) -> int:
    """Across languages: how many names of one article the other spells alike, as a name or as one of
    its words (a name that opens a headline is no capitalised word, but it is among the words), the larger
    of the two directions. A word of a linked entity's name (``Profile.name_words``: "Pezeshkian" of
    Q5933752) counts only against a report that does not link that entity: one that names him in a form
    the gazetteer lacks is what the word is for; one that links him is counted by the entity features.
    (The words of ``ww:`` slugs count against any report, as the fitted weights had them.)"""
    if not a.name_keys and not b.name_keys:
        return 0
    return max(_matched(a, b), _matched(b, a))


def _matched(a: Profile, b: Profile) -> int:
    """How many of ``a``'s names ``b`` spells alike, but for the words of an entity ``b`` links too (the
    entity features count that one already)."""
    theirs = b.all_keys
    if not a.name_words:
        return sum(1 for k in a.name_keys if k & theirs)
    ents = b.entities
    return sum(1 for k, o in zip(a.name_keys, a.key_owners, strict=True) if k & theirs and (o is None or o not in ents))


def cognates(terms: Mapping[str, float]) -> dict[str, float]:
    """Word skeleton -> weight, to compare words across languages: "catedral", "cathedral", "Kathedrale"
    -> "ctdrl"; "explosión", "explosion" -> "ecsplsn" (words of ``MIN_COGNATE`` letters, skeletons of
    ``MIN_NAME_KEY``)."""
    out: dict[str, float] = {}
    for t, w in terms.items():
        k = _cognate(t)
        if k:
            out[k] = max(out.get(k, 0.0), w)
    return out


@functools.lru_cache(maxsize=1 << 16)
def _cognate(word: str) -> str:
    """The skeleton :func:`cognates` keys ``word`` by, or "" (cached: news vocabulary repeats, and every
    stored profile parsed derives it again)."""
    f = fold(word)
    if len(f) < MIN_COGNATE or not f.isalpha():
        return ""
    k = _skeleton(f)
    return k if len(k) >= MIN_NAME_KEY else ""


def title_words(title: str, entities: Iterable[Any] = ()) -> frozenset[str]:
    """The headline's capitalised words of three letters or more, lower case: its first word too, which
    is often what the report is about ("Messi no seguirá", "Suez, nave incagliata"), in any cased script;
    but no word of a linked entity's written forms (``EntityMention``-like ``entities``): the entity
    features count those already ("Trump" in both headlines of two events of one week)."""
    covered = {w.lower() for e in entities if not e.id.startswith("ww:")
               for form in (getattr(e, "surface", None) or ()) for w in _WORD.findall(form)}
    return frozenset(w.lower() for w in _WORD.findall(title or "")
                     if len(w) >= 3 and w[0].isupper() and w.lower() not in covered)


def title_matches(a: Profile, b: Profile) -> int:
    """How many capitalised headline words of one article the other's headline spells alike (the larger
    of the two directions)."""
    if not a.title_keys or not b.title_keys:
        return 0
    return max(sum(1 for k in a.title_keys if k & b.title_all), sum(1 for k in b.title_keys if k & a.title_all))


def title_alike(a: Profile, b: Profile) -> float:
    """The ``title_alike`` feature, across languages only: headline words spelt alike, two or more = 1."""
    return 0.0 if a.lang == b.lang else min(title_matches(a, b) / 2, 1.0)


def names_alike(a: Profile, b: Profile) -> float:
    """The ``names_alike`` feature, across languages only: the names :func:`name_matches` finds beyond
    those spelt exactly alike (which ``names`` counts), relative to the fewer names, at least two."""
    if a.lang == b.lang:
        return 0.0
    extra = name_matches(a, b) - len(a.names & b.names)
    if extra <= 0:
        return 0.0
    return min(extra / max(min(_names_of(a, b), _names_of(b, a)), 2), 1.0)


def _names_of(a: Profile, b: Profile) -> int:
    """How many names of ``a`` :func:`names_alike` weighs against ``b``: its text's names and slug words, and
    the words of ``name_words`` only where ``b`` spells them (an entity's name is no name ``b`` missed when
    ``b`` links it, nor when ``b`` does not name it at all: the entity features weigh both)."""
    if not a.name_words:
        return len(a.name_keys)
    theirs, ents = b.all_keys, b.entities
    return sum(1 for k, o in zip(a.name_keys, a.key_owners, strict=True)
               if o is None or (o not in ents and k & theirs))


def entity_name_words(entities: Iterable[Any], words: Mapping[str, Sequence[str]], rules: LinkRules
                      ) -> dict[str, tuple[str, ...]]:
    """Entity id -> its name's words (``words``, :func:`api.sink.name_words.gazetteer_words`) for an article's
    linked entities (``EntityMention``-like) that have no ``ww:`` slug (whose words the profile takes from the
    id) and whose type weighs fully (``rules.type_weights``): countries and nationalities are named by every
    report of a conflict, so a report spelling "Armenia" is no sign it is about the same event (with them, dev
    pairwise precision 0.893 -> 0.890)."""
    out: dict[str, tuple[str, ...]] = {}
    for e in entities:
        if e.id in words and not e.id.startswith("ww:") and rules.type_weights.get(e.type, 1.0) >= 1.0:
            out[e.id] = tuple(words[e.id])
    return out


def entity_weights(entities: Iterable[Any], rules: LinkRules) -> dict[str, float]:
    """Entity id -> weight for one article's linked entities (``EntityMention``-like objects)."""
    out: dict[str, float] = {}
    for e in entities:
        w = rules.type_weights.get(e.type, 1.0)
        if getattr(e, "in_title", False):
            w *= rules.title_entity_boost
        out[e.id] = max(out.get(e.id, 0.0), w)
    return out


def keys(p: Profile, bands: Iterable[str] = (), rules: LinkRules | None = None) -> list[str]:
    """Index keys: two articles that may link share at least one (entity ids, numbers, top words, bands).

    The top words only for an article that may link in its language by more than being a near-copy
    (:func:`words_may_link` under ``rules``, the default rules when None: the sink passes its own). Why:
    a report with nothing but words and a number to share cannot reach the threshold with a report in its
    language; its eight word keys handed it (and every report reading them) some 70 such candidates, most
    of the sink's candidate reads and pair scores on the backfill's items (``python -m tests.bench.sink
    --workloads enriched``)."""
    top = sorted(p.terms.items(), key=lambda kv: (-kv[1], kv[0]))[:KEY_TERMS]
    if top and not words_may_link(p, rules if rules is not None else DEFAULT_RULES):
        top = []
    heavy = sorted(p.entities.items(), key=lambda kv: (-kv[1], kv[0]))[:KEY_ENTITIES]
    out = [f"e:{e}" for e, _ in sorted(heavy)] + sorted(p.numbers) + sorted(p.names)
    out += [f"w:{p.lang or ''}:{t}" for t, _ in top]
    out += [f"b:{b}" for b in bands]
    return list(dict.fromkeys(out))


def _overlap(a: Mapping[str, float], b: Mapping[str, float], floor: float,
             totals: tuple[float, float] | None = None) -> float:
    """Weighted overlap relative to the lighter side (a headline against a full text can still reach 1),
    but at least ``floor``: a match on a few light items is not a full match. ``totals``: the two sides'
    summed weights, when the caller holds them."""
    if not a or not b:
        return 0.0
    small, big = (a, b) if len(a) <= len(b) else (b, a)
    shared = sum(min(w, big[k]) for k, w in small.items() if k in big)
    ta, tb = totals if totals is not None else (sum(a.values()), sum(b.values()))
    return min(shared / max(min(ta, tb), floor), 1.0)


def jaccard(a: Sequence[int], b: Sequence[int]) -> float:
    """Estimated Jaccard similarity of two MinHash value vectors (share of equal positions)."""
    if not a or len(a) != len(b):
        return 0.0
    return sum(map(operator.eq, a, b)) / len(a)


def _ended_only(s: frozenset[str]) -> bool:
    return bool(s & ENDED) and not s & STANDING


def _standing_only(s: frozenset[str]) -> bool:
    return bool(s & STANDING) and not s & ENDED


def _states_clash(a: frozenset[str], b: frozenset[str]) -> bool:
    """One reports the ceasefire only standing, the other only ended: "truce agreed" vs "truce collapsed"."""
    if not a or not b:
        return False
    return (_ended_only(a) and _standing_only(b)) or (_ended_only(b) and _standing_only(a))


def _main_kind(kinds: Sequence[str]) -> str | None:
    """The headline's main kind: its first kind that is not generic (a death is told with most events)."""
    return next((k for k in kinds if k not in GENERIC_EVENT_KINDS), None)


def kind_match(a: Sequence[str], b: Sequence[str], generic_share: float) -> float:
    """1 when the two headlines share a specific kind, ``generic_share`` when they share only a generic one."""
    if not a or not b:  # most pairs in a feed without cues: no sets built
        return 0.0
    shared = set(a).intersection(b)
    if not shared:
        return 0.0
    return 1.0 if shared - GENERIC_EVENT_KINDS else generic_share


def kinds_clash(a: Sequence[str], b: Sequence[str]) -> bool:
    """Each headline's main kind is missing from the other headline: "India and Pakistan agree a ceasefire"
    against "Pakistan launches retaliatory strikes". One main kind named by the other headline is no clash
    ("Israel's heaviest strikes since the truce" against "Gaza ceasefire collapses as air raids kill 400")."""
    if not a or not b:
        return False
    ma, mb = _main_kind(a), _main_kind(b)
    return ma is not None and mb is not None and ma not in b and mb not in a


def features(a: Profile, b: Profile, rules: LinkRules) -> tuple[float, ...]:
    """The pair's feature vector, in the order of FEATURES."""
    same = a.lang == b.lang
    return _features(a, b, rules, abs((a.published_at - b.published_at).total_seconds()),
                     _terms(a, b, rules) if same else _cognate_terms(a, b, rules), jaccard(a.minhash, b.minhash))


def _features(a: Profile, b: Profile, rules: LinkRules, seconds: float, words: float, minhash: float
              ) -> tuple[float, ...]:
    """:func:`features` given what :func:`probability` computed already (the same values, not again)."""
    hours = seconds / 3600
    same = a.lang == b.lang
    ta, tb = a.title_entities, b.title_entities
    entities, strict = _overlaps(a, b, rules.entity_floor, rules.strict_entity_floor)
    return (
        entities,
        strict,
        len(ta & tb) / min(len(ta), len(tb)) if ta and tb else 0.0,
        words,
        1.0 if same and words < 0.05 else 0.0,  # one language, no word in common: rarely one event
        len(a.names & b.names) / max(min(len(a.names), len(b.names)), 2) if a.names and b.names else 0.0,
        1.0 if same else 0.0,
        1.0 if a.numbers & b.numbers else 0.0,
        len(a.topics & b.topics) / len(a.topics | b.topics) if a.topics and b.topics else 0.0,
        1.0 if a.topics and b.topics and not a.topics & b.topics else 0.0,
        1.0 if _states_clash(a.states, b.states) else 0.0,
        min(hours, 72.0) / 24,
        math.exp(-hours / 12),
        minhash,
        kind_match(a.kinds, b.kinds, rules.generic_kind_share),
        1.0 if kinds_clash(a.kinds, b.kinds) else 0.0,
        names_alike(a, b),
        title_alike(a, b),
    )


def _overlaps(pa: Profile, pb: Profile, floor: float, strict_floor: float) -> tuple[float, float]:
    """:func:`_overlap` of the entities at two floors, the shared weight computed once."""
    a, b = pa.entities, pb.entities
    if not a or not b:
        return 0.0, 0.0
    small, big = (a, b) if len(a) <= len(b) else (b, a)
    shared = sum(min(w, big[k]) for k, w in small.items() if k in big)
    lighter = min(pa.entity_total, pb.entity_total)
    return min(shared / max(lighter, floor), 1.0), min(shared / max(lighter, strict_floor), 1.0)


def _share_something(a: Profile, b: Profile, rules: LinkRules) -> bool:
    """Whether the two share something specific: an entity, two names, or words (the gate the fit uses)."""
    return _shared_words(a, b, rules) is not None


def _shared_words(a: Profile, b: Profile, rules: LinkRules) -> float | None:
    """None when the two share nothing specific, else their word overlap (across languages, of the words
    spelt alike: :func:`cognates`), which :func:`features` needs too."""
    same = a.lang == b.lang
    shared = sum(min(w, b.entities[k]) for k, w in a.entities.items() if k in b.entities)
    if shared >= rules.min_shared_entity or len(a.names & b.names) >= 2:
        return _terms(a, b, rules) if same else _cognate_terms(a, b, rules)
    if not same and (name_matches(a, b) >= rules.min_name_matches
                     or title_matches(a, b) >= rules.min_title_matches):
        return _cognate_terms(a, b, rules)
    if not same:
        return None
    words = _terms(a, b, rules)
    return words if words >= rules.min_shared_words else None


def _terms(a: Profile, b: Profile, rules: LinkRules) -> float:
    return _overlap(a.terms, b.terms, rules.term_floor, (a.term_total, b.term_total))


def _cognate_terms(a: Profile, b: Profile, rules: LinkRules) -> float:
    """``words`` across languages: the overlap of the two articles' :func:`cognates` (the same floor)."""
    return _overlap(a.cognates, b.cognates, rules.term_floor)


def probability(a: Profile, b: Profile, rules: LinkRules) -> float:
    """How likely ``a`` and ``b`` report one event: 0 outside the window, 1 for near-copies, else the
    logistic model over :func:`features` (each part computed once: this runs for every candidate)."""
    seconds = abs((a.published_at - b.published_at).total_seconds())
    if seconds > rules.window_s:
        return 0.0
    minhash = jaccard(a.minhash, b.minhash)
    if minhash >= rules.near_duplicate:
        return 1.0
    return _scored(a, b, rules, seconds, minhash)


def _scored(a: Profile, b: Profile, rules: LinkRules, seconds: float, minhash: float) -> float:
    """:func:`probability` of a pair inside the window that is no near-copy, given those two values."""
    words = _shared_words(a, b, rules)
    if words is None:
        return 0.0
    w = rules.weights  # one per feature, then the intercept (checked by LinkRules)
    z = w[-1] + sum(map(operator.mul, w, _features(a, b, rules, seconds, words, minhash)))
    return 1.0 / (1.0 + math.exp(-z))


# Screening (:func:`scores`) only where a probability's rounding is far inside the margin below: near 0 or 1
# the logistic curve is flat, and a score a hair from the threshold might round either way.
_SCREENED = (1e-6, 1 - 1e-6)
_Z_MARGIN = 1e-6  # in the logistic score; rounding moves a score by some 1e-14


def _z_floor(floor: float) -> float | None:
    """The logistic score a pair must reach for its probability to reach ``floor``, less a margin (None:
    no screening at this floor)."""
    if not _SCREENED[0] <= floor <= _SCREENED[1]:
        return None
    return math.log(floor / (1.0 - floor)) - _Z_MARGIN


def z_bound(a: Profile, b: Profile, rules: LinkRules, seconds: float, minhash: float) -> float:
    """An upper bound of the logistic score :func:`probability` gives a pair that passes the gate (inside
    the window, no near-copy): what :func:`scores` compares with the floor (:func:`_bound_of`)."""
    return _bound_of(a, rules, -math.inf)(b, seconds, minhash)


def _bound_of(me: Profile, rules: LinkRules, z_floor: float) -> Callable[[Profile, float, float], float]:
    """``bound(other, seconds, minhash)``: an upper bound of the logistic score of ``me`` and ``other``
    (when they pass the gate), from their cheap features alone; ``me``'s side read once for a list.

    Every feature but four is computed as :func:`_features` computes it; those four cost the most (the
    words' overlap, across languages of their skeletons; names and headline words spelt alike across
    languages) and count at their most favourable value: ``words`` 1 (an overlap is at most 1), and
    ``no_shared_words`` 0 (it is 0 or 1 and weighs against); ``names_alike`` and ``title_alike`` 1 across
    languages (at most 1), 0 in one (always 0 there). The entity overlaps count first as if the lighter
    side's entities were all shared (its total weighs no more than what it shares, for weights of no
    sign but +): when that is already below ``z_floor`` it is the bound, else they are computed. +inf (no
    bound) for weights of another sign."""
    w = rules.weights
    w_ent, w_strict, w_title, ww, wn, w_names, w_lang, w_number, w_topics, w_clash, w_states, w_days, \
        w_recent, w_minhash, w_kind, w_kind_clash, wa, wt, intercept = w
    if ww < 0 or wn > 0 or wa < 0 or wt < 0:
        return lambda other, seconds, minhash: math.inf
    floor, strict_floor, generic = rules.entity_floor, rules.strict_entity_floor, rules.generic_kind_share
    by_totals = w_ent >= 0 and w_strict >= 0 and floor > 0 and strict_floor > 0 and me.entity_positive
    lang, ta, na, oa, sa, numbers, kinds = me.lang, me.title_entities, me.names, me.topics, me.states, me.numbers, \
        me.kinds
    total, exp = me.entity_total, math.exp

    def bound(other: Profile, seconds: float, minhash: float) -> float:
        hours = seconds / 3600
        z = intercept + ww + w_days * (min(hours, 72.0) / 24) + w_recent * exp(-hours / 12) + w_minhash * minhash
        tb, nb, ob = other.title_entities, other.names, other.topics
        if ta and tb:
            z += w_title * (len(ta & tb) / min(len(ta), len(tb)))
        if na and nb:
            z += w_names * (len(na & nb) / max(min(len(na), len(nb)), 2))
        z += w_lang if lang == other.lang else wa + wt
        if numbers & other.numbers:
            z += w_number
        if oa and ob:
            shared = oa & ob
            z += w_topics * (len(shared) / len(oa | ob)) if shared else w_clash
        if _states_clash(sa, other.states):
            z += w_states
        if kinds and other.kinds:
            z += w_kind * kind_match(kinds, other.kinds, generic)
            if kinds_clash(kinds, other.kinds):
                z += w_kind_clash
        if by_totals and other.entity_positive:
            lighter = min(total, other.entity_total)
            most = z + w_ent * min(lighter / max(lighter, floor), 1.0) \
                + w_strict * min(lighter / max(lighter, strict_floor), 1.0)
            if most < z_floor:
                return most
        entities, strict = _overlaps(me, other, floor, strict_floor)
        return z + w_ent * entities + w_strict * strict

    return bound


def scores(me: Profile, others: Sequence[Profile], rules: LinkRules, floor: float) -> list[float]:
    """:func:`probability` of ``me`` with each of ``others`` where it reaches ``floor``; where it is below
    ``floor``, that probability or 0.0 (below it too). For a decision that only asks which pairs reach
    ``floor`` or more (:func:`api.sink.grouping.decide`, at the lower of ``alone`` and ``supported``).

    Why: most candidates an index key hands a report are other events sharing a country or a word, and
    their full feature vector was a third of the sink's time. Here a pair whose cheap features bound its
    score below ``floor`` (:func:`_bound_of`) is not scored further, and the MinHash Jaccards of the list
    come from packed lanes (:func:`_jaccards`). The same values otherwise: the seconds from integer µs are those of the two
    datetimes' difference, the Jaccard the same count over the same length, and every pair scored is
    scored by :func:`probability`'s own code.
    """
    z_floor = _z_floor(floor)
    window, near = rules.window_s, rules.near_duplicate
    at, lang, presence = me.at_us, me.lang, me.presence
    bound = _bound_of(me, rules, z_floor) if z_floor is not None else None
    below = z_floor if z_floor is not None else -math.inf
    # In one language, first what the two have in common caps (one look-up: most candidates share a word or
    # a number and nothing else that counts), then the pair's own bound.
    caps = same_language_caps(rules) if z_floor is not None else None
    out: list[float] = []
    for other, minhash in zip(others, _jaccards(me, others), strict=True):
        seconds = abs(at - other.at_us) / 1_000_000
        if seconds > window:
            out.append(0.0)
        elif minhash >= near:
            out.append(1.0)
        elif ((caps is not None and other.lang == lang and caps[presence & other.presence] < below)
              or (bound is not None and bound(other, seconds, minhash) < below)):
            out.append(0.0)  # cannot link: the same-language cap or the exact bound is below the threshold
        else:
            out.append(_scored(me, other, rules, seconds, minhash))
    return out


def _jaccards(me: Profile, others: Sequence[Profile]) -> list[float]:
    """:func:`jaccard` of ``me``'s MinHash with each of ``others``': for those of the same length, the
    count of equal positions read from their packed lanes (:func:`_as_lanes`), as :func:`jaccard` counts."""
    n = len(me.minhash)
    if me.minhash_lanes is None:
        return [jaccard(me.minhash, o.minhash) for o in others]
    mine, width = me.minhash_lanes | _sentinels(n), 5 * n
    return [(mine ^ o.minhash_lanes).to_bytes(width, "little").count(b"\0\0\0\0") / n
            if o.minhash_lanes is not None and len(o.minhash) == n else jaccard(me.minhash, o.minhash)
            for o in others]


def linked(a: Profile, b: Profile, rules: LinkRules) -> bool:
    """Whether ``a`` and ``b`` link on their own (without a common neighbour)."""
    return probability(a, b, rules) >= rules.alone


def profile_of(event: Any, rules: LinkRules, words: Mapping[str, Sequence[str]] | None = None) -> Profile:
    """The profile of an ``EnrichedArticle`` (everything it needs was computed by enrich). ``words``: entity
    id -> the distinctive words of its name (:mod:`api.sink.name_words`; None: the packaged gazetteer's)."""
    if words is None:
        words = gazetteer_words()
    when = event.article.published_at
    return Profile(
        article_id=event.id,
        published_at=when if when.tzinfo else when.replace(tzinfo=UTC),
        lang=event.lang,
        entities=entity_weights(event.entities, rules),
        title_entities=frozenset(e.id for e in event.entities if getattr(e, "in_title", False)),
        topics=frozenset(t.name for t in event.topics),
        states=frozenset(event.states or ([event.state] if event.state else [])),
        terms=dict(event.terms),
        numbers=frozenset(event.numbers),
        names=frozenset(getattr(event, "names", ()) or ()),
        minhash=tuple(event.minhash),
        kinds=tuple(getattr(event, "kinds", ()) or ()),
        title_names=title_words(event.article.title, event.entities),
        name_words=entity_name_words(event.entities, words, rules),
    )
