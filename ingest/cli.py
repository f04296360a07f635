"""``wirewatch feeds …`` commands: add, import, export, list, fetch, remove, disable, enable
(registered by services/cli.py).

Each command is ``args.handler(args, settings)``: services/cli.py builds the settings once and passes them.
``feeds add`` does what ``POST /feeds`` does: it fetches the URL and, for a web page, adds the feed the
page advertises (ingest.discover), refusing 404s, pages without a feed and oversized bodies with the same
messages; ``--offline`` stores the URL as given.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from ingest.opml import OutlineFeed, export_opml, parse_opml
from services import netguard
from services.db import feeds as repo
from services.db.engine import Sessions, make_engine, make_sessions
from services.db.migrate import upgrade_async
from services.settings import Settings


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``feeds`` command group to the wirewatch CLI."""
    feeds = subparsers.add_parser("feeds", help="manage polled feeds")
    sub = feeds.add_subparsers(dest="feeds_cmd", required=True)
    p = sub.add_parser("add", help="add a feed URL")
    p.add_argument("url")
    p.add_argument("--tag", action="append", default=[], help="tag (repeatable)")
    p.add_argument("--title", default="")
    p.add_argument("--offline", action="store_true", help="store the URL as given, without fetching it")
    _command(p, _add)
    p = sub.add_parser("import", help="import feeds from an OPML file (idempotent)")
    p.add_argument("file", type=Path)
    _command(p, _import)
    p = sub.add_parser("export", help="export feeds as OPML (stdout when no FILE)")
    p.add_argument("file", type=Path, nargs="?")
    _command(p, _export)
    p = sub.add_parser("list", help="list feeds with their status")
    p.add_argument("--json", action="store_true")
    p.add_argument("--failing", action="store_true")
    _command(p, _list)
    p = sub.add_parser("fetch", help="fetch one feed now and publish its new items")
    p.add_argument("feed_id", type=int)
    _command(p, _fetch)
    for name, what in (("remove", "delete a feed"), ("disable", "stop polling a feed"),
                       ("enable", "poll a feed again")):
        p = sub.add_parser(name, help=what)
        p.add_argument("feed_id", type=int)
        p.set_defaults(feeds_change=name)
        _command(p, _change)


Command = Callable[[Settings, Sessions, argparse.Namespace], Awaitable[int]]


def _command(parser: argparse.ArgumentParser, fn: Command) -> None:
    """Register ``fn`` as what services/cli.py calls: ``args.handler(args, settings)``."""
    parser.set_defaults(handler=_handler(fn))


def _handler(fn: Command) -> Callable[[argparse.Namespace, Settings], int]:
    """What services/cli.py calls as ``args.handler(args, settings)``: migrate, run ``fn`` on a store."""

    def handle(args: argparse.Namespace, settings: Settings) -> int:
        async def go() -> int:
            await upgrade_async(settings)
            engine = make_engine(settings)
            try:
                return await fn(settings, make_sessions(engine), args)
            finally:
                await engine.dispose()

        return asyncio.run(go())

    return handle


async def _add(settings: Settings, sessions: Sessions, args: argparse.Namespace) -> int:
    try:
        netguard.check_url_static(args.url, settings.feed_allowed_hosts)
    except netguard.BlockedTarget as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 2
    url, title = args.url, args.title
    if not args.offline:
        from ingest.discover import discover_feed
        from ingest.errors import FetchError

        try:
            found = await discover_feed(args.url, settings)
        except FetchError as exc:
            print(f"refused: not a usable feed ({exc.error_class}): {exc}", file=sys.stderr)
            return 2
        url, title = found.url, title or found.title
    async with sessions() as session:
        try:
            feed = await repo.add_feed(session, url=url, title=title, tags=args.tag, now=datetime.now(UTC))
        except repo.DuplicateFeed:
            print(f"already present: {url}", file=sys.stderr)
            return 1
    print(f"added feed {feed.id}: {feed.url}" + (f"  ({feed.title})" if feed.title else ""))
    return 0


async def _change(settings: Settings, sessions: Sessions, args: argparse.Namespace) -> int:
    async with sessions() as session:
        if args.feeds_change == "remove":
            done = await repo.delete_feed(session, feed_id=args.feed_id)
        else:
            done = await repo.update_feed(session, feed_id=args.feed_id,
                                          enabled=args.feeds_change == "enable") is not None
    if not done:
        print(f"no feed {args.feed_id}", file=sys.stderr)
        return 1
    print(f"feed {args.feed_id}: {args.feeds_change}d")
    return 0


async def _import(settings: Settings, sessions: Sessions, args: argparse.Namespace) -> int:
    outlines = parse_opml(args.file.read_bytes())
    async with sessions() as session:
        added, existing = await repo.import_opml(session, feeds=outlines, now=datetime.now(UTC))
    print(f"imported {added} new feeds ({existing} already present)")
    return 0


async def _export(settings: Settings, sessions: Sessions, args: argparse.Namespace) -> int:
    async with sessions() as session:
        rows = await repo.list_feeds(session)
    data = export_opml([OutlineFeed(f.url, f.title, f.site_url, list(f.tags or [])) for f in rows])
    if args.file:
        args.file.write_bytes(data)
        print(f"exported {len(rows)} feeds to {args.file}")
    else:
        sys.stdout.write(data.decode() + "\n")
    return 0


async def _list(settings: Settings, sessions: Sessions, args: argparse.Namespace) -> int:
    async with sessions() as session:
        rows = await repo.list_feeds(session, failing=True if args.failing else None)
    if args.json:
        print(json.dumps([{"id": f.id, "url": f.url, "title": f.title, "enabled": f.enabled, "tags": f.tags,
                           "last_success_at": f.last_success_at and f.last_success_at.isoformat(),
                           "last_error_class": f.last_error_class, "last_error": f.last_error,
                           "consecutive_failures": f.consecutive_failures, "items_total": f.items_total}
                          for f in rows], indent=2))
        return 0
    print(f"{'ID':>5s}  {'STATUS':18s} {'ITEMS':>6s}  URL  TITLE")
    for f in rows:
        state = "ok" if not f.consecutive_failures else f"FAIL×{f.consecutive_failures} {f.last_error_class}"
        if not f.enabled:
            state = "disabled"
        print(f"{f.id:5d}  {state:18s} {f.items_total:6d}  {f.url}  {html.unescape(f.title or '')}")
    return 0


async def _fetch(settings: Settings, sessions: Sessions, args: argparse.Namespace) -> int:
    from ingest.service import poll_once

    report = await poll_once(settings, args.feed_id)
    print(json.dumps(report.__dict__))
    return 0 if report.error_class is None else 1
