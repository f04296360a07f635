"""Services hand freed heap back to the OS on a schedule (memory_trim_interval_s).

Why: with 10,000 feeds configured the Python services must fit in 500 MB together; without a trim each
process keeps its start-up peak (spaCy model loading alone leaves ~18 MB freed but resident).
"""

from __future__ import annotations

import asyncio
import platform

import pytest

from services import runtime


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_release_free_memory_uses_glibc() -> None:
    assert runtime.release_free_memory() is True


async def test_trims_soon_after_start_then_every_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[float] = []
    loop = asyncio.get_running_loop()
    monkeypatch.setattr(runtime, "release_free_memory", lambda: calls.append(loop.time()) or True)
    stop = asyncio.Event()
    task = asyncio.create_task(runtime.trim_memory_every(0.05, stop, first_after_s=0.01))
    await asyncio.sleep(0.3)
    stop.set()
    await asyncio.wait_for(task, 1)
    assert len(calls) >= 3


async def test_zero_interval_never_trims(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime, "release_free_memory", lambda: pytest.fail("trimmed"))
    await asyncio.wait_for(runtime.trim_memory_every(0, asyncio.Event()), 1)
