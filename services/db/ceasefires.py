"""Repository for ceasefire records: the tracker's reads and writes, and the API's queries.

Only reads and writes: which mention joins which record is decided in api/tracker/merge.py, and the
shapes here are ORM rows and plain dicts. Keyword-only functions, one per use.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, delete, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.clock import utcnow
from services.db.clusters import story_aliases
from services.db.models import Ceasefire, CeasefireArticle, CeasefireChange, CeasefireParty, TrackedArticle
from services.matching import ACTIVE_CEASEFIRE_STATES, CeasefireFilter, search_terms

RUNNING = ("agreed", "in_force", "violated", "extended")
_S = TypeVar("_S", bound=Select)  # type: ignore[type-arg]
TRACKER_LOCK = 727275  # PostgreSQL advisory lock id: one tracker writer at a time


@dataclass
class Stored:
    """One record as stored: its row, its history (oldest first) and the articles that report it."""

    row: Ceasefire
    changes: list[CeasefireChange] = field(default_factory=list)
    articles: list[CeasefireArticle] = field(default_factory=list)


# --- the tracker's writes --------------------------------------------------------------------------


async def lock(session: AsyncSession) -> None:
    """Serialise tracker writers (several instances, the expiry check, a rebuild): call first in a transaction.

    PostgreSQL: a transaction-scoped advisory lock. SQLite: the write lock, taken up front by a no-op
    UPDATE, so every read of the transaction sees what the previous writer committed.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": TRACKER_LOCK})
    elif dialect == "sqlite":
        await session.execute(update(Ceasefire).where(text("0")).values(version=Ceasefire.version))


async def processed(session: AsyncSession, *, article_ids: Iterable[str]) -> set[str]:
    """Which of these articles the tracker has folded in already."""
    ids = list(article_ids)
    if not ids:
        return set()
    rows = await session.scalars(select(TrackedArticle.article_id).where(TrackedArticle.article_id.in_(ids)))
    return set(rows.all())


async def mark_processed(session: AsyncSession, *, article_id: str, story_id: str, published_at: datetime,
                         lang: str | None, mentions: list[dict[str, Any]]) -> None:
    """Remember an article as folded in, with its mentions (what a rebuild replays)."""
    session.add(TrackedArticle(article_id=article_id, story_id=story_id, published_at=published_at, lang=lang,
                               mentions=mentions, processed_at=utcnow()))
    await session.flush()


async def _stored(session: AsyncSession, rows: Sequence[Ceasefire]) -> list[Stored]:
    ids = [r.id for r in rows]
    if not ids:
        return []
    out = {r.id: Stored(r) for r in rows}
    for c in (await session.scalars(select(CeasefireChange).where(CeasefireChange.ceasefire_id.in_(ids))
                                    .order_by(CeasefireChange.seq))).all():
        out[c.ceasefire_id].changes.append(c)
    for a in (await session.scalars(select(CeasefireArticle).where(CeasefireArticle.ceasefire_id.in_(ids)))).all():
        out[a.ceasefire_id].articles.append(a)
    return [out[i] for i in ids]


async def candidates(session: AsyncSession, *, party_ids: Iterable[str]) -> list[Stored]:
    """Every record one of these entities is a party to (what a mention may join)."""
    ids = list(dict.fromkeys(party_ids))
    if not ids:
        return []
    sub = select(CeasefireParty.ceasefire_id).where(CeasefireParty.entity_id.in_(ids), CeasefireParty.role == "party")
    rows = (await session.scalars(select(Ceasefire).where(Ceasefire.id.in_(sub)).order_by(Ceasefire.id))).all()
    return await _stored(session, rows)


async def due(session: AsyncSession, *, before: datetime) -> list[Stored]:
    """Running records whose term ended before ``before`` (the expiry check)."""
    rows = (await session.scalars(select(Ceasefire).where(Ceasefire.state.in_(RUNNING), Ceasefire.expires_at.is_not(None),
                                                          Ceasefire.expires_at <= before).order_by(Ceasefire.id))).all()
    return await _stored(session, rows)


