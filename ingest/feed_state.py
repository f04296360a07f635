"""Feed-state writes of concurrent polls, gathered into one transaction.

Why: at 100,000 feeds the ingester finishes over a hundred polls a second, most of them 304s that only
move the feed's schedule. A session, transaction and UPDATE for each took a quarter of the process's CPU;
one executemany for all the polls that finished within a few milliseconds costs a fraction of that.

A poll still waits for its own row to be stored (or for the error that refused it), so a feed stays in
flight until its new schedule is in the store: the scheduler cannot take it a second time meanwhile, and
nothing is reported polled that the store does not say.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from services.db import feeds as repo
from services.db.engine import Sessions
from services.db.retrying import retry_transient


async def write_feed_state(sessions: Sessions, write: Callable[[AsyncSession], Awaitable[object]], *,
                           attempts: int, what: str) -> None:
    """One feed-state write in its own session, tried again while the store is only busy."""
    async def once() -> None:
        async with sessions() as session:
            await write(session)

    await retry_transient(once, attempts=attempts, what=what)


def _retrieve(stored: asyncio.Future[None]) -> None:
    """Mark the outcome read: the poll that waited for it may have been cancelled meanwhile."""
    if not stored.cancelled():
        stored.exception()


class FeedStateWriter:
    """Stores :class:`repo.FeedSuccess` rows in batches of up to ``max_rows``, each after ``linger_s``."""

    def __init__(self, sessions: Sessions, *, linger_s: float, max_rows: int, attempts: int) -> None:
        self.sessions = sessions
        self.linger_s = linger_s
        self.max_rows = max_rows
        self.attempts = attempts
        self._waiting: list[tuple[repo.FeedSuccess, asyncio.Future[None]]] = []
        self._full = asyncio.Event()
        self._flusher: asyncio.Task[None] | None = None

    async def record(self, done: repo.FeedSuccess) -> None:
        """Store one good fetch; returns once it is committed, raises what refused it."""
        if done.url:  # a move may meet another feed's URL, which must not undo anybody else's row
            await write_feed_state(self.sessions, lambda session: repo.record_success(session, done),
                                   attempts=self.attempts, what="feed success")
            return
        stored: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        stored.add_done_callback(_retrieve)
        self._waiting.append((done, stored))
        if len(self._waiting) >= self.max_rows:
            self._full.set()
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_while_waiting(), name="feed-state-writer")
        await asyncio.shield(stored)  # a cancelled poll leaves its row in the batch, stored all the same

    async def close(self) -> None:
        """Store what is waiting (used on shutdown)."""
        if self._flusher is not None:
            self._full.set()
            with contextlib.suppress(Exception):
                await self._flusher

    async def _flush_while_waiting(self) -> None:
        while self._waiting:
            if len(self._waiting) < self.max_rows:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._full.wait(), self.linger_s)
            self._full.clear()
            batch, self._waiting = self._waiting[:self.max_rows], self._waiting[self.max_rows:]
            await self._flush(batch)

    async def _flush(self, batch: list[tuple[repo.FeedSuccess, asyncio.Future[None]]]) -> None:
        rows = [done for done, _ in batch]
        try:
            await write_feed_state(self.sessions, lambda session: repo.record_successes(session, rows),
                                   attempts=self.attempts, what="feed success")
        except Exception as exc:  # every poll of the batch learns why; none is marked polled
            for _, stored in batch:
                if not stored.done():
                    stored.set_exception(exc)
        else:
            for _, stored in batch:
                if not stored.done():
                    stored.set_result(None)
