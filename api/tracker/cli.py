"""``wirewatch tracker rebuild [--reextract]`` (registered by services/cli.py)."""

from __future__ import annotations

import argparse
import asyncio

from services.settings import Settings


def _rebuild(args: argparse.Namespace, settings: Settings) -> int:
    from api.tracker.rebuild import rebuild

    asyncio.run(rebuild(settings, reextract=args.reextract))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``tracker`` command group to the wirewatch CLI."""
    tracker = subparsers.add_parser("tracker", help="the ceasefire tracker's records")
    sub = tracker.add_subparsers(dest="tracker_cmd", required=True)
    p = sub.add_parser("rebuild", help="recompute every ceasefire record from the store (announces nothing)")
    p.add_argument("--reextract", action="store_true",
                   help="read every stored article's mentions again with the current rules (slow)")
    p.set_defaults(handler=_rebuild)
