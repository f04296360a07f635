"""The ingest service: schedule due feeds, fetch, publish, record feed state; never let a feed kill the loop.

    main(settings, stop)   migrations → seed feeds from OPML → topics → scheduler loop
    Ingester.poll_once(id) fetch one feed now (also used by tests and the CLI)

Polling is sharded across ingester processes with Kafka group assignment (ingest.assign).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from sqlalchemy.ext.asyncio import AsyncSession

from ingest import caching, schedule, websub
from ingest.assign import Assignment
from ingest.errors import FetchError, ParseError
from ingest.feed_state import FeedStateWriter, write_feed_state
from ingest.fetch import FeedClient, FetchResult, fetch, make_client
from ingest.opml import OPMLError, parse_opml
from ingest.pipeline import body_hash, process_body
from services import bus
from services.db import feeds as repo
from services.db.engine import Sessions, make_engine, make_sessions
from services.db.heartbeats import heartbeating
from services.db.migrate import upgrade_async
from services.db.models import Feed
from services.health import HealthServer, metrics_url
from services.metrics import FEEDS_FAILING, FETCH_DURATION, FETCH_TOTAL, PARSE_ERRORS, POLL_LATENESS
from services.runtime import instance_id, wait_or_stop
from services.settings import Settings

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class PollReport:
    """What one poll did (returned by poll_once; the feed row holds the durable version)."""

    feed_id: int
    status: int | None = None
    new: int = 0
    updates: int = 0
    error_class: str | None = None
    error: str | None = None


def lateness_ratio(feed: Feed, now: datetime) -> float | None:
    """How late this poll is, as a share of the interval the scheduler set (due minus last fetch); None
    for a feed never fetched, or one polled before it was due (a manual "poll now")."""
    due, last = feed.next_check_at, feed.last_fetch_at
    if due is None or last is None:
        return None
    due, last = (d if d.tzinfo else d.replace(tzinfo=UTC) for d in (due, last))
    interval = (due - last).total_seconds()
    late = (now - due).total_seconds()
    if interval <= 0 or late < 0:
        return None
    return late / interval


class HostGate:
    """Per-host concurrency cap plus a minimum spacing between request starts."""

    def __init__(self, per_host: int, spacing_s: float) -> None:
        self.per_host = per_host
        self.spacing = spacing_s
        self._sems: dict[str, asyncio.Semaphore] = {}
        self._next: dict[str, float] = {}

    @contextlib.asynccontextmanager
    async def slot(self, url: str) -> AsyncIterator[None]:
        host = (urlsplit(url).hostname or "").lower()
        sem = self._sems.setdefault(host, asyncio.Semaphore(self.per_host))
        async with sem:
            if self.spacing > 0:
                loop = asyncio.get_running_loop()
                start = max(loop.time(), self._next.get(host, 0.0))
                self._next[host] = start + self.spacing
                delay = start - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
            yield


class Ingester:
    """One process's poller; owns the HTTP client, producer and in-flight bookkeeping."""

    def __init__(self, settings: Settings, sessions: Sessions, client: FeedClient,
                 producer: AIOKafkaProducer, assignment: Assignment | None = None) -> None:
        self.settings = settings
        self.sessions = sessions
        self.client = client
        self.producer = producer
        self.assignment = assignment
        self.policy = schedule.Policy.from_settings(settings)
        self.gate = HostGate(settings.fetch_per_host_concurrency, settings.fetch_per_host_min_spacing_s)
        self.global_sem = asyncio.Semaphore(settings.fetch_global_concurrency)
        self.inflight: dict[int, asyncio.Task[PollReport]] = {}
        self.feed_state = FeedStateWriter(sessions, linger_s=settings.feed_state_linger_ms / 1000,
                                          max_rows=settings.feed_state_max_batch,
                                          attempts=settings.database_write_attempts)
        self._producer_lock = asyncio.Lock()
        self._first_credit = 0.0  # schedule.interleave's carried share of starts owed to first polls

    async def replace_producer(self, failed: AIOKafkaProducer) -> None:
        """Swap in a fresh producer after a send failed.

        An idempotent producer whose sequence numbers the broker no longer accepts (e.g. after a broker
        restart: OutOfOrderSequenceNumber) never recovers by itself; a new one gets a new producer id.
        """
        async with self._producer_lock:
            if self.producer is not failed:  # another poll already replaced it
                return
            fresh = bus.producer(self.settings, name="ingest")
            await fresh.start()
            self.producer = fresh
        with contextlib.suppress(KafkaError, OSError):
            await failed.stop()

    async def drain(self, partitions: set[int], modulus: int) -> None:
        """Wait for in-flight polls of feeds in revoked partitions (bounded by the fetch deadline)."""
        tasks = [t for fid, t in self.inflight.items() if fid % modulus in partitions]
        if tasks:
            await asyncio.wait(tasks, timeout=self.settings.fetch_total_timeout_s + 5)

    async def tick(self, now: datetime | None = None) -> int:
        """Start polls for due feeds this process owns, the schedule's before first polls (see
        schedule.interleave); returns how many were started."""
        now = now or utcnow()
        room = self.settings.fetch_global_concurrency * 2 - len(self.inflight)
        if room <= 0:
            return 0
        shard = self.assignment.shard if self.assignment is not None else None
        async with self.sessions() as session:
            due = await repo.due_feeds(session, now=now, limit=room, shard=shard, exclude=list(self.inflight))
        picked, self._first_credit = schedule.interleave(
            due.polled, due.first, room, first_share=self.settings.scheduler_first_poll_min_share,
            credit=self._first_credit)
        for feed in picked:
            self._start(feed)
        return len(picked)

    def _start(self, feed: Feed) -> asyncio.Task[PollReport]:
        task = asyncio.create_task(self._guarded(feed), name=f"poll-{feed.id}")
        self.inflight[feed.id] = task
        fid = feed.id
        task.add_done_callback(lambda _t: self.inflight.pop(fid, None))
        return task

    async def _guarded(self, feed: Feed) -> PollReport:
        async with self.global_sem:
            if self.assignment is not None and not self.assignment.owns(feed.id):
                return PollReport(feed.id)
            try:
                return await self.poll(feed)
            except Exception as exc:  # a poll task must end with a report, never an unread error
                failed = exc
        # The store stayed unwritable through every retry, so nothing marks the feed polled. The task stays
        # in flight for a pause (outside the semaphore), so the publisher is not fetched again at once; a
        # later tick takes the feed again, and what was already published is deduplicated by its ids.
        log.error("poll could not be recorded; the feed is retried after a pause",
                  exc_info=failed, extra={"feed_id": feed.id, "url": feed.url})
        FETCH_TOTAL.labels("store_error").inc()
        await asyncio.sleep(self.settings.poll_store_error_pause_s)
        return PollReport(feed.id, error_class="store", error=str(failed) or type(failed).__name__)

    async def _write(self, what: str, write: Callable[[AsyncSession], Awaitable[object]]) -> None:
        """One feed-state write in its own session, tried again while the store is only busy."""
        await write_feed_state(self.sessions, write, attempts=self.settings.database_write_attempts, what=what)

    async def poll_once(self, feed_id: int) -> PollReport:
        """Fetch one feed now, whatever its schedule."""
        async with self.sessions() as session:
            feed = await repo.get_feed(session, feed_id=feed_id)
        if feed is None:
            raise KeyError(feed_id)
        running = self.inflight.get(feed_id)
        if running is not None:
            return await running
        return await self._start(feed)

    async def poll(self, feed: Feed) -> PollReport:
        """Fetch, publish and record one feed; every failure ends on the feed row."""
        s = self.settings
        now = utcnow()
        lateness = lateness_ratio(feed, now)
        if lateness is not None:
            POLL_LATENESS.observe(lateness)
        unconditional = caching.wants_unconditional(feed.last_unconditional_at, now, s.fetch_unconditional_every_s)
        started = time.monotonic()
        report = PollReport(feed.id)
        producer = self.producer
        try:
            async with self.gate.slot(feed.url):
                result = await fetch(self.client, feed.url, s, etag=None if unconditional else feed.etag,
                                     last_modified=None if unconditional else feed.last_modified)
            outcome_label = await self._on_fetched(feed, result, report, now, unconditional, producer)
        except FetchError as exc:
            outcome_label = exc.error_class
            if isinstance(exc, ParseError):
                PARSE_ERRORS.inc()
            report.error_class, report.error, report.status = exc.error_class, str(exc), exc.status
            await self._record_failure(feed, exc, now)
        except KafkaError as exc:
            # Not the feed's fault: nothing was marked seen, so the next poll republishes.
            with contextlib.suppress(KafkaError, OSError):
                await self.replace_producer(producer)
            outcome_label = "bus_error"
            report.error_class, report.error = "bus", str(exc) or type(exc).__name__
            log.error("publishing failed; feed retried soon", extra={"feed_id": feed.id, "url": feed.url,
                                                                      "error": report.error})
            retry_at = now + timedelta(seconds=max(30.0, self.policy.min_s / 2))
            await self._write("feed reschedule", lambda session: repo.update_feed(
                session, feed_id=feed.id, next_check_at=retry_at))
        FETCH_TOTAL.labels(outcome_label).inc()
        FETCH_DURATION.labels(outcome_label).observe(time.monotonic() - started)
        return report

    async def _on_fetched(self, feed: Feed, result: FetchResult, report: PollReport, now: datetime,
                          unconditional: bool, producer: AIOKafkaProducer) -> str:
        """A fetch that answered: publish what is new, learn the schedule, record it; the outcome label."""
        s = self.settings
        report.status = result.status
        interval = feed.current_interval_s or self.policy.default_s
        hint = None
        new_url = result.permanent_redirect
        title = site_url = hub = topic = None
        per_day = None
        bhash = feed.body_hash
        if result.body is not None:
            bhash = body_hash(result.body)
            if bhash != feed.body_hash or feed.items_total == 0:
                outcome = await process_body(
                    result.body, feed_url=result.url, feed_id=feed.id, sessions=self.sessions,
                    producer=producer, settings=s, now=now,
                    content_type=result.headers.get("content-type", ""), source=feed.title)
                report.new, report.updates = outcome.new, outcome.updates
                interval = schedule.adaptive_interval(outcome.entry_dates, self.policy,
                                                      override_s=feed.interval_override_s)
                per_day = schedule.items_per_day(outcome.entry_dates)
                p = outcome.feed
                hint = caching.feed_hint(p.ttl, p.update_period, p.update_frequency)
                title = p.title if not feed.title else None
                site_url = p.site_url if not feed.site_url else None
                hub, topic = websub.discover_hub(p, result.headers, result.url)
        if feed.interval_override_s:
            interval = float(feed.interval_override_s)
        server_min = caching.min_next_delay(status=result.status, headers=result.headers, now=now, hint_s=hint)
        etag, modified = caching.validators(result.headers)
        nxt = schedule.next_success(now, interval_s=interval, server_min_s=server_min, policy=self.policy,
                                    override_s=feed.interval_override_s)
        await self.feed_state.record(repo.FeedSuccess(
            feed_id=feed.id, now=now, status=result.status, next_check_at=nxt, interval_s=interval,
            etag=etag, last_modified=modified, body_hash=bhash, unconditional=unconditional,
            new_items=report.new, url=new_url, title=title, site_url=site_url,
            hub_url=hub if hub != feed.hub_url else None, items_per_day=per_day,
            websub_topic=topic if hub and topic != (feed.websub_topic or feed.url) else None))
        outcome_label = "not_modified" if result.status == 304 else "ok"
        if new_url:
            log.info("feed moved permanently", extra={"feed_id": feed.id, "url": feed.url, "new_url": new_url})
        return outcome_label

    async def _record_failure(self, feed: Feed, exc: FetchError, now: datetime) -> None:
        """Back off: a retriable failure doubles from the feed's interval, a permanent one starts at the ceiling."""
        failures = (feed.consecutive_failures or 0) + 1
        base = (feed.current_interval_s or self.policy.default_s) if exc.retriable else self.policy.error_max_s
        nxt = schedule.next_failure(now, failures=failures, policy=self.policy, base_s=base,
                                    retry_after_s=exc.retry_after)
        log.warning("feed fetch failed", extra={"feed_id": feed.id, "url": feed.url, "error_class": exc.error_class,
                                                "error": str(exc), "failures": failures, "retriable": exc.retriable})
        await self._write("feed failure", lambda session: repo.record_failure(
            session, feed_id=feed.id, now=now, error=str(exc), error_class=exc.error_class, next_check_at=nxt,
            status=exc.status))

    async def maintain_websub(self, now: datetime | None = None) -> None:
        """Subscribe (or renew) feeds with a discovered hub; a failing hub only means we keep polling."""
        s = self.settings
        if not s.public_url:
            return
        now = now or utcnow()
        async with self.sessions() as session:
            due = await repo.websub_due(session, now=now, renew_before_s=s.websub_renew_before_s)
        for feed in due:
            if self.assignment is not None and not self.assignment.owns(feed.id):
                continue
            await self.subscribe(feed, now)

    async def subscribe(self, feed: Feed, now: datetime) -> bool:
        s = self.settings
        assert feed.hub_url
        secret = feed.websub_secret or websub.new_secret()
        topic = feed.websub_topic or feed.url  # the hub knows the feed by its self URL
        form = websub.subscription_form(topic=topic, callback=websub.callback_url(s.public_url, feed.id),
                                        secret=secret, lease_s=s.websub_lease_s)
        ok = False
        # Recorded before asking: a hub may verify the intent before it even answers the request.
        async with self.sessions() as session:
            await repo.set_websub(session, feed_id=feed.id, hub_url=feed.hub_url, state="requested", secret=secret,
                                  lease_until=now + timedelta(seconds=s.websub_renew_before_s + 300))
        try:  # the SSRF guard runs inside post_form, which connects to the address it approved
            status = await self.client.post_form(feed.hub_url, form, allowed=s.feed_allowed_hosts,
                                                 timeout_s=s.fetch_connect_timeout_s)
            ok = status in (202, 204)
            why = f"hub answered {status}"
        except FetchError as exc:
            why = str(exc) or type(exc).__name__
        if not ok:
            # Until then "lease_until" is when we try again; polling goes on regardless.
            async with self.sessions() as session:
                await repo.set_websub(session, feed_id=feed.id, hub_url=feed.hub_url, state="failed", secret=secret,
                                      lease_until=now + timedelta(seconds=s.websub_renew_before_s + 3600))
            log.warning("websub subscribe failed; polling continues", extra={"feed_id": feed.id, "hub": feed.hub_url,
                                                                               "error": why})
        return ok

    async def _pause(self, stop: asyncio.Event, *, busy: bool) -> bool:
        """Wait before the next tick; True if ``stop`` was set meanwhile.

        A tick that started polls may have left more feeds due (it takes at most the free room), so the
        next one comes after ``scheduler_busy_tick_s``, or, when every slot is taken, as soon as a poll
        ends: a full table then drains at the fetch rate, not at one room's worth per ``scheduler_tick_s``.
        A tick that found nothing due waits the whole ``scheduler_tick_s``."""
        s = self.settings
        if not busy:
            return await wait_or_stop(stop, s.scheduler_tick_s)
        if len(self.inflight) < s.fetch_global_concurrency * 2:
            return await wait_or_stop(stop, s.scheduler_busy_tick_s)
        stopping = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait([stopping, *self.inflight.values()], timeout=s.scheduler_tick_s,
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
        return stop.is_set()

    async def run(self, stop: asyncio.Event) -> None:
        """The scheduler loop until ``stop``; waits for in-flight polls on the way out."""
        last_gauge = last_websub = 0.0
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            started = 0
            try:
                started = await self.tick()
                if loop.time() - last_gauge > 10:
                    last_gauge = loop.time()
                    async with self.sessions() as session:
                        FEEDS_FAILING.set(await repo.count_failing(session))
                if loop.time() - last_websub > self.settings.websub_maintain_interval_s:
                    last_websub = loop.time()
                    await self.maintain_websub()
            except (TimeoutError, OSError) as exc:
                log.error("scheduler tick failed; retrying", extra={"error": str(exc)})
            except Exception as exc:  # the loop must survive a database hiccup; logged, not swallowed
                log.exception("scheduler tick failed; retrying", extra={"error": str(exc)})
            if await self._pause(stop, busy=started > 0):
                break
        if self.inflight:
            await asyncio.wait(list(self.inflight.values()), timeout=self.settings.fetch_total_timeout_s)
        await self.feed_state.close()


async def seed_feeds(settings: Settings, sessions: Sessions) -> int:
    """Import settings.feeds_opml when the feeds table is empty (first start)."""
    async with sessions() as session:
        if await repo.count_feeds(session):
            return 0
        path = settings.feeds_opml
        if not path or not path.exists():
            return 0
        try:
            outlines = parse_opml(path.read_bytes())
        except OPMLError as exc:
            log.error("cannot seed feeds", extra={"path": str(path), "error": str(exc)})
            return 0
        added, _ = await repo.import_opml(session, feeds=outlines, now=utcnow())
    log.info("seeded feeds from OPML", extra={"path": str(settings.feeds_opml), "added": added})
    return added


@contextlib.asynccontextmanager
async def running_ingester(settings: Settings, sessions: Sessions, *, name: str = "ingest",
                           use_assignment: bool = True) -> AsyncIterator[Ingester]:
    """An Ingester with its client, producer and (optionally) group assignment, all closed on exit."""
    client = make_client(settings)
    producer = bus.producer(settings, name=name)
    await producer.start()
    ingester = Ingester(settings, sessions, client, producer)
    try:
        if use_assignment:
            ingester.assignment = Assignment(settings, ingester.drain)
        yield ingester
    finally:
        await ingester.producer.stop()  # the current one: a failed producer may have been replaced
        await client.aclose()


async def main(settings: Settings, stop: asyncio.Event) -> None:
    """Run the ingest service until ``stop`` is set."""
    await upgrade_async(settings)
    engine = make_engine(settings)
    sessions = make_sessions(engine)
    try:
        await seed_feeds(settings, sessions)
        await bus.ensure_topics(settings)
        async with running_ingester(settings, sessions) as ingester:
            assert ingester.assignment is not None
            assignment = ingester.assignment
            member = asyncio.create_task(assignment.run(stop), name="ingest-assignment")
            # Like every worker: /healthz, /readyz (ready = feed partitions assigned), /metrics, and a
            # heartbeat row, so the dashboard lists ingest with its metrics.
            try:
                async with HealthServer(settings.metrics_port, lambda: bool(assignment.owned), host=settings.api_host), \
                        heartbeating(sessions, service="ingest", instance=instance_id("ingest"),
                                     metrics_url=metrics_url(settings.api_host, settings.metrics_port),
                                     interval=settings.heartbeat_interval_s, stop=stop):
                    await ingester.run(stop)
            finally:
                stop.set()
                await member
    finally:
        await engine.dispose()


async def poll_once(settings: Settings, feed_id: int) -> PollReport:
    """Fetch one feed now from a short-lived process (CLI); ignores group assignment."""
    engine = make_engine(settings)
    try:
        async with running_ingester(settings, make_sessions(engine), name="ingest-cli",
                                    use_assignment=False) as ingester:
            return await ingester.poll_once(feed_id)
    finally:
        await engine.dispose()
