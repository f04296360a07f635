"""Retry a short store write that failed only because the store was busy.

Why: SQLite allows one writer. Under a heavy import or a long sink batch a writer can wait past
``busy_timeout``, and in WAL mode a transaction whose snapshot went stale is refused at once
("database is locked"); PostgreSQL reports a deadlock or a serialisation failure the same way. None of
these says anything about the data: the same write, tried again a moment later, succeeds. A process
that let the error escape would lose a feed's state (or, in an asyncio task, log "Task exception was
never retrieved" and forget the work). The write must be a whole transaction, so it can run again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, OperationalError
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

log = logging.getLogger(__name__)
T = TypeVar("T")

# What the drivers say when the store was only busy: SQLite (locked, busy), PostgreSQL (deadlock,
# serialisation failure, lock wait timeout).
TRANSIENT_MARKERS = ("database is locked", "database table is locked", "database is busy", "deadlock detected",
                     "could not serialize access", "lock timeout", "canceling statement due to lock timeout")


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` only says the store was busy (so the same transaction may simply run again)."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if not isinstance(exc, (OperationalError, DBAPIError)):
        return False
    text = str(exc).lower()
    return any(m in text for m in TRANSIENT_MARKERS)


async def retry_transient(write: Callable[[], Awaitable[T]], *, attempts: int, first_wait_s: float = 0.05,
                          max_wait_s: float = 2.0, what: str = "store write") -> T:
    """Run ``write`` (a whole transaction) up to ``attempts`` times while it fails as :func:`is_transient`;
    any other error, or the last transient one, is raised."""
    def _log(state: object) -> None:
        outcome = getattr(state, "outcome", None)
        log.warning("%s: the store was busy; trying again", what,
                    extra={"attempt": getattr(state, "attempt_number", 0),
                           "error": str(outcome.exception()) if outcome is not None else ""})

    async for attempt in AsyncRetrying(retry=retry_if_exception(is_transient), stop=stop_after_attempt(attempts),
                                       wait=wait_exponential_jitter(initial=first_wait_s, max=max_wait_s),
                                       before_sleep=_log, reraise=True):
        with attempt:
            return await write()
    raise AssertionError("unreachable: tenacity either returned or raised")  # pragma: no cover
