"""The webhook dispatcher: turns stored story changes into signed deliveries, and sends them.

Two loops in one process:
- *enqueue*: consumes ``articles.enriched`` in its own group; once the sink has
  stored the article, it queues ``story.created`` (once per story) or
  ``story.updated`` (when the story's version moved; at most once per
  ``WIREWATCH_STORY_UPDATE_MIN_INTERVAL_S``: a waiting update carries the newest version) for each
  matching subscription, and ``story.merged`` when a story it announced joined another; then commits
  the offset. Queuing is idempotent (unique event key).
- *send*: claims due deliveries from the store, POSTs them with Standard Webhooks
  signatures (``webhook-id`` = delivery id, stable across retries), and records
  the attempt; failures back off on the configured schedule, then dead-letter.
State lives in the store and Kafka, so a restart loses and duplicates nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

import httpx
from aiokafka import AIOKafkaConsumer
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from api.webhooks import alerts, digests, policy, signing
from api.webhooks.payload import merge_payload, story_payload
from services import metrics, netguard
from services.clock import utcnow
from services.db import clusters
from services.db import webhooks as repo
from services.db.engine import Sessions
from services.db.models import Delivery, Story, Webhook
from services.db.stories import get_articles, get_stories, get_story
from services.events import EnrichedArticle
from services.matching import StoryFacts, StoryFilter, matches
from services.settings import Settings
from services.worker import consumer_worker

log = logging.getLogger(__name__)

STORE_WAIT_S = 0.1



async def enqueue_for(settings: Settings, sessions: Sessions, event: EnrichedArticle) -> int | None:
    """Queue the events one enriched article causes; None while the sink has not stored it yet."""
    queued, waiting = await enqueue_batch(settings, sessions, [event])
    return None if waiting else queued


async def enqueue_batch(settings: Settings, sessions: Sessions, events: Sequence[EnrichedArticle]
                        ) -> tuple[int, list[EnrichedArticle]]:
    """Queue the events of every article of ``events`` the sink has stored, in one transaction, in order;
    (how many were queued, the articles not stored yet, to try again).

    Why per batch: the articles, their stories and the subscriptions are read once for the batch, not
    once per article, so the dispatcher keeps up with the sink; and an article the sink has not stored
    yet no longer holds up the ones after it."""
    async with sessions() as session, session.begin():
        articles = await get_articles(session, article_ids=[e.id for e in events])
        stories = await get_stories(session, story_ids={a.story_id for a in articles.values()})
        hooks = [(h, StoryFilter.from_subscription(h.filters)) for h in await repo.list_webhooks(session, enabled_only=True)
                 if not (h.filters or {}).get("digest")  # a digest subscriber hears of stories once a period
                 and any(policy.subscribed(h.filters, t) for t in policy.STORY_EVENTS)]
        queued, waiting = 0, []
        for event in events:
            article = articles.get(event.id)  # a newer version stored already is fine: its story is announced
            story = None if article is None else (stories.get(article.story_id)
                                                   or await get_story(session, story_id=article.story_id))
            if story is None:
                waiting.append(event)
                continue
            queued += await _queue_story(settings, session, hooks, story, event)
        return queued, waiting


async def _queue_story(settings: Settings, session: AsyncSession, hooks: Sequence[tuple[Webhook, StoryFilter]],
                       story: Story, event: EnrichedArticle) -> int:
    """The events of one stored article's story for every subscription it matches."""
    facts = StoryFacts.of(topics=story.topics, entities=story.entities, lang=story.lang, state=story.state,
                          sources=story.sources, published_at=story.published_at,
                          text=f"{story.headline} {story.summary}")
    merged: list[str] | None = None
    queued = 0
    for hook, wanted in hooks:
        if matches(wanted, facts):
            if merged is None:
                merged = await clusters.aliases_of(session, story_id=story.id)
            queued += await _queue_for_hook(settings, session, hook, story, merged, event)
    return queued


