"""ORM rows: what the store keeps. Alembic migrations under services/db/migrations own the schema.

These are storage shapes only; events (services.events) and HTTP schemas
(api.http.schemas) are converted at the edges.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Computed,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.clock import utcnow


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)



class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class Feed(Base):
    """A polled source and everything the scheduler and the dashboard need to know about it."""

    __tablename__ = "feeds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    title: Mapped[str] = mapped_column(String(512), default="")
    site_url: Mapped[str] = mapped_column(String(2048), default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    interval_override_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    current_interval_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    etag: Mapped[str | None] = mapped_column(String(512), nullable=True)
    last_modified: Mapped[str | None] = mapped_column(String(128), nullable=True)
    body_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    last_unconditional_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_fetch_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_success_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_error_class: Mapped[str | None] = mapped_column(String(32), nullable=True)
    last_error_at: Mapped[datetime | None] = mapped_column(nullable=True)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    next_check_at: Mapped[datetime | None] = mapped_column(nullable=True, index=True)
    items_total: Mapped[int] = mapped_column(Integer, default=0)
    items_per_day: Mapped[float | None] = mapped_column(Float, nullable=True)
    hub_url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    websub_topic: Mapped[str | None] = mapped_column(String(2048), nullable=True)  # the hub's name for it; None = url
    websub_secret: Mapped[str | None] = mapped_column(String(128), nullable=True)
    websub_lease_until: Mapped[datetime | None] = mapped_column(nullable=True)
    websub_state: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # the dashboard's status, computed by the store from the row (migration 0010 has the per-dialect DDL and
    # the index in the table's default order): 0 failing, 1 pending, 2 ok, 3 disabled
    status_rank: Mapped[int] = mapped_column(Integer, Computed(
        "CASE WHEN enabled IS FALSE THEN 3 WHEN consecutive_failures > 0 THEN 0 "
        "WHEN last_success_at IS NULL THEN 1 ELSE 2 END"), deferred=True)


class FeedTag(Base):
    """SQLite only (migration 0014): one row per tag of a feed, so ``GET /feeds?tag=`` reads a range of the
    primary key instead of every feed's JSON. Triggers on ``feeds`` write it; never write it yourself.
    ``Feed.tags`` stays the truth (PostgreSQL answers from its GIN index of migration 0012)."""

    __tablename__ = "feed_tags"

    tag: Mapped[str] = mapped_column(String, primary_key=True)
    feed_id: Mapped[int] = mapped_column(Integer, primary_key=True)


class SeenArticle(Base):
    """What ingest already published, so a re-poll or a restart never republishes."""

    __tablename__ = "seen_articles"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    feed_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    title_key: Mapped[str] = mapped_column(String(64), default="", index=True)
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)


class Article(Base):
    """One enriched article as the sink stored it (idempotent upsert on id)."""

    __tablename__ = "articles"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    story_id: Mapped[str] = mapped_column(String(64), index=True)
    feed_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    source: Mapped[str] = mapped_column(String(512), default="")
    url: Mapped[str] = mapped_column(String(2048), default="")
    link: Mapped[str] = mapped_column(String(2048), default="")
    title: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    content: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(512), default="")
    lang: Mapped[str | None] = mapped_column(String(16), nullable=True, index=True)
    published_at: Mapped[datetime] = mapped_column(index=True)
    fetched_at: Mapped[datetime] = mapped_column()
    enriched_at: Mapped[datetime] = mapped_column()
    stored_at: Mapped[datetime] = mapped_column(default=utcnow)
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    state: Mapped[str | None] = mapped_column(String(16), nullable=True)
    topics: Mapped[list[Any]] = mapped_column(JSON, default=list)
    entities: Mapped[list[Any]] = mapped_column(JSON, default=list)
    taxonomy_version: Mapped[str] = mapped_column(String(32), default="")
    version: Mapped[int] = mapped_column(Integer, default=1)


class Story(Base):
    """A cluster of articles about one event; the unit /stories and webhooks speak of."""

    __tablename__ = "stories"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, index=True, default=0)
    headline: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str] = mapped_column(String(2048), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    lang: Mapped[str | None] = mapped_column(String(16), nullable=True, index=True)
    state: Mapped[str | None] = mapped_column(String(16), nullable=True, index=True)
    topics: Mapped[list[Any]] = mapped_column(JSON, default=list)
    entities: Mapped[list[Any]] = mapped_column(JSON, default=list)
    sources: Mapped[list[Any]] = mapped_column(JSON, default=list)
    languages: Mapped[list[Any]] = mapped_column(JSON, default=list, server_default="[]")
    article_count: Mapped[int] = mapped_column(Integer, default=1)
    published_at: Mapped[datetime] = mapped_column(index=True)
    first_seen: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __table_args__ = (Index("ix_stories_first_seen_id", "first_seen", "id"),)


class StoryTopic(Base):
    """Story -> topic with its best confidence; the index behind ?topic= filters."""

    __tablename__ = "story_topics"

    story_id: Mapped[str] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True)
    topic: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    confidence: Mapped[float] = mapped_column(Float, default=0.0)


class StoryEntity(Base):
    """Story -> canonical entity; the index behind ?entity= filters and /entities counts."""

    __tablename__ = "story_entities"

    story_id: Mapped[str] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True)
    entity_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    name: Mapped[str] = mapped_column(String(256), index=True)
    type: Mapped[str] = mapped_column(String(16))
    mentions: Mapped[int] = mapped_column(Integer, default=1)


class Webhook(Base):
    """A subscriber endpoint with its filters and signing secret(s)."""

    __tablename__ = "webhooks"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    url: Mapped[str] = mapped_column(String(2048))
    description: Mapped[str] = mapped_column(Text, default="")
    secret: Mapped[str] = mapped_column(String(128))
    previous_secret: Mapped[str | None] = mapped_column(String(128), nullable=True)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(nullable=True)
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Delivery(Base):
    """One event for one subscriber; its id is the stable `webhook-id` header across retries."""

    __tablename__ = "deliveries"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    webhook_id: Mapped[str] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"), index=True)
    story_id: Mapped[str] = mapped_column(String(64), index=True)
    event_type: Mapped[str] = mapped_column(String(32))
    event_key: Mapped[str] = mapped_column(String(160))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # When it was first due to go out: story.updated throttling counts from here (migration 0006).
    scheduled_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_latency_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    response_excerpt: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    delivered_at: Mapped[datetime | None] = mapped_column(nullable=True)

    __table_args__ = (UniqueConstraint("webhook_id", "event_key", name="uq_deliveries_event"),)


class DeliveryAttempt(Base):
    """The log behind GET /webhooks/{id}/deliveries: one row per HTTP attempt."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    latency_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    response_excerpt: Mapped[str | None] = mapped_column(Text, nullable=True)


