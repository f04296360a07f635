"""HTTP shapes of the feeds API (kept apart from ORM rows and Kafka events)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, model_validator


class FeedOut(BaseModel):
    """A feed with its health: what the dashboard's feed table shows."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    url: str
    title: str
    site_url: str
    enabled: bool
    tags: list[str]
    interval_override_s: float | None
    current_interval_s: float | None
    next_check_at: datetime | None
    last_fetch_at: datetime | None
    last_success_at: datetime | None
    last_status: int | None
    last_error: str | None
    last_error_class: str | None
    consecutive_failures: int
    items_total: int
    items_per_day: float | None
    hub_url: str | None
    websub_topic: str | None = None
    websub_state: str | None
    created_at: datetime


class FeedCreate(BaseModel):
    url: HttpUrl
    title: str | None = Field(None, max_length=512)
    tags: list[str] = Field(default_factory=list, max_length=50)
    interval_override_s: float | None = Field(None, ge=10, le=7 * 86400)
    enabled: bool = True


class FeedPatch(BaseModel):
    """Fields to change; leave one out to keep it. Only ``interval_override_s`` may be null (back to adaptive)."""

    title: str | None = Field(None, max_length=512)
    enabled: bool | None = None
    tags: list[str] | None = Field(None, max_length=50)
    interval_override_s: float | None = Field(None, ge=10, le=7 * 86400)

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name in ("title", "enabled", "tags"):
                if name in data and data[name] is None:
                    raise ValueError(f"{name} cannot be null; leave it out to keep the current value")
        return data


class ImportResult(BaseModel):
    added: int
    existing: int