async def _queue_for_hook(settings: Settings, session: AsyncSession, hook: Webhook, story: Story,
                          merged: list[str], event: EnrichedArticle) -> int:
    """story.merged for each part of the story this subscriber knew, then the story's own event."""
    now, queued, hook_id = utcnow(), 0, hook.id
    knew_merged = False
    for old in merged:
        if await repo.delivered_version(session, webhook_id=hook_id, story_id=old) is None:
            continue
        knew_merged = True
        key = f"story.merged:{old}"
        if policy.subscribed(hook.filters, "story.merged") and not await repo.has_event(
                session, webhook_id=hook_id, key=key):
            body = merge_payload(old, story, api_base=settings.api_base, now=now)
            queued += await repo.enqueue(session, webhook_id=hook_id, story_id=old, event_type="story.merged",
                                         version=0, payload=body, key=key) is not None
    plan = policy.plan_story_event(
        seen_version=await repo.delivered_version(session, webhook_id=hook_id, story_id=story.id),
        knew_merged=knew_merged, version=story.version,
        last_sent_at=await repo.last_story_event_at(session, webhook_id=hook_id, story_id=story.id),
        now=now, min_interval_s=settings.story_update_min_interval_s)
    if plan.kind is None or not policy.subscribed(hook.filters, plan.kind):
        return queued
    payload = story_payload(story, event_type=plan.kind, api_base=settings.api_base,
                            max_bytes=settings.webhook_max_payload_bytes, now=now, detected_at=event.article.fetched_at)
    if plan.kind == "story.updated":
        waiting = await repo.pending_update(session, webhook_id=hook_id, story_id=story.id, now=now)
        if waiting is not None and await repo.coalesce(session, delivery=waiting, version=story.version,
                                                        payload=payload):
            return queued  # the waiting update now carries this version: one message, not one per article
    delivery = await repo.enqueue(session, webhook_id=hook_id, story_id=story.id, event_type=plan.kind,
                                  version=story.version, payload=payload, now=now, not_before=plan.not_before)
    return queued + (delivery is not None)


async def enqueue_loop(settings: Settings, sessions: Sessions, consumer: AIOKafkaConsumer,
                       stop: asyncio.Event, wake: asyncio.Event) -> None:
    """Consume enriched articles; commit only once each one's events are queued."""
    while not stop.is_set():
        batches = await consumer.getmany(timeout_ms=500, max_records=settings.kafka_max_batch)
        for recs in batches.values():
            pending: list[EnrichedArticle] = []
            for rec in recs:
                try:
                    pending.append(EnrichedArticle.from_bytes(rec.value or b""))
                except ValidationError:
                    log.error("skipping undecodable record", extra={"offset": rec.offset})
            while pending and not stop.is_set():
                try:
                    queued, pending = await enqueue_batch(settings, sessions, pending)
                except (OperationalError, DBAPIError, OSError) as exc:
                    log.warning("store unavailable: %s", exc)  # the whole batch is tried again
                    queued = 0
                if queued:
                    wake.set()
                if pending:
                    await asyncio.sleep(STORE_WAIT_S)  # the sink has not stored these yet
        if batches and not stop.is_set():
            await consumer.commit()


class Sender:
    """Sends claimed deliveries with a per-endpoint and a global concurrency limit."""

    def __init__(self, settings: Settings, sessions: Sessions, client: httpx.AsyncClient) -> None:
        self.settings, self.sessions, self.client = settings, sessions, client
        self.global_slots = asyncio.Semaphore(settings.webhook_global_concurrency)
        self.in_flight: dict[str, int] = defaultdict(int)
        self.tasks: set[asyncio.Task[None]] = set()

    def busy_endpoints(self) -> list[str]:
        return [w for w, n in self.in_flight.items() if n >= self.settings.webhook_per_endpoint_concurrency]

    async def tick(self) -> int:
        """Claim what is due (skipping saturated endpoints) and start sending it."""
        lease = self.settings.webhook_timeout_s * 3
        async with self.sessions() as session, session.begin():
            claimed = await repo.claim_due(session, now=utcnow(), lease_s=lease, limit=100,
                                           exclude_webhooks=self.busy_endpoints())
            metrics.WEBHOOK_BACKLOG.set(await repo.backlog(session))
        started = 0
        for d in claimed:
            if self.in_flight[d.webhook_id] >= self.settings.webhook_per_endpoint_concurrency:
                async with self.sessions() as session, session.begin():  # give it back for the next tick
                    row = await session.get(Delivery, d.id)
                    if row is not None:
                        row.next_attempt_at = utcnow()
                continue
            self.in_flight[d.webhook_id] += 1
            task = asyncio.create_task(self._send(d))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
            started += 1
        return started

    async def _send(self, d: Delivery) -> None:
        try:
            async with self.global_slots:
                await self.send_one(d)
        finally:
            self.in_flight[d.webhook_id] -= 1

    async def send_one(self, d: Delivery) -> str:
        """One HTTP attempt for one delivery; returns the outcome recorded."""
        s = self.settings
        async with self.sessions() as session:
            hook = await repo.get_webhook(session, webhook_id=d.webhook_id)
        if hook is None or not hook.enabled:
            async with self.sessions() as session, session.begin():
                await repo.record_attempt(session, delivery_id=d.id, status_code=None, latency_ms=None,
                                          error="subscription disabled or deleted", excerpt=None,
                                          outcome="disabled", next_at=None, now=utcnow())
            return "disabled"
        started = time.perf_counter()
        if alerts.is_alert(hook.url):
            status, error, excerpt, retry_after = await send_alert(self, hook, d)
        else:
            status, error, excerpt, retry_after = await post_webhook(self, hook, d)
        latency_ms = (time.perf_counter() - started) * 1000
        metrics.WEBHOOK_LATENCY.observe(latency_ms / 1000)
        outcome = policy.classify(status) if error is None else "retry"
        step = None
        if outcome == "retry":
            step = policy.next_attempt(attempts=d.attempts + 1, schedule=s.retry_delays, now=utcnow(),
                                       status=status, retry_after_s=retry_after)
            outcome_rec = "dead" if step.dead else "retry"
        elif outcome == "gone":
            outcome_rec = "disabled"
        else:
            outcome_rec = "success"
        async with self.sessions() as session, session.begin():
            await repo.record_attempt(session, delivery_id=d.id, status_code=status, latency_ms=latency_ms,
                                      error=error, excerpt=excerpt, outcome=outcome_rec,
                                      next_at=step.at if step else None, now=utcnow())
            if outcome == "gone":
                await repo.disable_webhook(session, webhook_id=hook.id, reason="endpoint answered 410 Gone")
        metrics.WEBHOOK_ATTEMPTS.labels(outcome=outcome_rec).inc()
        if outcome_rec == "dead":
            metrics.WEBHOOK_DEAD.inc()
        if outcome_rec == "success":
            detected = d.payload.get("data", {}).get("detected_at")
            since = datetime.fromisoformat(detected) if detected else d.created_at
            metrics.FRESHNESS.labels(stage="webhook").observe(max((utcnow() - since).total_seconds(), 0.0))
        log.info("webhook attempt", extra={"delivery_id": d.id, "story_id": d.story_id, "webhook_id": hook.id,
                                           "status": status, "outcome": outcome_rec, "error": error})
        return outcome_rec


