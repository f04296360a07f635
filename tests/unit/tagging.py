"""The one-call tagger the fresh-batch rule tests use: an article in, its topics and lifecycle state out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from enrich.pipeline import Enricher
from services.events import RawArticle

T0 = datetime(2026, 6, 1, tzinfo=UTC)

Tag = Callable[..., tuple[set[str], str | None]]


def tagger(article_id: str, published_at: datetime = T0) -> Tag:
    """``tag(enricher, title, text="")``: the topic names and the state of one article, published at
    ``published_at`` under the id ``article_id``."""

    def tag(enricher: Enricher, title: str, text: str = "") -> tuple[set[str], str | None]:
        out = enricher.enrich([RawArticle(id=article_id, title=title, content=text, published_at=published_at)])[0]
        return {t.name for t in out.topics}, out.state

    return tag
