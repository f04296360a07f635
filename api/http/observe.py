"""What the ops dashboard charts: the same numbers as /metrics, scraped and turned into rates.

The dashboard keeps no counters of its own. Each sample scrapes every live worker's
``metrics_url`` (from the heartbeats table) plus the API process's own registry, parses
the text with the Prometheus parser, and keeps a short ring of snapshots; per-minute
rates and latency quantiles are deltas between two snapshots, as PromQL's ``rate()``
and ``histogram_quantile()`` would compute them. Consumer lag (end offset minus committed
offset per group and partition) is read from Kafka (``services.bus.consumer_lag``) on a short cache and
published as the ``wirewatch_consumer_lag`` gauge of the API process, so it is scraped like everything else.
The store's figures come from ``services.db.observe`` and ``services.db.heartbeats``.

The top half (parsing, rates, quantiles, the ring, hourly series) is pure; ``Observer`` combines the
sources. One Observer per API process lives in the app context (api.http.context).
"""

from __future__ import annotations

import asyncio
import math
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from aiokafka.errors import KafkaError
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from services import bus, metrics
from services.bus import LagRow
from services.db import observe as store_figures
from services.db.engine import Sessions
from services.db.heartbeats import list_heartbeats
from services.settings import Settings

Labels = tuple[tuple[str, str], ...]
Key = tuple[str, Labels]  # (sample name, sorted labels)
Values = dict[Key, float]

PREFIX = "wirewatch_"


def parse_exposition(body: str, *, prefix: str = PREFIX) -> Values:
    """Prometheus text format -> {(sample name, labels): value}, only our metrics, no ``_created``."""
    out: Values = {}
    for family in text_string_to_metric_families(body):
        for s in family.samples:
            if not s.name.startswith(prefix) or s.name.endswith("_created"):
                continue
            out[(s.name, tuple(sorted(s.labels.items())))] = float(s.value)
    return out


@dataclass(frozen=True)
class Snapshot:
    """Every source's values at one instant; ``started`` says when each source's process began."""

    at: float
    values: Mapping[str, Values]
    started: Mapping[str, float] = field(default_factory=dict)


def _matches(labels: Labels, want: Mapping[str, str | Iterable[str]] | None) -> bool:
    if not want:
        return True
    have = dict(labels)
    for k, v in want.items():
        allowed = {v} if isinstance(v, str) else set(v)
        if have.get(k) not in allowed:
            return False
    return True


def _excluded(labels: Labels, exclude: Mapping[str, Iterable[str]] | None) -> bool:
    if not exclude:
        return False
    have = dict(labels)
    return any(have.get(k) in set(v) for k, v in exclude.items())


def counter_deltas(old: Snapshot, new: Snapshot, name: str, *, where: Mapping[str, Any] | None = None,
                   exclude: Mapping[str, Iterable[str]] | None = None) -> dict[Labels, float] | None:
    """Increase of each series of ``name`` between two snapshots, as Prometheus counts it.

    A counter that went down was reset (its process restarted) and counts from zero. A series
    missing from ``old`` counts from zero when its source was already scraped then (labelled
    children appear on first use) or started after ``old``; else it has no baseline yet.
    None when no source had a baseline; {} when they had one but nothing matched (no increase).
    """
    out: dict[Labels, float] = {}
    seen = False
    for source, values in new.values.items():
        before = old.values.get(source)
        if before is None and new.started.get(source, math.inf) <= old.at:
            continue
        seen = True
        for (sample, labels), value in values.items():
            if sample != name or not _matches(labels, where) or _excluded(labels, exclude):
                continue
            prev = (before or {}).get((sample, labels), 0.0)
            delta = value - prev if value >= prev else value
            out[labels] = out.get(labels, 0.0) + delta
    return out if seen else None


def rate_per_minute(old: Snapshot, new: Snapshot, counter: str, **match: Any) -> float | None:
    """Summed increase of a counter per minute between two snapshots (None: nothing to compare)."""
    dt = new.at - old.at
    deltas = counter_deltas(old, new, counter, **match)
    if deltas is None or dt <= 0:
        return None
    return sum(deltas.values()) * 60.0 / dt


