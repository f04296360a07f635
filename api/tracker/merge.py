"""Ceasefire records from mentions: identity, state transitions and expiry. Pure: no Kafka, no database.

Why here and pure: "the same ceasefire reported by 50 outlets in several languages is one record; two
ceasefires between the same parties are two" is the tracker's whole difficulty, so it is one set of
plain functions over plain records, tested table-driven over the dev timelines, and the Kafka stage
(api/tracker/service.py) only loads candidates and stores what this returns.

Identity: a mention joins a record when its parties are the record's (a mediator named alongside does
not count), its scope is the record's or unstated, and its terms do not contradict the record's; among
several, the best is the one sharing most (scope, mediators, the month it refers back to, its term,
recency). A mention that reports a *new* agreement ("a new ceasefire", or an agreement while the
record is already in force without referring back to it) founds a record instead, and so does any
agreement after a collapse or expiry. States move along :data:`TRANSITIONS` only, so repeats and
regressions add no history entry; an entry's key is (article, state), so replays add nothing either.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.events import CeasefireMention, PartyRef

ACTIVE = ("proposed", "agreed", "in_force", "violated", "extended")
RUNNING = frozenset({"agreed", "in_force", "violated", "extended"})
TERMINAL = frozenset({"rejected", "collapsed", "expired"})
TRANSITIONS: dict[str | None, frozenset[str]] = {
    None: frozenset({"proposed", "agreed", "in_force"}),
    "proposed": frozenset({"rejected", "agreed", "in_force"}),
    "agreed": frozenset({"in_force", "violated", "extended", "collapsed", "expired"}),
    "in_force": frozenset({"violated", "extended", "collapsed", "expired"}),
    "violated": frozenset({"in_force", "extended", "collapsed", "expired"}),
    "extended": frozenset({"in_force", "violated", "collapsed", "expired"}),
    "rejected": frozenset(), "collapsed": frozenset(), "expired": frozenset(),
}
FOUNDING = frozenset({"proposed", "agreed", "in_force"})
SUBJECT_SCOPES = frozenset({"energy_infrastructure", "maritime", "humanitarian"})  # precede "local" (README)
REFERENCES = {"rejected": frozenset({"rejected", "proposed"}),  # what a mention of a closed record may say
              "collapsed": frozenset({"collapsed", "expired", "ended", "violated"}),
              "expired": frozenset({"collapsed", "expired", "ended", "violated"})}


@dataclass(frozen=True)
class MergeRules:
    """The tracker's time rules (from settings in the service)."""

    grace: timedelta = timedelta(days=1)  # a term's end plus this, with no extension reported: expired
    closed_window: timedelta = timedelta(days=60)  # a closed record is still referred to this long
    open_window: timedelta = timedelta(days=365)  # a running record with no news this long is not joined


@dataclass
class Entry:
    """One state change: when, which article and story reported it, and the sentence that says so."""

    seq: int
    state: str
    at: datetime
    article_id: str | None
    story_id: str | None
    evidence: str | None
    lang: str | None = None

    @property
    def key(self) -> str:
        """Unique per record: one entry per (article, state); expiry by the clock is ``term:expired``."""
        return f"{self.article_id or 'term'}:{self.state}"


@dataclass
class Link:
    article_id: str
    story_id: str
    published_at: datetime
    lang: str | None


