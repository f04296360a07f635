"""What a story shows, folded from its articles, and the fold state that lets a big story take new articles
without rereading the ones it has.

Why: the sink refreshes each story a batch touched once. Refolding all of a story's articles costs its size,
so a story that grows a batch at a time (one report syndicated by every outlet) cost n²/2 article reads over
its life: 69 articles/s over 10,000 copies on SQLite. A story's view is a left fold over its articles in
(published_at, id) order, so articles published after all its others *extend* the fold (:func:`extend`);
anything else (an earlier article, an updated one, a merge, another writer's refresh) refolds from the store
(:func:`fold`). The two give the same view; ``tests/unit/test_story_view_extend.py`` holds them to it.

Pure: rows are anything with the article columns the story shows (Core rows in the store).
"""

from __future__ import annotations

import logging
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from types import SimpleNamespace
from typing import Any

log = logging.getLogger(__name__)

EntityFold = Callable[[Sequence[Any]], list[dict[str, Any]]]
REPRESENTATIVE_ENTITIES = 8  # the story's most named entities a headline article is scored on
VISIBLE = ("topics", "state", "article_count", "headline", "entities")  # what a subscriber sees change
CACHED_FROM = 48  # smaller stories refold from the store every time: that costs less than a millisecond
CACHED_STORIES = 512  # fold states kept per engine (a state is its topics, entities and title words)


def fold_topics(articles: Sequence[Any]) -> list[dict[str, Any]]:
    """Story topics: each topic's most confident mention (the earliest of equals), most confident first."""
    return _sorted_topics(_best_topics({}, articles))


def _best_topics(best: dict[str, dict[str, Any]], articles: Iterable[Any]) -> dict[str, dict[str, Any]]:
    for art in articles:
        for t in art.topics or []:
            cur = best.get(t["name"])
            if cur is None or t["confidence"] > cur["confidence"]:
                best[t["name"]] = {**t, "article_id": art.id}
    return best


