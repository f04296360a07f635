"""The ``wirewatch`` command: fronts every service and tool.

    wirewatch run [all|ingest|enrich|sink|webhooks|tracker|api]
    wirewatch migrate | topics create
    wirewatch feeds add URL | import FILE.opml | export [FILE] | list
    wirewatch tag [FILE]            JSON lines in -> topics and entities out
    wirewatch retag [--since DATE]  re-apply the taxonomy to stored articles
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from services.settings import Settings

SERVICES = ("ingest", "enrich", "sink", "webhooks", "tracker", "api")
log = logging.getLogger("wirewatch")


def _service_main(name: str) -> Callable[..., Any]:
    if name == "ingest":
        from ingest.service import main
    elif name == "enrich":
        from enrich.service import main
    elif name == "sink":
        from api.sink.service import main
    elif name == "webhooks":
        from api.webhooks.dispatcher import main
    elif name == "tracker":
        from api.tracker.service import main
    else:
        raise ValueError(name)
    return main


def run_one(name: str, settings: Settings) -> None:
    from services.lean import skip_cli_frontends
    from services.runtime import limit_malloc_arenas

    skip_cli_frontends()
    limit_malloc_arenas(settings.malloc_arena_max)
    if name == "api":
        from api.http.app import serve

        serve(settings)
        return
    from services.runtime import run_service

    run_service(name, settings, _service_main(name))


def run_all(settings: Settings, names: tuple[str, ...] = SERVICES) -> int:
    """Start each service as its own process, restart one that dies, stop all on SIGTERM/SIGINT."""
    from services.runtime import setup_logging

    setup_logging(settings, "supervisor")
    asyncio.run(_prepare(settings))
    procs: dict[str, subprocess.Popen[bytes]] = {}
    stopping = False

    def spawn(name: str) -> None:
        env = dict(os.environ)
        if settings.metrics_port and name != "api":  # one port per worker: base, base+1, …
            env["WIREWATCH_METRICS_PORT"] = str(settings.metrics_port + SERVICES.index(name))
        procs[name] = subprocess.Popen([sys.executable, "-m", "services.cli", "run", name], env=env)
        log.info("started %s (pid %s)", name, procs[name].pid)

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    for n in names:
        spawn(n)
    while not stopping:
        time.sleep(0.5)
        for n, p in list(procs.items()):
            if p.poll() is not None and not stopping:
                log.error("%s exited with %s; restarting in 2 s", n, p.returncode)
                time.sleep(2)
                spawn(n)
    for p in procs.values():
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    deadline = time.time() + 20
    for p in procs.values():
        try:
            p.wait(max(0.1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            p.kill()
    return 0


async def _prepare(settings: Settings) -> None:
    """Schema and topics once, before the services start (each also checks on its own)."""
    from services import bus
    from services.db.migrate import upgrade_async

    await upgrade_async(settings)
    await bus.ensure_topics(settings)


def cmd_tag(args: argparse.Namespace, settings: Settings) -> int:
    """JSON lines {"id","title","text"} in; {"id","topics","entities"} out, via the worker's Enricher."""
    from enrich.pipeline import Enricher

    enricher = Enricher(settings)
    stream = open(args.file, encoding="utf-8") if args.file and args.file != "-" else sys.stdin  # noqa: SIM115
    status = 0
    try:
        for lineno, line in enumerate(stream, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                if not isinstance(item, dict):
                    raise ValueError("each line must be a JSON object")
                out = enricher.tag_text(id=str(item.get("id", lineno)), title=str(item.get("title", "")),
                                        text=str(item.get("text", "")))
            except ValueError as exc:
                print(f"line {lineno}: {exc}", file=sys.stderr)
                status = 1
                continue
            print(json.dumps(out, ensure_ascii=False), flush=True)
    finally:
        if stream is not sys.stdin:
            stream.close()
    return status


def cmd_init() -> int:
    """First start: a .env with a generated admin token (printed this once), unless one is set."""
    from services.envfile import ensure_admin_token

    token = ensure_admin_token()
    if token:
        print(f"Created .env with an admin token (shown this once; it stays in .env):\n  WIREWATCH_ADMIN_TOKEN={token}\n"
              "Admin calls send: Authorization: Bearer $WIREWATCH_ADMIN_TOKEN; the dashboard login asks for it.")
    return 0


def cmd_settings(settings: Settings) -> int:
    """Every setting, its env var and current value (secrets masked)."""
    for name, field in Settings.model_fields.items():
        value = getattr(settings, name)
        if any(k in name for k in ("token", "secret", "password")) and value:
            value = "***"
        elif name == "database_url" and value:
            value = str(value).split("@")[-1]
        if isinstance(value, list):
            value = ",".join(map(str, value))
        doc = f"  # {field.description}" if field.description else ""
        print(f"WIREWATCH_{name.upper()}={value}{doc}")
    return 0


def cmd_retag(args: argparse.Namespace, settings: Settings) -> int:
    from enrich.retag import retag_store

    return asyncio.run(retag_store(settings, since=args.since))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="wirewatch", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run one service, or all of them as separate processes")
    run.add_argument("service", nargs="?", default="all", choices=("all", *SERVICES))
    sub.add_parser("migrate", help="apply database migrations")
    sub.add_parser("init", help="create .env with a generated admin token unless one is set (make run does it)")
    sub.add_parser("settings", help="list every WIREWATCH_* setting with its current value")
    topics = sub.add_parser("topics", help="Kafka topics")
    topics.add_argument("action", choices=("create",))
    tag = sub.add_parser("tag", help="tag JSON lines from FILE or stdin")
    tag.add_argument("file", nargs="?", default="-")
    retag = sub.add_parser("retag", help="re-apply the current taxonomy to stored articles")
    retag.add_argument("--since", default=None, help="ISO date: only articles published since")
    from api.tracker.cli import register as register_tracker
    from api.webhooks.cli import register as register_subscriptions
    from ingest.cli import register as register_feeds

    register_feeds(sub)
    register_subscriptions(sub)
    register_tracker(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "init":
        return cmd_init()
    settings = Settings()
    if args.command == "run":
        if args.service == "all":
            return run_all(settings)
        run_one(args.service, settings)
        return 0
    if args.command == "settings":
        return cmd_settings(settings)
    if args.command == "migrate":
        from services.db.migrate import upgrade

        upgrade(settings)
        print("store migrated:", settings.db_url.split("@")[-1])
        return 0
    if args.command == "topics":
        from services import bus

        created = asyncio.run(bus.ensure_topics(settings))
        print("created:", ", ".join(created) or "nothing (all exist)")
        return 0
    if args.command == "tag":
        return cmd_tag(args, settings)
    if args.command == "retag":
        return cmd_retag(args, settings)
    handler = getattr(args, "handler", None)  # command groups registered by ingest.cli etc.
    if handler is not None:
        return int(handler(args, settings) or 0)
    return 2


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
