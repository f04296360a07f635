"""/alerts: subscriptions whose target is an Apprise URL (Slack, Teams, Telegram, e-mail, ntfy, json:// …).

An alert shares everything with webhooks but the target: the same filters (validated as /stories
validates them: an unknown topic is a 422 listing the valid ones), the same delivery rows, log
(``GET /webhooks/{id}/deliveries``), retries, dead letters and replay. Admin only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response
from pydantic import BaseModel, Field

from api.http.deps import AdminDep, SessionDep, SettingsDep
from api.http.schemas import WebhookFilters
from api.webhooks import alerts, signing
from services import netguard
from services.db import webhooks as repo
from services.db.models import Webhook

router = APIRouter(prefix="/alerts", tags=["alerts"], dependencies=[AdminDep])


class AlertIn(WebhookFilters):
    target: str = Field(min_length=3, max_length=2048, description="an Apprise URL, e.g. mailto://…, slack://…, "
                        "tgram://…, ntfy://…, json://host/path")
    description: str = Field("", max_length=1000)


class AlertOut(BaseModel):
    id: str
    target: str
    filters: dict[str, Any]
    description: str
    enabled: bool
    created_at: datetime

    @classmethod
    def of(cls, hook: Webhook) -> AlertOut:
        return cls(id=hook.id, target=_masked(hook.url), filters=hook.filters or {}, description=hook.description,
                   enabled=hook.enabled, created_at=hook.created_at)


def _masked(url: str) -> str:
    """Targets carry credentials (tokens, SMTP passwords): show the scheme and host only."""
    scheme, _, rest = url.partition("://")
    host = rest.split("/", 1)[0].rsplit("@", 1)[-1].split("?", 1)[0]
    return f"{scheme}://{host}/…"


def _unprocessable(msg: str) -> HTTPException:
    return HTTPException(422, detail=[{"loc": ["body", "target"], "msg": msg, "type": "value_error"}])


@router.post("", status_code=201, response_model=AlertOut, summary="Subscribe an Apprise channel to matching stories")
async def create(body: AlertIn, session: SessionDep, settings: SettingsDep) -> AlertOut:
    if not alerts.is_alert(body.target):
        raise _unprocessable("an http(s) URL is a webhook: POST /webhooks (Standard Webhooks, signed)")
    try:
        alerts.check_static(body.target, settings.webhook_allowed_hosts)
    except (alerts.BadTarget, netguard.BlockedTarget) as exc:
        raise _unprocessable(str(exc)) from exc
    filters = body.stored()
    async with session.begin():
        hook = await repo.create_webhook(session, url=body.target, filters=filters, description=body.description,
                                         secret=signing.new_secret())
    return AlertOut.of(hook)


@router.get("", response_model=list[AlertOut])
async def list_(session: SessionDep) -> list[AlertOut]:
    return [AlertOut.of(h) for h in await repo.list_webhooks(session) if alerts.is_alert(h.url)]


async def _get(session: SessionDep, alert_id: str) -> Webhook:
    hook = await repo.get_webhook(session, webhook_id=alert_id)
    if hook is None or not alerts.is_alert(hook.url):
        raise HTTPException(404, f"no alert with id {alert_id!r}")
    return hook


@router.delete("/{alert_id}", status_code=204, responses={404: {"description": "unknown id"}})
async def delete(alert_id: str, session: SessionDep) -> Response:
    async with session.begin():
        await session.delete(await _get(session, alert_id))
    return Response(status_code=204)


@router.post("/{alert_id}/test", summary="Queue a test message to this channel")
async def test(alert_id: str, session: SessionDep) -> dict[str, str]:
    now = datetime.now(UTC)
    async with session.begin():
        await _get(session, alert_id)
        d = await repo.enqueue(session, webhook_id=alert_id, story_id="ping", event_type="webhook.ping",
                               version=int(now.timestamp() * 1000),
                               payload={"type": "webhook.ping", "timestamp": now.isoformat(), "data": {}})
    return {"delivery_id": d.id if d else ""}
