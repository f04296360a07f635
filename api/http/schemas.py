"""HTTP shapes of the stories and webhooks API (kept apart from ORM rows and Kafka events)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, Json, TypeAdapter

from services.db.models import Article, Delivery, DeliveryAttempt, Story, Webhook
from services.subscriptions import (
    MAX_VALUES,
    CeasefireScopeName,
    DigestPeriod,
    EventType,
    LangCode,
    SubscriptionRules,
    TopicName,
    Value,
)
from services.subscriptions import Query as SubscriptionQuery
from services.vocabulary import LIFECYCLE_STATES, LifecycleState

LIFECYCLE = LIFECYCLE_STATES
Lifecycle = LifecycleState


class EvidenceOut(BaseModel):
    sentence: str
    phrase: str


class TopicOut(BaseModel):
    name: str
    confidence: float
    evidence: list[EvidenceOut] = Field(default_factory=list)


class MentionOut(BaseModel):
    text: str
    start: int
    end: int


class EntityOut(BaseModel):
    """A linked entity. ``mentions`` is the count; ``surface`` the distinct forms seen (a story gathers
    them from all its articles, in every language and script: "Путин", "بوتين", "Putin"); ``spans``, on
    an article, where each mention is (offsets in the title, two newlines, then the text)."""

    id: str
    name: str
    type: str
    mentions: int = 1
    in_title: bool = False
    surface: list[str] = Field(default_factory=list)
    spans: list[MentionOut] = Field(default_factory=list)


class StoryOut(BaseModel):
    id: str
    headline: str
    url: str
    summary: str
    lang: str | None
    state: str | None
    topics: list[TopicOut]
    entities: list[EntityOut]
    sources: list[str]
    languages: list[str] = Field(default_factory=list, description="languages of the story's articles")
    article_count: int
    published_at: datetime
    first_seen: datetime
    last_seen: datetime
    version: int

    @classmethod
    def of(cls, s: Story) -> StoryOut:
        return cls(
            id=s.id, headline=s.headline, url=s.url, summary=s.summary, lang=s.lang, state=s.state,
            topics=[TopicOut.model_validate(t) for t in s.topics],
            entities=[EntityOut.model_validate(e) for e in s.entities],
            sources=list(s.sources), languages=list(s.languages or []), article_count=s.article_count, published_at=s.published_at,
            first_seen=s.first_seen, last_seen=s.last_seen, version=s.version,
        )


class ArticleOut(BaseModel):
    id: str
    url: str
    title: str
    summary: str
    source: str
    lang: str | None
    published_at: datetime
    fetched_at: datetime
    stored_at: datetime
    state: str | None
    topics: list[TopicOut]
    entities: list[EntityOut]

    @classmethod
    def of(cls, a: Article) -> ArticleOut:
        return cls(
            id=a.id, url=a.link or a.url, title=a.title, summary=a.summary, source=a.source, lang=a.lang,
            published_at=a.published_at, fetched_at=a.fetched_at, stored_at=a.stored_at, state=a.state,
            topics=[TopicOut.model_validate(t) for t in a.topics],
            entities=[EntityOut.model_validate(e) for e in a.entities],
        )


class StoryRow(StoryOut):
    """A StoryOut read straight from a row of services.db.stories.PAGE_COLUMNS_JSON_TEXT, whose JSON
    columns arrive as text: pydantic parses and validates them in one pass, at half the cost of json.loads
    and then validation."""

    topics: Json[list[TopicOut]]
    entities: Json[list[EntityOut]]
    sources: Json[list[str]]
    languages: Json[list[str]]


# A page validated from plain row dicts in one call, not one call (or one ORM object) per story.
STORY_ROWS: TypeAdapter[list[StoryRow]] = TypeAdapter(list[StoryRow])


class StoryDetail(StoryOut):
    articles: list[ArticleOut]


class StoryPage(BaseModel):
    items: list[StoryOut]
    next_cursor: str | None = Field(None, description="pass as ?cursor= to get the next (older) page")


MAX_Q = 500


class StoryQuery(BaseModel):
    """The filters shared by /stories, its feeds and its stream.

    Validated in one call from the query string and documented from this model (api.http.routes_stories),
    instead of as one FastAPI parameter each: FastAPI's per-parameter work was most of a cached request.
    """

    topic: list[str] | None = Field(None, description="topic name; repeat for AND")
    entity: list[str] | None = Field(None, description="canonical entity id or name; repeat for AND")
    lang: str | None = Field(None, pattern=r"^[a-z]{2,3}$", description="ISO 639-1 language code")
    state: list[Lifecycle] | None = Field(None, description="ceasefire lifecycle state")
    source: str | None = Field(None, max_length=512)
    feed: int | None = Field(None, ge=1, le=2**31 - 1, description="feed id")
    since: datetime | None = Field(None, description="ISO 8601; stories published at or after")
    until: datetime | None = Field(None, description="ISO 8601; stories published before")
    min_confidence: float | None = Field(None, ge=0, le=1)
    q: str | None = Field(None, max_length=MAX_Q, description="full-text search: every word must appear "
                          "in the headline, summary or an article title")


class PageQuery(StoryQuery):
    limit: int | None = Field(None, description="page size (capped by WIREWATCH_STORIES_MAX_LIMIT)")
    cursor: str | None = Field(None, max_length=512, description="next_cursor of the previous page")


class StreamQuery(StoryQuery):
    after: str | None = Field(None, max_length=200, description="resume position when a header cannot be set "
                              "(same as Last-Event-ID)")


class ParamError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """Any other error: what went wrong, in a sentence."""

    detail: str


class ValidationProblem(BaseModel):
    """The 422 body: which parameter, and what is wrong with it."""

    detail: list[ParamError]


class WebhookFilters(SubscriptionRules):
    """What a subscription receives (services.subscriptions: validated as /stories validates its query)."""


class WebhookIn(WebhookFilters):
    url: AnyHttpUrl
    description: str = Field("", max_length=1000)
    enabled: bool = True


class WebhookPatch(BaseModel):
    """Only the fields given change; a rule given replaces the stored one, validated as on creation."""

    model_config = ConfigDict(extra="forbid")

    url: AnyHttpUrl | None = None
    description: str | None = Field(None, max_length=1000)
    enabled: bool | None = None
    topics: list[TopicName] | None = Field(None, max_length=MAX_VALUES)
    entities: list[Value] | None = Field(None, max_length=MAX_VALUES)
    sources: list[Value] | None = Field(None, max_length=MAX_VALUES)
    languages: list[LangCode] | None = Field(None, max_length=MAX_VALUES)
    min_confidence: float | None = Field(None, ge=0, le=1)
    states: list[Lifecycle] | None = None
    q: SubscriptionQuery | None = None
    events: list[EventType] | None = None
    parties: list[Value] | None = Field(None, max_length=MAX_VALUES)
    scopes: list[CeasefireScopeName] | None = None
    digest: DigestPeriod | None = None


class WebhookOut(BaseModel):
    id: str
    url: str
    description: str
    enabled: bool
    disabled_reason: str | None
    filters: dict[str, Any]
    events: list[str] = Field(default_factory=list, description="event types it receives (empty: story events)")
    parties: list[str] = Field(default_factory=list)
    scopes: list[str] = Field(default_factory=list)
    created_at: datetime

    @classmethod
    def of(cls, w: Webhook) -> WebhookOut:
        f = w.filters or {}
        return cls(id=w.id, url=w.url, description=w.description, enabled=w.enabled,
                   disabled_reason=w.disabled_reason, filters=f, events=list(f.get("events") or []),
                   parties=list(f.get("parties") or []), scopes=list(f.get("scopes") or []), created_at=w.created_at)


class WebhookCreated(WebhookOut):
    secret: str = Field(description="whsec_… signing secret; shown only on creation and rotation")


class AttemptOut(BaseModel):
    attempt: int
    at: datetime
    status_code: int | None
    latency_ms: float | None
    error: str | None
    response_excerpt: str | None

    @classmethod
    def of(cls, a: DeliveryAttempt) -> AttemptOut:
        return cls(attempt=a.attempt, at=a.at, status_code=a.status_code, latency_ms=a.latency_ms,
                   error=a.error, response_excerpt=a.response_excerpt)


class DeliveryOut(BaseModel):
    id: str
    story_id: str
    event_type: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    last_latency_ms: float | None
    response_excerpt: str | None
    created_at: datetime
    delivered_at: datetime | None
    log: list[AttemptOut] = Field(default_factory=list)

    @classmethod
    def of(cls, d: Delivery, log: list[DeliveryAttempt]) -> DeliveryOut:
        return cls(id=d.id, story_id=d.story_id, event_type=d.event_type, status=d.status, attempts=d.attempts,
                   next_attempt_at=d.next_attempt_at if d.status == "pending" else None,
                   last_status_code=d.last_status_code, last_error=d.last_error,
                   last_latency_ms=d.last_latency_ms, response_excerpt=d.response_excerpt,
                   created_at=d.created_at, delivered_at=d.delivered_at, log=[AttemptOut.of(a) for a in log])


class ReplayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    delivery_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None

