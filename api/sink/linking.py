"""Whether two articles report the same event: the pairwise rule behind stories.

Why pairwise: a story is a connected component of "same event" links between articles (single link).
A component does not depend on the order the articles arrive in or on how they are batched, so a
replay, a second sink or a shuffled backfill groups exactly as the evaluation does; and when a later
article links two stories, they merge.

What a link looks at (all carried on the enriched event, so the sink needs no language models):
- time: articles further apart than ``window_s`` never link;
- near-copies: MinHash Jaccard at or above ``near_duplicate`` links at once (wire copies);
- entities: the overlap of their linked, language-independent ids, weighted (title mentions and
  specific entities weigh more than the countries every report of a conflict names);
- words: the overlap of their salient terms (same language only: the words are not translated);
- numbers: sharing a reported number ("30-day", "175 prisoners");
- topics and state: sharing a topic; a ceasefire report and a report of its collapse are two events.
Same-language pairs need ``same_lang_threshold``; pairs across languages have only entities, numbers
and topics, and need ``cross_lang_threshold``.

Pure: no I/O imports. Thresholds and weights are :class:`LinkRules` fields (the settings
``WIREWATCH_STORY_*`` fill them), each with the reason for its default.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# States that report the end of a ceasefire, and those that report it standing: two different events.
ENDED = frozenset({"collapsed", "violated"})
STANDING = frozenset({"proposed", "agreed", "in_force", "extended"})
KEY_TERMS = 8  # salient words per article used as index keys (the rest still count in the score)


@dataclass(frozen=True, eq=False)
class LinkRules:
    """The thresholds and weights of :func:`score` (defaults tuned on the dev part of the story stream)."""

    window_s: float = 72 * 3600  # follow-ups a day or two later still join; a week later is news of its own
    near_duplicate: float = 0.5  # MinHash Jaccard of wire copies and light rewrites
    same_lang_threshold: float = 0.5
    cross_lang_threshold: float = 0.55  # fewer signals across languages: ask for more of them
    entity_weight: float = 0.45
    term_weight: float = 0.4
    number_weight: float = 0.1
    topic_weight: float = 0.1
    state_conflict_penalty: float = 0.6  # only "truce agreed" vs only "truce collapsed": different events
    topic_mismatch_penalty: float = 0.3  # both tagged, no topic shared: an energy strike vs a prisoner swap
    # Countries and cities are named by every report of a conflict, nationalities even more: they say
    # less about which event it is than a person, an organisation or a named sea or region does.
    type_weights: Mapping[str, float] = field(default_factory=lambda: {
        "PERSON": 1.0, "ORG": 1.0, "LOC": 1.0, "GPE": 0.5, "NORP": 0.2})
    title_entity_boost: float = 1.5  # what the headline names is what the report is about


@dataclass(frozen=True)
class Profile:
    """One article as the linking rule sees it."""

    article_id: str
    published_at: datetime
    lang: str | None = None
    entities: Mapping[str, float] = field(default_factory=dict)  # id -> weight
    topics: frozenset[str] = frozenset()
    states: frozenset[str] = frozenset()  # every lifecycle state the article reports
    terms: Mapping[str, float] = field(default_factory=dict)
    numbers: frozenset[str] = frozenset()
    minhash: Sequence[int] = ()

    def to_json(self) -> dict[str, Any]:
        return {"t": self.published_at.isoformat(), "lang": self.lang, "e": dict(self.entities),
                "topics": sorted(self.topics), "states": sorted(self.states), "terms": dict(self.terms),
                "n": sorted(self.numbers), "mh": list(self.minhash)}

    @classmethod
    def from_json(cls, article_id: str, d: Mapping[str, Any]) -> Profile:
        when = datetime.fromisoformat(d["t"])
        return cls(article_id=article_id, published_at=when if when.tzinfo else when.replace(tzinfo=UTC),
                   lang=d.get("lang"), entities=d.get("e") or {}, topics=frozenset(d.get("topics") or ()),
                   states=frozenset(d.get("states") or ()), terms=d.get("terms") or {},
                   numbers=frozenset(d.get("n") or ()),
                   minhash=tuple(d.get("mh") or ()))


def entity_weights(entities: Iterable[Any], rules: LinkRules) -> dict[str, float]:
    """Entity id -> weight for one article's linked entities (``EntityMention``-like objects)."""
    out: dict[str, float] = {}
    for e in entities:
        w = rules.type_weights.get(e.type, 1.0)
        if getattr(e, "in_title", False):
            w *= rules.title_entity_boost
        out[e.id] = max(out.get(e.id, 0.0), w)
    return out


