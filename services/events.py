"""Versioned event schemas on Kafka: JSON on the wire, key = the article id.

Three shapes are kept apart (ORM rows, events, HTTP schemas); these are the
events. A consumer refuses a schema it does not know rather than guessing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.clock import utcnow
from services.vocabulary import LifecycleState

RAW_SCHEMA: Final = "wirewatch.article.raw/1"
ENRICHED_SCHEMA: Final = "wirewatch.article.enriched/1"

EntityType = Literal["PERSON", "ORG", "GPE", "LOC", "NORP"]



class _Event(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=False)

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()


class RawArticle(_Event):
    """An article as ingest saw it: normalised, plain text, UTC dates."""

    schema_: Literal["wirewatch.article.raw/1"] = Field(default=RAW_SCHEMA, alias="schema")
    id: str
    feed_id: int | None = None
    feed_url: str = ""
    source: str = ""
    url: str = ""
    link: str = ""
    guid: str = ""
    title: str = ""
    summary: str = ""
    content: str = ""
    author: str = ""
    lang: str | None = None
    published_at: datetime
    fetched_at: datetime = Field(default_factory=utcnow)
    content_hash: str = ""
    is_update: bool = False
    via: Literal["poll", "push", "replay", "cli"] = "poll"

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    @property
    def text(self) -> str:
        """The body used for analysis: full content when the feed had it, else the summary."""
        return self.content or self.summary

    @classmethod
    def from_bytes(cls, data: bytes) -> RawArticle:
        return cls.model_validate_json(data)

    def to_bytes(self) -> bytes:
        return self.model_dump_json(by_alias=True).encode()


class Evidence(BaseModel):
    sentence: str
    phrase: str


class TopicTag(BaseModel):
    name: str
    confidence: float = Field(ge=0, le=1)
    evidence: list[Evidence] = Field(default_factory=list)


class EntityMention(BaseModel):
    id: str = Field(description="canonical id: a Wikidata QID where known, else 'ww:<slug>'")
    name: str = Field(description="canonical name")
    type: EntityType
    mentions: int = 1
    in_title: bool = False
    surface: list[str] = Field(default_factory=list, description="forms seen in the text")


class EnrichedArticle(_Event):
    """A raw article plus what enrichment found; the store and webhooks read only this."""

    schema_: Literal["wirewatch.article.enriched/1"] = Field(default=ENRICHED_SCHEMA, alias="schema")
    article: RawArticle
    lang: str | None = None
    lang_supported: bool = True
    entities: list[EntityMention] = Field(default_factory=list)
    topics: list[TopicTag] = Field(default_factory=list)
    state: LifecycleState | None = None
    states: list[LifecycleState] = Field(default_factory=list, description="every lifecycle state detected")
    story_id: str = ""
    cluster_bands: list[str] = Field(default_factory=list, description="MinHash LSH band keys for clustering")
    minhash: list[int] = Field(default_factory=list, description="MinHash signature (for Jaccard estimates)")
    terms: dict[str, float] = Field(default_factory=dict,
                                    description="salient words (outside entity mentions) with their weights")
    numbers: list[str] = Field(default_factory=list, description='numbers the text reports, as "n:<value>"')
    names: list[str] = Field(default_factory=list, description='capitalised words no entity covers, as "nm:<plain>"')
    taxonomy_version: str = ""
    enriched_at: datetime = Field(default_factory=utcnow)

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    @property
    def id(self) -> str:
        return self.article.id

    @classmethod
    def from_bytes(cls, data: bytes) -> EnrichedArticle:
        return cls.model_validate_json(data)

    def to_bytes(self) -> bytes:
        return self.model_dump_json(by_alias=True).encode()
