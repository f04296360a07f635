"""Does this story match this filter: the one rule behind /stories, the live stream and subscriptions.

Why one module: a reader's ``/stories?…`` query, an SSE listener and a webhook or alert subscription
ask the same question of a story. :class:`StoryFilter` says what was asked; :func:`matches` answers it
in memory for one story's :class:`StoryFacts` (the stream and the dispatcher call it per change), and
``services.db.stories`` translates the same filter to SQL for pages. A shared table of cases checks
the two agree on both stores (``tests/integration/test_story_filter.py``).

Pure: no I/O imports.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from services.text import WORD, fold

MAX_SEARCH_TERMS = 16
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def search_terms(q: str) -> list[str]:
    """The words of a free-text query (letters and digits only), at most MAX_SEARCH_TERMS.

    Only words survive, so no FTS5 or tsquery operator can be smuggled in; every term must match.
    """
    return list(dict.fromkeys(t.casefold() for t in WORD.findall(q)))[:MAX_SEARCH_TERMS]


def _tuple(values: Iterable[Any] | None) -> tuple[Any, ...]:
    return tuple(dict.fromkeys(values or ()))


@dataclass(frozen=True)
class StoryFilter:
    """What a reader or a subscription asked for. Every field set must hold (empty = any).

    ``topics`` and ``entities`` need every one listed (the ``/stories`` query); ``any_topics`` and
    ``any_entities`` need at least one (a subscription's lists). ``min_confidence`` applies to the
    topics asked for, or to any topic when none is. Entities match by id or case-insensitive name.
    Hashable (sequences become tuples), so a page's SQL statement can be reused.
    """

    topics: Sequence[str] = ()
    any_topics: Sequence[str] = ()
    entities: Sequence[str] = ()
    any_entities: Sequence[str] = ()
    langs: Sequence[str] = ()
    states: Sequence[str] = ()
    sources: Sequence[str] = ()
    feed_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    min_confidence: float | None = None
    q: str | None = None

    def __post_init__(self) -> None:
        for name in ("topics", "any_topics", "entities", "any_entities", "langs", "states", "sources"):
            object.__setattr__(self, name, _tuple(getattr(self, name)))

    @classmethod
    def from_subscription(cls, filters: Mapping[str, Any] | None) -> StoryFilter:
        """A subscription's stored filters (``topics``, ``entities``, ``sources`` any-of; ``languages``,
        ``states``; ``min_confidence``; ``q``) as a filter."""
        f = filters or {}
        min_conf = f.get("min_confidence")
        return cls(any_topics=f.get("topics") or (), any_entities=f.get("entities") or (),
                   sources=f.get("sources") or (), langs=f.get("languages") or (), states=f.get("states") or (),
                   min_confidence=float(min_conf) if min_conf else None, q=f.get("q") or None)


@dataclass(frozen=True)
class StoryFacts:
    """What a filter looks at, for one story: built once per story change, matched per listener."""

    topics: Mapping[str, float] = field(default_factory=dict)
    entities: frozenset[str] = frozenset()  # ids and lower-cased names
    lang: str | None = None
    state: str | None = None
    sources: frozenset[str] = frozenset()
    feed_ids: frozenset[int] = frozenset()
    published_at: datetime = EPOCH
    words: frozenset[str] = frozenset()  # folded words of headline, summary and article titles

    @classmethod
    def of(cls, *, topics: Iterable[Mapping[str, Any]], entities: Iterable[Mapping[str, Any]],
           lang: str | None, state: str | None, sources: Iterable[str], published_at: datetime,
           feed_ids: Iterable[int] = (), text: str = "") -> StoryFacts:
        """From a story's stored shape (topic and entity dicts as the store keeps them)."""
        return cls(
            topics={t["name"]: float(t["confidence"]) for t in topics},
            entities=frozenset(k for e in entities for k in (e["id"], e["name"].lower())),
            lang=lang, state=state, sources=frozenset(sources), feed_ids=frozenset(feed_ids),
            published_at=published_at, words=frozenset(WORD.findall(fold(text))),
        )


def _has_entity(facts: StoryFacts, ent: str) -> bool:
    return ent in facts.entities or ent.lower() in facts.entities


def _topics_hold(f: StoryFilter, facts: StoryFacts) -> bool:
    floor = f.min_confidence

    def present(topic: str) -> bool:
        conf = facts.topics.get(topic)
        return conf is not None and (floor is None or conf >= floor)

    if not all(present(t) for t in f.topics):
        return False
    if f.any_topics and not any(present(t) for t in f.any_topics):
        return False
    return not (not f.topics and not f.any_topics and floor is not None
                and not any(c >= floor for c in facts.topics.values()))


