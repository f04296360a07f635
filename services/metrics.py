"""Prometheus metrics, defined once so every stage and the dashboard use the same numbers.

Names follow Prometheus conventions (``wirewatch_<stage>_<what>_<unit>``,
counters end in ``_total``). Each worker process exposes its registry on
``WIREWATCH_METRICS_PORT`` (see services.health); the API exposes its own at /metrics.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600)

FETCH_DURATION = Histogram(
    "wirewatch_ingest_fetch_duration_seconds", "Feed fetch duration", ["outcome"], buckets=LATENCY_BUCKETS
)
FETCH_TOTAL = Counter("wirewatch_ingest_fetches_total", "Feed fetches by outcome", ["outcome"])
# How late a scheduled poll started, as a share of the interval the scheduler chose for it (issue 16's
# "every feed polled within its interval + 10 %" is the share of polls at or under 0.1).
POLL_LATENESS = Histogram("wirewatch_ingest_poll_lateness_ratio",
                          "Delay of a poll after its due time, as a share of the feed's scheduled interval",
                          buckets=(0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0))
PARSE_ERRORS = Counter("wirewatch_ingest_parse_errors_total", "Feeds whose body could not be parsed")
PUBLISHED = Counter("wirewatch_ingest_articles_published_total", "Articles published to articles.raw", ["kind"])
FEEDS_FAILING = Gauge("wirewatch_ingest_feeds_failing", "Feeds whose last fetch failed")

ENRICHED = Counter("wirewatch_enrich_articles_total", "Articles enriched and produced")
ENRICH_LATENCY = Histogram(
    "wirewatch_enrich_batch_duration_seconds", "Enrichment time per batch", buckets=LATENCY_BUCKETS
)
ENRICH_ERRORS = Counter("wirewatch_enrich_errors_total", "Records enrichment could not process", ["reason"])

STORED = Counter("wirewatch_sink_articles_stored_total", "Articles upserted into the store", ["kind"])
SINK_ERRORS = Counter("wirewatch_sink_errors_total", "Records or batches the sink could not store", ["reason"])
STORY_MERGES = Counter("wirewatch_sink_story_merges_total", "Stories merged into another (shown to be one event)")
SINK_LATENCY = Histogram("wirewatch_sink_batch_duration_seconds", "Store write time per batch",
                         buckets=LATENCY_BUCKETS)
FRESHNESS = Histogram(
    "wirewatch_freshness_seconds",
    "End-to-end delay from fetch to a stage",
    ["stage"],
    buckets=LATENCY_BUCKETS,
)

WEBHOOK_ATTEMPTS = Counter("wirewatch_webhook_attempts_total", "Webhook HTTP attempts by outcome", ["outcome"])
WEBHOOK_LATENCY = Histogram("wirewatch_webhook_request_duration_seconds", "Webhook HTTP request duration",
                            buckets=LATENCY_BUCKETS)
WEBHOOK_BACKLOG = Gauge("wirewatch_webhook_backlog", "Deliveries waiting to be sent")
WEBHOOK_DEAD = Counter("wirewatch_webhook_dead_letters_total", "Deliveries moved to the dead-letter state")

CONSUMER_LAG = Gauge("wirewatch_consumer_lag", "Records behind the partition end", ["group", "topic", "partition"])