@dataclass
class Record:
    """A ceasefire followed over time (the store keeps it as services.db.models.Ceasefire* rows)."""

    id: str
    parties: list[PartyRef]
    scope: str
    mediators: list[PartyRef] = field(default_factory=list)
    unilateral: bool = False
    duration_days: float | None = None
    extension_days: float = 0.0
    open_ended: bool = False  # extended with no length ("until talks conclude"): never expires by itself
    until: datetime | None = None  # an end date the reports state
    effective_from: datetime | None = None
    agreed_at: datetime | None = None
    places: list[str] = field(default_factory=list)
    occasion: str | None = None
    descriptors: list[str] = field(default_factory=list)
    months: list[int] = field(default_factory=list)  # months it was proposed or agreed in (for "the July truce")
    state: str | None = None
    history: list[Entry] = field(default_factory=list)
    links: dict[str, Link] = field(default_factory=dict)
    first_reported: datetime | None = None
    last_reported: datetime | None = None
    version: int = 0

    @property
    def expires_at(self) -> datetime | None:
        """When its term runs out: a stated end date, else start + term + extensions; None if open."""
        if self.open_ended or "phased" in self.descriptors:
            return None
        if self.until is not None:
            return self.until + timedelta(days=self.extension_days)
        start = self.effective_from or self.agreed_at
        if start is None or not self.duration_days:
            return None
        return start + timedelta(days=self.duration_days + self.extension_days)

    @property
    def title(self) -> str:
        return title_of(self)

    def stories(self) -> list[str]:
        """Story ids of its articles, newest first, each once."""
        links = sorted(self.links.values(), key=lambda link: (link.published_at, link.article_id), reverse=True)
        return list(dict.fromkeys(link.story_id for link in links))

    def languages(self) -> list[str]:
        return sorted({link.lang for link in self.links.values() if link.lang})


@dataclass(frozen=True)
class ArticleFacts:
    """What the tracker knows of one stored article: its ids, time, language and mentions."""

    article_id: str
    story_id: str
    published_at: datetime
    lang: str | None
    mentions: Sequence[CeasefireMention]


@dataclass
class Change:
    """What one article (or the clock) did to one record."""

    record: Record
    created: bool = False
    entries: list[Entry] = field(default_factory=list)
    linked: bool = False


def _ids(refs: Iterable[PartyRef]) -> set[str]:
    return {p.id for p in refs}


def title_of(r: Record) -> str:
    """ "Russia–Ukraine: pause on strikes on energy infrastructure", from the record's facts."""
    sides = "–".join(p.name for p in r.parties[:3])
    place = r.places[0] if r.places else ""
    days = f"{r.duration_days:g}-day " if r.duration_days and r.duration_days >= 1 else ""
    what = {
        "full": f"{days}ceasefire",
        "energy_infrastructure": "pause on strikes on energy infrastructure",
        "maritime": "maritime ceasefire" + (f" in the {place}" if place else ""),
        "humanitarian": "humanitarian pause" + (f" in {place}" if place else ""),
        "local": "local ceasefire" + (f" in {place}" if place else ""),
        "holiday": f"{r.occasion or 'holiday'} truce",
        "unilateral": "unilateral ceasefire",
    }.get(r.scope, "ceasefire")
    return f"{sides}: {what}"


def record_id(article_id: str, index: int, m: CeasefireMention) -> str:
    """Stable across replays and rebuilds: the founding article, the mention's place in it, its sides."""
    key = f"{article_id}|{index}|{','.join(sorted(_ids(m.parties)))}|{m.scope or 'full'}"
    return "cf_" + hashlib.sha256(key.encode()).hexdigest()[:20]


# -- identity ---------------------------------------------------------------------------------------


def compatible(r: Record, m: CeasefireMention, at: datetime, rules: MergeRules, *, any_scope: bool = False) -> bool:
    """Whether mention ``m`` may be about record ``r`` at all (``any_scope``: whatever scope it names)."""
    sides, own = _ids(m.parties) - _ids(r.mediators), _ids(r.parties)
    if not m.parties:  # "the truce in Hodeidah took effect": the local ceasefire of that town, whoever its sides
        if not set(m.places) & set(r.places):
            return False
    elif not sides & own or not (sides <= own or own <= sides or set(m.places) & set(r.places)):
        return False  # a third actor named beside both sides is no other pair, unless it is the same town's truce
    if (not any_scope and m.scope and m.scope != r.scope and not (m.scope == "unilateral" and r.unilateral)
            and not (m.scope == "local" and r.scope in SUBJECT_SCOPES and set(m.places) & set(r.places))):
        return False  # (a town's truce is the humanitarian pause limited to that town, when there is one)
    if m.occasion and r.occasion and m.occasion != r.occasion:
        return False
    states = {c.state for c in m.states}
    if (m.duration_days and r.duration_days and abs(m.duration_days - r.duration_days) > 0.1 * r.duration_days
            and "extended" not in states):
        return False
    last = r.last_reported or at
    if r.state in TERMINAL:
        return states <= REFERENCES[r.state] and not m.new and at - last <= rules.closed_window
    return at - last <= rules.open_window and (r.first_reported is None or at >= r.first_reported - timedelta(days=7))


