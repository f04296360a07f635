"""Which store errors are only "busy", and that such a write is tried again while others are not."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from services.db.retrying import is_transient, retry_transient


def op_error(text: str) -> OperationalError:
    return OperationalError("UPDATE feeds SET ...", {}, Exception(text))


@pytest.mark.parametrize("text,transient", [
    ("database is locked", True),
    ("deadlock detected", True),
    ("could not serialize access due to concurrent update", True),
    ("no such table: feeds", False),
    ("disk I/O error", False),
])
def test_is_transient(text: str, transient: bool) -> None:
    assert is_transient(op_error(text)) is transient


def test_other_errors_are_not_transient() -> None:
    assert not is_transient(IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed")))
    assert not is_transient(ValueError("database is locked"))


async def test_busy_then_done() -> None:
    calls: list[int] = []

    async def write() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise op_error("database is locked")
        return "written"

    assert await retry_transient(write, attempts=4, first_wait_s=0.001, max_wait_s=0.01) == "written"
    assert len(calls) == 3


async def test_gives_up_after_attempts_and_never_retries_a_real_error() -> None:
    calls: list[int] = []

    async def locked() -> None:
        calls.append(1)
        raise op_error("database is locked")

    with pytest.raises(OperationalError, match="locked"):
        await retry_transient(locked, attempts=3, first_wait_s=0.001, max_wait_s=0.01)
    assert len(calls) == 3

    async def broken() -> None:
        calls.append(1)
        raise op_error("no such table: feeds")

    calls.clear()
    with pytest.raises(OperationalError, match="no such table"):
        await retry_transient(broken, attempts=3, first_wait_s=0.001)
    assert len(calls) == 1
