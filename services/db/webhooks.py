"""Repository for webhook subscriptions, deliveries and their attempt log.

Deliveries are rows keyed by (webhook, event_key), so enqueueing the same event
twice is a no-op: that is what makes the dispatcher safe to restart or replay.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.clock import utcnow
from services.db.models import Delivery, DeliveryAttempt, Webhook


async def create_webhook(session: AsyncSession, *, url: str, filters: dict[str, Any], secret: str,
                         description: str = "", enabled: bool = True) -> Webhook:
    """A new subscription signed with ``secret`` (a fresh ``whsec_`` value from api.webhooks.signing)."""
    hook = Webhook(id="wh_" + secrets.token_hex(12), url=url, filters=filters, description=description,
                   enabled=enabled, secret=secret)
    session.add(hook)
    await session.flush()
    return hook


async def get_webhook(session: AsyncSession, *, webhook_id: str) -> Webhook | None:
    """One subscription, or None."""
    return await session.get(Webhook, webhook_id)


async def list_webhooks(session: AsyncSession, *, enabled_only: bool = False) -> list[Webhook]:
    """All subscriptions, oldest first."""
    stmt = select(Webhook).order_by(Webhook.created_at, Webhook.id)
    if enabled_only:
        stmt = stmt.where(Webhook.enabled.is_(True))
    return list((await session.scalars(stmt)).all())


async def rotate_secret(session: AsyncSession, *, hook: Webhook, new: str, overlap_s: float) -> Webhook:
    """New secret; the old one keeps signing too (space-delimited) until the overlap ends."""
    hook.previous_secret = hook.secret
    hook.previous_secret_expires_at = utcnow() + timedelta(seconds=overlap_s)
    hook.secret = new
    await session.flush()
    return hook


def signing_secrets(hook: Webhook, now: datetime) -> list[str]:
    """The secrets to sign with right now (two during a rotation)."""
    out = [hook.secret]
    if hook.previous_secret and hook.previous_secret_expires_at and hook.previous_secret_expires_at > now:
        out.append(hook.previous_secret)
    return out


def event_key(event_type: str, story_id: str, version: int) -> str:
    return f"{event_type}:{story_id}:{version}"


async def delivered_version(session: AsyncSession, *, webhook_id: str, story_id: str) -> int | None:
    """The newest story version already queued for this subscriber, or None if it never heard of it."""
    rows = await session.scalars(
        select(Delivery.event_key).where(Delivery.webhook_id == webhook_id, Delivery.story_id == story_id)
    )
    versions = [int(k.rsplit(":", 1)[1]) for k in rows.all() if k.startswith(("story.created:", "story.updated:"))]
    return max(versions) if versions else None


async def last_story_event_at(session: AsyncSession, *, webhook_id: str, story_id: str) -> datetime | None:
    """When the newest story.created/story.updated for this subscriber and story was queued to go out."""
    found = await session.scalar(
        select(func.max(Delivery.scheduled_at)).where(
            Delivery.webhook_id == webhook_id, Delivery.story_id == story_id,
            Delivery.event_type.in_(("story.created", "story.updated"))))
    return found


async def pending_update(session: AsyncSession, *, webhook_id: str, story_id: str, now: datetime) -> Delivery | None:
    """A story.updated for this subscriber and story that waits for its slot and was never tried.

    Never one a sender has claimed: a claim pushes next_attempt_at a lease ahead (into the future, attempts
    still 0), which looks like waiting; but the sender is posting the payload it read, so a newer version
    written into the row then would be recorded as delivered without being sent. A waiting row still has
    the due time it was queued with (next_attempt_at == scheduled_at)."""
    return await session.scalar(
        select(Delivery).where(Delivery.webhook_id == webhook_id, Delivery.story_id == story_id,
                               Delivery.event_type == "story.updated", Delivery.status == "pending",
                               Delivery.attempts == 0, Delivery.next_attempt_at > now,
                               Delivery.next_attempt_at == Delivery.scheduled_at)
        .order_by(Delivery.next_attempt_at.desc()).limit(1))


async def coalesce(session: AsyncSession, *, delivery: Delivery, version: int, payload: dict[str, Any]) -> bool:
    """Carry a newer version in a waiting story.updated instead of queueing another (same webhook-id).

    Conditional on the row being untouched since it was read, so a sender that claimed it meanwhile
    wins and the caller queues a new delivery instead.
    """
    res = await session.execute(
        update(Delivery).where(Delivery.id == delivery.id, Delivery.attempts == 0, Delivery.status == "pending",
                               Delivery.next_attempt_at == delivery.next_attempt_at,
                               Delivery.next_attempt_at == Delivery.scheduled_at)  # not claimed meanwhile
        .values(event_key=event_key("story.updated", delivery.story_id, version), payload=payload))
    return bool(res.rowcount)  # type: ignore[attr-defined]


async def has_event(session: AsyncSession, *, webhook_id: str, key: str) -> bool:
    return await session.scalar(
        select(Delivery.id).where(Delivery.webhook_id == webhook_id, Delivery.event_key == key)) is not None


async def enqueue(session: AsyncSession, *, webhook_id: str, story_id: str, event_type: str, version: int,
                  payload: dict[str, Any], now: datetime | None = None, not_before: datetime | None = None,
                  key: str | None = None) -> Delivery | None:
    """Queue one event for one subscriber (to go out at ``not_before``, default now); None when that exact
    event was already queued."""
    key = key or event_key(event_type, story_id, version)
    exists = await session.scalar(
        select(Delivery.id).where(Delivery.webhook_id == webhook_id, Delivery.event_key == key)
    )
    if exists:
        return None
    now = now or utcnow()
    due = max(not_before or now, now)
    delivery = Delivery(id="msg_" + secrets.token_hex(12), webhook_id=webhook_id, story_id=story_id,
                        event_type=event_type, event_key=key, payload=payload, status="pending",
                        next_attempt_at=due, scheduled_at=due, created_at=now)
    try:
        async with session.begin_nested():
            session.add(delivery)
    except IntegrityError:
        return None
    return delivery


async def claim_due(session: AsyncSession, *, now: datetime, lease_s: float, limit: int,
                    exclude_webhooks: Sequence[str] = ()) -> list[Delivery]:
    """Take due deliveries by pushing their next_attempt_at forward by a lease (safe with several dispatchers)."""
    return [d for d in await due_deliveries(session, now=now, limit=limit, exclude_webhooks=exclude_webhooks)
            if await take(session, delivery=d, now=now, lease_s=lease_s)]


async def due_deliveries(session: AsyncSession, *, now: datetime, limit: int,
                         exclude_webhooks: Sequence[str] = ()) -> list[Delivery]:
    """Pending deliveries due by ``now``, the most overdue first (read only: :func:`take` claims one)."""
    stmt = (select(Delivery).where(Delivery.status == "pending", Delivery.next_attempt_at <= now)
            .order_by(Delivery.next_attempt_at).limit(limit))
    if exclude_webhooks:
        stmt = stmt.where(Delivery.webhook_id.not_in(list(exclude_webhooks)))
    return list((await session.scalars(stmt)).all())


async def take(session: AsyncSession, *, delivery: Delivery, now: datetime, lease_s: float) -> bool:
    """Claim one delivery read by :func:`due_deliveries`, if it is still the row that was read.

    The condition includes the event key: :func:`coalesce` may have given a waiting story.updated a newer
    version (key and payload) between the read and this claim. Claiming it then would send the payload read
    before, and record the newer version as delivered: the subscriber would never get the story's latest
    version. Such a row is left for the next tick, which reads it again."""
    res = await session.execute(
        update(Delivery)
        .where(Delivery.id == delivery.id, Delivery.next_attempt_at == delivery.next_attempt_at,
               Delivery.status == "pending", Delivery.event_key == delivery.event_key)
        .values(next_attempt_at=now + timedelta(seconds=lease_s))
    )
    return bool(res.rowcount)  # type: ignore[attr-defined]


async def backlog(session: AsyncSession) -> int:
    """Deliveries still waiting to be sent (pending, due or not)."""
    return int(await session.scalar(select(func.count()).select_from(Delivery).where(Delivery.status == "pending"))
               or 0)


async def record_attempt(session: AsyncSession, *, delivery_id: str, status_code: int | None,
                         latency_ms: float | None, error: str | None, excerpt: str | None,
                         outcome: str, next_at: datetime | None, now: datetime) -> Delivery | None:
    """Log one HTTP attempt and move the delivery to its next state."""
    d = await session.get(Delivery, delivery_id)
    if d is None:
        return None
    d.attempts += 1
    session.add(DeliveryAttempt(delivery_id=d.id, attempt=d.attempts, at=now, status_code=status_code,
                                latency_ms=latency_ms, error=error, response_excerpt=excerpt))
    d.last_status_code, d.last_latency_ms, d.last_error, d.response_excerpt = status_code, latency_ms, error, excerpt
    if outcome == "success":
        d.status, d.delivered_at = "succeeded", now
    elif outcome == "dead":
        d.status = "dead"
    elif outcome == "disabled":
        d.status = "failed"
    else:
        d.status, d.next_attempt_at = "pending", next_at or now
    await session.flush()
    return d


async def disable_webhook(session: AsyncSession, *, webhook_id: str, reason: str) -> None:
    """Stop sending to a subscriber (e.g. it answered 410 Gone)."""
    await session.execute(update(Webhook).where(Webhook.id == webhook_id).values(enabled=False, disabled_reason=reason))


async def list_deliveries(session: AsyncSession, *, webhook_id: str, status: str | None = None,
                          limit: int = 50) -> list[Delivery]:
    """Newest deliveries of one subscriber."""
    stmt = select(Delivery).where(Delivery.webhook_id == webhook_id)
    if status:
        stmt = stmt.where(Delivery.status == status)
    stmt = stmt.order_by(Delivery.created_at.desc(), Delivery.id.desc()).limit(limit)
    return list((await session.scalars(stmt)).all())


async def attempts_of(session: AsyncSession, *, delivery_ids: Sequence[str]) -> dict[str, list[DeliveryAttempt]]:
    """Attempt logs keyed by delivery id."""
    out: dict[str, list[DeliveryAttempt]] = {i: [] for i in delivery_ids}
    if not delivery_ids:
        return out
    rows = await session.scalars(select(DeliveryAttempt).where(DeliveryAttempt.delivery_id.in_(list(delivery_ids)))
                                 .order_by(DeliveryAttempt.attempt))
    for a in rows.all():
        out[a.delivery_id].append(a)
    return out


async def replay(session: AsyncSession, *, webhook_id: str, delivery_id: str | None = None,
                 since: datetime | None = None, until: datetime | None = None) -> int:
    """Send deliveries again (same webhook-id, so subscribers can dedup); returns how many were queued."""
    stmt = update(Delivery).where(Delivery.webhook_id == webhook_id)
    if delivery_id:
        stmt = stmt.where(Delivery.id == delivery_id)
    if since:
        stmt = stmt.where(Delivery.created_at >= since)
    if until:
        stmt = stmt.where(Delivery.created_at < until)
    res = await session.execute(stmt.values(status="pending", next_attempt_at=utcnow(), attempts=0))
    return int(res.rowcount or 0)  # type: ignore[attr-defined]


async def webhook_stats(session: AsyncSession) -> dict[str, dict[str, Any]]:
    """Per subscriber: counts by status and the last delivery time (dashboard)."""
    rows = await session.execute(
        select(Delivery.webhook_id, Delivery.status, func.count(), func.max(Delivery.delivered_at))
        .group_by(Delivery.webhook_id, Delivery.status)
    )
    out: dict[str, dict[str, Any]] = {}
    for wid, status, n, last in rows.all():
        s = out.setdefault(wid, {"pending": 0, "succeeded": 0, "failed": 0, "dead": 0, "last_delivered_at": None})
        s[status] = int(n)
        if last and (s["last_delivered_at"] is None or last > s["last_delivered_at"]):
            s["last_delivered_at"] = last
    return out


def _failed_attempt() -> Any:
    """An attempt that did not succeed: a transport error, no answer, or a status outside 2xx."""
    return (DeliveryAttempt.error.is_not(None) | DeliveryAttempt.status_code.is_(None)
            | (DeliveryAttempt.status_code < 200) | (DeliveryAttempt.status_code >= 300))


async def retry_status(session: AsyncSession) -> dict[str, dict[str, Any]]:
    """Per subscriber that ever failed: its newest failed attempt (error, status, when), whether its newest
    attempt failed (``failing``), and when the next retry of a delivery that failed is due (dashboard)."""
    newest_failed = (select(func.max(DeliveryAttempt.id)).join(Delivery, Delivery.id == DeliveryAttempt.delivery_id)
                     .where(_failed_attempt()).group_by(Delivery.webhook_id))
    rows = await session.execute(
        select(Delivery.webhook_id, DeliveryAttempt.error, DeliveryAttempt.status_code, DeliveryAttempt.at,
               DeliveryAttempt.id)
        .join(Delivery, Delivery.id == DeliveryAttempt.delivery_id).where(DeliveryAttempt.id.in_(newest_failed)))
    out: dict[str, dict[str, Any]] = {}
    failed_ids: dict[str, int] = {}
    for wid, error, code, at, attempt_id in rows.all():
        out[wid] = {"last_error": error, "last_status_code": code, "last_error_at": at, "failing": False,
                    "next_retry_at": None}
        failed_ids[wid] = attempt_id
    if not out:
        return out
    newest = await session.execute(
        select(Delivery.webhook_id, func.max(DeliveryAttempt.id))
        .join(Delivery, Delivery.id == DeliveryAttempt.delivery_id)
        .where(Delivery.webhook_id.in_(list(out))).group_by(Delivery.webhook_id))
    for wid, attempt_id in newest.all():
        out[wid]["failing"] = attempt_id == failed_ids[wid]
    retries = await session.execute(
        select(Delivery.webhook_id, func.min(Delivery.next_attempt_at))
        .where(Delivery.webhook_id.in_(list(out)), Delivery.status == "pending", Delivery.attempts > 0)
        .group_by(Delivery.webhook_id))
    for wid, due in retries.all():
        out[wid]["next_retry_at"] = due
    return out


async def delete_webhook(session: AsyncSession, *, webhook_id: str) -> bool:
    """Delete a subscription with its deliveries and their log (cascade); False when it did not exist."""
    hook = await session.get(Webhook, webhook_id)
    if hook is None:
        return False
    await session.delete(hook)
    await session.flush()
    return True