def histogram_quantile(q: float, buckets: Mapping[float, float]) -> float | None:
    """The q-quantile of cumulative bucket counts {upper bound: count}, interpolated like PromQL."""
    if not buckets:
        return None
    bounds = sorted(buckets)
    total = buckets[bounds[-1]]
    if total <= 0:
        return None
    rank = q * total
    lower_bound, lower_count = 0.0, 0.0
    for b in bounds:
        count = buckets[b]
        if count >= rank:
            if math.isinf(b):
                return lower_bound  # beyond the last finite bucket: its bound is the best we know
            if count == lower_count:
                return b
            return lower_bound + (b - lower_bound) * (rank - lower_count) / (count - lower_count)
        lower_bound, lower_count = b, count
    return bounds[-1]


def _quantile_of(deltas: Mapping[Labels, float], q: float) -> tuple[float | None, float]:
    buckets: dict[float, float] = {}
    for labels, d in deltas.items():
        le = float(dict(labels)["le"])
        buckets[le] = buckets.get(le, 0.0) + d
    count = buckets.get(math.inf, max(buckets.values(), default=0.0))
    return histogram_quantile(q, buckets), count


def window_quantile(old: Snapshot, new: Snapshot, histogram: str, q: float,
                    where: Mapping[str, Any] | None = None) -> tuple[float | None, float]:
    """(q-quantile, observations) of a histogram over the window old->new."""
    deltas = counter_deltas(old, new, histogram + "_bucket", where=where)
    return _quantile_of(deltas, q) if deltas else (None, 0.0)


def total_quantile(snap: Snapshot, histogram: str, q: float,
                   where: Mapping[str, Any] | None = None) -> tuple[float | None, float]:
    """(q-quantile, observations) of a histogram since each source started."""
    deltas: dict[Labels, float] = {}
    for values in snap.values.values():
        for (sample, labels), value in values.items():
            if sample == histogram + "_bucket" and _matches(labels, where):
                deltas[labels] = deltas.get(labels, 0.0) + value
    return _quantile_of(deltas, q)


def gauge_sum(snap: Snapshot, name: str, by: str | None = None) -> dict[str, float]:
    """Sum of a gauge over all sources, optionally grouped by one label ('' when not grouped)."""
    out: dict[str, float] = {}
    for values in snap.values.values():
        for (sample, labels), value in values.items():
            if sample == name:
                key = dict(labels).get(by, "") if by else ""
                out[key] = out.get(key, 0.0) + value
    return out


# What the overview charts, by series name: (counter, label match, label exclusion).
THROUGHPUT: dict[str, tuple[str, dict[str, Any] | None, dict[str, list[str]] | None]] = {
    "ingested": ("wirewatch_ingest_articles_published_total", None, None),
    "enriched": ("wirewatch_enrich_articles_total", None, None),
    "stored": ("wirewatch_sink_articles_stored_total", None, {"kind": ["replay"]}),
    "delivered": ("wirewatch_webhook_attempts_total", {"outcome": "success"}, None),
}
ERRORS: dict[str, tuple[str, dict[str, Any] | None, dict[str, list[str]] | None]] = {
    "fetch": ("wirewatch_ingest_fetches_total", None, {"outcome": ["ok", "not_modified"]}),
    "parse": ("wirewatch_ingest_parse_errors_total", None, None),
    "enrich": ("wirewatch_enrich_errors_total", None, None),
    "webhook": ("wirewatch_webhook_attempts_total", None, {"outcome": ["success"]}),
    "dead letters": ("wirewatch_webhook_dead_letters_total", None, None),
}
FRESHNESS = "wirewatch_freshness_seconds"
FRESHNESS_STAGES = ("enriched", "stored", "webhook")
RATE_WINDOW_S = 60.0


@dataclass
class Point:
    """One derived sample: what every chart shows at time ``at`` (None = no data)."""

    at: float
    throughput: dict[str, float | None]
    errors: dict[str, float | None]
    freshness: dict[str, float | None]  # "<stage> p50|p95" -> seconds
    lag: dict[str, float]


