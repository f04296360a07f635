"""Re-tag stored articles after a taxonomy or gazetteer change. Pure: the caller reads and writes the DB.

Why: rules change; stored articles keep the ``taxonomy_version`` they were tagged
with, and this helper streams them back through the same Enricher in batches.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice

from services.events import EnrichedArticle, RawArticle

from .pipeline import Enricher


def retag(enricher: Enricher, articles: Iterable[RawArticle], batch_size: int | None = None) -> Iterator[EnrichedArticle]:
    """Yield the enriched form of every article, in input order, enriching ``batch_size`` at a time."""
    size = batch_size or enricher.settings.enrich_batch_size
    it = iter(articles)
    while batch := list(islice(it, size)):
        yield from enricher.enrich(batch)


def needs_retag(stored_version: str | None, enricher: Enricher) -> bool:
    """Whether an article tagged under ``stored_version`` is stale."""
    return stored_version != enricher.taxonomy_version
