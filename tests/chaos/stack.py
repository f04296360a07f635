"""A live Wirewatch stack for fault injection: every service its own subprocess (``python -m services.cli
run X``) with one shared environment, so a test can ``kill -9`` any one of them and start it again.

Also: a webhook receiver that can go down and come back on the same port, a read-only view of the store
(SQLite or PostgreSQL) for exact counts, and RSS probes per service. Used by tests/chaos, tests/security
and tests/bench; nothing here sleeps for a fixed time where a condition can be polled.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import psutil
import uvicorn
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from services.settings import Settings
from tests.conftest import ROOT, free_port

SERVICES = ("ingest", "enrich", "sink", "webhooks", "tracker", "api")  # every stage of services.cli
# What start_all() starts unless told otherwise: the stack tests/security/test_live_stack.py expects (it
# asserts exactly these five); the chaos flow and the benches start SERVICES, the tracker included.
DEFAULT_START = ("ingest", "enrich", "sink", "webhooks", "api")
T = TypeVar("T")


async def poll(fn: Callable[[], Awaitable[T]], *, timeout: float, what: str, every: float = 0.25) -> T:
    """Await ``fn`` until it returns something truthy; fail with the last value after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        last = await fn()
        if last:
            return last  # type: ignore[no-any-return]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}; last={last!r}"[:2000])
        await asyncio.sleep(every)


def fast_env(**extra: str) -> dict[str, str]:
    """Settings that make a test stack react in about a second instead of minutes."""
    env = {
        "WIREWATCH_ENV": "test",
        "WIREWATCH_LOG_JSON": "true",
        "WIREWATCH_POLL_MIN_INTERVAL_S": "1",
        "WIREWATCH_POLL_DEFAULT_INTERVAL_S": "1",
        "WIREWATCH_POLL_MAX_INTERVAL_S": "2",
        "WIREWATCH_POLL_ERROR_MAX_INTERVAL_S": "3",
        "WIREWATCH_POLL_JITTER_FRACTION": "0",
        "WIREWATCH_SCHEDULER_TICK_S": "0.2",
        "WIREWATCH_FETCH_PER_HOST_MIN_SPACING_S": "0",
        "WIREWATCH_FETCH_PER_HOST_CONCURRENCY": "16",
        "WIREWATCH_FETCH_TOTAL_TIMEOUT_S": "5",
        "WIREWATCH_FETCH_READ_TIMEOUT_S": "3",
        "WIREWATCH_FETCH_CONNECT_TIMEOUT_S": "2",
        "WIREWATCH_KAFKA_SESSION_TIMEOUT_MS": "6000",
        "WIREWATCH_KAFKA_HEARTBEAT_INTERVAL_MS": "1000",
        "WIREWATCH_KAFKA_REQUEST_TIMEOUT_MS": "10000",
        "WIREWATCH_WEBHOOK_RETRY_SCHEDULE_S": "1,1,2,2,5,5,10",
        "WIREWATCH_WEBHOOK_TIMEOUT_S": "3",
        "WIREWATCH_WEBHOOK_POLL_INTERVAL_S": "0.2",
        "WIREWATCH_HEARTBEAT_INTERVAL_S": "2",
        "WIREWATCH_STORY_UPDATE_MIN_INTERVAL_S": "1",  # the checks wait for every story's latest version
        "WIREWATCH_FEED_ALLOWED_HOSTS": "127.0.0.1",
        "WIREWATCH_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
    }
    env.update(extra)
    return env


