"""/dashboard/webhooks: every subscription (signed webhooks and Apprise alerts) with its delivery health,
and the admin forms that create, test and delete them and replay dead letters.

Why a page and not only the API: a failing subscriber is an operator's problem, so each row says what
the subscriber last answered, when the next retry is due and how many deliveries were dead-lettered.
The forms do what POST /webhooks and POST /alerts do, with the same schemas (api.http.schemas.WebhookIn,
api.http.routes_alerts.AlertIn), the same target checks (services.netguard, api.webhooks.alerts) and the
same repository (services.db.webhooks). A webhook's signing secret is shown once, in the answer to the
form that created it (never in a URL, never again); alert targets carry credentials and are shown masked.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from api.http.deps import SessionDep, SettingsDep
from api.http.routes_alerts import AlertIn
from api.http.routes_dashboard import AdminForm, ViewDep, Viewer, redirect_back, render, store_down, viewer
from api.http.schemas import WebhookIn
from api.webhooks import alerts, signing
from services import netguard, subscriptions
from services.db import webhooks as hook_repo
from services.db.models import Webhook
from services.settings import Settings
from services.vocabulary import TOPICS

router = APIRouter(tags=["dashboard"], include_in_schema=False)
UNPROCESSABLE = 422  # a refused form, as the API answers (Starlette renamed the constant)
NO_STATS = {"pending": 0, "succeeded": 0, "failed": 0, "dead": 0, "last_delivered_at": None}
Text = Annotated[str, Form(max_length=2048)]
Topics = Annotated[list[str], Form()]


def masked(url: str) -> str:
    """An alert target without its credentials (tokens, SMTP passwords): the scheme and host only."""
    scheme, _, rest = url.partition("://")
    host = rest.split("/", 1)[0].rsplit("@", 1)[-1].split("?", 1)[0]
    return f"{scheme}://{host}/…"


def _row(hook: Webhook, stats: dict[str, Any], failures: dict[str, Any], dead: list[Any]) -> dict[str, Any]:
    finished = stats["succeeded"] + stats["failed"] + stats["dead"]
    alert = alerts.is_alert(hook.url)
    return {"hook": hook, "kind": "alert" if alert else "webhook", "target": masked(hook.url) if alert else hook.url,
            "stats": stats, "rate": (stats["succeeded"] / finished) if finished else None, "failure": failures,
            "dead": dead}


async def webhooks_view(request: Request, session: AsyncSession, who: Viewer, *, created: dict[str, str] | None = None,
                        form: dict[str, Any] | None = None, code: int = 200) -> HTMLResponse:
    """The page; ``created`` shows a new webhook's secret (once), ``form`` a refused form's error and values."""
    try:
        hooks = await hook_repo.list_webhooks(session)
        stats = await hook_repo.webhook_stats(session)
        failures = await hook_repo.retry_status(session)
        dead = {h.id: await hook_repo.list_deliveries(session, webhook_id=h.id, status="dead", limit=20)
                for h in hooks}
    except (SQLAlchemyError, OSError) as exc:
        return store_down(request, who, exc)
    rows = [_row(h, stats.get(h.id, NO_STATS), failures.get(h.id, {}), dead[h.id]) for h in hooks]
    return render(request, "webhooks.html", {"who": who, "rows": rows, "created": created, "form": form or {},
                                             "topics": TOPICS}, code=code)


@router.get("/dashboard/webhooks", response_class=HTMLResponse)
async def webhooks_page(request: Request, session: SessionDep, who: ViewDep) -> HTMLResponse:
    return await webhooks_view(request, session, who)


def _entities(raw: str) -> list[str]:
    return list(dict.fromkeys(e.strip() for e in raw.split(",") if e.strip()))


def _errors(exc: ValidationError) -> str:
    return subscriptions.problems(exc)


async def _refused(request: Request, session: AsyncSession, settings: Settings, form: dict[str, Any]) -> HTMLResponse:
    """The page again, with the form's error and what was typed (a 422, as the API answers)."""
    return await webhooks_view(request, session, viewer(request, settings), form=form,
                               code=UNPROCESSABLE)


