"""Small builders for events used across tests (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from services.events import EnrichedArticle, EntityMention, Evidence, RawArticle, TopicTag
from services.ids import article_id, content_hash


def raw(n: int = 1, *, title: str | None = None, text: str = "Body text.", source: str = "Test Wire",
        published: datetime | None = None, feed_id: int | None = None) -> RawArticle:
    link = f"https://news.example.org/{n}"
    title = title or f"Story number {n}"
    return RawArticle(id=article_id(link=link, guid=None), url=link, link=link, title=title, summary=text,
                      source=source, feed_id=feed_id,
                      published_at=published or datetime(2026, 3, 18, 12, 0, tzinfo=UTC) + timedelta(minutes=n),
                      content_hash=content_hash(title, text))


def enriched(article: RawArticle, *, topics: dict[str, float] | None = None, entities: list[tuple[str, str, str]] | None = None,
             state: str | None = None, story_id: str | None = None) -> EnrichedArticle:
    return EnrichedArticle(
        article=article,
        lang="en",
        topics=[TopicTag(name=t, confidence=c, evidence=[Evidence(sentence=article.title, phrase=t)])
                for t, c in (topics or {}).items()],
        entities=[EntityMention(id=i, name=n, type=ty) for i, n, ty in (entities or [])],  # type: ignore[arg-type]
        state=state,  # type: ignore[arg-type]
        story_id=story_id or article.id,
        taxonomy_version="test",
    )


def index_articles(rows: list[dict[str, Any]]) -> list[tuple[str, datetime, dict[str, Any], list[str]]]:
    """Story-index rows as the old tests wrote them ({key, article_id, published_at}, one time per article)
    -> what ``services.db.clusters.profile_statements`` records: each article once, with an empty profile
    and its keys (the index refers to an article's profile row)."""
    by_article: dict[str, tuple[datetime, list[str]]] = {}
    for row in rows:
        by_article.setdefault(row["article_id"], (row["published_at"], []))[1].append(row["key"])
    return [(aid, when, {}, ks) for aid, (when, ks) in by_article.items()]
