"""The store sink: consumes ``articles.enriched`` in its own group, groups articles into stories, stores them.

Offsets are committed only after the database transaction commits, and the
upsert is idempotent, so a crash between the two replays harmlessly.

Story grouping happens here because the sink is the single writer of stories: an
article not grouped before joins the stories it links to (api/sink/assign.py, the
rule in api/sink/linking.py), merging them when it shows two are one event; an
article grouped before keeps its story, so a replay never creates a duplicate
story or moves an article.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, OperationalError

from api.sink.assign import GroupingRules, group_batch, keep_profiles
from api.sink.linking import LinkRules
from services import metrics
from services.clock import utcnow
from services.db.clusters import known_and_stored, merge_stories, plan_for_parameters
from services.db.engine import Sessions
from services.db.stories import StoryChange, upsert_batch
from services.events import EnrichedArticle
from services.settings import Settings
from services.worker import consumer_worker

log = logging.getLogger(__name__)


def grouping_rules(settings: Settings) -> GroupingRules:
    """The grouping thresholds and candidate limits, from settings."""
    link = LinkRules(window_s=settings.cluster_window_s, near_duplicate=settings.cluster_near_duplicate,
                     alone=settings.cluster_similarity, supported=settings.cluster_supported_similarity)
    return GroupingRules(link=link, bucket_cap=settings.cluster_bucket_cap,
                         max_candidates=settings.cluster_max_candidates)


def decode(records: list[ConsumerRecord[bytes, bytes]]) -> list[EnrichedArticle]:
    """The batch's events; undecodable records are logged and skipped (never block)."""
    events: list[EnrichedArticle] = []
    for rec in records:
        try:
            events.append(EnrichedArticle.from_bytes(rec.value or b""))
        except ValidationError as exc:
            log.error("skipping undecodable record", extra={"offset": rec.offset, "error": str(exc)[:300]})
    return events


DEFAULT_SQLITE_CACHE_KIB: int = Settings.model_fields["sink_sqlite_cache_kib"].default


async def store_batch(sessions: Sessions, records: list[ConsumerRecord[bytes, bytes]], *,
                      rules: GroupingRules | None = None,
                      sqlite_cache_kib: int = DEFAULT_SQLITE_CACHE_KIB,
                      events: list[EnrichedArticle] | None = None) -> list[StoryChange]:
    """Group and upsert a batch in one transaction. ``events``: ``decode(records)`` when the caller decoded
    them already (the batch sets their story ids: pass them to one call only)."""
    started = time.perf_counter()
    rules = rules or GroupingRules()
    events = decode(records) if events is None else events
    with collector_paused():
        changes = await _store(sessions, events, rules, sqlite_cache_kib)
    for event, change in zip(events, changes, strict=True):
        metrics.STORED.labels(kind=change.article_kind).inc()
        if change.article_kind != "replay":
            lag = (utcnow() - event.article.fetched_at).total_seconds()
            metrics.FRESHNESS.labels(stage="stored").observe(max(lag, 0.0))
            log.info("stored", extra={"article_id": event.id, "story_id": change.story_id, "change": change.kind})
    metrics.SINK_LATENCY.observe(time.perf_counter() - started)
    return changes


async def _store(sessions: Sessions, events: list[EnrichedArticle], rules: GroupingRules,
                 sqlite_cache_kib: int) -> list[StoryChange]:
    async with sessions() as session:
        async with session.begin():
            await plan_for_parameters(session, sqlite_cache_kib=sqlite_cache_kib)
            known, stored = await known_and_stored(session, article_ids=[e.id for e in events])
            grouped = await group_batch(session, events, rules, known=known)
            for into, merged in grouped.merges:
                await merge_stories(session, into=into, merged=merged, now=utcnow())
                metrics.STORY_MERGES.inc(len(merged))
                log.info("stories merged", extra={"story_id": into, "merged": list(merged)})
            changes = await upsert_batch(session, events=events, stored=stored,
                                         grown={into for into, _ in grouped.merges})
        keep_profiles(session, grouped)
    return changes


