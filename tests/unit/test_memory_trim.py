"""Services hand freed heap back to the OS on a schedule (memory_trim_interval_s).

Why: with 10,000 feeds configured the Python services must fit in 500 MB together; without a trim each
process keeps its start-up peak (spaCy model loading alone leaves ~18 MB freed but resident).
"""

from __future__ import annotations

import asyncio
import platform
from pathlib import Path

import pytest

from services import runtime

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_release_free_memory_uses_glibc() -> None:
    assert runtime.release_free_memory() is True


async def test_trims_soon_after_start_then_every_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[float] = []
    loop = asyncio.get_running_loop()
    monkeypatch.setattr(runtime, "release_free_memory", lambda: calls.append(loop.time()) or True)
    monkeypatch.setattr(runtime, "collect_garbage", lambda *, freeze=False: None)  # a full gc of pytest is slow
    stop = asyncio.Event()
    task = asyncio.create_task(runtime.trim_memory_every(0.05, stop, first_after_s=0.01))
    await asyncio.sleep(0.3)
    stop.set()
    await asyncio.wait_for(task, 1)
    assert len(calls) >= 3


async def test_zero_interval_never_trims(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime, "release_free_memory", lambda: pytest.fail("trimmed"))
    await asyncio.wait_for(runtime.trim_memory_every(0, asyncio.Event()), 1)


ARENAS_PROBE = """
import ctypes, sys, threading
from services import runtime
if sys.argv[1] != "default":
    assert runtime.limit_malloc_arenas(int(sys.argv[1]))
libc = ctypes.CDLL(None)
libc.malloc.restype, libc.malloc.argtypes, libc.free.argtypes = ctypes.c_void_p, [ctypes.c_size_t], [ctypes.c_void_p]
def churn():  # ctypes releases the GIL around each call, so the threads really malloc at the same time
    for _ in range(20000):
        libc.free(libc.malloc(4096))
threads = [threading.Thread(target=churn) for _ in range(8)]
[t.start() for t in threads]
[t.join() for t in threads]
ctypes.CDLL(None).malloc_stats()  # one "Arena N:" block per arena, on stderr
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt(M_ARENA_MAX) is glibc's")
def test_arena_cap_keeps_threads_in_few_arenas() -> None:
    """Why: each allocating thread otherwise gets its own arena and freed memory stays scattered (ingest's
    RSS with 10,000 feeds: 94 MB by default, 86 MB with 2 arenas)."""
    import subprocess
    import sys

    def arenas(arg: str) -> int:
        proc = subprocess.run([sys.executable, "-c", ARENAS_PROBE, arg], capture_output=True, text=True,
                              timeout=120, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
        assert proc.returncode == 0, proc.stderr[-2000:]
        return proc.stderr.count("Arena ")

    assert arenas("2") <= 2
    assert arenas("default") > 2  # the probe does make glibc spread out without the cap


def test_service_processes_apply_the_arena_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from services import cli, lean
    from services.settings import Settings

    applied: list[int] = []
    monkeypatch.setattr(runtime, "limit_malloc_arenas", lambda n: applied.append(n) or True)
    monkeypatch.setattr(runtime, "run_service", lambda *a: None)
    monkeypatch.setattr(lean, "skip_cli_frontends", lambda: None)
    cli.run_one("sink", Settings(malloc_arena_max=3))
    assert applied == [3]


async def test_every_round_collects_and_only_the_first_freezes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The start-up heap is frozen once (the first round), so later full collections skip it."""
    rounds: list[bool] = []
    monkeypatch.setattr(runtime, "release_free_memory", lambda: True)
    monkeypatch.setattr(runtime, "collect_garbage", lambda *, freeze=False: rounds.append(freeze))
    stop = asyncio.Event()
    task = asyncio.create_task(runtime.trim_memory_every(0.05, stop, first_after_s=0.01))
    await asyncio.sleep(0.3)
    stop.set()
    await asyncio.wait_for(task, 1)
    assert len(rounds) >= 3 and rounds[0] is True and not any(rounds[1:])


def test_collect_garbage_frees_cycles() -> None:
    """Cyclic garbage is freed before the trim even while automatic collection has not run."""
    import gc
    import weakref

    class Node:
        other: object

    a, b = Node(), Node()
    a.other, b.other = b, a  # a cycle: only the cyclic collector frees it
    gone = weakref.ref(a)
    del a, b
    gc.disable()
    try:
        assert gone() is not None
        runtime.collect_garbage()
        assert gone() is None
    finally:
        gc.enable()


def test_freeze_moves_the_live_heap_to_the_permanent_generation() -> None:
    import gc

    before = gc.get_freeze_count()
    try:
        runtime.collect_garbage(freeze=True)
        assert gc.get_freeze_count() > before
    finally:
        gc.unfreeze()
