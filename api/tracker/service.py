"""The tracker stage: consumes ``articles.enriched`` in its own group and keeps the ceasefire records.

Per batch: the articles with ceasefire mentions wait until the sink has stored them (the tracker needs
each one's story), then one transaction folds them in, in publication order: candidate records are
loaded, merged (api/tracker/merge.py), saved, and the webhook deliveries of every new state change are
queued in the same transaction. The folded-in articles are remembered, so a replay after a crash skips
them; offsets are committed only after the transaction, so a crash before it replays the batch. Net
effect: exactly-once in the store, no record or history entry doubled (tests/chaos kills it with -9).

An article is folded in at its own time (a term that ran out before it was published expires first),
so a late or replayed report reads as it would have then. Beside it, every
``WIREWATCH_TRACKER_EXPIRY_INTERVAL_S`` the expiry check moves records whose term ran out by the clock
(plus ``WIREWATCH_TRACKER_EXPIRY_GRACE_S``) to ``expired``, with a history entry and an event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import ConsumerRecord
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, OperationalError

from api.tracker import notify
from api.tracker.merge import ArticleFacts, MergeRules, expire_due
from api.tracker.records import fold, mentions_json, save, to_record
from services.clock import utcnow
from services.db import ceasefires as repo
from services.db.engine import Sessions
from services.db.stories import get_article, get_story
from services.events import EnrichedArticle
from services.settings import Settings
from services.worker import consumer_worker

log = logging.getLogger(__name__)
RETRY_S = 1.0


def merge_rules(settings: Settings) -> MergeRules:
    return MergeRules(grace=timedelta(seconds=settings.tracker_expiry_grace_s))


def decode(records: list[ConsumerRecord[bytes, bytes]]) -> list[EnrichedArticle]:
    """The batch's events with ceasefire mentions; undecodable records are logged and skipped."""
    events = []
    for rec in records:
        try:
            ev = EnrichedArticle.from_bytes(rec.value or b"")
        except ValidationError as exc:
            log.error("skipping undecodable record", extra={"offset": rec.offset, "error": str(exc)[:300]})
            continue
        if ev.ceasefires:
            events.append(ev)
    return events


async def stories_of(settings: Settings, sessions: Sessions, events: list[EnrichedArticle],
                     stop: asyncio.Event) -> dict[str, str] | None:
    """Each article's story once the sink has stored it (a merged story resolves to its survivor);
    None if asked to stop while waiting."""
    out: dict[str, str] = {}
    for ev in events:
        while ev.id not in out:
            async with sessions() as session:
                article = await get_article(session, article_id=ev.id)
                story = await get_story(session, story_id=article.story_id) if article is not None else None
            if story is not None:
                out[ev.id] = story.id
            elif stop.is_set():
                return None
            else:
                await asyncio.sleep(settings.tracker_store_wait_s)
    return out


async def fold_batch(settings: Settings, sessions: Sessions, events: list[EnrichedArticle],
                     stories: dict[str, str]) -> int:
    """Fold a batch in, one transaction; returns how many history entries it added."""
    rules, added = merge_rules(settings), 0
    async with sessions() as session, session.begin():
        await repo.lock(session)
        done = await repo.processed(session, article_ids=[e.id for e in events])
        for ev in sorted(events, key=lambda e: (e.article.published_at, e.id)):
            if ev.id in done:
                continue  # a replay: folded in before the crash
            facts = ArticleFacts(ev.id, stories[ev.id], ev.article.published_at, ev.lang, ev.ceasefires)
            for record, rows in await fold(session, facts, rules, now=facts.published_at):
                added += len(rows)
                await notify.enqueue_changes(session, settings, record.id, rows)
                for row in rows:
                    log.info("ceasefire %s", row.state, extra={"ceasefire_id": record.id, "article_id": ev.id,
                                                               "title": record.title})
            await repo.mark_processed(session, article_id=ev.id, story_id=stories[ev.id],
                                      published_at=ev.article.published_at, lang=ev.lang,
                                      mentions=mentions_json(ev.ceasefires))
            done.add(ev.id)
    return added


async def expire_now(settings: Settings, sessions: Sessions) -> int:
    """Move records whose term ran out to expired, with their events; returns how many."""
    rules, now = merge_rules(settings), utcnow()
    async with sessions() as session, session.begin():
        await repo.lock(session)
        records = [to_record(s) for s in await repo.due(session, before=now - rules.grace)]
        changes = expire_due(records, now, rules)
        for change in changes:
            rows = await save(session, change)
            await notify.enqueue_changes(session, settings, change.record.id, rows)
            log.info("ceasefire expired", extra={"ceasefire_id": change.record.id, "title": change.record.title})
    return len(changes)


async def consume(settings: Settings, sessions: Sessions, consumer: AIOKafkaConsumer, stop: asyncio.Event) -> None:
    """Poll, wait for the sink, fold, commit; on a store outage keep the batch and retry until it is written."""
    while not stop.is_set():
        batches = await consumer.getmany(timeout_ms=500, max_records=settings.kafka_max_batch)
        for records in batches.values():
            events = decode(records)
            while events and not stop.is_set():
                try:
                    stories = await stories_of(settings, sessions, events, stop)
                    if stories is None:
                        return  # stopping mid-wait: the batch is not committed and replays on restart
                    await fold_batch(settings, sessions, events, stories)
                    break
                except (OperationalError, DBAPIError, OSError) as exc:
                    log.warning("store unavailable, retrying batch: %s", exc)
                    await asyncio.sleep(RETRY_S)
        if batches and not stop.is_set():
            await consumer.commit()


async def expiry_loop(settings: Settings, sessions: Sessions, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await expire_now(settings, sessions)
        except (OperationalError, DBAPIError, OSError) as exc:
            log.warning("expiry check failed, retrying: %s", exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), settings.tracker_expiry_interval_s)


async def main(settings: Settings, stop: asyncio.Event) -> None:
    async with consumer_worker(settings, service="tracker", topic=settings.topic_enriched,
                               group=settings.group_tracker, stop=stop) as w:
        log.info("tracker consuming %s as group %s", settings.topic_enriched, settings.group_tracker)
        tasks = [asyncio.create_task(consume(settings, w.sessions, w.consumer, stop)),
                 asyncio.create_task(expiry_loop(settings, w.sessions, stop))]
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        stop.set()
        for t in done:
            t.result()
        await asyncio.gather(*tasks, return_exceptions=True)
