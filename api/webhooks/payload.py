"""What a subscriber receives: the versioned event body, as pydantic models (not a dict built in a repository).

``schema`` names the version of ``data`` (``wirewatch.story/1``); a field is only ever added, never
renamed or removed, within one version. The body stays under ``WIREWATCH_WEBHOOK_MAX_PAYLOAD_BYTES``
by dropping entities (halving them) before anything else; ``link`` points back to the full story.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer

from services.db.models import Story

STORY_SCHEMA: Final = "wirewatch.story/1"
MAX_HEADLINE = 500
MAX_SUMMARY = 500
MAX_ENTITIES = 25
MAX_SOURCES = 20


class TopicRef(BaseModel):
    name: str
    confidence: float


class EntityRef(BaseModel):
    id: str
    name: str
    type: str


class _Model(BaseModel):
    @field_serializer("*", when_used="json")
    def _iso(self, value: Any) -> Any:  # datetimes as isoformat(), as version 1 always sent them
        return value.isoformat() if isinstance(value, datetime) else value


class StoryData(_Model):
    """A story as a subscriber sees it (version 1)."""

    model_config = ConfigDict(populate_by_name=True)

    schema_: Literal["wirewatch.story/1"] = Field(STORY_SCHEMA, alias="schema")
    id: str
    version: int
    headline: str
    summary: str = ""
    url: str
    link: str
    lang: str | None
    state: str | None
    topics: list[TopicRef]
    entities: list[EntityRef]
    sources: list[str]
    article_count: int
    published_at: datetime
    first_seen: datetime
    detected_at: datetime


class StoryEvent(_Model):
    """The envelope: ``type`` is ``story.created`` or ``story.updated``."""

    type: str
    timestamp: datetime
    data: StoryData


def story_payload(story: Story, *, event_type: str, api_base: str, max_bytes: int, now: datetime,
                  detected_at: datetime) -> dict[str, Any]:
    """The JSON body for one story event, as stored on the delivery row and signed on sending."""
    data = StoryData(
        id=story.id, version=story.version, headline=story.headline[:MAX_HEADLINE],
        summary=(story.summary or "")[:MAX_SUMMARY], url=story.url,
        link=f"{api_base}/stories/{story.id}", lang=story.lang, state=story.state,
        topics=[TopicRef(name=t["name"], confidence=t["confidence"]) for t in story.topics],
        entities=[EntityRef(id=e["id"], name=e["name"], type=e["type"]) for e in story.entities[:MAX_ENTITIES]],
        sources=story.sources[:MAX_SOURCES], article_count=story.article_count,
        published_at=story.published_at, first_seen=story.first_seen, detected_at=detected_at,
    )
    event = StoryEvent(type=event_type, timestamp=now, data=data)
    while len(event.model_dump_json(by_alias=True)) > max_bytes and data.entities:
        data.entities = data.entities[: len(data.entities) // 2]
    return event.model_dump(mode="json", by_alias=True)


class MergeData(_Model):
    """Two stories were one event: ``id`` now resolves to ``merged_into`` (version 1)."""

    model_config = ConfigDict(populate_by_name=True)

    schema_: Literal["wirewatch.story-merge/1"] = Field("wirewatch.story-merge/1", alias="schema")
    id: str
    merged_into: str
    link: str
    headline: str


class MergeEvent(_Model):
    type: Literal["story.merged"] = "story.merged"
    timestamp: datetime
    data: MergeData


def merge_payload(old_id: str, story: Story, *, api_base: str, now: datetime) -> dict[str, Any]:
    """The JSON body announcing that story ``old_id`` merged into ``story``."""
    data = MergeData(id=old_id, merged_into=story.id, link=f"{api_base}/stories/{story.id}",
                     headline=story.headline[:MAX_HEADLINE])
    return MergeEvent(timestamp=now, data=data).model_dump(mode="json", by_alias=True)
