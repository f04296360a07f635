"""HTTP shapes of /ceasefires (kept apart from the ORM rows and the tracker's records)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from services.db.models import Ceasefire, CeasefireChange
from services.vocabulary import LifecycleState

CeasefireScope = Literal["full", "energy_infrastructure", "maritime", "humanitarian", "local", "holiday", "unilateral"]
MAX_Q = 500


class PartyOut(BaseModel):
    id: str = Field(description="entity id: a Wikidata QID where known, else 'ww:<slug>'")
    name: str


class ChangeOut(BaseModel):
    """One state change: when, the article and story that reported it, the sentence that says so."""

    seq: int
    state: LifecycleState
    previous_state: LifecycleState | None
    at: datetime
    article_id: str | None = Field(description="None when the term ran out with no report (expiry by the clock)")
    story_id: str | None
    evidence: str | None
    lang: str | None

    @classmethod
    def of(cls, c: CeasefireChange) -> ChangeOut:
        return cls(seq=c.seq, state=c.state, previous_state=c.previous_state, at=c.at,  # type: ignore[arg-type]
                   article_id=c.article_id, story_id=c.story_id, evidence=c.evidence, lang=c.lang)


class CeasefireOut(BaseModel):
    """A ceasefire record: one agreement or declaration, followed from proposal to collapse or expiry."""

    id: str
    title: str
    parties: list[PartyOut] = Field(description="the warring sides (a unilateral declaration: the declaring side first)")
    mediators: list[PartyOut]
    scope: CeasefireScope
    unilateral: bool
    state: LifecycleState
    duration_days: float | None = Field(description="the term first announced, in days (72 hours = 3)")
    effective_from: datetime | None
    expires_at: datetime | None = Field(description="when the term runs out, with extensions; None if open")
    places: list[str]
    first_reported: datetime
    last_reported: datetime
    state_changed_at: datetime
    stories: list[str] = Field(description="ids of the stories that report it, newest first")
    languages: list[str]
    article_count: int
    version: int

    @classmethod
    def of(cls, r: Ceasefire, stories: list[str]) -> CeasefireOut:
        return cls(id=r.id, title=r.title, parties=[PartyOut(**p) for p in r.parties],
                   mediators=[PartyOut(**p) for p in r.mediators], scope=r.scope, unilateral=r.unilateral,  # type: ignore[arg-type]
                   state=r.state, duration_days=r.duration_days, effective_from=r.effective_from,  # type: ignore[arg-type]
                   expires_at=r.expires_at, places=list(r.places or []), first_reported=r.first_reported,
                   last_reported=r.last_reported, state_changed_at=r.state_changed_at, stories=stories,
                   languages=list(r.languages or []), article_count=r.article_count, version=r.version)


class CeasefireDetail(CeasefireOut):
    history: list[ChangeOut] = Field(description="every state change, oldest first")


class CeasefirePage(BaseModel):
    items: list[CeasefireOut]
    next_cursor: str | None = Field(None, description="pass as ?cursor= to get the next (older) page")


class CeasefireQuery(BaseModel):
    """The filters shared by /ceasefires, its feeds and its stream."""

    state: list[LifecycleState] | None = Field(None, description="current state; repeat for any of")
    party: list[str] | None = Field(None, description="a party's entity id or name; repeat for all of")
    scope: list[CeasefireScope] | None = Field(None, description="scope; repeat for any of")
    since: datetime | None = Field(None, description="ISO 8601; reported at or after")
    q: str | None = Field(None, max_length=MAX_Q, description="every word must appear in the title or a party's name")
    active: bool | None = Field(None, description="true: proposed, agreed, in_force, violated or extended only")


class CeasefirePageQuery(CeasefireQuery):
    limit: int | None = Field(None, description="page size (capped by WIREWATCH_STORIES_MAX_LIMIT)")
    cursor: str | None = Field(None, max_length=512, description="next_cursor of the previous page")


class CeasefireStreamQuery(CeasefireQuery):
    after: str | None = Field(None, max_length=20, description="resume after this event id (as Last-Event-ID)")
