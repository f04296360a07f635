"""One table of filter cases, checked in memory (``services.matching.matches``) and in SQL on both stores.

Each story is one enriched article of its own; ``expected`` lists the story numbers a filter selects.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.events import EnrichedArticle
from services.matching import StoryFacts, StoryFilter
from tests.factories import enriched, raw

PUTIN = ("Q7747", "Vladimir Putin", "PERSON")
KYIV = ("Q1899", "Kyiv", "GPE")
HAMAS = ("ww:hamas", "Hamas", "ORG")
T0 = datetime(2026, 3, 18, 12, 0, tzinfo=UTC)


def stories() -> dict[int, EnrichedArticle]:
    """Six stories that differ in every field a filter looks at."""
    specs = [
        (1, "Truce agreed in Kyiv talks", {"ceasefire": 0.9, "peace_talks": 0.6}, [PUTIN, KYIV], "agreed", "en", "Wire A", 10),
        (2, "Cessez-le-feu rompu a Gaza", {"ceasefire": 0.55}, [HAMAS], "collapsed", "fr", "Agence B", 11),
        (3, "Sanctions widened on oil exports", {"sanctions": 0.8}, [PUTIN], None, "en", "Wire A", None),
        (4, "Prisoner swap completed at border", {"prisoner_exchange": 0.7, "ceasefire": 0.3}, [KYIV], "extended", "de", "Zeitung C", 10),
        (5, "Weather turns cold in the capital", {}, [], None, "en", "Daily D", None),
        (6, "Aid convoy enters Gaza after truce", {"humanitarian_aid": 0.95, "ceasefire": 0.7}, [HAMAS], "in_force", "en", "Agence B", 11),
    ]
    out = {}
    for n, title, topics, ents, state, lang, source, feed in specs:
        art = raw(n, title=title, text=f"{title}. Report number {n}.", source=source, feed_id=feed,
                  published=T0 + timedelta(hours=n))
        ev = enriched(art, topics=topics, entities=ents, state=state)
        out[n] = ev.model_copy(update={"lang": lang})
    return out


def facts(ev: EnrichedArticle) -> StoryFacts:
    """What the store shows of a one-article story, as the stream and the dispatcher see it."""
    a = ev.article
    return StoryFacts.of(topics=[t.model_dump() for t in ev.topics], entities=[e.model_dump() for e in ev.entities],
                         lang=ev.lang, state=ev.state, sources=[a.source], published_at=a.published_at,
                         feed_ids=[a.feed_id] if a.feed_id is not None else [], text=f"{a.title} {a.summary} {a.title}")


CASES: list[tuple[str, StoryFilter, set[int]]] = [
    ("empty", StoryFilter(), {1, 2, 3, 4, 5, 6}),
    ("topic", StoryFilter(topics=["ceasefire"]), {1, 2, 4, 6}),
    ("every topic", StoryFilter(topics=["ceasefire", "peace_talks"]), {1}),
    ("any topic", StoryFilter(any_topics=["sanctions", "peace_talks"]), {1, 3}),
    ("topic at confidence", StoryFilter(topics=["ceasefire"], min_confidence=0.6), {1, 6}),
    ("any topic at confidence", StoryFilter(any_topics=["ceasefire", "sanctions"], min_confidence=0.75), {1, 3}),
    ("any topic at all, confident", StoryFilter(min_confidence=0.9), {1, 6}),
    ("entity by id", StoryFilter(entities=["Q7747"]), {1, 3}),
    ("entity by name, any case", StoryFilter(entities=["kyiv"]), {1, 4}),
    ("every entity", StoryFilter(entities=["Q7747", "Kyiv"]), {1}),
    ("any entity", StoryFilter(any_entities=["hamas", "Q1899"]), {1, 2, 4, 6}),
    ("language", StoryFilter(langs=["fr", "de"]), {2, 4}),
    ("state", StoryFilter(states=["agreed", "in_force"]), {1, 6}),
    ("source", StoryFilter(sources=["Wire A"]), {1, 3}),
    ("sources any of", StoryFilter(sources=["Agence B", "Daily D"]), {2, 5, 6}),
    ("feed", StoryFilter(feed_id=11), {2, 6}),
    ("since/until", StoryFilter(since=T0 + timedelta(hours=2), until=T0 + timedelta(hours=5)), {2, 3, 4}),
    ("words", StoryFilter(q="truce"), {1, 6}),
    ("every word", StoryFilter(q="truce Gaza"), {6}),
    ("no word at all", StoryFilter(q="!!"), set()),
    ("combined", StoryFilter(topics=["ceasefire"], langs=["en"], any_entities=["Hamas", "Putin", "Vladimir Putin"]),
     {1, 6}),
]
