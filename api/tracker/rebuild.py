"""``wirewatch tracker rebuild``: start the ceasefire records over from the store.

Why: the records are a function of the articles and the rules; after better rules (``--reextract``:
every stored article's mentions read again by the enricher, e.g. after ``wirewatch retag`` or for a
store older than the tracker) or to repair a store, they are recomputed in publication order, each
article at its own time (a term that ran out between two reports expires between them), then expired
against the clock. Record ids are derived from the founding article, so a rebuild keeps them; it
announces nothing (subscribers heard of these changes when they happened). One transaction under the
tracker lock: a running tracker waits for it and then continues on the rebuilt records.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select

from api.tracker.merge import ArticleFacts, expire_due
from api.tracker.records import fold, mentions_json, mentions_of, save, to_record
from api.tracker.service import merge_rules
from services.clock import utcnow
from services.db import ceasefires as repo
from services.db import clusters
from services.db.engine import Sessions, make_engine, make_sessions
from services.db.migrate import upgrade_async
from services.db.models import Article
from services.events import CeasefireMention
from services.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Folded:
    article_id: str
    story_id: str
    published_at: datetime
    lang: str | None
    mentions: list[CeasefireMention]


async def _tracked(sessions: Sessions) -> list[Folded]:
    """What the tracker folded in so far, with the mentions it read then."""
    out: list[Folded] = []
    after: tuple[datetime, str] | None = None
    while True:
        async with sessions() as session:
            rows = await repo.tracked(session, after=after, limit=500)
        if not rows:
            return out
        out += [Folded(r.article_id, r.story_id, r.published_at, r.lang, mentions_of(r.mentions)) for r in rows]
        after = (rows[-1].published_at, rows[-1].article_id)


async def _reextracted(settings: Settings, sessions: Sessions) -> list[Folded]:
    """Every stored article's mentions, read again by the enricher (slow: the whole store goes through it)."""
    from enrich.pipeline import Enricher
    from enrich.retag import raw_from_row

    enricher = await asyncio.to_thread(Enricher, settings)
    out: list[Folded] = []
    after: tuple[datetime, str] | None = None
    while True:
        stmt = select(Article)
        if after is not None:
            stmt = stmt.where(or_(Article.published_at > after[0],
                                  and_(Article.published_at == after[0], Article.id > after[1])))
        async with sessions() as session:
            rows = list((await session.scalars(stmt.order_by(Article.published_at, Article.id)
                                               .limit(settings.enrich_batch_size))).all())
            stories = {r.id: await clusters.resolve(session, story_id=r.story_id) for r in rows}
        if not rows:
            return out
        after = (rows[-1].published_at, rows[-1].id)
        events = await asyncio.to_thread(enricher.enrich, [raw_from_row(r) for r in rows])
        out += [Folded(e.id, stories[e.id], e.article.published_at, e.lang, e.ceasefires) for e in events if e.ceasefires]


async def rebuild(settings: Settings, *, reextract: bool = False) -> int:
    """Recompute every record; returns how many there are."""
    await upgrade_async(settings)
    engine = make_engine(settings)
    sessions = make_sessions(engine)
    rules = merge_rules(settings)
    try:
        articles = await (_reextracted(settings, sessions) if reextract else _tracked(sessions))
        async with sessions() as session, session.begin():
            await repo.lock(session)
            await repo.clear(session)
            ids: set[str] = set()
            for a in sorted(articles, key=lambda a: (a.published_at, a.article_id)):
                facts = ArticleFacts(a.article_id, a.story_id, a.published_at, a.lang, a.mentions)
                ids |= {record.id for record, _ in await fold(session, facts, rules, now=a.published_at)}
                await repo.mark_processed(session, article_id=a.article_id, story_id=a.story_id,
                                          published_at=a.published_at, lang=a.lang, mentions=mentions_json(a.mentions))
            for change in expire_due([to_record(s) for s in await repo.due(session, before=utcnow())], utcnow(), rules):
                await save(session, change)
    finally:
        await engine.dispose()
    log.info("tracker rebuilt: %d records from %d articles", len(ids), len(articles))
    print(f"rebuilt {len(ids)} ceasefire records from {len(articles)} articles", file=sys.stderr)
    return len(ids)