@dataclass
class Stack:
    """Services as subprocesses sharing ``env``; keys are ``name`` or ``name#2`` for extra instances."""

    workdir: Path
    bootstrap: str
    database_url: str = ""
    topics: dict[str, str] = field(default_factory=dict)
    env_extra: dict[str, str] = field(default_factory=dict)
    admin_token: str = "chaos-admin-token-0123456789"
    api_port: int = field(default_factory=free_port)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    starts: dict[str, int] = field(default_factory=dict)
    logs: list[Path] = field(default_factory=list)
    killed: set[str] = field(default_factory=set)

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.workdir / 'var' / 'wirewatch.db'}"

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("WIREWATCH_")}
        env.update(fast_env())
        env.update({
            "PYTHONUNBUFFERED": "1",
            "WIREWATCH_KAFKA_BOOTSTRAP": self.bootstrap,
            "WIREWATCH_VAR_DIR": str(self.workdir / "var"),
            "WIREWATCH_DATABASE_URL": self.database_url,
            "WIREWATCH_API_PORT": str(self.api_port),
            "WIREWATCH_ADMIN_TOKEN": self.admin_token,
            "WIREWATCH_FEEDS_OPML": str(self.workdir / "no-seed.opml"),
            **{f"WIREWATCH_{k.upper()}": v for k, v in self.topics.items()},
        })
        env.update(self.env_extra)
        return env

    def settings(self) -> Settings:
        """The same settings the services build, for in-process preparation."""
        saved = dict(os.environ)
        try:
            os.environ.clear()
            os.environ.update(self.env)
            return Settings(_env_file=None)  # type: ignore[call-arg]
        finally:
            os.environ.clear()
            os.environ.update(saved)

    async def prepare(self, feed_urls: list[str] | None = None) -> None:
        """Schema, topics and feed rows before any service starts (no migration races between them)."""
        from ingest.opml import OutlineFeed
        from services import bus
        from services.clock import utcnow
        from services.db import feeds as feeds_repo
        from services.db.engine import make_engine, make_sessions
        from services.db.migrate import upgrade_async

        (self.workdir / "var").mkdir(parents=True, exist_ok=True)
        (self.workdir / "logs").mkdir(parents=True, exist_ok=True)
        settings = self.settings()
        await upgrade_async(settings)
        await bus.ensure_topics(settings)
        if feed_urls:
            engine = make_engine(settings)
            try:
                async with make_sessions(engine)() as session:
                    await feeds_repo.import_opml(session, now=utcnow(), feeds=[
                        OutlineFeed(url=u, title=f"feed {i}", site_url="", tags=[]) for i, u in enumerate(feed_urls)])
            finally:
                await engine.dispose()

    # --- processes -----------------------------------------------------------
    def start(self, key: str) -> subprocess.Popen[bytes]:
        name = key.split("#")[0]
        assert name in SERVICES, key
        n = self.starts.get(key, 0) + 1
        self.starts[key] = n
        path = self.workdir / "logs" / f"{key.replace('#', '-')}.{n}.log"
        self.logs.append(path)
        with open(path, "wb") as out:
            proc = subprocess.Popen([sys.executable, "-m", "services.cli", "run", name], env=self.env, cwd=ROOT,
                                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs[key] = proc
        self.killed.discard(key)
        return proc

    def start_all(self, keys: tuple[str, ...] = DEFAULT_START) -> None:
        for k in keys:
            self.start(k)

    def kill9(self, key: str) -> None:
        proc = self.procs[key]
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        self.killed.add(key)

    def terminate(self, key: str, timeout: float = 20) -> int | None:
        proc = self.procs[key]
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        return proc.returncode

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 20
        for proc in self.procs.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)

    def dead(self) -> dict[str, int]:
        """Services that exited on their own, not by our kill (key -> exit code)."""
        return {k: p.returncode for k, p in self.procs.items() if p.poll() is not None and k not in self.killed}

    def rss_mb(self) -> dict[str, float]:
        out = {}
        for k, p in self.procs.items():
            with contextlib.suppress(psutil.Error):
                out[k] = psutil.Process(p.pid).memory_info().rss / 2**20
        return out

    def pss_mb(self) -> dict[str, float]:
        """Proportional set size: shared library pages split between the processes that map them."""
        out = {}
        for k, p in self.procs.items():
            with contextlib.suppress(psutil.Error, AttributeError):
                out[k] = psutil.Process(p.pid).memory_full_info().pss / 2**20
        return out

    def log_text(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in self.logs if p.exists())

    def tail(self, chars: int = 6000) -> str:
        parts = []
        for p in self.logs:
            if p.exists():
                parts.append(f"--- {p.name}\n" + p.read_text(errors="replace")[-chars // max(1, len(self.logs)):])
        return "\n".join(parts)

    async def wait_api(self, timeout: float = 90) -> None:
        async def up() -> bool:
            try:
                async with httpx.AsyncClient(timeout=2) as c:
                    return (await c.get(self.api + "/healthz")).status_code == 200
            except httpx.TransportError:
                return False

        await poll(up, timeout=timeout, what="the API /healthz")

    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}


# --- the store, read directly ---------------------------------------------------


class StoreView:
    """Exact counts straight from the store; a locked or stopped store reads as None, not as an error."""

    def __init__(self, url: str) -> None:
        args: dict[str, Any] = {"connect_args": {"timeout": 2}} if url.startswith("sqlite") else {}
        self.engine: AsyncEngine = create_async_engine(url, **args)

    async def rows(self, sql: str) -> list[Any] | None:
        try:
            async with self.engine.connect() as conn:
                return list((await asyncio.wait_for(conn.execute(text(sql)), 5)).all())
        except (OperationalError, DBAPIError, OSError, TimeoutError):
            return None

    async def close(self) -> None:
        await self.engine.dispose()


# --- a webhook receiver that can go down and come back on the same port ----------


@dataclass
class Hit:
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Subscriber:
    port: int = field(default_factory=free_port)
    hits: list[Hit] = field(default_factory=list)
    status: int = 200
    _server: uvicorn.Server | None = None
    _task: asyncio.Task[None] | None = None
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def _handle(self, request: Request) -> Response:
        body = await request.body()
        self.hits.append(Hit({k.lower(): v for k, v in request.headers.items()}, body, time.time()))
        self.arrived.set()
        return Response(b"ok", status_code=self.status)

    async def start(self) -> None:
        app = Starlette(routes=[Route("/{path:path}", self._handle, methods=["POST"])])
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="critical", lifespan="off")
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        deadline = time.monotonic() + 10
        while not self._server.started:
            if self._task.done() or time.monotonic() > deadline:
                raise RuntimeError(f"receiver did not start on port {self.port}")
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
            self._server = self._task = None

    @property
    def up(self) -> bool:
        return self._server is not None


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True