def refers_back(r: Record, m: CeasefireMention) -> bool:
    """The mention points at this record's own agreement: its month, "the existing truce", its mediators."""
    return bool(set(m.months) & set(r.months)) or "reference" in m.descriptors or (
        "permanent" in m.descriptors and "permanent" in r.descriptors)


def founds_new(r: Record, m: CeasefireMention) -> bool:
    """A fresh agreement on a record that already runs is another ceasefire (Doha after the 48-hour truce)."""
    states = {c.state for c in m.states if not c.implied}
    if m.new and states & FOUNDING:
        return True
    return "agreed" in states and r.state in ("in_force", "violated", "extended") and not refers_back(r, m)


def score(r: Record, m: CeasefireMention, at: datetime) -> float:
    """How well ``m`` fits ``r`` among compatible records (higher is better)."""
    s = 3.0 if m.scope and m.scope == r.scope else 0.0
    s += 2 * min(2, len(_ids(m.mediators) & _ids(r.mediators)))
    s += 2 if set(m.months) & set(r.months) else 0
    s += 2 if m.occasion and m.occasion == r.occasion else 0
    s += 1 if m.duration_days and m.duration_days == r.duration_days else 0
    s += 1 if set(m.descriptors) & set(r.descriptors) - {"reference"} else 0
    s += 1 if r.state in RUNNING else 0
    states = {c.state for c in m.states}
    s += 1 if (states & {"proposed", "rejected"} and r.state == "proposed") else 0
    return s - (at - (r.last_reported or at)).total_seconds() / (365 * 86400)


def _rank(r: Record, m: CeasefireMention, at: datetime) -> tuple[float, float, str]:
    """``score``, ties to the earliest reported, then the id: the same choice whatever order the candidates
    come in (the store loads them by id, the evaluation keeps them in founding order)."""
    first = r.first_reported.timestamp() if r.first_reported else 0.0
    return score(r, m, at), -first, r.id


def founds_record(m: CeasefireMention) -> bool:
    """Only a mention that proposes, agrees or starts a ceasefire between two named sides founds a record."""
    return (not m.anchor_only and not m.call_only and len(m.parties) >= 2
            and any(c.state in FOUNDING for c in m.states))


# -- applying an article -----------------------------------------------------------------------------


def apply_article(records: list[Record], facts: ArticleFacts, rules: MergeRules | None = None) -> list[Change]:
    """Fold one article's mentions into ``records`` (new records are appended); what changed, per record.

    Mentions are taken references first and new agreements last, so "a new ceasefire ... the truce
    announced on Tuesday did not hold" closes the old record before founding the new one.
    """
    rules = rules or MergeRules()
    changes: dict[str, Change] = {}
    founded: set[str] = set()
    order = sorted(enumerate(facts.mentions), key=lambda im: (im[1].new, im[1].anchor_only))
    for index, m in order:
        cands = [r for r in records if r.id not in founded and compatible(r, m, facts.published_at, rules)]
        if not cands and not {c.state for c in m.states} & FOUNDING:  # news of a known ceasefire, its scope misread
            cands = [r for r in records if r.id not in founded
                     and compatible(r, m, facts.published_at, rules, any_scope=True)]
        known = {r.id: r for r in records}
        own = known.get(record_id(facts.article_id, index, m))
        best = own or max(cands, key=lambda r: _rank(r, m, facts.published_at), default=None)
        if best is not None and best is not own and facts.article_id not in best.links and founds_new(best, m):
            best = None
        if best is None:
            if not founds_record(m):
                continue
            best = Record(id=record_id(facts.article_id, index, m), parties=list(m.parties), scope=m.scope or "full",
                          unilateral=m.unilateral, occasion=m.occasion)
            records.append(best)
            founded.add(best.id)
            changes[best.id] = Change(best, created=True)
        change = changes.setdefault(best.id, Change(best))
        change.linked |= _link(best, facts)
        _absorb(best, m)
        change.entries += _advance(best, m, facts)
    for change in changes.values():
        if change.linked or change.entries or change.created:
            change.record.version += 1
    return [c for c in changes.values() if c.created or c.entries or c.linked]


