"""Story assignment for one batch: the sink's logic between the index (services.db.clusters) and the rule.

For the batch's new articles (never grouped before) it takes the index keys' locks, reads every
candidate the batch's keys reach in one statement, then decides article by article, in batch order,
with :func:`api.sink.grouping.decide` over the stored candidates and the batch's earlier articles.
Articles grouped before keep their story, so a replay moves nothing. The repository only reads and
writes; every decision is made here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from api.sink.grouping import decide, rank
from api.sink.linking import LinkRules, Profile, keys, profile_of
from services.db import clusters
from services.events import EnrichedArticle


@dataclass(frozen=True)
class GroupingRules:
    """The link rule plus how many candidates the index hands it (both from settings)."""

    link: LinkRules = field(default_factory=LinkRules)
    bucket_cap: int = 25  # newest articles read per index key: a key every report shares costs no more
    max_candidates: int = 100  # articles a new one is compared with, those sharing the most keys first


@dataclass
class BatchGrouping:
    """What grouping decided for a batch: story per new article, and merges in the order they happened."""

    story_of: dict[str, str] = field(default_factory=dict)
    merges: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)

    def final(self, story_id: str) -> str:
        """Where ``story_id`` ended after this batch's merges."""
        for into, merged in self.merges:
            if story_id in merged:
                story_id = into
        return story_id


@dataclass
class _Pool:
    """Candidates known so far: stored ones and the batch's own, with their current stories."""

    profiles: dict[str, Profile] = field(default_factory=dict)
    story: dict[str, str] = field(default_factory=dict)
    start: dict[str, tuple[datetime, str]] = field(default_factory=dict)
    rows: dict[str, list[tuple[str, datetime]]] = field(default_factory=dict)  # key -> (article, published)

    def merge(self, into: str, merged: Sequence[str]) -> None:
        for art, story in self.story.items():
            if story in merged:
                self.story[art] = into
        for old in merged:
            if old in self.start:
                self.start[into] = min(self.start[into], self.start.pop(old))


def _candidates(me: Profile, my_keys: Sequence[str], pool: _Pool, rules: GroupingRules) -> list[str]:
    window = timedelta(seconds=rules.link.window_s)
    lo, hi = me.published_at - window, me.published_at + window
    hits: Counter[str] = Counter()
    for key in dict.fromkeys(my_keys):
        inside = sorted((r for r in pool.rows.get(key, ()) if lo <= r[1] <= hi), key=lambda r: r[1], reverse=True)
        hits.update(a for a, _ in inside[:rules.bucket_cap])
    hits.pop(me.article_id, None)
    return rank(hits, rules.max_candidates)


async def group_batch(session: AsyncSession, events: Sequence[EnrichedArticle], rules: GroupingRules,
                      ) -> BatchGrouping:
    """Assign every never-grouped article of ``events`` a story (sets ``event.story_id``); record profiles."""
    out = BatchGrouping()
    known = await clusters.known_articles(session, article_ids=[e.id for e in events])
    fresh = list({e.id: e for e in events if e.id not in known}.values())
    if not fresh:
        return out
    mine = {e.id: profile_of(e, rules.link) for e in fresh}
    my_keys = {e.id: keys(mine[e.id], e.cluster_bands) for e in fresh}
    every_key = [k for ks in my_keys.values() for k in ks]
    await clusters.lock_keys(session, every_key)
    window = timedelta(seconds=rules.link.window_s)
    times = [p.published_at for p in mine.values()]
    pool = _Pool()
    for key, aid, when in await clusters.key_hits(session, keys=every_key, lo=min(times) - window,
                                                  hi=max(times) + window, cap=rules.bucket_cap):
        pool.rows.setdefault(key, []).append((aid, when))
    stored = await clusters.load_profiles(session, article_ids={a for rows in pool.rows.values() for a, _ in rows})
    for aid, (prof, story, began) in stored.items():
        pool.profiles[aid] = Profile.from_json(aid, prof)
        pool.story[aid] = story
        pool.start[story] = min(pool.start.get(story, (began, story)), (began, story))
    for ev in fresh:
        me = mine[ev.id]
        cands = [(pool.profiles[a], pool.story[a]) for a in _candidates(me, my_keys[ev.id], pool, rules)
                 if a in pool.profiles]
        d = decide(me, cands, pool.start, rules.link)
        if d.merged:
            pool.merge(d.story_id, d.merged)
            out.merges.append((d.story_id, d.merged))
        pool.profiles[ev.id], pool.story[ev.id] = me, d.story_id
        start = (me.published_at, d.story_id)
        pool.start[d.story_id] = min(pool.start.get(d.story_id, start), start)
        for k in my_keys[ev.id]:
            pool.rows.setdefault(k, []).append((ev.id, me.published_at))
        out.story_of[ev.id] = d.story_id
    for ev in fresh:
        ev.story_id = out.final(out.story_of[ev.id])
    await clusters.save_profiles(session, rows=[(e.id, mine[e.id].published_at, mine[e.id].to_json(), my_keys[e.id])
                                                for e in fresh])
    return out