class MetricsRing:
    """Recent full snapshots (for windows) and a longer ring of derived points (for charts)."""

    def __init__(self, *, points: int = 720, window_s: float = RATE_WINDOW_S) -> None:
        self.window_s = window_s
        self.snapshots: deque[Snapshot] = deque()
        self.points: deque[Point] = deque(maxlen=points)

    def _baseline(self, now: float) -> Snapshot | None:
        """The newest snapshot at least a window old, else the oldest one we have."""
        older = [s for s in self.snapshots if s.at <= now - self.window_s]
        if older:
            return older[-1]
        return self.snapshots[0] if self.snapshots else None

    def add(self, snap: Snapshot) -> Point:
        old = self._baseline(snap.at)
        self.snapshots.append(snap)
        while len(self.snapshots) > 2 and self.snapshots[1].at <= snap.at - 2 * self.window_s:
            self.snapshots.popleft()
        point = derive(old, snap)
        self.points.append(point)
        return point


def derive(old: Snapshot | None, new: Snapshot) -> Point:
    """Rates per minute, freshness quantiles and lag for the window old->new."""
    def rates(table: Mapping[str, tuple[str, Any, Any]]) -> dict[str, float | None]:
        if old is None:
            return dict.fromkeys(table)
        return {k: rate_per_minute(old, new, c, where=w, exclude=x) for k, (c, w, x) in table.items()}

    fresh: dict[str, float | None] = {}
    for stage in FRESHNESS_STAGES:
        for q in (0.5, 0.95):
            value = None
            if old is not None:
                value, _ = window_quantile(old, new, FRESHNESS, q, {"stage": stage})
            fresh[f"{stage} p{int(q * 100)}"] = value
    return Point(at=new.at, throughput=rates(THROUGHPUT), errors=rates(ERRORS), freshness=fresh,
                 lag=gauge_sum(new, "wirewatch_consumer_lag", by="group"))


def point_from(data: Mapping[str, Any]) -> Point:
    """A stored point (``dataclasses.asdict`` of a Point) back as a Point."""
    return Point(at=float(data["at"]), throughput=dict(data.get("throughput") or {}),
                 errors=dict(data.get("errors") or {}), freshness=dict(data.get("freshness") or {}),
                 lag=dict(data.get("lag") or {}))


def chart(points: Iterable[Point], pick: Callable[[Point], Mapping[str, float | None]]) -> dict[str, Any]:
    """Column-oriented series for the charts: {"t": [epoch s], "series": {name: [value|None]}}."""
    pts = list(points)
    names: list[str] = []
    for p in pts:
        names.extend(n for n in pick(p) if n not in names)
    return {"t": [round(p.at, 3) for p in pts],
            "series": {n: [_round(pick(p).get(n)) for p in pts] for n in names}}


def _round(v: float | None) -> float | None:
    return None if v is None or math.isnan(v) else round(v, 4)


