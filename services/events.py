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


class MentionSpan(BaseModel):
    """One place an entity is named: the text as written and its character offsets."""

    text: str
    start: int = Field(description="offset in the enriched document: the title, two newlines, then the body "
                                   "(just the body when there is no title)")
    end: int


MAX_MENTION_SPANS: Final = 20
"""Spans kept per entity (the count in ``mentions`` goes on; the stored JSON stays small)."""


class EntityMention(BaseModel):
    """A linked entity of one article. ``mentions`` stays the count (stories add counts up); the surface
    forms seen are ``surface`` (distinct texts, in every script) and ``spans`` (each with offsets)."""

    id: str = Field(description="canonical id: a Wikidata QID where known, else 'ww:<slug>'")
    name: str = Field(description="canonical name")
    type: EntityType
    mentions: int = Field(default=1, description="how many times the entity is named")
    in_title: bool = False
    surface: list[str] = Field(default_factory=list, description="distinct forms seen in the text")
    spans: list[MentionSpan] = Field(default_factory=list,
                                     description=f"where it is named, first {MAX_MENTION_SPANS}, in text order")


CeasefireScope = Literal["full", "energy_infrastructure", "maritime", "humanitarian", "local", "holiday",
                         "unilateral"]
CeasefireCueState = Literal["proposed", "agreed", "in_force", "rejected", "violated", "extended", "collapsed",
                            "expired", "ended"]


class PartyRef(BaseModel):
    """A warring side or a mediator of a ceasefire, as a linked entity."""

    id: str
    name: str


class CeasefireCue(BaseModel):
    """One lifecycle state a ceasefire mention reports, with the sentence that says so.

    ``ended`` means the text says it ended without saying whether its term ran out (the tracker decides
    between ``expired`` and ``collapsed`` from the record's terms); ``implied`` marks a state read from a
    declaration rather than stated (a truce declared by one side with no start time is in force).
    """

    state: CeasefireCueState
    evidence: str
    implied: bool = False


class CeasefireMention(BaseModel):
    """One ceasefire an article reports (enrich/ceasefires.py); the tracker merges mentions into records."""

    parties: list[PartyRef] = Field(default_factory=list, description="warring sides, declaring side first")
    mediators: list[PartyRef] = Field(default_factory=list)
    scope: CeasefireScope | None = Field(None, description="None: the text does not say (a bare 'ceasefire')")
    unilateral: bool = False
    duration_days: float | None = None
    extension_days: float | None = Field(None, description="length of an extension this mention reports")
    effective_from: datetime | None = None
    expires_at: datetime | None = None
    places: list[str] = Field(default_factory=list)
    occasion: str | None = Field(None, description="the holiday of a holiday truce (Easter, Christmas...)")
    states: list[CeasefireCue] = Field(default_factory=list, description="in lifecycle order")
    evidence: str = ""
    new: bool = Field(False, description="the text calls it a new / another ceasefire")
    anchor_only: bool = Field(False, description='only a reference ("the deal"): may join a record, never founds one')
    call_only: bool = Field(False, description="only a general call for a ceasefire: never founds a record")
    months: list[int] = Field(default_factory=list, description="months the text refers back to (the July truce)")
    descriptors: list[str] = Field(default_factory=list, description="e.g. permanent")

    @property
    def state(self) -> str | None:
        """The furthest state the mention reports (the last cue), or None."""
        return self.states[-1].state if self.states else None


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
    ceasefires: list[CeasefireMention] = Field(default_factory=list,
                                               description="ceasefires the article reports (enrich/ceasefires.py)")
    names: list[str] = Field(default_factory=list, description='capitalised words no entity covers, as "nm:<plain>"')
    kinds: list[str] = Field(default_factory=list,
                             description="what the headline says happened (services.vocabulary.EVENT_KINDS), "
                                         "main kind first")
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