async def save(session: AsyncSession, *, values: Mapping[str, Any], changes: Sequence[Mapping[str, Any]],
               articles: Sequence[Mapping[str, Any]]) -> list[CeasefireChange]:
    """Insert or update one record with its party index; add the history entries and article links it lacks.

    Returns the history rows inserted (the events to announce); an entry already stored (same key) is
    skipped, so saving the same change twice adds nothing.
    """
    now = utcnow()
    row = await session.get(Ceasefire, values["id"])
    if row is None:
        row = Ceasefire(**values, created_at=now, updated_at=now)
        session.add(row)
    else:
        for k, v in values.items():
            setattr(row, k, v)
        row.updated_at = now
    await session.flush()
    await session.execute(delete(CeasefireParty).where(CeasefireParty.ceasefire_id == row.id))
    index = {(p["id"], role): p["name"] for role, key in (("party", "parties"), ("mediator", "mediators"))
             for p in values[key]}
    session.add_all(CeasefireParty(ceasefire_id=row.id, entity_id=eid, role=role, name=name[:256])
                    for (eid, role), name in index.items())
    known = set((await session.scalars(select(CeasefireChange.key).where(CeasefireChange.ceasefire_id == row.id))).all())
    fresh = [CeasefireChange(ceasefire_id=row.id, recorded_at=now, **c) for c in changes if c["key"] not in known]
    session.add_all(fresh)
    linked = set((await session.scalars(select(CeasefireArticle.article_id)
                                        .where(CeasefireArticle.ceasefire_id == row.id))).all())
    session.add_all(CeasefireArticle(ceasefire_id=row.id, **a) for a in articles if a["article_id"] not in linked)
    await session.flush()
    return fresh


async def clear(session: AsyncSession) -> None:
    """Forget every record and every folded-in article (a rebuild starts here)."""
    for model in (CeasefireChange, CeasefireArticle, CeasefireParty, Ceasefire, TrackedArticle):
        await session.execute(delete(model))


async def tracked(session: AsyncSession, *, after: tuple[datetime, str] | None, limit: int) -> list[TrackedArticle]:
    """Folded-in articles in (published_at, id) order, after a keyset position (a rebuild reads these)."""
    stmt = select(TrackedArticle)
    if after is not None:
        stmt = stmt.where(or_(TrackedArticle.published_at > after[0],
                              and_(TrackedArticle.published_at == after[0], TrackedArticle.article_id > after[1])))
    stmt = stmt.order_by(TrackedArticle.published_at, TrackedArticle.article_id).limit(limit)
    return list((await session.scalars(stmt)).all())


# --- the API's reads -------------------------------------------------------------------------------