def _link(r: Record, facts: ArticleFacts) -> bool:
    first = facts.article_id not in r.links
    r.links[facts.article_id] = Link(facts.article_id, facts.story_id, facts.published_at, facts.lang)
    r.first_reported = min(filter(None, (r.first_reported, facts.published_at)))
    r.last_reported = max(filter(None, (r.last_reported, facts.published_at)))
    return first


def _absorb(r: Record, m: CeasefireMention) -> None:
    """Terms and descriptions the mention adds: mediators, term, places, what it is called."""
    sides = _ids(r.parties)
    known = _ids(r.mediators)
    r.mediators += [p for p in m.mediators if p.id not in known and p.id not in sides]
    if r.duration_days is None and m.duration_days:
        r.duration_days = m.duration_days
    r.places += [p for p in m.places if p not in r.places]
    r.occasion = r.occasion or m.occasion
    r.descriptors = sorted(set(r.descriptors) | (set(m.descriptors) - {"reference"}))


def _resolve(state: str, r: Record, m: CeasefireMention, at: datetime) -> str | None:
    """``ended`` is ``expired`` when the term is (nearly) over or the same report says so, else ``collapsed``."""
    if state != "ended":
        return state
    said = {c.state for c in m.states}
    if said & {"expired", "collapsed"}:
        return None
    end = r.expires_at
    return "expired" if end is not None and at >= end - timedelta(days=1) else "collapsed"


def _advance(r: Record, m: CeasefireMention, facts: ArticleFacts) -> list[Entry]:
    """The mention's states that move the record along its lifecycle, as new history entries."""
    out: list[Entry] = []
    keys = {e.key for e in r.history}
    for cue in m.states:
        state = _resolve(cue.state, r, m, facts.published_at)
        if state is None or state not in TRANSITIONS[r.state]:
            continue
        entry = Entry(len(r.history) + 1, state, facts.published_at, facts.article_id, facts.story_id, cue.evidence,
                      facts.lang)
        if entry.key in keys:
            continue
        _terms(r, state, m, facts.published_at)
        r.history.append(entry)
        r.state = state
        keys.add(entry.key)
        out.append(entry)
    if r.until is None and m.expires_at is not None and r.state in RUNNING and not out:
        r.until = m.expires_at
    return out


def _terms(r: Record, state: str, m: CeasefireMention, at: datetime) -> None:
    """What a state change does to the term: agreement starts it, taking effect restarts it, extension lengthens it."""
    if state in ("proposed", "agreed") and at.month not in r.months:
        r.months.append(at.month)
    if state == "agreed":
        r.agreed_at = r.agreed_at or at
        r.until = r.until or m.expires_at
        if r.duration_days is None and r.until is not None:
            r.duration_days = round((r.until - at).total_seconds() / 86400)
    elif state == "in_force":
        r.effective_from = r.effective_from or at
        r.agreed_at = r.agreed_at or at
        r.until = r.until or m.expires_at
    elif state == "extended":
        if m.extension_days:
            r.extension_days += m.extension_days
        elif m.expires_at is not None and (r.until is None or m.expires_at > r.until):
            r.until, r.extension_days = m.expires_at, 0.0
        else:
            r.open_ended = True


def expire_due(records: Iterable[Record], now: datetime, rules: MergeRules | None = None) -> list[Change]:
    """Records whose term ran out (plus the grace) with no extension: ``expired``, an entry with no article."""
    rules = rules or MergeRules()
    out = []
    for r in records:
        end = r.expires_at
        if r.state in RUNNING and end is not None and now >= end + rules.grace:
            when = max(end, r.history[-1].at) if r.history else end
            entry = Entry(len(r.history) + 1, "expired", when, None, None, None)
            if entry.key in {e.key for e in r.history}:
                continue
            r.history.append(entry)
            r.state = "expired"
            r.version += 1
            out.append(Change(r, entries=[entry]))
    return out