def hourly_counts(seen: Iterable[tuple[str, datetime]], *, now: datetime, hours: int) -> dict[str, Any]:
    """How many times each name was seen per hour over the last ``hours`` whole hours (the current one
    last), as a chart: {"t": [hour start, epoch s], "series": {name: [count per hour]}}."""
    start = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours - 1)
    series: dict[str, list[int]] = {}
    for name, when in seen:
        idx = int((when - start).total_seconds() // 3600)
        if 0 <= idx < hours:
            series.setdefault(name, [0] * hours)[idx] += 1
    return {"t": [(start + timedelta(hours=i)).timestamp() for i in range(hours)],
            "series": dict(sorted(series.items()))}


# --- I/O ---------------------------------------------------------------------


@dataclass
class SourceStatus:
    """One scraped process: who, where, and whether the last scrape worked."""

    service: str
    instance: str
    url: str | None
    last_seen: datetime | None
    ok: bool
    error: str | None = None


@dataclass
class Cached:
    at: float = -math.inf
    value: Any = None
    error: str | None = None


class Observer:
    """Scrapes, samples and caches for the dashboard; one per API process (in the app context).

    ``started_at`` is when this process began counting (the API source's baseline for rates).
    """

    def __init__(self, settings: Settings, *, min_spacing_s: float = 4.0, cache_s: float = 10.0,
                 started_at: float | None = None) -> None:
        self.settings = settings
        self.started_at = time.time() if started_at is None else started_at
        self.ring = MetricsRing()
        self.min_spacing_s, self.cache_s = min_spacing_s, cache_s
        self.sources: list[SourceStatus] = []
        self._lock = asyncio.Lock()
        self._lag = Cached()
        self._kafka = Cached()

    async def sample(self, sessions: Sessions) -> Point | None:
        """Take a snapshot unless one is fresh enough; returns the newest derived point."""
        async with self._lock:
            now = time.time()
            if self.ring.points and now - self.ring.points[-1].at < self.min_spacing_s:
                return self.ring.points[-1]
            await self.consumer_lag()  # refreshes the lag gauge before the API registry is read
            snap = await self._snapshot(sessions, now)
            return self.ring.add(snap)

    async def _snapshot(self, sessions: Sessions, now: float) -> Snapshot:
        api = f"api:{os.getpid()}"
        values: dict[str, Values] = {api: parse_exposition(generate_latest(REGISTRY).decode())}
        started: dict[str, float] = {api: self.started_at}
        sources = [SourceStatus("api", api, "/metrics", datetime.now(UTC), True)]
        try:
            beats = await list_heartbeats(sessions, max_age_s=max(30.0, 3 * self.settings.heartbeat_interval_s))
        except (SQLAlchemyError, OSError) as exc:
            beats = []
            sources.append(SourceStatus("store", "-", None, None, False, type(exc).__name__))
        live = [b for b in beats if b.metrics_url]
        async with httpx.AsyncClient(timeout=2.0) as client:
            bodies = await asyncio.gather(*(client.get(b.metrics_url) for b in live  # type: ignore[arg-type]
                                            ), return_exceptions=True)
        for b in beats:
            sources.append(SourceStatus(b.service, b.instance, b.metrics_url, b.last_seen,
                                        ok=not b.metrics_url, error=None if b.metrics_url else "no metrics port"))
        for b, body in zip(live, bodies, strict=True):
            status = next(s for s in sources if s.instance == b.instance and s.service == b.service)
            if isinstance(body, httpx.Response) and body.status_code == 200:
                try:
                    values[b.instance] = parse_exposition(body.text)
                except ValueError as exc:
                    status.ok, status.error = False, f"unparsable: {exc}"[:200]
                    continue
                started[b.instance] = b.started_at.timestamp()
                status.ok, status.error = True, None
            else:
                err = f"HTTP {body.status_code}" if isinstance(body, httpx.Response) else type(body).__name__
                status.ok, status.error = False, err
        self.sources = sources
        return Snapshot(at=now, values=values, started=started)

    async def consumer_lag(self) -> tuple[list[LagRow], str | None]:
        """Lag per group and partition (cached); also sets the wirewatch_consumer_lag gauge."""
        if time.monotonic() - self._lag.at < self.cache_s:
            return self._lag.value or [], self._lag.error
        try:
            rows = await asyncio.wait_for(compute_lag(self.settings), 5)
            self._lag = Cached(time.monotonic(), rows, None)
            for r in rows:
                metrics.CONSUMER_LAG.labels(group=r.group, topic=r.topic, partition=str(r.partition)).set(r.lag)
        except (KafkaError, OSError, TimeoutError) as exc:
            self._lag = Cached(time.monotonic(), self._lag.value, f"Kafka unreachable ({type(exc).__name__})")
        return self._lag.value or [], self._lag.error

    async def kafka_ok(self) -> bool:
        """Broker answers a metadata request (cached)."""
        if time.monotonic() - self._kafka.at >= self.cache_s:
            self._kafka = Cached(time.monotonic(), await bus.ping(self.settings, timeout=3))
        return bool(self._kafka.value)


def lag_groups(settings: Settings) -> dict[str, str]:
    """Consumer group -> the topic it reads."""
    return {settings.group_enrich: settings.topic_raw, settings.group_sink: settings.topic_enriched,
            settings.group_webhooks: settings.topic_enriched, settings.group_tracker: settings.topic_enriched}


async def compute_lag(settings: Settings) -> list[LagRow]:
    """The pipeline's consumer lag: every group of ``lag_groups`` on every partition of its topic."""
    return await bus.consumer_lag(settings, groups=lag_groups(settings))


async def topics_per_hour(session: AsyncSession, *, now: datetime, hours: int = 24) -> dict[str, Any]:
    """Stories first seen per topic per hour over the last ``hours`` hours, oldest hour first."""
    start = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours - 1)
    return hourly_counts(await store_figures.topics_first_seen(session, since=start), now=now, hours=hours)