@router.post("/dashboard/webhooks", dependencies=[AdminForm])
async def create_webhook(request: Request, session: SessionDep, settings: SettingsDep, url: Text = "",
                         description: Text = "", topics: Topics = [], entities: Text = "",  # noqa: B006
                         min_confidence: Annotated[str, Form(max_length=10)] = "") -> Response:
    """A signed (Standard Webhooks) subscription; the answer shows its secret, the only time it is shown."""
    form = {"kind": "webhook", "url": url, "description": description, "topics": topics, "entities": entities,
            "min_confidence": min_confidence}
    try:
        body = WebhookIn(url=url.strip(), description=description.strip(), topics=topics,  # type: ignore[arg-type]
                         entities=_entities(entities), min_confidence=min_confidence.strip() or None)
    except ValidationError as exc:
        return await _refused(request, session, settings, {**form, "error": _errors(exc)})
    try:
        netguard.check_url_static(str(body.url), settings.webhook_allowed_hosts, setting=netguard.WEBHOOKS)
    except netguard.BlockedTarget as exc:
        return await _refused(request, session, settings, {**form, "error": f"refused: {exc}"})
    async with session.begin():
        hook = await hook_repo.create_webhook(session, url=str(body.url), description=body.description,
                                              filters=body.stored(),
                                              secret=signing.new_secret())
    return await webhooks_view(request, session, viewer(request, settings),
                               created={"id": hook.id, "url": hook.url, "secret": hook.secret})


@router.post("/dashboard/alerts", dependencies=[AdminForm])
async def create_alert(request: Request, session: SessionDep, settings: SettingsDep, target: Text = "",
                       description: Text = "", topics: Topics = [], q: Annotated[str, Form(max_length=500)] = ""  # noqa: B006
                       ) -> Response:
    """An Apprise channel (Slack, Teams, Telegram, e-mail, ntfy, json:// …) for the stories matching its filter."""
    form = {"kind": "alert", "target": target, "description": description, "topics": topics, "q": q}
    try:
        body = AlertIn(target=target.strip(), description=description.strip(), topics=topics, q=q.strip() or None)
    except ValidationError as exc:
        return await _refused(request, session, settings, {**form, "error": _errors(exc)})
    try:
        if not alerts.is_alert(body.target):
            raise alerts.BadTarget("an http(s) URL is a webhook: use the webhook form (signed deliveries)")
        alerts.check_static(body.target, settings.webhook_allowed_hosts)
    except (alerts.BadTarget, netguard.BlockedTarget) as exc:
        return await _refused(request, session, settings, {**form, "target": "", "error": f"refused: {exc}"})
    async with session.begin():
        await hook_repo.create_webhook(session, url=body.target, description=body.description,
                                       filters=body.stored(),
                                       secret=signing.new_secret())
    return redirect_back("/dashboard/webhooks", "alert-added")


@router.post("/dashboard/webhooks/{webhook_id}/test", dependencies=[AdminForm])
async def send_test(webhook_id: str, session: SessionDep,
                    next: Annotated[str, Form()] = "/dashboard/webhooks") -> Response:
    """Queue a webhook.ping to this subscriber (as POST /webhooks/{id}/ping and /alerts/{id}/test do)."""
    now = datetime.now(UTC)
    async with session.begin():
        if await hook_repo.get_webhook(session, webhook_id=webhook_id) is None:
            return redirect_back(next, "missing")
        await hook_repo.enqueue(session, webhook_id=webhook_id, story_id="ping", event_type="webhook.ping",
                                version=int(now.timestamp() * 1000),
                                payload={"type": "webhook.ping", "timestamp": now.isoformat(), "data": {}})
    return redirect_back(next, "tested")


@router.post("/dashboard/webhooks/{webhook_id}/delete", dependencies=[AdminForm])
async def delete_webhook(webhook_id: str, session: SessionDep,
                         next: Annotated[str, Form()] = "/dashboard/webhooks") -> Response:
    async with session.begin():
        found = await hook_repo.delete_webhook(session, webhook_id=webhook_id)
    return redirect_back(next, "unsubscribed" if found else "missing")


@router.post("/dashboard/webhooks/{webhook_id}/deliveries/{delivery_id}/replay", dependencies=[AdminForm])
async def replay_delivery(webhook_id: str, delivery_id: str, session: SessionDep,
                          next: Annotated[str, Form()] = "/dashboard/webhooks") -> Response:
    queued = await hook_repo.replay(session, webhook_id=webhook_id, delivery_id=delivery_id)
    await session.commit()
    return redirect_back(next, "replayed" if queued else "missing")