class Heartbeat(Base):
    """Each running service instance says it is alive, and where its metrics are."""

    __tablename__ = "heartbeats"

    service: Mapped[str] = mapped_column(String(32), primary_key=True)
    instance: Mapped[str] = mapped_column(String(128), primary_key=True)
    pid: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)
    metrics_url: Mapped[str | None] = mapped_column(String(512), nullable=True)
    info: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


# --- Ceasefire tracker (migration 0007) ----------------------------------------------------------


class Ceasefire(Base):
    """One ceasefire record followed over time (api/tracker builds it; services.db.ceasefires stores it)."""

    __tablename__ = "ceasefires"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(Text, default="")
    scope: Mapped[str] = mapped_column(String(32), index=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    unilateral: Mapped[bool] = mapped_column(Boolean, default=False)
    parties: Mapped[list[Any]] = mapped_column(JSON, default=list)
    mediators: Mapped[list[Any]] = mapped_column(JSON, default=list)
    duration_days: Mapped[float | None] = mapped_column(Float, nullable=True)
    effective_from: Mapped[datetime | None] = mapped_column(nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(nullable=True, index=True)
    places: Mapped[list[Any]] = mapped_column(JSON, default=list)
    languages: Mapped[list[Any]] = mapped_column(JSON, default=list)
    terms: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # the merge's own bookkeeping (until, …)
    article_count: Mapped[int] = mapped_column(Integer, default=0)
    first_reported: Mapped[datetime] = mapped_column(index=True)
    last_reported: Mapped[datetime] = mapped_column(index=True)
    state_changed_at: Mapped[datetime] = mapped_column()
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    __table_args__ = (Index("ix_ceasefires_last_reported_id", "last_reported", "id"),)


class CeasefireParty(Base):
    """Ceasefire -> entity as a party or a mediator; the index behind ?party= and subscription filters."""

    __tablename__ = "ceasefire_parties"

    ceasefire_id: Mapped[str] = mapped_column(ForeignKey("ceasefires.id", ondelete="CASCADE"), primary_key=True)
    entity_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(256), index=True)


class CeasefireChange(Base):
    """One state change of a ceasefire: the history, the feeds' entries and the live stream's events."""

    __tablename__ = "ceasefire_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ceasefire_id: Mapped[str] = mapped_column(ForeignKey("ceasefires.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(160))
    state: Mapped[str] = mapped_column(String(16))
    previous_state: Mapped[str | None] = mapped_column(String(16), nullable=True)
    at: Mapped[datetime] = mapped_column()
    article_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    story_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    evidence: Mapped[str | None] = mapped_column(Text, nullable=True)
    lang: Mapped[str | None] = mapped_column(String(16), nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    __table_args__ = (UniqueConstraint("ceasefire_id", "key", name="uq_ceasefire_history_key"),
                      UniqueConstraint("ceasefire_id", "seq", name="uq_ceasefire_history_seq"))


class CeasefireArticle(Base):
    """Ceasefire -> an article that reports it, with the story the article belongs to."""

    __tablename__ = "ceasefire_articles"

    ceasefire_id: Mapped[str] = mapped_column(ForeignKey("ceasefires.id", ondelete="CASCADE"), primary_key=True)
    article_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    story_id: Mapped[str] = mapped_column(String(64), index=True)
    published_at: Mapped[datetime] = mapped_column()
    lang: Mapped[str | None] = mapped_column(String(16), nullable=True)


class TrackedArticle(Base):
    """An article the tracker has folded in, with its mentions: replays skip it, a rebuild replays these."""

    __tablename__ = "tracker_articles"

    article_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    story_id: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(index=True)
    lang: Mapped[str | None] = mapped_column(String(16), nullable=True)
    mentions: Mapped[list[Any]] = mapped_column(JSON, default=list)
    processed_at: Mapped[datetime] = mapped_column(default=utcnow)
