"""Story assignment for one batch: the sink's logic between the index (services.db.clusters) and the rule.

For the batch's new articles (never grouped before) it takes the index keys' locks, reads every
candidate the batch's keys reach in one statement, the candidates' profiles in another, then decides
article by article, in batch order, with :func:`api.sink.grouping.decide` over the stored candidates and
the batch's earlier articles (:func:`decide_fast`: the same decision, from the head of the list when that
tells it), and records the batch's profiles and keys in one write each (on PostgreSQL, which runs them while
the decisions are made). Articles grouped before keep
their story, so a replay moves nothing. The repository only reads and writes; every decision is made here.
"""

from __future__ import annotations

import asyncio
import bisect
import functools
import itertools
import weakref
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api.sink.grouping import Decision, decide, rank
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
    profiles: dict[str, Profile] = field(default_factory=dict)  # of the new articles, as recorded

    def final(self, story_id: str) -> str:
        """Where ``story_id`` ended after this batch's merges."""
        for into, merged in self.merges:
            if story_id in merged:
                story_id = into
        return story_id


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def _us(when: datetime) -> int:
    """An aware datetime as integer microseconds (exact, unlike a float timestamp)."""
    return (when - _EPOCH) // _US


@dataclass
class _Bucket:
    """One index key's articles, newest first, ties in the order they were added: what sorting the key's
    bucket rows by publication (stable, newest first) gives, kept sorted so a window is two bisections."""

    negs: list[int] = field(default_factory=list)  # -published in µs, ascending
    ids: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, rows: Sequence[tuple[int, str]]) -> _Bucket:
        """From (-published µs, id) rows in the order stored (sorted stably: a row order tie stays)."""
        ordered = sorted(rows, key=lambda r: r[0])
        return cls([n for n, _ in ordered], [a for _, a in ordered])

    def add(self, aid: str, neg: int) -> None:
        """Add an article published at ``-neg`` µs."""
        at = bisect.bisect_right(self.negs, neg)
        self.negs.insert(at, neg)
        self.ids.insert(at, aid)

    def newest(self, lo: int, hi: int, cap: int) -> list[str]:
        """The newest ``cap`` articles published in [lo, hi] (µs)."""
        start = bisect.bisect_left(self.negs, -hi)
        return self.ids[start:min(bisect.bisect_right(self.negs, -lo), start + cap)]


@dataclass
class _Pool:
    """Candidates known so far: stored ones and the batch's own, with their current stories."""

    profiles: dict[str, Profile] = field(default_factory=dict)
    story: dict[str, str] = field(default_factory=dict)
    start: dict[str, tuple[datetime, str]] = field(default_factory=dict)

    def merge(self, into: str, merged: Sequence[str]) -> None:
        for art, story in self.story.items():
            if story in merged:
                self.story[art] = into
        for old in merged:
            if old in self.start:
                self.start[into] = min(self.start[into], self.start.pop(old))

    def add(self, me: Profile, story_id: str) -> None:
        self.profiles[me.article_id], self.story[me.article_id] = me, story_id
        start = (me.published_at, story_id)
        self.start[story_id] = min(self.start.get(story_id, start), start)


def _candidates(aid: str, lo: int, hi: int, my_keys: Sequence[str], buckets: dict[str, _Bucket],
                rules: GroupingRules) -> list[str]:
    """The candidates of article ``aid``: the newest ``bucket_cap`` in [lo, hi] µs of each of its keys,
    those under the most of its keys first."""
    hits: Counter[str] = Counter()
    for key in dict.fromkeys(my_keys):
        bucket = buckets.get(key)
        if bucket is not None:
            hits.update(bucket.newest(lo, hi, rules.bucket_cap))
    hits.pop(aid, None)
    return rank(hits, rules.max_candidates)


STORED_TIMES = 65_536  # stored publication times kept converted (the same articles top a key batch after batch)


@functools.lru_cache(maxsize=STORED_TIMES)
def _stored_neg(raw: str | datetime) -> int:
    return -_us(clusters.stored_time(raw))