_paused = 0  # store_batch calls under way in this process (the collector is paused while any is)
_resume = False  # whether the collector was on when the first of them began


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No automatic cyclic collection while a batch is stored; collections resume (at the usual
    thresholds) once it is done, when what the batch allocated is gone again.

    Why: a batch of 500 allocates some 100,000 container objects (events' models, profiles, index rows,
    statement parameters, result rows) that stay alive until the batch ends and then die by reference
    count; a young collection in the middle walks all those still alive, and promotes them, so that the
    older generations walk them again. After the batch only what it keeps (500 parsed profiles) is young.
    The garbage a batch leaves in cycles (a session's, a transaction's) waits for the next collection."""
    global _paused, _resume
    if _paused == 0:
        _resume = gc.isenabled()
        gc.disable()
    _paused += 1
    try:
        yield
    finally:
        _paused -= 1
        if _paused == 0 and _resume:
            gc.enable()


async def store_until_written(sessions: Sessions, records: list[ConsumerRecord[bytes, bytes]], *,
                              retry_s: float = 1.0, rules: GroupingRules | None = None,
                              sqlite_cache_kib: int = DEFAULT_SQLITE_CACHE_KIB,
                              events: list[EnrichedArticle] | None = None) -> list[StoryChange]:
    """:func:`store_batch` until it is written: a store outage, or a race lost to another sink (SQLite's
    stale snapshot), retries the whole batch, which is idempotent. ``events``: the records decoded, for the
    first attempt (a failed attempt may have set their story ids: a retry decodes the records anew)."""
    while True:
        try:
            return await store_batch(sessions, records, rules=rules, sqlite_cache_kib=sqlite_cache_kib,
                                     events=events)
        except (OperationalError, DBAPIError, OSError) as exc:
            log.warning("store unavailable, retrying batch: %s", exc)
            events = None
            await asyncio.sleep(retry_s)


@dataclass
class Poll:
    """One batch for the store: each partition's records in the order consumed, and their events."""

    records: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]] = field(default_factory=dict)
    events: dict[TopicPartition, list[EnrichedArticle]] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return sum(map(len, self.records.values()))

    def add(self, batches: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]) -> list[EnrichedArticle]:
        """Add a poll's records (decoded); returns the events they hold."""
        added: list[EnrichedArticle] = []
        for tp, recs in batches.items():
            evs = decode(recs)
            self.records.setdefault(tp, []).extend(recs)
            self.events.setdefault(tp, []).extend(evs)
            added += evs
        return added

    def batch(self) -> tuple[list[ConsumerRecord[bytes, bytes]], list[EnrichedArticle]]:
        """(records, events) partition by partition. Every partition's records in one transaction: per
        partition, three partitions cut a poll into three small commits. Grouping does not depend on the
        order across partitions."""
        order = sorted(self.records, key=lambda tp: (tp.topic, tp.partition))
        return ([r for tp in order for r in self.records[tp]], [e for tp in order for e in self.events[tp]])


def backlogged(events: list[EnrichedArticle], *, age_s: float) -> bool:
    """Whether even the newest-fetched of ``events`` was fetched more than ``age_s`` ago (a backlog upstream)."""
    if not events:
        return False
    newest = max(e.article.fetched_at for e in events)
    return (utcnow() - newest).total_seconds() > age_s


async def take(settings: Settings, consumer: AIOKafkaConsumer) -> Poll:
    """The next batch: what one poll returns, up to ``sink_max_batch``; when that poll is a backlog
    (:func:`backlogged`), what further polls add within ``sink_backlog_linger_ms``, up to ``sink_max_batch``,
    until a poll brings a fresh article (which never waits). Why: behind a backlogged enrich a poll holds one
    enrich transaction (about 32 records), and the store's cost per article halves from 32 to 500 a batch."""
    cap = settings.sink_max_batch
    poll = Poll()
    added = poll.add(await consumer.getmany(timeout_ms=500, max_records=cap))
    if poll.count >= cap or settings.sink_backlog_linger_ms <= 0 \
            or not backlogged(added, age_s=settings.sink_backlog_age_s):
        return poll
    loop = asyncio.get_running_loop()
    deadline = loop.time() + settings.sink_backlog_linger_ms / 1000
    while poll.count < cap:
        left_ms = int((deadline - loop.time()) * 1000)
        if left_ms <= 0:
            break
        more = await consumer.getmany(timeout_ms=left_ms, max_records=cap - poll.count)
        added = poll.add(more)
        if added and not backlogged(added, age_s=settings.sink_backlog_age_s):
            break
    return poll


async def consume(settings: Settings, sessions: Sessions, consumer: AIOKafkaConsumer, stop: asyncio.Event) -> None:
    """Poll, store, commit; on a store outage keep the batch and retry until it is written."""
    rules = grouping_rules(settings)
    while not stop.is_set():
        records, events = (await take(settings, consumer)).batch()
        if records:
            await store_until_written(sessions, records, rules=rules,
                                      sqlite_cache_kib=settings.sink_sqlite_cache_kib, events=events)
            await consumer.commit()


# The collector's thresholds in the sink process (Python's: 700, 10, 10). Why: a batch of 500 allocates some
# 100,000 container objects (profiles, index rows, statement parameters) that die with it, so at 700 the
# young generation was collected 110 times a batch, and each tenth of those, and every so often a full
# collection, also walked what the sink keeps (20,000 parsed profiles, fold states): over a second of every
# ten in a 10,000-article run on SQLite, against a half at 10,000.
COLLECTOR_THRESHOLDS = (10_000, 10, 10)


def tune_collector() -> None:
    """Set the sink process's collector thresholds (:data:`COLLECTOR_THRESHOLDS`); the sink's main does."""
    gc.set_threshold(*COLLECTOR_THRESHOLDS)


async def main(settings: Settings, stop: asyncio.Event) -> None:
    tune_collector()
    async with consumer_worker(settings, service="sink", topic=settings.topic_enriched, group=settings.group_sink,
                               stop=stop) as w:
        log.info("sink consuming %s as group %s", settings.topic_enriched, settings.group_sink)
        await consume(settings, w.sessions, w.consumer, stop)
