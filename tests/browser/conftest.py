"""Shared by the browser suites: Debian's headless Chromium, skipped with a message where it is absent."""

from __future__ import annotations

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        pytest.skip("headless Chromium is not installed: `apt-get install -y chromium` provides /usr/bin/chromium")
    return CHROMIUM
