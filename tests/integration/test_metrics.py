"""/metrics as Prometheus and the dashboard read it: the API's and a worker's endpoint parse with the
official text parser, names follow the conventions, and api.http.observe turns the same samples into rates,
quantiles and consumer lag (against the real Kafka broker)."""

from __future__ import annotations

import math
import re

import httpx
import pytest
from aiokafka import TopicPartition
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from api.http import observe
from api.http.app import create_app
from services import bus, metrics
from services.health import HealthServer
from tests.conftest import free_port

NAME = re.compile(r"^wirewatch_[a-z][a-z0-9_]*[a-z0-9]$")
UNITS = ("_seconds", "_bytes", "_ratio", "_total")
BAD_UNITS = ("_ms", "_milliseconds", "_minutes", "_hours", "_kb", "_mb", "_percent")
EXPECTED = {  # family name (as the parser reports it) -> type; the dashboard charts all of them
    "wirewatch_ingest_fetches": "counter",
    "wirewatch_ingest_fetch_duration_seconds": "histogram",
    "wirewatch_ingest_parse_errors": "counter",
    "wirewatch_ingest_articles_published": "counter",
    "wirewatch_ingest_feeds_failing": "gauge",
    "wirewatch_enrich_articles": "counter",
    "wirewatch_enrich_batch_duration_seconds": "histogram",
    "wirewatch_enrich_errors": "counter",
    "wirewatch_sink_articles_stored": "counter",
    "wirewatch_sink_batch_duration_seconds": "histogram",
    "wirewatch_freshness_seconds": "histogram",
    "wirewatch_webhook_attempts": "counter",
    "wirewatch_webhook_request_duration_seconds": "histogram",
    "wirewatch_webhook_backlog": "gauge",
    "wirewatch_webhook_dead_letters": "counter",
    "wirewatch_consumer_lag": "gauge",
}


def families(body: str) -> dict[str, object]:
    return {f.name: f for f in text_string_to_metric_families(body)
            if f.name.startswith("wirewatch_") and not f.name.endswith("_created")}


def check_conventions(body: str) -> None:
    fams = families(body)
    missing = {n: t for n, t in EXPECTED.items() if n not in fams or fams[n].type != t}  # type: ignore[attr-defined]
    assert not missing, f"missing or mistyped metrics: {missing}"
    for name, fam in fams.items():
        assert NAME.match(name), f"{name}: not snake_case with the wirewatch_ prefix"
        assert fam.documentation, f"{name}: no HELP text"  # type: ignore[attr-defined]
        assert not name.endswith(BAD_UNITS), f"{name}: use base units (seconds, bytes)"
        kind = fam.type  # type: ignore[attr-defined]
        if kind == "counter":
            assert not name.endswith("_total"), f"{name}: the parser strips _total; a double suffix?"
            assert re.search(rf"^# TYPE {name}_total counter$", body, re.M), f"{name}: counters end in _total"
            for s in fam.samples:  # type: ignore[attr-defined]
                assert s.name == name + "_total", s.name
        elif kind == "histogram":
            assert name.endswith(UNITS), f"{name}: a histogram needs a unit suffix"
            for s in fam.samples:  # type: ignore[attr-defined]
                assert s.name in (name + "_bucket", name + "_sum", name + "_count"), s.name
        else:
            assert not name.endswith("_total"), f"{name}: only counters end in _total"
        for s in fam.samples:  # type: ignore[attr-defined]
            for label in s.labels:
                assert re.match(r"^[a-z][a-z0-9_]*$", label), f"{name}: label {label!r}"


