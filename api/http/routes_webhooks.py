"""/webhooks: subscription CRUD, secret rotation, delivery log, replay and test ping (admin only)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response

from api.http.deps import AdminDep, SessionDep, SettingsDep
from api.http.schemas import (
    DeliveryOut,
    ReplayIn,
    WebhookCreated,
    WebhookFilters,
    WebhookIn,
    WebhookOut,
    WebhookPatch,
)
from api.webhooks import signing
from services import netguard
from services.db import webhooks as repo
from services.db.models import Webhook

router = APIRouter(prefix="/webhooks", tags=["webhooks"], dependencies=[AdminDep])

ROTATION_OVERLAP_S = 24 * 3600


def _filters(body: WebhookFilters) -> dict[str, object]:
    return body.stored()


def _check_target(url: str, allowed: list[str]) -> None:
    try:
        netguard.check_url_static(url, allowed, setting=netguard.WEBHOOKS)
    except netguard.BlockedTarget as exc:
        raise HTTPException(422, detail=[{"loc": ["body", "url"], "msg": str(exc), "type": "value_error"}]) from exc


async def _get(session: SessionDep, webhook_id: str) -> Webhook:
    hook = await repo.get_webhook(session, webhook_id=webhook_id)
    if hook is None:
        raise HTTPException(404, f"no webhook with id {webhook_id!r}")
    return hook


@router.post("", status_code=201, response_model=WebhookCreated, summary="Subscribe a URL to matching stories")
async def create(body: WebhookIn, session: SessionDep, settings: SettingsDep) -> WebhookCreated:
    _check_target(str(body.url), settings.webhook_allowed_hosts)
    async with session.begin():
        hook = await repo.create_webhook(session, url=str(body.url), filters=_filters(body),
                                         description=body.description, enabled=body.enabled,
                                         secret=signing.new_secret())
    return WebhookCreated(**WebhookOut.of(hook).model_dump(), secret=hook.secret)


@router.get("", response_model=list[WebhookOut])
async def list_(session: SessionDep) -> list[WebhookOut]:
    return [WebhookOut.of(h) for h in await repo.list_webhooks(session)]


@router.get("/{webhook_id}", response_model=WebhookOut, responses={404: {"description": "unknown id"}})
async def get(webhook_id: str, session: SessionDep) -> WebhookOut:
    return WebhookOut.of(await _get(session, webhook_id))


@router.patch("/{webhook_id}", response_model=WebhookOut, responses={404: {"description": "unknown id"}})
async def patch(webhook_id: str, body: WebhookPatch, session: SessionDep, settings: SettingsDep) -> WebhookOut:
    async with session.begin():
        hook = await _get(session, webhook_id)
        changes = body.model_dump(exclude_unset=True)
        if "url" in changes and changes["url"] is not None:
            _check_target(str(changes["url"]), settings.webhook_allowed_hosts)
            hook.url = str(changes.pop("url"))
        if "description" in changes:
            hook.description = changes.pop("description") or ""
        if "enabled" in changes:
            hook.enabled = bool(changes.pop("enabled"))
            if hook.enabled:
                hook.disabled_reason = None
        if changes:
            hook.filters = {**(hook.filters or {}), **{k: v for k, v in changes.items() if v is not None}}
    return WebhookOut.of(hook)


@router.delete("/{webhook_id}", status_code=204, responses={404: {"description": "unknown id"}})
async def delete(webhook_id: str, session: SessionDep) -> Response:
    async with session.begin():
        await session.delete(await _get(session, webhook_id))
    return Response(status_code=204)


@router.post("/{webhook_id}/rotate-secret", response_model=WebhookCreated,
             summary="New secret; the old one keeps signing for 24 h (both signatures are sent)")
async def rotate(webhook_id: str, session: SessionDep) -> WebhookCreated:
    async with session.begin():
        hook = await repo.rotate_secret(session, hook=await _get(session, webhook_id), new=signing.new_secret(),
                                        overlap_s=ROTATION_OVERLAP_S)
    return WebhookCreated(**WebhookOut.of(hook).model_dump(), secret=hook.secret)


@router.get("/{webhook_id}/deliveries", response_model=list[DeliveryOut],
            summary="Delivery log: attempts, status, latency, response excerpt")
async def deliveries(webhook_id: str, session: SessionDep,
                     status: Annotated[str | None, Query(pattern="^(pending|succeeded|failed|dead)$")] = None,
                     limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[DeliveryOut]:
    await _get(session, webhook_id)
    rows = await repo.list_deliveries(session, webhook_id=webhook_id, status=status, limit=limit)
    logs = await repo.attempts_of(session, delivery_ids=[d.id for d in rows])
    return [DeliveryOut.of(d, logs[d.id]) for d in rows]


@router.post("/{webhook_id}/replay", summary="Send one delivery, or all in a time range, again")
async def replay(webhook_id: str, body: ReplayIn, session: SessionDep) -> dict[str, int]:
    if not (body.delivery_id or body.since or body.until):
        raise HTTPException(422, detail=[{"loc": ["body"], "msg": "give delivery_id or since/until",
                                          "type": "value_error"}])
    async with session.begin():
        await _get(session, webhook_id)
        n = await repo.replay(session, webhook_id=webhook_id, delivery_id=body.delivery_id,
                              since=body.since, until=body.until)
    if body.delivery_id and n == 0:
        raise HTTPException(404, f"no delivery {body.delivery_id!r} for this webhook")
    return {"queued": n}


@router.post("/{webhook_id}/ping", summary="Queue a test event (webhook.ping) to this subscriber")
async def ping(webhook_id: str, session: SessionDep) -> dict[str, str]:
    now = datetime.now(UTC)
    async with session.begin():
        await _get(session, webhook_id)
        d = await repo.enqueue(session, webhook_id=webhook_id, story_id="ping", event_type="webhook.ping",
                               version=int(now.timestamp() * 1000),
                               payload={"type": "webhook.ping", "timestamp": now.isoformat(), "data": {}})
    return {"delivery_id": d.id if d else ""}