Attempt = tuple[int | None, str | None, str | None, float | None]  # status, error, excerpt, Retry-After s


async def post_webhook(self: Sender, hook: Webhook, d: Delivery) -> Attempt:
    """One signed Standard Webhooks POST."""
    s = self.settings
    body = json.dumps(d.payload, separators=(",", ":")).encode()
    now = utcnow()
    headers = signing.headers(repo.signing_secrets(hook, now), d.id, int(now.timestamp()), body)
    headers["user-agent"] = s.ua
    try:
        await netguard.check_url(hook.url, s.webhook_allowed_hosts, setting=netguard.WEBHOOKS)
        resp = await self.client.post(hook.url, content=body, headers=headers)
    except netguard.BlockedTarget as exc:
        return None, f"blocked: {exc}", None, None
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500], None, None
    except OSError as exc:
        return None, f"network: {exc}"[:500], None, None
    return (resp.status_code, None, resp.text[: s.webhook_response_excerpt_bytes],
            policy.retry_after(resp.headers.get("retry-after"), utcnow()))


async def send_alert(self: Sender, hook: Webhook, d: Delivery) -> Attempt:
    """One message to an Apprise channel; a refusal is a failed attempt, retried like a webhook's."""
    s = self.settings
    try:
        error = await alerts.send(hook.url, d.payload, allowed=s.webhook_allowed_hosts, timeout_s=s.webhook_timeout_s)
    except netguard.BlockedTarget as exc:
        return None, f"blocked: {exc}", None, None
    except (alerts.BadTarget, OSError) as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500], None, None
    return (200, None, "sent", None) if error is None else (None, error, None, None)


async def send_loop(settings: Settings, sender: Sender, stop: asyncio.Event, wake: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await sender.tick()
        except (OperationalError, DBAPIError, OSError) as exc:
            log.warning("store unavailable for the sender: %s", exc)
        wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), settings.webhook_poll_interval_s)
    if sender.tasks:
        await asyncio.wait(sender.tasks, timeout=settings.webhook_timeout_s)


async def main(settings: Settings, stop: asyncio.Event) -> None:
    wake = asyncio.Event()
    timeout = httpx.Timeout(settings.webhook_timeout_s)
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client, \
            consumer_worker(settings, service="webhooks", topic=settings.topic_enriched,
                            group=settings.group_webhooks, stop=stop) as w:
        sender = Sender(settings, w.sessions, client)
        tasks = [asyncio.create_task(enqueue_loop(settings, w.sessions, w.consumer, stop, wake)),
                 asyncio.create_task(send_loop(settings, sender, stop, wake)),
                 asyncio.create_task(digests.digest_loop(settings, w.sessions, stop, wake))]
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        stop.set()
        for t in done:
            t.result()
        await asyncio.gather(*tasks, return_exceptions=True)
