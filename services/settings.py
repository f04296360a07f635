"""One settings model for every Wirewatch process.

Built once at process start from ``WIREWATCH_*`` environment variables (and an
optional ``.env`` file) and passed down; no other module reads the environment.
Every limit the services enforce is a named field here.
"""

from __future__ import annotations

import ipaddress
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent

CommaList = Annotated[list[str], NoDecode]


def _split_commas(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """Every knob of Wirewatch; see README "Configuration" for the table."""

    model_config = SettingsConfigDict(
        env_prefix="WIREWATCH_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    env: Literal["dev", "test", "production"] = "dev"
    var_dir: Path = ROOT / "var"

    # --- Kafka -------------------------------------------------------------
    kafka_bootstrap: str = "127.0.0.1:9092"
    kafka_partitions: int = Field(3, ge=1, le=1024)
    kafka_replication_factor: int = Field(1, ge=1)
    topic_raw: str = "articles.raw"
    topic_enriched: str = "articles.enriched"
    topic_feeds: str = "feeds.assign"
    kafka_client_id: str = "wirewatch"
    kafka_session_timeout_ms: int = Field(10_000, ge=1_000)
    kafka_heartbeat_interval_ms: int = Field(3_000, ge=100)
    kafka_request_timeout_ms: int = Field(30_000, ge=1_000)
    kafka_max_batch: int = Field(64, ge=1, le=10_000, description="records taken per poll by consumers")
    kafka_transactional: bool = Field(True, description="enrich uses consume-transform-produce transactions")
    group_enrich: str = "wirewatch-enrich"
    group_sink: str = "wirewatch-sink"
    group_webhooks: str = "wirewatch-webhooks"
    group_ingest: str = "wirewatch-ingest"

    # --- Store -------------------------------------------------------------
    database_url: str = ""
    database_pool_size: int = Field(5, ge=1)
    database_busy_timeout_s: float = Field(30.0, gt=0)
    database_sqlite_page_size: int = Field(16_384, description="SQLite: page size in bytes of a store created from now on (PRAGMA page_size before the first write; a power of two, 512-65,536; an existing store keeps its own; SQLite's default is 4,096). Why: a sink batch inserts ~40 index rows an article at random places and each commit writes every page it dirtied to the WAL (a few system calls a page): bigger pages, fewer of them. Paired, two fresh stores, the same 16,000 backfill-farm articles in batches of 500: 1.055 -> 0.922 ms of sink CPU an article (second half 1.235 -> 1.026); batches of 32: 2.15 -> 2.09; batches of 2 (a trickle, the sink mostly idle): 6.6 -> 7.0")
    database_sqlite_wal_autocheckpoint_kib: int = Field(40_960, ge=0, description="SQLite: WAL size after which a commit checkpoints it into the database (PRAGMA wal_autocheckpoint, in pages of the store's size, on every connection of every process, so that whoever commits shares the checkpoints by what it writes; SQLite's default is 1,000 pages, 4 MB at 4 KiB; 0 = never). Why: a sink batch of 500 dirties thousands of index pages at random places (5,000-10,000 of 4 KiB at 10,000-20,000 stored articles), so at 4 MB every batch checkpointed all it wrote; at 40 MB a page a few batches rewrite is copied once. Paired, two stores, 20,000 backfill-farm articles in batches of 500, 4 KiB pages: 1.42 -> 1.32 ms of sink CPU an article (second half 1.72 -> 1.56). The WAL file keeps its largest size")
    database_write_attempts: int = Field(4, ge=1, description="times a short write (a feed's state) is tried "
                                         "while the store only reports being busy (SQLite locked, a deadlock)")

    # --- API ---------------------------------------------------------------
    api_host: str = "127.0.0.1"
    api_port: int = Field(8000, ge=1, le=65535)
    api_gzip_min_bytes: int = Field(1000, ge=0, description="responses at least this large are gzip-compressed "
                                    "for clients that accept it")
    public_url: str = ""
    admin_token: str = ""
    read_tokens: CommaList = Field(default_factory=list)
    dashboard_public: bool = Field(True, description="read-only dashboard without a token")
    dashboard_page_size: int = Field(100, ge=1, le=1000, description="feeds per page of the dashboard's feed table")
    dashboard_counts_max_age_s: float = Field(5.0, ge=0, description="how old the feed table's status counts may be (a scan of every feed; this process's own feed changes show at once); 0 = count on every page")
    dashboard_sample_interval_s: float = Field(30.0, ge=0, description="how often the API samples every service's metrics for the dashboard charts; 0 = only while a page is open")
    dashboard_history_s: float = Field(86400.0, ge=60, description="how much chart history the store keeps")
    stories_default_limit: int = Field(20, ge=1)
    stories_max_limit: int = Field(200, ge=1)
    rate_limit_per_minute: int = Field(0, ge=0, description="per-client requests/min on public endpoints; 0 = off")
    sse_keepalive_s: float = Field(15.0, gt=0)
    sse_poll_interval_s: float = Field(0.5, gt=0)

    # --- Ingest ------------------------------------------------------------
    feeds_opml: Path = ROOT / "deploy" / "feeds.opml"
    opml_max_bytes: int = Field(32 * 1024 * 1024, ge=1024, description="largest OPML file an import takes "
                                "(API and dashboard): 100,000 feeds are about 15 MB")
    feed_allowed_hosts: CommaList = Field(default_factory=list)
    user_agent: str = "Wirewatch/0.1 (+{contact})"
    contact_url: str = "https://github.com/wirewatch/wirewatch"
    fetch_connect_timeout_s: float = Field(10.0, gt=0)
    fetch_read_timeout_s: float = Field(20.0, gt=0)
    fetch_total_timeout_s: float = Field(60.0, gt=0)
    fetch_max_body_bytes: int = Field(15 * 1024 * 1024, ge=1024)
    fetch_max_decompressed_bytes: int = Field(20 * 1024 * 1024, ge=1024, description="gzip/deflate/brotli output cap")
    fetch_max_redirects: int = Field(5, ge=0)
    fetch_global_concurrency: int = Field(64, ge=1)
    fetch_per_host_concurrency: int = Field(2, ge=1)
    fetch_per_host_min_spacing_s: float = Field(1.0, ge=0)
    fetch_unconditional_every_s: float = Field(12 * 3600, gt=0)
    poll_min_interval_s: float = Field(60.0, gt=0)
    poll_max_interval_s: float = Field(24 * 3600, gt=0)
    poll_default_interval_s: float = Field(900.0, gt=0)
    poll_error_max_interval_s: float = Field(6 * 3600, gt=0)
    poll_store_error_pause_s: float = Field(30.0, ge=0, description="a poll whose outcome could not be stored "
                                          "(the store stayed busy) waits this long before the feed is fetched again")
    poll_jitter_fraction: float = Field(0.1, ge=0, le=0.5)
    feed_state_linger_ms: float = Field(25.0, ge=0, description="a finished poll's feed-state write waits this "
                                        "long for others to share its transaction (ingest.feed_state)")
    feed_state_max_batch: int = Field(500, ge=1, description="feed-state writes stored in one transaction at most")
    scheduler_tick_s: float = Field(1.0, gt=0)
    scheduler_busy_tick_s: float = Field(0.05, gt=0, description="after a tick that started polls (more may be "
                                         "due), the next comes this soon")
    scheduler_first_poll_min_share: float = Field(
        0.1, gt=0, le=1, description="feeds already on a schedule are polled before never-fetched ones (an "
        "import's first pass must not make them late); first polls still get at least this share of the "
        "poll starts while both wait, so a full schedule cannot starve new feeds")
    dedup_title_window_s: float = Field(48 * 3600, ge=0)
    max_entries_per_feed: int = Field(500, ge=1)
    websub_lease_s: int = Field(86_400, ge=60)
    websub_renew_before_s: int = Field(3_600, ge=10)
    websub_maintain_interval_s: float = Field(60.0, gt=0, description="how often due subscriptions and renewals "
                                              "are sent (a newly discovered hub waits at most this long)")

    malloc_arena_max: int = Field(2, ge=0, description="glibc malloc arenas per service process (0 = glibc's "
                                  "default of 8 per core); fewer arenas, less scattered free memory")
    memory_trim_interval_s: float = Field(60.0, ge=0, description="how often each service hands freed heap back "
                                          "to the OS (glibc malloc_trim); 0 = never")

    # --- Enrich ------------------------------------------------------------
    spacy_model: str = "en_core_web_sm"
    enrich_ner_languages: CommaList = Field(default_factory=lambda: ["fr"], description="languages besides "
                                            "English whose spaCy NER pipeline enrich loads (at start, see "
                                            "Enricher.warm), of those shipped (enrich.pipeline.NER_MODELS). Each "
                                            "costs about 60 MB and 4 s of start-up (French's tokenizer rules); "
                                            "without one, that language's entities come from the gazetteer and "
                                            "its rules, as in every other language. Empty = English only")
    sink_sqlite_cache_kib: int = Field(65_536, ge=2_000, description="SQLite page cache of the store sink's connection, KiB (PRAGMA cache_size; SQLite's default is 2,000). A batch writes about a thousand index rows at random places (32 MinHash band keys an article); with the default cache SQLite spilled dirty pages to the WAL mid-transaction and read the index back (44 ms of a 32-article batch at 3,000 stored articles). It grows only as pages are used, and only the sink's connection gets it")
    sink_max_batch: int = Field(500, ge=1, le=10_000, description="records the store sink takes per poll, from all its partitions, and writes in one transaction. A backlog drains in batches this big (each batch pays one commit, one candidate read and one index update: 64 records split over 3 partitions stored ~400 articles/s, 500 stored ~800-1,000 on 2 cores); a trickle still goes out record by record, since a poll returns what has arrived. Bigger holds the store's write lock longer (about 1 ms per article)")
    sink_backlog_age_s: float = Field(5.0, ge=0, description="a poll whose newest article was fetched longer ago than this is a backlog (a backfill, a replay, enrich catching up): the store sink then waits up to sink_backlog_linger_ms for more records, up to sink_max_batch, before it writes. Why: behind a backlogged enrich the sink is handed one enrich transaction at a time (about 32 records), and a batch of 32 cost 2.1-2.3 ms of sink CPU an article against 1.0 at 500 (SQLite, 10,000 backfill articles; the commit, its WAL pages and the checkpoint are paid per batch). A fresh article never waits: a poll that holds one is written at once")
    sink_backlog_linger_ms: int = Field(2_000, ge=0, le=60_000, description="how long the store sink keeps polling to fill a backlog batch (see sink_backlog_age_s); 0 = never wait")
    enrich_batch_size: int = Field(32, ge=1)
    enrich_poll_records: int = Field(128, ge=1, le=10_000, description="raw records an enrich worker takes per poll and produces in one Kafka transaction (spaCy still runs them enrich_batch_size at a time, so what each article gets is unchanged). Why: each transaction pays its begin, partition and offset registration and commit round trips; the worker loop outside enrichment cost 0.23-0.26 ms of CPU a record at 32 a poll and 0.15 at 128 (real Kafka, /tmp/h_sink/enrichloop.py), and the store sink is handed bigger polls. A trickle still goes out as it comes: a poll returns what has arrived")
    enrich_max_chars: int = Field(20_000, ge=100, description="text beyond this is not analysed")
    topic_min_confidence: float = Field(0.5, ge=0, le=1)
    cluster_window_s: float = Field(72 * 3600, ge=0, description="articles further apart in publication time "
                                    "never join one story (follow-ups a day or two later still do)")
    cluster_similarity: float = Field(0.8, ge=0, le=1, description="probability of one event at which two "
                                      "articles link on their own (api/sink/linking.py)")
    cluster_supported_similarity: float = Field(0.8, ge=0, le=1, description="probability at which two articles "
                                                "link when a third links to both")
    cluster_near_duplicate: float = Field(0.5, ge=0, le=1, description="MinHash Jaccard at which two texts are "
                                          "copies of one report and always one story")
    cluster_max_candidates: int = Field(100, ge=1, description="articles a new article is compared with to pick "
                                        "its story: those sharing the most LSH band keys")
    cluster_bucket_cap: int = Field(25, ge=1, description="newest articles read per shared band key: bounds the "
                                    "lookup when boilerplate or a syndicated report fills a bucket")

    # --- Webhooks ----------------------------------------------------------
    digest_check_interval_s: float = Field(60.0, gt=0, description="how often the dispatcher looks for ended "
                                           "digest periods (hourly/daily subscriptions)")
    digest_feed_periods: int = Field(14, ge=1, le=366, description="ended periods a digest feed "
                                     "(/digests/{hourly|daily}.rss|atom|json) lists: two weeks of daily digests")
    story_update_min_interval_s: float = Field(300.0, ge=0, description="a subscriber gets story.updated for one "
                                               "story at most this often (the latest version; never one per article)")
    webhook_allowed_hosts: CommaList = Field(default_factory=list)
    webhook_timeout_s: float = Field(10.0, gt=0)
    webhook_retry_schedule_s: CommaList = Field(
        default_factory=lambda: ["5", "300", "1800", "7200", "18000", "36000", "36000", "36000", "36000",
                                 "36000", "36000"],
        description="delay before each retry; the last failure dead-letters (default totals ~3 days)",
    )
    webhook_per_endpoint_concurrency: int = Field(2, ge=1)
    webhook_global_concurrency: int = Field(32, ge=1)
    webhook_poll_interval_s: float = Field(0.2, gt=0)
    webhook_response_excerpt_bytes: int = Field(512, ge=0)
    webhook_max_payload_bytes: int = Field(20_000, ge=1_000)

    # --- Tracker -----------------------------------------------------------
    group_tracker: str = "wirewatch-tracker"
    tracker_expiry_interval_s: float = Field(60.0, gt=0, description="how often the tracker moves ceasefires whose "
                                             "term ran out to expired (with a history entry and an event)")
    tracker_expiry_grace_s: float = Field(86_400.0, ge=0, description="a term counts as run out this long after "
                                          "its end with no extension reported (reports of extensions lag)")
    tracker_store_wait_s: float = Field(0.1, gt=0, description="the tracker's pause between looks for an article "
                                        "the sink has not stored yet (it needs the article's story)")

    # --- Runtime -----------------------------------------------------------
    log_level: str = "INFO"
    log_json: bool = True
    metrics_port: int = Field(0, ge=0, le=65535, description="per-worker /metrics port; 0 = none")
    heartbeat_interval_s: float = Field(5.0, gt=0)

    _split = field_validator(
        "read_tokens", "feed_allowed_hosts", "webhook_allowed_hosts", "webhook_retry_schedule_s",
        "enrich_ner_languages", mode="before"
    )(_split_commas)

    @field_validator("feed_allowed_hosts", "webhook_allowed_hosts")
    @classmethod
    def _check_hosts(cls, hosts: list[str]) -> list[str]:
        for host in hosts:
            if "/" in host:
                ipaddress.ip_network(host, strict=False)  # raises a clear ValueError
        return [h.lower() for h in hosts]

    @field_validator("database_sqlite_page_size")
    @classmethod
    def _check_page_size(cls, size: int) -> int:
        # SQLite silently ignores any other value, so a typo would leave the 4 KiB default unnoticed
        if not 512 <= size <= 65_536 or size & (size - 1):
            raise ValueError("database_sqlite_page_size must be a power of two from 512 to 65,536 bytes")
        return size

    @field_validator("webhook_retry_schedule_s")
    @classmethod
    def _check_schedule(cls, values: list[str]) -> list[str]:
        for v in values:
            if float(v) < 0:
                raise ValueError("retry delays must be >= 0 seconds")
        return values

    @model_validator(mode="after")
    def _refuse_unsafe_defaults(self) -> Settings:
        if self.env == "production" and len(self.admin_token) < 16:
            raise ValueError("WIREWATCH_ADMIN_TOKEN must be set (16+ chars) when WIREWATCH_ENV=production")
        if self.poll_min_interval_s > self.poll_max_interval_s:
            raise ValueError("WIREWATCH_POLL_MIN_INTERVAL_S must be <= WIREWATCH_POLL_MAX_INTERVAL_S")
        if self.stories_default_limit > self.stories_max_limit:
            raise ValueError("WIREWATCH_STORIES_DEFAULT_LIMIT must be <= WIREWATCH_STORIES_MAX_LIMIT")
        return self

    @property
    def db_url(self) -> str:
        """The SQLAlchemy async URL: the configured one, else embedded SQLite under var/."""
        if self.database_url:
            url = self.database_url
            if url.startswith("postgresql://") or url.startswith("postgres://"):
                url = "postgresql+asyncpg://" + url.split("://", 1)[1]
            return url
        return f"sqlite+aiosqlite:///{self.var_dir / 'wirewatch.db'}"

    @property
    def retry_delays(self) -> list[float]:
        return [float(v) for v in self.webhook_retry_schedule_s]

    @property
    def ua(self) -> str:
        return self.user_agent.format(contact=self.contact_url)

    @cached_property
    def api_base(self) -> str:
        return self.public_url.rstrip("/") or f"http://{self.api_host}:{self.api_port}"
