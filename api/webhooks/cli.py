"""``wirewatch webhooks …`` and ``wirewatch alerts …``: list, add, remove, test (registered by services/cli.py).

They do what the admin API does, on the store the settings name: the same target checks (SSRF policy,
Apprise URLs), the same filter validation (an unknown topic is refused with the valid ones listed), and
``test`` queues the same ping the API queues (the running dispatcher sends it).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from datetime import UTC, datetime

from pydantic import ValidationError

from api.webhooks import alerts, signing
from services import netguard
from services.db import webhooks as repo
from services.db.engine import Sessions, make_engine, make_sessions
from services.db.migrate import upgrade_async
from services.settings import Settings
from services.subscriptions import SubscriptionRules, problems


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    for group, what in (("webhooks", "Standard Webhooks subscriptions"), ("alerts", "Apprise alert channels")):
        top = subparsers.add_parser(group, help=f"manage {what}")
        sub = top.add_subparsers(dest=f"{group}_cmd", required=True)
        p = sub.add_parser("list", help=f"list {what}")
        p.set_defaults(handler=_handler(_list, group))
        p = sub.add_parser("add", help="subscribe a target (URL) to matching stories")
        p.add_argument("target")
        p.add_argument("--topic", action="append", default=[], help="topic (repeatable)")
        p.add_argument("--language", action="append", default=[], help="language code (repeatable)")
        p.add_argument("--entity", action="append", default=[], help="entity id or name (repeatable)")
        p.add_argument("--source", action="append", default=[], help="source name (repeatable)")
        p.add_argument("--state", action="append", default=[], help="ceasefire lifecycle state (repeatable)")
        p.add_argument("--event", action="append", default=[],
                       help="event type (repeatable; default the story events): story.created, story.updated, "
                            "story.merged, ceasefire.created, ceasefire.state_changed")
        p.add_argument("--q", default=None, help="full-text words every story must contain (as /stories?q=)")
        p.add_argument("--min-confidence", type=float, default=None)
        p.add_argument("--digest", choices=["hourly", "daily"], default=None,
                       help="one message per period instead of one per story")
        p.add_argument("--description", default="")
        p.set_defaults(handler=_handler(_add, group))
        for name in ("remove", "test"):
            p = sub.add_parser(name, help=f"{name} one subscription")
            p.add_argument("id")
            p.set_defaults(handler=_handler(_remove if name == "remove" else _test, group))


def _handler(fn: Callable[..., object], group: str) -> Callable[[argparse.Namespace, Settings], int]:
    def handle(args: argparse.Namespace, settings: Settings) -> int:
        async def go() -> int:
            await upgrade_async(settings)
            engine = make_engine(settings)
            try:
                return int(await fn(settings, make_sessions(engine), args, group))  # type: ignore[misc]
            finally:
                await engine.dispose()

        return asyncio.run(go())

    return handle


def _mine(group: str, url: str) -> bool:
    return alerts.is_alert(url) == (group == "alerts")


async def _list(settings: Settings, sessions: Sessions, args: argparse.Namespace, group: str) -> int:
    async with sessions() as s:
        hooks = [h for h in await repo.list_webhooks(s) if _mine(group, h.url)]
    print(f"{'ID':28s} {'ENABLED':8s} {'TOPICS':24s} TARGET")
    for h in hooks:
        target = h.url if group == "webhooks" else h.url.split("://", 1)[0] + "://…"
        topics = ",".join((h.filters or {}).get("topics") or []) or "(any)"
        print(f"{h.id:28s} {'yes' if h.enabled else 'no':8s} {topics:24s} {target}")
    return 0


async def _add(settings: Settings, sessions: Sessions, args: argparse.Namespace, group: str) -> int:
    given = {"topics": args.topic, "languages": args.language, "entities": args.entity, "sources": args.source,
             "states": args.state, "events": args.event, "q": args.q, "min_confidence": args.min_confidence,
             "digest": args.digest}
    try:
        rules = SubscriptionRules.model_validate({k: v for k, v in given.items() if v not in (None, [])})
    except ValidationError as exc:
        print(f"refused: {problems(exc)}", file=sys.stderr)
        return 2
    try:
        if group == "alerts":
            if not alerts.is_alert(args.target):
                raise alerts.BadTarget("an http(s) URL is a webhook: use `wirewatch webhooks add`")
            alerts.check_static(args.target, settings.webhook_allowed_hosts)
        else:
            if alerts.is_alert(args.target):
                raise alerts.BadTarget("not an http(s) URL: use `wirewatch alerts add` for Apprise URLs")
            netguard.check_url_static(args.target, settings.webhook_allowed_hosts, setting=netguard.WEBHOOKS)
    except (alerts.BadTarget, netguard.BlockedTarget) as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 2
    filters = rules.stored()
    async with sessions() as s, s.begin():
        hook = await repo.create_webhook(s, url=args.target, filters=filters, description=args.description,
                                         secret=signing.new_secret())
    print(f"added {hook.id}" + (f"\nsigning secret (shown once): {hook.secret}" if group == "webhooks" else ""))
    return 0


async def _remove(settings: Settings, sessions: Sessions, args: argparse.Namespace, group: str) -> int:
    async with sessions() as s, s.begin():
        hook = await repo.get_webhook(s, webhook_id=args.id)
        if hook is None or not _mine(group, hook.url):
            print(f"no {group[:-1]} {args.id}", file=sys.stderr)
            return 1
        await s.delete(hook)
    print(f"removed {args.id}")
    return 0


async def _test(settings: Settings, sessions: Sessions, args: argparse.Namespace, group: str) -> int:
    now = datetime.now(UTC)
    async with sessions() as s, s.begin():
        hook = await repo.get_webhook(s, webhook_id=args.id)
        if hook is None or not _mine(group, hook.url):
            print(f"no {group[:-1]} {args.id}", file=sys.stderr)
            return 1
        d = await repo.enqueue(s, webhook_id=hook.id, story_id="ping", event_type="webhook.ping",
                               version=int(now.timestamp() * 1000),
                               payload={"type": "webhook.ping", "timestamp": now.isoformat(), "data": {}})
    print(f"queued test {d.id if d else ''} (the running dispatcher sends it)")
    return 0
