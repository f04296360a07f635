"""What a subscriber (and the live stream) receives for a ceasefire change: a versioned event body.

``schema`` names the version of ``data`` (``wirewatch.ceasefire/1``); within one version a field is only
ever added. ``type`` is ``ceasefire.created`` (the record's first state) or ``ceasefire.state_changed``
(every later one); ``change`` is the history entry it announces, with its evidence sentence.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.db.models import Ceasefire, CeasefireChange

CEASEFIRE_SCHEMA: Final = "wirewatch.ceasefire/1"
CREATED: Final = "ceasefire.created"
STATE_CHANGED: Final = "ceasefire.state_changed"
MAX_EVIDENCE = 2000


class PartyData(BaseModel):
    id: str
    name: str


class ChangeData(BaseModel):
    seq: int
    state: str
    previous_state: str | None
    at: datetime
    article_id: str | None
    story_id: str | None
    evidence: str | None


class CeasefireData(BaseModel):
    """A ceasefire record as a subscriber sees it (version 1)."""

    model_config = ConfigDict(populate_by_name=True)

    schema_: Literal["wirewatch.ceasefire/1"] = Field(CEASEFIRE_SCHEMA, alias="schema")
    id: str
    title: str
    state: str
    previous_state: str | None
    scope: str
    unilateral: bool
    parties: list[PartyData]
    mediators: list[PartyData]
    duration_days: float | None
    effective_from: datetime | None
    expires_at: datetime | None
    first_reported: datetime
    last_reported: datetime
    evidence: str | None
    link: str
    change: ChangeData
    detected_at: datetime


class CeasefireEvent(BaseModel):
    type: Literal["ceasefire.created", "ceasefire.state_changed"]
    timestamp: datetime
    data: CeasefireData


def event_type(change: CeasefireChange) -> str:
    return CREATED if change.seq == 1 else STATE_CHANGED


def event_key(change: CeasefireChange) -> str:
    """The delivery's unique key: one per record for its creation, one per later state change."""
    return f"{CREATED}:{change.ceasefire_id}" if change.seq == 1 else f"{STATE_CHANGED}:{change.ceasefire_id}:{change.seq}"


def ceasefire_data(row: Ceasefire, change: CeasefireChange, *, api_base: str) -> CeasefireData:
    evidence = change.evidence[:MAX_EVIDENCE] if change.evidence else None
    return CeasefireData(
        id=row.id, title=row.title, state=change.state, previous_state=change.previous_state, scope=row.scope,
        unilateral=row.unilateral, parties=[PartyData(**p) for p in row.parties],
        mediators=[PartyData(**p) for p in row.mediators], duration_days=row.duration_days,
        effective_from=row.effective_from, expires_at=row.expires_at, first_reported=row.first_reported,
        last_reported=row.last_reported, evidence=evidence, link=f"{api_base}/ceasefires/{row.id}",
        change=ChangeData(seq=change.seq, state=change.state, previous_state=change.previous_state, at=change.at,
                          article_id=change.article_id, story_id=change.story_id, evidence=evidence),
        detected_at=change.recorded_at)


def ceasefire_payload(row: Ceasefire, change: CeasefireChange, *, api_base: str, now: datetime) -> dict[str, Any]:
    """The JSON body for one change, as stored on the delivery row and signed on sending."""
    event = CeasefireEvent(type=event_type(change), timestamp=now,  # type: ignore[arg-type]
                           data=ceasefire_data(row, change, api_base=api_base))
    return event.model_dump(mode="json", by_alias=True)
