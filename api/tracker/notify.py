"""Queue the webhook deliveries of ceasefire changes, in the transaction that stores them.

Why here and not in the dispatcher: a change is known for certain only where it is committed, and a
delivery row queued in the same transaction can never be lost or doubled (unique per subscription and
event key). The dispatcher's Sender then signs, sends, retries and dead-letters it like any delivery.

Who gets what: a subscription whose ``filters["events"]`` lists ``ceasefire.created`` or
``ceasefire.state_changed`` (absent: story events only, see api.webhooks.policy.subscribed), narrowed
by its ``parties`` (entity id or name), ``scopes`` and ``states`` (any of, the change's new state).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from api.tracker.payload import ceasefire_payload, event_key, event_type
from api.webhooks import policy
from services.clock import utcnow
from services.db import webhooks as hooks_repo
from services.db.models import Ceasefire, CeasefireChange, Webhook
from services.matching import CeasefireFacts, CeasefireFilter, ceasefire_matches
from services.settings import Settings


def wants(hook: Webhook, row: Ceasefire, change: CeasefireChange) -> bool:
    """Whether subscription ``hook`` takes this change of ``row``."""
    filters = hook.filters or {}
    if not policy.subscribed(filters, event_type(change)):
        return False
    facts = CeasefireFacts.of(state=change.state, scope=row.scope, parties=row.parties, last_reported=row.last_reported,
                              title=row.title)
    return ceasefire_matches(CeasefireFilter.from_subscription(filters), facts)


async def enqueue_changes(session: AsyncSession, settings: Settings, ceasefire_id: str,
                          changes: Sequence[CeasefireChange], hooks: Sequence[Webhook] | None = None) -> int:
    """One delivery per (subscription, change); returns how many were queued."""
    if not changes:
        return 0
    row = await session.get(Ceasefire, ceasefire_id)
    if row is None:
        return 0
    hooks = hooks if hooks is not None else await hooks_repo.list_webhooks(session, enabled_only=True)
    queued, now = 0, utcnow()
    for change in changes:
        for hook in hooks:
            if not wants(hook, row, change):
                continue
            payload = ceasefire_payload(row, change, api_base=settings.api_base, now=now)
            delivery = await hooks_repo.enqueue(session, webhook_id=hook.id, story_id=row.id,
                                                event_type=event_type(change), version=change.seq,
                                                payload=payload, now=now, key=event_key(change))
            queued += delivery is not None
    return queued