def _sorted_topics(best: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(best.values(), key=lambda t: -t["confidence"])


def representative(articles: Sequence[Any], entities: Sequence[dict[str, Any]]) -> Any:
    """The article that best stands for the story: it names most of the story's main entities, has a
    summary, and came first. Decided from the whole story, so it does not depend on arrival order."""
    main = _main(entities)

    def rank(a: Any) -> tuple[int, bool, Any, str]:
        named = len(main & {e["id"] for e in a.entities or []})
        return (-named, not a.summary, a.published_at, a.id)

    return min(articles, key=rank)


def _main(entities: Sequence[dict[str, Any]]) -> frozenset[str]:
    return frozenset(e["id"] for e in entities[:REPRESENTATIVE_ENTITIES])


def _latest_state(articles: Sequence[Any]) -> str | None:
    return next((a.state for a in sorted(articles, key=lambda a: a.published_at, reverse=True) if a.state), None)


@dataclass(frozen=True)
class Fold:
    """A story folded from its articles: enough to compute its view, and to extend it by later articles."""

    count: int
    first_at: datetime
    last_at: datetime  # the newest article: :func:`extend` takes only articles published after it
    topics: dict[str, dict[str, Any]]  # topic -> best mention, in order of first appearance
    entities: list[dict[str, Any]]  # the entity fold's output
    entity_order: dict[str, int]  # entity id -> first appearance, to hand the fold its own output in order
    sources: frozenset[str]
    languages: frozenset[str]
    state: str | None
    words: dict[str, None]  # the distinct words of its titles, in order (what title search matches)
    lead: Any  # the representative article
    stamp: tuple[int, datetime, int] | None = None  # (version, last_seen, article_count) written with it

    def view(self) -> dict[str, Any]:
        """The story columns this fold shows (without version and timestamps)."""
        lead = self.lead
        return {"headline": lead.title, "url": lead.link or lead.url, "summary": lead.summary[:1000],
                "lang": lead.lang, "state": self.state, "topics": _sorted_topics(self.topics),
                "entities": self.entities, "sources": sorted(self.sources), "languages": sorted(self.languages),
                "article_count": self.count, "published_at": self.first_at}

    def search_titles(self) -> str:
        """The titles part of the story's search document: every distinct word of its articles' titles.

        Why words, not the titles: search matches stories holding every query word (FTS5 terms, a
        plainto_tsquery), with no phrase or rank, so the distinct words match what the titles match; and
        they stay a few hundred words where the titles of a 10,000-article story were half a megabyte,
        re-indexed on every batch (PostgreSQL's tsvector of it took 45 ms).
        """
        return " ".join(self.words)


def _order(order: dict[str, int], articles: Iterable[Any]) -> dict[str, int]:
    for art in articles:
        for e in art.entities or []:
            order.setdefault(e["id"], len(order))
    return order


def _words(words: dict[str, None], articles: Iterable[Any]) -> dict[str, None]:
    for art in articles:
        words.update(dict.fromkeys((art.title or "").split()))
    return words


def fold(articles: Sequence[Any], fold_entities: EntityFold) -> Fold:
    """The fold of all of a story's articles, oldest first (what the story is recomputed from)."""
    entities = fold_entities(articles)
    return Fold(count=len(articles), first_at=articles[0].published_at, last_at=articles[-1].published_at,
                topics=_best_topics({}, articles), entities=entities, entity_order=_order({}, articles),
                sources=frozenset(a.source for a in articles if a.source),
                languages=frozenset(a.lang for a in articles if a.lang), state=_latest_state(articles),
                words=_words({}, articles),
                lead=representative(articles, entities))


def extend(done: Fold, later: Sequence[Any], fold_entities: EntityFold) -> Fold | None:
    """``done`` plus articles published after all of its own (oldest first), equal to refolding them all;
    None when that cannot be told without the story's other articles (its main entities changed, so any
    article may now be the representative one)."""
    if not later or later[0].published_at <= done.last_at:
        return None
    order = _order(dict(done.entity_order), later)
    told = SimpleNamespace(entities=sorted(done.entities, key=lambda e: order[e["id"]]))
    entities = fold_entities([told, *later])
    if _main(entities) != _main(done.entities):
        return None
    return Fold(count=done.count + len(later), first_at=done.first_at, last_at=later[-1].published_at,
                topics=_best_topics(dict(done.topics), later), entities=entities, entity_order=order,
                sources=done.sources | {a.source for a in later if a.source},
                languages=done.languages | {a.lang for a in later if a.lang},
                state=_latest_state(later) or done.state,
                words=_words(dict(done.words), later),
                lead=representative([done.lead, *later], entities))


def extends_exactly(articles: Sequence[Any], folded: Fold, fold_entities: EntityFold) -> bool:
    """Whether extending the fold of the story's older articles by its newest gives ``folded``, as refolding
    all of them did. The entity fold belongs to another module: the fast path is only taken while that
    fold still takes its own output as input (a change of the entity shape can break that)."""
    k = len(articles) - 1
    while k > 0 and articles[k - 1].published_at >= articles[k].published_at:
        k -= 1
    if k == 0:
        return True  # one publication time: nothing can extend it, nothing to check
    try:
        again = extend(fold(articles[:k], fold_entities), articles[k:], fold_entities)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        log.warning("a story fold cannot be extended (%r): big stories are refolded in full", exc)
        return False
    if again is not None and again.view() != folded.view():
        log.warning("extending a story fold differs from refolding it: big stories are refolded in full")
        return False
    return True


class FoldCache:
    """The fold states of recently refreshed big stories, by story id (least recently used dropped).

    A state is only used while the story row still carries the (version, last_seen, article_count) it
    was written with: every writer of a story's articles refreshes the story (the sink's upsert), and a
    refresh stamps ``last_seen`` with its clock, so another writer's refresh, or a rolled-back batch of
    this one, shows as another stamp. Merges forget their stories (:meth:`forget`). The first few full
    folds it is handed are checked against :func:`extend` (:func:`extends_exactly`); one that differs
    turns the cache off.
    """

    CHECKS = 4

    def __init__(self, size: int = CACHED_STORIES) -> None:
        self._size = size
        self._folds: OrderedDict[str, Fold] = OrderedDict()
        self.trusted = True
        self._checked = 0

    def get(self, story_id: str, stamp: tuple[int, datetime, int]) -> Fold | None:
        found = self._folds.get(story_id)
        if found is None or found.stamp != stamp or not self.trusted:
            return None
        self._folds.move_to_end(story_id)
        return found

    def put(self, story_id: str, done: Fold, stamp: tuple[int, datetime, int]) -> None:
        if done.count < CACHED_FROM or not self.trusted:
            self._folds.pop(story_id, None)
            return
        self._folds[story_id] = replace(done, stamp=stamp)
        self._folds.move_to_end(story_id)
        while len(self._folds) > self._size:
            self._folds.popitem(last=False)

    def check(self, articles: Sequence[Any], done: Fold, fold_entities: EntityFold) -> None:
        """Check a full fold of a big story against extending it (the first few times only)."""
        if done.count < CACHED_FROM or not self.trusted or self._checked >= self.CHECKS:
            return
        self._checked += 1
        self.trusted = extends_exactly(articles, done, fold_entities)
        if not self.trusted:
            self._folds.clear()

    def forget(self, story_ids: Iterable[str]) -> None:
        for sid in story_ids:
            self._folds.pop(sid, None)


_caches: weakref.WeakKeyDictionary[Any, FoldCache] = weakref.WeakKeyDictionary()


def cache_for(engine: Any) -> FoldCache:
    """The fold cache of one engine (one database): stories of two stores never share states."""
    found = _caches.get(engine)
    if found is None:
        found = _caches[engine] = FoldCache()
    return found
