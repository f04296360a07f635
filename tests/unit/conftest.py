"""Fixtures the unit tests share."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from enrich.pipeline import Enricher


@pytest.fixture(scope="session")
def enricher() -> Enricher:
    """The process's shared enricher (one per process, so one per session): its models and rules load once.
    Imported here, not at collection: most unit tests never load the enrichment pipeline."""
    from enrich.pipeline import shared_enricher

    return shared_enricher()
