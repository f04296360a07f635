"""The one Retry-After reader (services.http_headers): both header forms, the cap, and junk."""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest import caching
from services.http_headers import retry_after_seconds

NOW = datetime(2025, 3, 18, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize("value,expected", [
    ("120", 120.0),
    ("  30 ", 30.0),
    ("0", 0.0),
    ("Tue, 18 Mar 2025 12:05:00 GMT", 300.0),
    ("Tue, 18 Mar 2025 14:05:00 +0200", 300.0),
    ("Tue, 18 Mar 2025 12:05:00 -0000", 300.0),  # no zone: HTTP dates are GMT
    ("Tue, 18 Mar 2025 11:00:00 GMT", 0.0),  # a date in the past means "now"
    ("999999999", 999999999.0),  # uncapped unless asked
    ("-5", None),
    ("1.5", None),
    ("²", None),  # str.isdigit() says yes, float() says no
    ("١٢٠", None),  # non-ASCII digits are not delta-seconds
    ("Tue, 99 Mar 2025 12:00:00 GMT", None),
    ("Tue, 18 Mar 99999999999999999999 12:00:00 GMT", None),  # overflows C's long
    ("soon", None),
    ("", None),
    (None, None),
])
def test_retry_after_seconds(value: str | None, expected: float | None) -> None:
    assert retry_after_seconds(value, NOW) == expected


@pytest.mark.parametrize("value,expected", [
    ("999999999", 3600.0),
    ("Wed, 19 Mar 2025 12:00:00 GMT", 3600.0),
    ("60", 60.0),
    ("Tue, 18 Mar 2025 11:00:00 GMT", 0.0),
    ("soon", None),
])
def test_cap(value: str, expected: float | None) -> None:
    assert retry_after_seconds(value, NOW, cap_s=3600) == expected


def test_ingest_caps_at_a_day_through_the_shared_reader() -> None:
    assert caching.parse_retry_after("999999999", NOW) == caching.MAX_HONOURED_S
    assert caching.retry_after(503, {"retry-after": "120"}, NOW) == 120.0
    assert caching.retry_after(200, {"retry-after": "120"}, NOW) is None


def test_module_is_pure() -> None:
    tree = ast.parse((Path(__file__).resolve().parents[2] / "services" / "http_headers.py").read_text())
    names = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert names <= {"__future__", "datetime", "email"}, names