async def _stored_buckets(session: AsyncSession, every_key: Sequence[str], times: Sequence[datetime],
                          rules: GroupingRules) -> dict[str, _Bucket]:
    """What the index holds under the batch's keys in its time window (one bucket read)."""
    window = timedelta(seconds=rules.link.window_s)
    rows: dict[str, list[tuple[int, str]]] = {}
    for key, aid, raw in await clusters.key_rows(session, keys=every_key, lo=min(times) - window,
                                                 hi=max(times) + window, cap=rules.bucket_cap):
        found = rows.get(key)
        if found is None:
            found = rows[key] = []
        found.append((_stored_neg(raw), aid))
    return {k: _Bucket.of(r) for k, r in rows.items()}


def _rank_all(fresh: Sequence[EnrichedArticle], mine: dict[str, Profile], my_keys: dict[str, list[str]],
              buckets: dict[str, _Bucket], rules: GroupingRules) -> dict[str, list[str]]:
    """Each new article's candidates, in batch order: the index's and the batch's earlier articles'.

    Why before deciding: a decision never changes which articles a key reaches, so ranking first lets the
    batch read the profiles of the candidates it ranked, not of everything its keys reached (1,300
    articles a batch in a 10,000-copy story, of which 100 are candidates).
    """
    span = timedelta(seconds=rules.link.window_s) // _US
    readers = Counter(k for ev in fresh for k in set(my_keys[ev.id]))  # a key no later article has: not kept
    out: dict[str, list[str]] = {}
    for ev in fresh:
        aid, ks = mine[ev.id].article_id, my_keys[ev.id]
        at = _us(mine[ev.id].published_at)
        out[ev.id] = _candidates(aid, at - span, at + span, ks, buckets, rules)
        readers.subtract(set(ks))
        for k in ks:
            if readers[k] > 0:
                bucket = buckets.get(k)
                if bucket is None:
                    bucket = buckets[k] = _Bucket()
                bucket.add(aid, -at)
    return out


SHORT_LIST = 4  # candidates :func:`decide_fast` tries first (at least as many as reach every candidate story)


def decide_fast(me: Profile, cands: Sequence[tuple[Profile, str]], story_start: Mapping[str, tuple[datetime, str]],
                rules: LinkRules) -> Decision:
    """:func:`decide` over ``cands``, first over the shortest head of the list that has a candidate of every
    story in it: when that already joins every one of those stories, it is the decision over them all.

    Why it is the same: a further candidate can only add links (a link is a pair's, a supported link a
    triangle's), and so only add stories, and there is none left to add; the survivor is the oldest of the
    same stories. Why: one report syndicated by every outlet hands each copy 100 candidates of its one story;
    the first is a copy and decides it, where the whole list cost 100 link scores and 4,950 pairs.
    """
    stories = {story for _, story in cands}
    seen: set[str] = set()
    n = 0
    while len(seen) < len(stories):
        seen.add(cands[n][1])
        n += 1
    n = max(n, SHORT_LIST)
    if n < len(cands):
        d = decide(me, cands[:n], story_start, rules)
        if {d.story_id, *d.merged} == stories:
            return d
    return decide(me, cands, story_start, rules)


HAND_OVER_EVERY = 16  # decisions between two hand-overs to the batch's profile write (a few ms of scoring)


PARSED_PROFILES = 20_000  # stored profiles kept parsed per engine (a profile never changes once stored)
_parsed: weakref.WeakKeyDictionary[Any, dict[str, Profile]] = weakref.WeakKeyDictionary()


def _parsed_profiles(session: AsyncSession) -> dict[str, Profile]:
    engine = session.get_bind().engine
    found = _parsed.get(engine)
    if found is None:
        found = _parsed[engine] = {}
    return found


async def _stored_pool(session: AsyncSession, article_ids: set[str]) -> _Pool:
    """The stored candidates' profiles and current stories (one read; profiles parsed once per process)."""
    pool = _Pool()
    parsed = _parsed_profiles(session)
    stored = await clusters.load_profiles(session, article_ids=sorted(article_ids), parsed=parsed.keys())
    for aid, (prof, story, began) in stored.items():
        pool.profiles[aid] = parsed[aid] if prof is None else Profile.from_json(aid, prof)
        pool.story[aid] = story
        pool.start[story] = min(pool.start.get(story, (began, story)), (began, story))
    _keep_parsed(parsed, {aid: pool.profiles[aid] for aid, (prof, _, _) in stored.items() if prof is not None})
    return pool