async def test_api_metrics_parse_and_follow_conventions(make_settings):
    metrics.FRESHNESS.labels(stage="stored").observe(0.3)  # labelled children appear on first use
    app = create_app(make_settings(), migrate=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client:
        r = await client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    check_conventions(r.text)
    buckets = [s for s in families(r.text)["wirewatch_freshness_seconds"].samples  # type: ignore[attr-defined]
               if s.name.endswith("_bucket") and s.labels.get("stage") == "stored"]
    assert buckets and buckets[-1].labels["le"] == "+Inf" and buckets[-1].value >= 1


async def test_worker_health_server_metrics_match_what_the_dashboard_reads():
    port = free_port()
    async with HealthServer(port, lambda: True), httpx.AsyncClient(timeout=5) as client:
        base = f"http://127.0.0.1:{port}"
        assert (await client.get(base + "/healthz")).json() == {"status": "ok"}
        assert (await client.get(base + "/readyz")).status_code == 200
        before = observe.parse_exposition((await client.get(base + "/metrics")).text)
        metrics.ENRICHED.inc(6)
        metrics.STORED.labels(kind="new").inc(3)
        metrics.STORED.labels(kind="replay").inc(50)
        r = await client.get(base + "/metrics")
    check_conventions(r.text)
    after = observe.parse_exposition(r.text)
    assert all(k[0].startswith("wirewatch_") and not k[0].endswith("_created") for k in after)
    old = observe.Snapshot(at=0.0, values={"w": before}, started={"w": -1.0})
    new = observe.Snapshot(at=30.0, values={"w": after}, started={"w": -1.0})
    assert observe.rate_per_minute(old, new, "wirewatch_enrich_articles_total") == pytest.approx(12.0)
    stored, where, exclude = observe.THROUGHPUT["stored"]
    assert observe.rate_per_minute(old, new, stored, where=where, exclude=exclude) == pytest.approx(6.0)


def snap(at: float, values: dict[str, dict[observe.Key, float]], started: dict[str, float]) -> observe.Snapshot:
    return observe.Snapshot(at=at, values=values, started=started)


C = "wirewatch_enrich_articles_total"


@pytest.mark.parametrize(("old", "new", "expected"), [
    pytest.param({"a": {(C, ()): 10}}, {"a": {(C, ()): 40}}, 30.0, id="plain increase"),
    pytest.param({"a": {(C, ()): 100}}, {"a": {(C, ()): 7}}, 7.0, id="reset counts from zero"),
    pytest.param({"a": {}}, {"a": {(C, ()): 5}}, 5.0, id="new labelled child counts from zero"),
    pytest.param({}, {"a": {(C, ()): 5}}, None, id="first scrape of an old process has no baseline"),
    pytest.param({"a": {(C, ()): 1}}, {"a": {(C, ()): 1}, "b": {(C, ()): 4}}, 4.0, id="process started later"),
    pytest.param({"a": {}}, {"a": {}}, 0.0, id="baseline but no series is zero, not unknown"),
])
def test_counter_deltas_like_prometheus(old, new, expected):
    started = {"a": 0.0, "b": 100.0}
    deltas = observe.counter_deltas(snap(50.0, old, started), snap(110.0, new, started), C)
    assert (None if deltas is None else sum(deltas.values())) == expected


@pytest.mark.parametrize(("q", "buckets", "expected"), [
    (0.5, {0.1: 0, 1.0: 10, math.inf: 10}, 0.55),
    (0.95, {0.1: 5, 1.0: 10, math.inf: 10}, 0.1 + 0.9 * (9.5 - 5) / 5),
    (0.5, {1.0: 0, 5.0: 0, math.inf: 4}, 5.0),  # all beyond the last bound: that bound
    (0.5, {1.0: 0, math.inf: 0}, None),
])
def test_histogram_quantile(q, buckets, expected):
    got = observe.histogram_quantile(q, buckets)
    assert got == (pytest.approx(expected) if expected is not None else None)


def test_ring_derives_windowed_rates_and_freshness():
    ring = observe.MetricsRing(window_s=60)
    key = ("wirewatch_freshness_seconds_bucket", (("le", "1.0"), ("stage", "stored")))
    inf = ("wirewatch_freshness_seconds_bucket", (("le", "+Inf"), ("stage", "stored")))
    started = {"sink": 0.0}
    assert ring.add(snap(10.0, {"sink": {("wirewatch_sink_articles_stored_total", (("kind", "new"),)): 0}},
                         started)).throughput["stored"] is None
    p = ring.add(snap(40.0, {"sink": {("wirewatch_sink_articles_stored_total", (("kind", "new"),)): 10,
                                      key: 10, inf: 10}}, started))
    assert p.throughput["stored"] == pytest.approx(20.0) and p.throughput["ingested"] == 0.0
    assert p.freshness["stored p50"] == pytest.approx(0.5)
    assert p.freshness["webhook p50"] is None
    chart = observe.chart(ring.points, lambda pt: pt.throughput)
    assert chart["t"] == [10.0, 40.0] and chart["series"]["stored"] == [None, 20.0]


@pytest.mark.kafka
async def test_consumer_lag_per_group_and_partition(kafka_bootstrap, make_settings, unique_topics):
    settings = make_settings(kafka_bootstrap=kafka_bootstrap, kafka_partitions=2, **unique_topics)
    await bus.ensure_topics(settings)
    producer = bus.producer(settings, name="t-lag")
    async with bus.started(producer):
        for i in range(5):
            await producer.send_and_wait(settings.topic_raw, b"x%d" % i, partition=0)
        await producer.send_and_wait(settings.topic_enriched, b"y", partition=1)
    consumer = bus.consumer(settings, settings.topic_raw, group=settings.group_enrich, name="t-lag-c")
    async with bus.started(consumer):
        await consumer.getmany(timeout_ms=5000)
        await consumer.commit({TopicPartition(settings.topic_raw, 0): 2})

    rows = {(r.group, r.topic, r.partition): r for r in await observe.compute_lag(settings)}
    enrich0 = rows[(settings.group_enrich, settings.topic_raw, 0)]
    assert (enrich0.committed, enrich0.end, enrich0.lag) == (2, 5, 3)
    assert rows[(settings.group_enrich, settings.topic_raw, 1)].lag == 0
    sink1 = rows[(settings.group_sink, settings.topic_enriched, 1)]
    assert (sink1.committed, sink1.lag) == (None, 1)  # a group that never committed is behind everything
    assert {g for g, _, _ in rows} == {settings.group_enrich, settings.group_sink, settings.group_webhooks,
                                      settings.group_tracker}

    obs = observe.Observer(settings)
    await obs.consumer_lag()
    gauge = observe.parse_exposition(generate_latest().decode())  # the API process's own registry
    labels = (("group", settings.group_enrich), ("partition", "0"), ("topic", settings.topic_raw))
    assert gauge[("wirewatch_consumer_lag", labels)] == 3
