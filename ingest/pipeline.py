"""The shared path from a feed body to records on ``articles.raw`` (polled and pushed bodies alike).

parse → normalise (pure, in a worker thread) → dedup against the store →
produce (idempotent producer, wait for every acknowledgement) → mark seen.
Marking after the acknowledgement means a crash can only cause a re-publish
(consumers upsert by id), never a loss.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aiokafka import AIOKafkaProducer

from ingest import dedup
from ingest.normalise import normalise_feed
from ingest.parse import ParsedFeed, parse
from services import ids
from services.db import feeds as repo
from services.db.engine import Sessions
from services.events import RawArticle
from services.metrics import PUBLISHED
from services.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    """What one body produced."""

    feed: ParsedFeed
    new: int = 0
    updates: int = 0
    duplicates: int = 0
    unchanged: int = 0
    entry_dates: list[datetime] = field(default_factory=list)

    @property
    def published(self) -> int:
        return self.new + self.updates


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def parse_and_normalise(body: bytes, *, content_type: str, feed_url: str, feed_id: int | None, now: datetime,
                        max_entries: int, source: str = "", via: str = "poll") -> tuple[ParsedFeed, list[RawArticle]]:
    """The pure part, runnable in a thread."""
    parsed = parse(body, url=feed_url, content_type=content_type)
    return parsed, normalise_feed(parsed, feed_url=feed_url, feed_id=feed_id, now=now, max_entries=max_entries,
                                  source=source, via=via)


async def publish(articles: list[RawArticle], *, sessions: Sessions, producer: AIOKafkaProducer,
                  settings: Settings, now: datetime) -> tuple[int, int, int, int]:
    """Dedup, produce and mark seen; returns (new, updates, duplicates, unchanged)."""
    if not articles:
        return 0, 0, 0, 0
    async with sessions() as session:
        by_id = await repo.seen_by_ids(session, ids=[a.id for a in articles])
        by_title = await repo.seen_by_title_keys(
            session, keys=[ids.title_key(a.title) for a in articles],
            since=now - timedelta(seconds=settings.dedup_title_window_s))
    plan = dedup.plan(articles, seen_ids=dict(by_id), seen_titles=dict(by_title), now=now,
                      window_s=settings.dedup_title_window_s)
    to_send = [(a, d) for a, d in plan if d in ("new", "update")]
    futures = [await producer.send(settings.topic_raw, value=a.to_bytes(), key=a.id.encode()) for a, _ in to_send]
    if futures:
        await asyncio.gather(*futures)
        async with sessions() as session:
            await repo.mark_seen(session, rows=[(a.id, a.feed_id, ids.title_key(a.title), a.content_hash)
                                                for a, _ in to_send], now=now)
        for a, decision in to_send:  # the article id is the correlation field every later stage logs too
            log.info("published", extra={"article_id": a.id, "feed_id": a.feed_id, "kind": decision, "via": a.via})
    counts = {"new": 0, "update": 0, "duplicate": 0, "skip": 0}
    for _, d in plan:
        counts[d] += 1
    if counts["new"]:
        PUBLISHED.labels("new").inc(counts["new"])
    if counts["update"]:
        PUBLISHED.labels("update").inc(counts["update"])
    return counts["new"], counts["update"], counts["duplicate"], counts["skip"]


async def process_body(body: bytes, *, feed_url: str, feed_id: int | None, sessions: Sessions,
                       producer: AIOKafkaProducer, settings: Settings, now: datetime, content_type: str = "",
                       source: str = "", via: str = "poll") -> Outcome:
    """Parse a feed body and publish its new and changed entries; raises ParseError/EmptyBody."""
    parsed, articles = await asyncio.to_thread(
        parse_and_normalise, body, content_type=content_type, feed_url=feed_url, feed_id=feed_id, now=now,
        max_entries=settings.max_entries_per_feed, source=source, via=via)
    new, updates, dups, unchanged = await publish(articles, sessions=sessions, producer=producer,
                                                  settings=settings, now=now)
    dates = [e.published for e in parsed.entries if e.published is not None]
    return Outcome(parsed, new, updates, dups, unchanged, dates)
