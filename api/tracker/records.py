"""Stored rows <-> merge records, and one article's fold: load candidates, merge, save.

Why a module of its own: the merge (api/tracker/merge.py) works on plain records and the repository
(services.db.ceasefires) on rows; this edge converts between the two, so neither knows the other's
shape, and the live stage, the expiry check and the rebuild fold an article the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api.tracker.merge import ArticleFacts, Change, Entry, Link, MergeRules, Record, apply_article, expire_due
from services.db import ceasefires as repo
from services.db.models import CeasefireChange
from services.events import CeasefireMention, PartyRef
from services.matching import CeasefireFilter


def _dt(value: Any) -> datetime | None:
    if not value:
        return None
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def to_record(s: repo.Stored) -> Record:
    """A stored record as the merge sees it."""
    row, terms = s.row, s.row.terms or {}
    return Record(
        id=row.id, parties=[PartyRef(**p) for p in row.parties], scope=row.scope,
        mediators=[PartyRef(**p) for p in row.mediators], unilateral=row.unilateral, duration_days=row.duration_days,
        extension_days=float(terms.get("extension_days", 0.0)), open_ended=bool(terms.get("open_ended", False)),
        until=_dt(terms.get("until")), effective_from=row.effective_from, agreed_at=_dt(terms.get("agreed_at")),
        places=list(row.places or []), occasion=terms.get("occasion"), descriptors=list(terms.get("descriptors", [])),
        months=list(terms.get("months", [])), state=row.state,
        history=[Entry(c.seq, c.state, c.at, c.article_id, c.story_id, c.evidence, c.lang) for c in s.changes],
        links={a.article_id: Link(a.article_id, a.story_id, a.published_at, a.lang) for a in s.articles},
        first_reported=row.first_reported, last_reported=row.last_reported, version=row.version)


def row_values(r: Record) -> dict[str, Any]:
    """The ``ceasefires`` row of a record."""
    assert r.state is not None and r.first_reported is not None and r.last_reported is not None
    return {
        "id": r.id, "title": r.title, "scope": r.scope, "state": r.state, "unilateral": r.unilateral,
        "parties": [p.model_dump() for p in r.parties], "mediators": [p.model_dump() for p in r.mediators],
        "duration_days": r.duration_days, "effective_from": r.effective_from, "expires_at": r.expires_at,
        "places": list(r.places), "languages": r.languages(), "article_count": len(r.links),
        "first_reported": r.first_reported, "last_reported": r.last_reported,
        "state_changed_at": r.history[-1].at if r.history else r.first_reported, "version": r.version,
        "terms": {"extension_days": r.extension_days, "open_ended": r.open_ended, "until": _iso(r.until),
                  "agreed_at": _iso(r.agreed_at), "occasion": r.occasion, "descriptors": list(r.descriptors),
                  "months": list(r.months)},
    }


def change_values(r: Record, entries: Sequence[Entry]) -> list[dict[str, Any]]:
    """History rows for new entries (with the state each one left)."""
    states = {e.seq: e.state for e in r.history}
    return [{"seq": e.seq, "key": e.key, "state": e.state, "previous_state": states.get(e.seq - 1), "at": e.at,
             "article_id": e.article_id, "story_id": e.story_id, "evidence": e.evidence, "lang": e.lang}
            for e in entries]


def link_values(r: Record) -> list[dict[str, Any]]:
    return [{"article_id": a.article_id, "story_id": a.story_id, "published_at": a.published_at, "lang": a.lang}
            for a in r.links.values()]


async def save(session: AsyncSession, change: Change) -> list[CeasefireChange]:
    """Store what one change did; the history rows inserted (the events to announce)."""
    r = change.record
    return await repo.save(session, values=row_values(r), changes=change_values(r, change.entries),
                           articles=link_values(r))


async def fold(session: AsyncSession, facts: ArticleFacts, rules: MergeRules, *,
               now: datetime | None) -> list[tuple[Record, list[CeasefireChange]]]:
    """Fold one article into the store: its candidate records, the merge, the rows it changes.

    ``now``: expire candidates whose term ran out by then first (the article's own time: history replays
    as it happened).
    """
    ids = {p.id for m in facts.mentions for p in m.parties} | await _sides_at_places(session, facts, rules)
    records = [to_record(s) for s in await repo.candidates(session, party_ids=ids)]
    changes: list[Change] = expire_due(records, now, rules) if now is not None else []
    changes += apply_article(records, facts, rules)
    out: list[tuple[Record, list[CeasefireChange]]] = []
    for change in changes:
        out.append((change.record, await save(session, change)))
    return out


PLACE_CANDIDATES = 500
"""Records reported within the merge's open window that a mention naming only its town ("the truce in
Hodeidah took effect") is matched against: the newest this many."""


async def _sides_at_places(session: AsyncSession, facts: ArticleFacts, rules: MergeRules) -> set[str]:
    """The parties of recent records limited to a town that a mention naming no side but that town may join,
    so the store offers the merge the same candidates the pure merge sees."""
    places = {p for m in facts.mentions if not m.parties for p in m.places}
    if not places:
        return set()
    rows, _ = await repo.list_page(session, filter=CeasefireFilter(since=facts.published_at - rules.open_window),
                                   limit=PLACE_CANDIDATES)
    return {p["id"] for row in rows if places & set(row.places or ()) for p in row.parties}


def mentions_json(mentions: Sequence[CeasefireMention]) -> list[dict[str, Any]]:
    return [m.model_dump(mode="json") for m in mentions]


def mentions_of(data: Sequence[dict[str, Any]]) -> list[CeasefireMention]:
    return [CeasefireMention.model_validate(m) for m in data]