def keys(p: Profile, bands: Iterable[str] = ()) -> list[str]:
    """Index keys: two articles that may link share at least one (entity ids, numbers, top words, bands)."""
    top = sorted(p.terms.items(), key=lambda kv: (-kv[1], kv[0]))[:KEY_TERMS]
    out = [f"e:{e}" for e in sorted(p.entities)] + sorted(p.numbers)
    out += [f"w:{p.lang or ''}:{t}" for t, _ in top]
    out += [f"b:{b}" for b in bands]
    return list(dict.fromkeys(out))


def _overlap(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """Weighted overlap relative to the lighter side (a headline against a full text can still reach 1)."""
    if not a or not b:
        return 0.0
    small, big = (a, b) if len(a) <= len(b) else (b, a)
    shared = sum(min(w, big[k]) for k, w in small.items() if k in big)
    return shared / min(sum(a.values()), sum(b.values()))


def jaccard(a: Sequence[int], b: Sequence[int]) -> float:
    """Estimated Jaccard similarity of two MinHash value vectors (share of equal positions)."""
    if not a or len(a) != len(b):
        return 0.0
    return sum(map(operator.eq, a, b)) / len(a)


def score(a: Profile, b: Profile, rules: LinkRules) -> float:
    """How strongly ``a`` and ``b`` look like reports of one event (0 = never; >= 1 = a near-copy)."""
    if abs((a.published_at - b.published_at).total_seconds()) > rules.window_s:
        return 0.0
    if jaccard(a.minhash, b.minhash) >= rules.near_duplicate:
        return 1.0
    s = rules.entity_weight * _overlap(a.entities, b.entities)
    if a.lang == b.lang:
        s += rules.term_weight * _overlap(a.terms, b.terms)
    if a.numbers & b.numbers:
        s += rules.number_weight
    if a.topics and b.topics:
        s += rules.topic_weight if a.topics & b.topics else -rules.topic_mismatch_penalty
    if _ended_only(a.states) and _standing_only(b.states) or _ended_only(b.states) and _standing_only(a.states):
        s -= rules.state_conflict_penalty
    return s


def _ended_only(states: frozenset[str]) -> bool:
    return bool(states & ENDED) and not states & STANDING


def _standing_only(states: frozenset[str]) -> bool:
    return bool(states & STANDING) and not states & ENDED


def linked(a: Profile, b: Profile, rules: LinkRules) -> bool:
    """Whether ``a`` and ``b`` report the same event."""
    threshold = rules.same_lang_threshold if a.lang == b.lang else rules.cross_lang_threshold
    return score(a, b, rules) >= threshold


def profile_of(event: Any, rules: LinkRules) -> Profile:
    """The profile of an ``EnrichedArticle`` (everything it needs was computed by enrich)."""
    when = event.article.published_at
    return Profile(
        article_id=event.id,
        published_at=when if when.tzinfo else when.replace(tzinfo=UTC),
        lang=event.lang,
        entities=entity_weights(event.entities, rules),
        topics=frozenset(t.name for t in event.topics),
        states=frozenset(event.states or ([event.state] if event.state else [])),
        terms=dict(event.terms),
        numbers=frozenset(event.numbers),
        minhash=tuple(event.minhash),
    )