def _keep_parsed(parsed: dict[str, Profile], profiles: Mapping[str, Profile]) -> None:
    parsed.update(profiles)
    for aid in list(itertools.islice(parsed, max(0, len(parsed) - PARSED_PROFILES))):  # the oldest parsed
        del parsed[aid]


def keep_profiles(session: AsyncSession, grouped: BatchGrouping) -> None:
    """Once the batch committed, hold its new profiles parsed too: they are the next batch's candidates
    (the newest articles under its keys), and a stored profile never changes. Not before: a batch rolled
    back stored nothing, and its articles may come back enriched anew."""
    _keep_parsed(_parsed_profiles(session), grouped.profiles)


async def group_batch(session: AsyncSession, events: Sequence[EnrichedArticle], rules: GroupingRules, *,
                      known: Collection[str] | None = None) -> BatchGrouping:
    """Assign every never-grouped article of ``events`` a story (sets ``event.story_id``); record profiles.
    ``known``: the batch's ids grouped before, when the caller read them already (else read here)."""
    out = BatchGrouping()
    if known is None:
        known = await clusters.known_articles(session, article_ids=[e.id for e in events])
    fresh = list({e.id: e for e in events if e.id not in known}.values())
    if not fresh:
        return out
    mine = {e.id: profile_of(e, rules.link) for e in fresh}
    my_keys = {e.id: keys(mine[e.id], e.cluster_bands, rules.link) for e in fresh}
    every_key = [k for ks in my_keys.values() for k in ks]
    postgres = session.get_bind().dialect.name == "postgresql"
    # On PostgreSQL the profile write's parameters (the profiles as JSON, the index rows in key order) are
    # computed while the server takes the batch's key locks (16,500 for 500 distinct reports, ~40 ms of its
    # time): nothing in them depends on the locks, and the session is the lock statement's alone meanwhile.
    locking = asyncio.ensure_future(clusters.lock_keys(session, every_key)) if postgres else None
    try:
        if locking is not None:
            await asyncio.sleep(0)  # the lock statement sets off first
        rows = [(e.id, mine[e.id].published_at, mine[e.id].to_json(), my_keys[e.id]) for e in fresh]
        statements = clusters.profile_statements(session.get_bind().dialect, rows)
    finally:
        if locking is not None:
            await locking
    if locking is None:
        await clusters.lock_keys(session, every_key)
    buckets = await _stored_buckets(session, every_key, [p.published_at for p in mine.values()], rules)
    ranked = _rank_all(fresh, mine, my_keys, buckets, rules)
    pool = await _stored_pool(session, {a for ids in ranked.values() for a in ids if a not in mine})
    # On PostgreSQL the profiles and index rows are written while the decisions are made: the server inserts
    # them (a batch of 500 distinct reports: 16,500 index rows, ~70 ms of its time) in its own process while
    # this one scores the candidates (~100 ms). Nothing here reads them: the candidates were read above, and
    # the batch's own articles are candidates from memory. SQLite writes in this process (aiosqlite's
    # thread), where running the two at once was slower (paired over 6,000 distinct reports: 979/1,086/1,038
    # articles/s one after the other, 933/1,037/929 at once; PostgreSQL 715/755/748 -> 857/848/814).
    saving = asyncio.ensure_future(clusters.write_profiles(session, statements)) if postgres else None
    try:
        if saving is not None:
            await asyncio.sleep(0)  # the write sets off before the first decision
        for n, ev in enumerate(fresh, 1):
            me = mine[ev.id]
            cands = [(pool.profiles[a], pool.story[a]) for a in ranked[ev.id] if a in pool.profiles]
            d = decide_fast(me, cands, pool.start, rules.link)
            if d.merged:
                pool.merge(d.story_id, d.merged)
                out.merges.append((d.story_id, d.merged))
            pool.add(me, d.story_id)
            out.story_of[ev.id] = d.story_id
            if saving is not None and n % HAND_OVER_EVERY == 0:
                await asyncio.sleep(0)  # the write's next step (a statement is a few: prepare, bind, run)
    finally:
        if saving is not None:
            await saving  # the session is the write's alone until it is done (and its error is the batch's)
    if saving is None:
        await clusters.write_profiles(session, statements)
    for ev in events:  # every copy of an article the batch holds twice (a producer's retry), not only the last
        if ev.id in out.story_of:
            ev.story_id = out.final(out.story_of[ev.id])
    out.profiles = mine
    return out
