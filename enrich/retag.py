"""``wirewatch retag``: re-apply the current taxonomy and gazetteer to stored articles.

Why: rules improve after articles were stored. This streams the store's
articles (optionally only those published since a date) in keyset batches back
through the same Enricher the Kafka worker uses and writes the result through
the sink's own idempotent upsert, so stories are refreshed the same way and a
second run changes nothing. Articles keep their stories (and the grouping profile
they were first grouped with); the progress bar goes to stderr.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import and_, func, or_, select, true
from tqdm import tqdm

from enrich.pipeline import Enricher
from services.db.engine import make_engine, make_sessions
from services.db.migrate import upgrade_async
from services.db.models import Article
from services.db.stories import upsert_enriched
from services.events import RawArticle
from services.settings import Settings

log = logging.getLogger(__name__)
EXIT_USAGE = 2


def parse_since(since: str | None) -> datetime | None:
    """An ISO date or date-time (UTC unless it says otherwise); ValueError with a readable message."""
    if since is None:
        return None
    try:
        when = datetime.fromisoformat(since.strip())
    except ValueError:
        raise ValueError(f"--since {since!r} is not an ISO date; use e.g. 2026-03-01 or 2026-03-01T12:00") from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def raw_from_row(row: Article) -> RawArticle:
    """The raw article a stored row was enriched from (the analysed text is content, else summary)."""
    published = row.published_at if row.published_at.tzinfo else row.published_at.replace(tzinfo=UTC)
    fetched = row.fetched_at if row.fetched_at.tzinfo else row.fetched_at.replace(tzinfo=UTC)
    return RawArticle(id=row.id, feed_id=row.feed_id, source=row.source, url=row.url, link=row.link,
                      title=row.title, summary=row.summary, content=row.content, author=row.author, lang=row.lang,
                      published_at=published, fetched_at=fetched, content_hash=row.content_hash, via="replay")


async def retag_store(settings: Settings, *, since: str | None) -> int:
    """Re-enrich stored articles (published since ``since``) and update them and their stories; 0 = success."""
    try:
        since_at = parse_since(since)
    except ValueError as exc:
        print(f"wirewatch retag: {exc}", file=sys.stderr)
        return EXIT_USAGE
    await upgrade_async(settings)
    enricher = await asyncio.to_thread(Enricher, settings)
    engine = make_engine(settings)
    sessions = make_sessions(engine)
    size = settings.enrich_batch_size
    kinds: Counter[str] = Counter()
    try:
        scope = Article.published_at >= since_at if since_at is not None else true()
        async with sessions() as s:
            total = int(await s.scalar(select(func.count()).select_from(Article).where(scope)) or 0)
        after: tuple[datetime, str] | None = None
        with tqdm(total=total, desc="retag", unit="article", file=sys.stderr, disable=None) as bar:
            while True:
                stmt = select(Article).where(scope)
                if after is not None:
                    stmt = stmt.where(or_(Article.published_at > after[0],
                                          and_(Article.published_at == after[0], Article.id > after[1])))
                async with sessions() as s:
                    rows = list((await s.scalars(stmt.order_by(Article.published_at, Article.id).limit(size))).all())
                if not rows:
                    break
                after = (rows[-1].published_at, rows[-1].id)
                stories = {r.id: r.story_id for r in rows}
                events = await asyncio.to_thread(enricher.enrich, [raw_from_row(r) for r in rows])
                async with sessions() as s, s.begin():
                    for ev in events:
                        ev.story_id = stories[ev.id]
                        change = await upsert_enriched(s, event=ev)
                        kinds[change.article_kind] += 1
                bar.update(len(rows))
    finally:
        await engine.dispose()
    log.info("retag done: %d updated, %d unchanged (taxonomy %s)", kinds["update"], kinds["replay"],
             enricher.taxonomy_version)
    print(f"retagged {sum(kinds.values())} articles: {kinds['update']} updated, {kinds['replay']} unchanged",
          file=sys.stderr)
    return 0