def matches(f: StoryFilter, facts: StoryFacts) -> bool:
    """Whether the story with ``facts`` satisfies every condition of ``f``."""
    if not _topics_hold(f, facts):
        return False
    if not all(_has_entity(facts, e) for e in f.entities):
        return False
    if f.any_entities and not any(_has_entity(facts, e) for e in f.any_entities):
        return False
    if (f.langs and facts.lang not in f.langs) or (f.states and facts.state not in f.states):
        return False
    if (f.sources and not facts.sources.intersection(f.sources)) or (
            f.feed_id is not None and f.feed_id not in facts.feed_ids):
        return False
    if (f.since and facts.published_at < f.since) or (f.until and facts.published_at >= f.until):
        return False
    if f.q is not None:
        terms = [fold(t) for t in search_terms(f.q)]
        if not terms or not facts.words.issuperset(terms):
            return False
    return True


# --- Ceasefires: the same question for ceasefire records (/ceasefires, its stream, ceasefire webhooks) ----

ACTIVE_CEASEFIRE_STATES = ("proposed", "agreed", "in_force", "violated", "extended")
CEASEFIRE_SCOPES = ("full", "energy_infrastructure", "maritime", "humanitarian", "local", "holiday", "unilateral")


@dataclass(frozen=True)
class CeasefireFilter:
    """What a reader or a subscription asked of ceasefire records. Every field set must hold (empty = any).

    ``parties`` needs every one listed (``/ceasefires?party=``), ``any_parties`` at least one (a
    subscription's list); both match an entity id or a case-insensitive name. ``states`` and ``scopes``
    are any-of; ``active`` means one of :data:`ACTIVE_CEASEFIRE_STATES`; ``since`` compares the newest
    report; ``q`` needs every word in the title or a party's name.
    """

    states: Sequence[str] = ()
    parties: Sequence[str] = ()
    any_parties: Sequence[str] = ()
    scopes: Sequence[str] = ()
    since: datetime | None = None
    q: str | None = None
    active: bool = False

    def __post_init__(self) -> None:
        for name in ("states", "parties", "any_parties", "scopes"):
            object.__setattr__(self, name, _tuple(getattr(self, name)))

    @classmethod
    def from_subscription(cls, filters: Mapping[str, Any] | None) -> CeasefireFilter:
        """A subscription's ``parties``, ``scopes`` and ``states`` (any of) as a filter."""
        f = filters or {}
        return cls(states=f.get("states") or (), any_parties=f.get("parties") or (), scopes=f.get("scopes") or ())


@dataclass(frozen=True)
class CeasefireFacts:
    """What a ceasefire filter looks at, for one record."""

    state: str
    scope: str
    parties: frozenset[str] = frozenset()  # ids and lower-cased names
    last_reported: datetime = EPOCH
    words: frozenset[str] = frozenset()

    @classmethod
    def of(cls, *, state: str, scope: str, parties: Iterable[Mapping[str, Any]], last_reported: datetime,
           title: str = "") -> CeasefireFacts:
        """From a record's stored shape (parties as ``{"id", "name"}`` dicts)."""
        refs = list(parties)
        names = " ".join(str(p["name"]) for p in refs)
        return cls(state=state, scope=scope,
                   parties=frozenset(k for p in refs for k in (str(p["id"]), str(p["name"]).lower())),
                   last_reported=last_reported, words=frozenset(WORD.findall(fold(f"{title} {names}"))))


def ceasefire_matches(f: CeasefireFilter, facts: CeasefireFacts) -> bool:
    """Whether the record with ``facts`` satisfies every condition of ``f``."""
    def has(p: str) -> bool:
        return p in facts.parties or p.lower() in facts.parties

    if (f.states and facts.state not in f.states) or (f.scopes and facts.scope not in f.scopes):
        return False
    if f.active and facts.state not in ACTIVE_CEASEFIRE_STATES:
        return False
    if not all(has(p) for p in f.parties) or (f.any_parties and not any(has(p) for p in f.any_parties)):
        return False
    if f.since and facts.last_reported < f.since:
        return False
    if f.q is not None:
        terms = [fold(t) for t in search_terms(f.q)]
        if not terms or not facts.words.issuperset(terms):
            return False
    return True
