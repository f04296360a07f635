"""Stories as connected components of links: the decision for one new article, and an in-memory grouper.

:func:`decide` is what the sink runs per new article, given the candidates its index found: the story
the article joins, and the stories its links show to be the same event (they merge into the oldest).
:class:`Grouping` runs the same decision over an in-memory index with the sink's candidate rules, for
the evaluation (``make eval``) and as the oracle the replay tests hold the real sink to.

Pure: no I/O imports.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from api.sink.linking import LinkRules, Profile, probability, scores


@dataclass(frozen=True)
class Decision:
    """Where a new article goes: ``story_id``, and the other stories that merge into it."""

    story_id: str
    merged: tuple[str, ...] = ()


def rank(hits: Counter[str], max_candidates: int) -> list[str]:
    """Candidate article ids, those sharing the most index keys first (ties by id, so stable)."""
    ordered = sorted(hits)  # by id, then by count: a stable sort, reversed or not, keeps the ids' order in a tie
    ordered.sort(key=hits.__getitem__, reverse=True)  # C-level keys: this runs for every new article
    return ordered[:max_candidates]


def decide(me: Profile, candidates: Iterable[tuple[Profile, str]],
           story_start: Mapping[str, tuple[datetime, str]], rules: LinkRules) -> Decision:
    """Link ``me`` to the candidates (profile, its story); join the linked stories, the oldest surviving.

    A candidate links on its own at ``rules.alone``, or at ``rules.supported`` when another candidate
    that ``me`` also links to at ``supported`` links to it too (a triangle). ``story_start`` gives each
    candidate story's (first published, id): the survivor of a merge is the smallest, so whichever order
    the articles came in, the same stories merge the same way.
    """
    cands = list(candidates)
    # Each candidate's probability where it reaches the lower threshold, else a value below it: all the
    # comparisons below ask (:func:`api.sink.linking.scores`).
    probs = scores(me, [prof for prof, _ in cands], rules, min(rules.alone, rules.supported))
    stories = {story for (_, story), p in zip(cands, probs, strict=True) if p >= rules.alone}
    near = [c for c, p in zip(cands, probs, strict=True) if rules.supported <= p]
    for (pa, sa), (pb, sb) in itertools.combinations(near, 2):
        if (sa not in stories or sb not in stories) and probability(pa, pb, rules) >= rules.supported:
            stories.update((sa, sb))
    if not stories:
        return Decision(me.article_id)
    ordered = sorted(stories, key=lambda s: story_start[s])
    return Decision(ordered[0], tuple(ordered[1:]))


@dataclass
class Grouping:
    """The sink's grouping, in memory: index keys, capped bucket reads, :func:`decide`, merges."""

    rules: LinkRules = field(default_factory=LinkRules)
    bucket_cap: int = 25
    max_candidates: int = 100
    profiles: dict[str, Profile] = field(default_factory=dict)
    story_of: dict[str, str] = field(default_factory=dict)
    start: dict[str, tuple[datetime, str]] = field(default_factory=dict)
    _index: dict[str, list[str]] = field(default_factory=dict)

    def candidates(self, me: Profile, keys: Sequence[str]) -> list[str]:
        window = timedelta(seconds=self.rules.window_s)
        lo, hi = me.published_at - window, me.published_at + window
        hits: Counter[str] = Counter()
        for key in dict.fromkeys(keys):
            inside = [a for a in self._index.get(key, ()) if lo <= self.profiles[a].published_at <= hi]
            inside.sort(key=lambda a: self.profiles[a].published_at, reverse=True)
            hits.update(inside[:self.bucket_cap])
        hits.pop(me.article_id, None)
        return rank(hits, self.max_candidates)

    def add(self, me: Profile, keys: Sequence[str]) -> Decision:
        """Group one new article (an article seen before keeps its story)."""
        if me.article_id in self.story_of:
            return Decision(self.story_of[me.article_id])
        cands = [(self.profiles[a], self.story_of[a]) for a in self.candidates(me, keys)]
        d = decide(me, cands, self.start, self.rules)
        for old in d.merged:
            for art, story in list(self.story_of.items()):
                if story == old:
                    self.story_of[art] = d.story_id
            self.start.pop(old, None)
        self.profiles[me.article_id] = me
        self.story_of[me.article_id] = d.story_id
        mine = (me.published_at, d.story_id)
        self.start[d.story_id] = min(self.start.get(d.story_id, mine), mine)
        for key in dict.fromkeys(keys):
            self._index.setdefault(key, []).append(me.article_id)
        return d

    def groups(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for art, story in self.story_of.items():
            out.setdefault(story, set()).add(art)
        return out