def encode_cursor(row: Ceasefire) -> str:
    raw = json.dumps([row.last_reported.isoformat(), row.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """Raise ValueError for anything that is not a cursor we issued."""
    try:
        ts, cid = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        when = datetime.fromisoformat(ts)
        if not isinstance(cid, str):
            raise TypeError
    except (ValueError, TypeError, OverflowError, json.JSONDecodeError) as exc:
        raise ValueError("cursor is not valid; use the next_cursor value of a previous page") from exc
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC), cid


def _has_party(p: str) -> ColumnElement[bool]:
    return select(CeasefireParty.ceasefire_id).where(
        CeasefireParty.ceasefire_id == Ceasefire.id, CeasefireParty.role == "party",
        or_(CeasefireParty.entity_id == p, func.lower(CeasefireParty.name) == p.lower())).exists()


def apply_filter(stmt: _S, f: CeasefireFilter) -> _S:
    """The SQL form of services.matching.ceasefire_matches (the same cases are tested on both)."""
    if f.states:
        stmt = stmt.where(Ceasefire.state.in_(list(f.states)))
    if f.active:
        stmt = stmt.where(Ceasefire.state.in_(ACTIVE_CEASEFIRE_STATES))
    if f.scopes:
        stmt = stmt.where(Ceasefire.scope.in_(list(f.scopes)))
    for p in f.parties:
        stmt = stmt.where(_has_party(p))
    if f.any_parties:
        stmt = stmt.where(or_(*(_has_party(p) for p in f.any_parties)))
    if f.since:
        stmt = stmt.where(Ceasefire.last_reported >= f.since)
    if f.q is not None:
        for term in search_terms(f.q) or ["\x00"]:
            like = f"%{term.replace('%', '').replace('_', '')}%"
            stmt = stmt.where(or_(func.lower(Ceasefire.title).like(like), select(CeasefireParty.ceasefire_id).where(
                CeasefireParty.ceasefire_id == Ceasefire.id, func.lower(CeasefireParty.name).like(like)).exists()))
    return stmt


async def list_page(session: AsyncSession, *, filter: CeasefireFilter, limit: int,
                    cursor: str | None = None) -> tuple[list[Ceasefire], str | None]:
    """Records by newest report first, keyset-paged over (last_reported, id)."""
    stmt = apply_filter(select(Ceasefire), filter)
    if cursor:
        when, cid = decode_cursor(cursor)
        stmt = stmt.where(Ceasefire.last_reported <= when, or_(Ceasefire.last_reported < when, Ceasefire.id < cid))
    stmt = stmt.order_by(Ceasefire.last_reported.desc(), Ceasefire.id.desc()).limit(limit + 1)
    rows = list((await session.scalars(stmt)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (encode_cursor(rows[-1]) if more and rows else None)


async def get(session: AsyncSession, *, ceasefire_id: str) -> Ceasefire | None:
    """One record by id, or None."""
    return await session.get(Ceasefire, ceasefire_id)


async def history(session: AsyncSession, *, ceasefire_id: str) -> list[CeasefireChange]:
    """Its state changes, oldest first."""
    stmt = select(CeasefireChange).where(CeasefireChange.ceasefire_id == ceasefire_id).order_by(CeasefireChange.seq)
    return list((await session.scalars(stmt)).all())


async def stories(session: AsyncSession, *, ceasefire_ids: Sequence[str]) -> dict[str, list[str]]:
    """Per record: the stories of its articles, newest article first, a merged story as its survivor."""
    out: dict[str, list[str]] = {i: [] for i in ceasefire_ids}
    if not ceasefire_ids:
        return out
    survivor = func.coalesce(story_aliases.c.story_id, CeasefireArticle.story_id)
    rows = await session.execute(
        select(CeasefireArticle.ceasefire_id, survivor)
        .outerjoin(story_aliases, story_aliases.c.old_id == CeasefireArticle.story_id)
        .where(CeasefireArticle.ceasefire_id.in_(list(ceasefire_ids)))
        .order_by(CeasefireArticle.published_at.desc(), CeasefireArticle.article_id.desc()))
    for cid, sid in rows.all():
        if sid not in out[cid]:
            out[cid].append(sid)
    return out


async def changes_after(session: AsyncSession, *, after_id: int, limit: int) -> list[tuple[CeasefireChange, Ceasefire]]:
    """State changes stored after history row ``after_id``, oldest first, with their records (the live stream)."""
    rows = await session.execute(select(CeasefireChange, Ceasefire).join(Ceasefire, Ceasefire.id == CeasefireChange.ceasefire_id)
                                 .where(CeasefireChange.id > after_id).order_by(CeasefireChange.id).limit(limit))
    return [(c, r) for c, r in rows.all()]


async def last_change_id(session: AsyncSession) -> int:
    """The newest history row id (0 for none): where a new listener starts."""
    return int(await session.scalar(select(func.max(CeasefireChange.id))) or 0)


async def latest_changes(session: AsyncSession, *, filter: CeasefireFilter, limit: int,
                         before_id: int | None = None) -> list[tuple[CeasefireChange, Ceasefire]]:
    """The newest state changes of the records ``filter`` matches, newest first (the feeds)."""
    stmt = apply_filter(select(CeasefireChange, Ceasefire).join(Ceasefire, Ceasefire.id == CeasefireChange.ceasefire_id),
                        filter)
    if before_id is not None:
        stmt = stmt.where(CeasefireChange.id < before_id)
    rows = await session.execute(stmt.order_by(CeasefireChange.id.desc()).limit(limit))
    return [(c, r) for c, r in rows.all()]


async def overview(session: AsyncSession, *, limit: int) -> list[Ceasefire]:
    """Active records first, each group newest report first (the dashboard)."""
    active = Ceasefire.state.in_(ACTIVE_CEASEFIRE_STATES)
    stmt = select(Ceasefire).order_by(active.desc(), Ceasefire.last_reported.desc(), Ceasefire.id).limit(limit)
    return list((await session.scalars(stmt)).all())


async def state_counts(session: AsyncSession) -> dict[str, int]:
    """Records per current state."""
    rows = await session.execute(select(Ceasefire.state, func.count()).group_by(Ceasefire.state))
    return {s: int(n) for s, n in rows.all()}
