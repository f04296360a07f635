"""Process runtime shared by every service: JSON logs, graceful shutdown, heartbeats.

A service is an ``async def main(settings, stop)`` coroutine; ``run_service``
wires SIGTERM/SIGINT to the ``stop`` event so loops end cleanly and clients are
stopped in their ``finally`` blocks.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import functools
import gc
import logging
import os
import signal
import socket
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from services.settings import Settings

SECRET_KEYS = ("token", "secret", "password", "authorization")


class _RedactSecrets(logging.Filter):
    """Never let a field named like a secret reach the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key in list(vars(record)):
            if any(s in key.lower() for s in SECRET_KEYS):
                setattr(record, key, "[redacted]")
        return True


def setup_logging(settings: Settings, service: str) -> None:
    """Structured JSON logs on stderr with the service name on every line."""
    handler = logging.StreamHandler(sys.stderr)
    if settings.log_json:
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s",
                rename_fields={"asctime": "ts", "levelname": "level", "name": "logger"},
                static_fields={"service": service},
            )
        )
    else:
        handler.setFormatter(logging.Formatter(f"%(asctime)s %(levelname)s [{service}] %(name)s: %(message)s"))
    handler.addFilter(_RedactSecrets())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    for noisy in ("aiokafka", "httpx", "httpcore", "sqlalchemy.engine", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def instance_id(service: str) -> str:
    return f"{service}@{socket.gethostname()}:{os.getpid()}"


def run_service(
    name: str, settings: Settings, main: Callable[[Settings, asyncio.Event], Awaitable[Any]]
) -> None:
    """Run one service until SIGTERM/SIGINT, then let it finish its current batch and exit."""
    setup_logging(settings, name)

    async def _runner() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        trimmer = asyncio.create_task(trim_memory_every(settings.memory_trim_interval_s, stop))
        try:
            await main(settings, stop)
        finally:
            trimmer.cancel()

    try:
        import uvloop

        uvloop.run(_runner())
    except ImportError:
        asyncio.run(_runner())


@functools.cache
def _libc() -> Any:
    """glibc, loaded on first use (not at import); None where the C library has no malloc_trim."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


_M_ARENA_MAX = -8  # glibc's mallopt parameter number (malloc.h)


def limit_malloc_arenas(arenas: int) -> bool:
    """Cap glibc's malloc arenas (``mallopt(M_ARENA_MAX)``), as ``MALLOC_ARENA_MAX`` would. Why: glibc gives
    each thread that allocates its own arena, up to 8 per core, and freed memory stays scattered across
    them; the services' threads (DNS lookups, parsing, aiosqlite) only allocate now and then. Measured with
    10,000 feeds: ingest 94 -> 86 MB RSS. Call before threads start; 0 = glibc's default. False where the
    C library is not glibc."""
    libc = _libc()
    if libc is None or arenas <= 0 or not hasattr(libc, "mallopt"):
        return False
    return bool(libc.mallopt(_M_ARENA_MAX, arenas))


def release_free_memory() -> bool:
    """Hand the heap that Python has freed back to the OS (glibc's ``malloc_trim``). Without it a process
    keeps its start-up peak (model loading, migrations, a large request) as RSS for ever. False where
    the C library has no malloc_trim (not glibc)."""
    libc = _libc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True


def collect_garbage(*, freeze: bool = False) -> None:
    """A full ``gc.collect``, so cyclic garbage that sits in the old generation (rarely collected) is freed
    before the trim; with ``freeze``, everything alive afterwards (imports, models, settings: the start-up
    heap) moves to the permanent generation, which later collections skip, so they take milliseconds."""
    gc.collect()
    if freeze:
        gc.freeze()


async def trim_memory_every(interval_s: float, stop: asyncio.Event, *, first_after_s: float = 10.0) -> None:
    """Soon after start-up: collect garbage, freeze the start-up heap and :func:`release_free_memory`; then
    collect and release every ``interval_s`` until ``stop`` (0 = never). Measured with 10,000 feeds: the
    API keeps ~4 MB less. Each round takes a few milliseconds once the start-up heap is frozen."""
    if interval_s <= 0:
        return
    delay, first = min(first_after_s, interval_s), True
    while not await wait_or_stop(stop, delay):
        collect_garbage(freeze=first)
        release_free_memory()
        delay, first = interval_s, False



async def wait_or_stop(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep up to ``seconds``; True if ``stop`` was set meanwhile."""
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
        return True
    except TimeoutError:
        return False
