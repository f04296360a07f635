"""Ceasefire mentions: which ceasefires an article reports, between whom, on what terms, in what state.

Why: "which stories mention a ceasefire" is the topic tagger's question; the tracker needs each
ceasefire the text reports as a separate thing (a 30-day energy pause agreed and a full ceasefire
rejected in one report are two), with its parties, mediators, scope, terms and the sentences that give
its lifecycle states. Pure code over what enrichment found (sentences, linked entities with their
spans); every cue word lives per language in ``ceasefire_rules.json``, so a language is added as data.

How, per article: sentences split into clauses; a clause holding a trigger ("ceasefire", "Waffenruhe",
"ateşkes", "pause on attacks against energy infrastructure"; weak: "the deal") is a *frame* with the
scope, term and state cues of that clause. Actors come from the linked entities and the rules' aliases;
those bound to mediation cues ("mediated by", "Qatar-mediated", "X said A and B agreed") are mediators,
the others candidate parties. Frames are grouped into mentions (same scope, compatible states and
terms; a bare "the truce" joins the closest fitting group); hard negatives (tariff truces, golf, a
policing programme) are dropped by negative contexts and by having no armed parties.
"""

from __future__ import annotations

import calendar
import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from services.events import CeasefireCue, CeasefireMention, EntityMention, PartyRef

from .cuegate import Cue, document, document_literals, fold, live
from .gazetteer import Gazetteer, default_gazetteer
from .topics import Sentence

RULES_PATH = Path(__file__).with_name("ceasefire_rules.json")
LIFECYCLE = ("proposed", "rejected", "agreed", "in_force", "violated", "extended", "ended", "collapsed", "expired")
POSITIVE = frozenset({"agreed", "declared", "in_force", "extended"})
NEGATIVE = frozenset({"rejected", "proposed", "call"})
NEAR_TRIGGER = {"proposed": 8, "call": 6, "rejected": 8, "accepted": 8, "declared": 6}  # cue classes bound to a trigger
WEAK_STATES = frozenset({"agreed", "violated", "extended", "collapsed", "ended", "expired"})
SCOPE_ORDER = ("energy_infrastructure", "maritime", "humanitarian", "local", "holiday")
SPECIFIC_SCOPES = frozenset(SCOPE_ORDER)  # a call for one of these names what it offers
SUBJECT_SCOPES = frozenset(SCOPE_ORDER[:3])  # a subject matter, before "local"
_ARABIC = re.compile(r"[\u0600-\u06ff]")
_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
NEAR = 10  # tokens around a trigger in which scope cues count


def _narrowed(scope: str, scopes: set[str]) -> bool:
    """A town and a subject matter describe one truce ("a ceasefire in Mariupol" / "to evacuate civilians"):
    the subject matter wins (README precedence), so the two frames may be one mention."""
    both = {scope, *scopes}
    return "local" in both and len(both - {"local"}) == 1 and both - {"local"} <= SUBJECT_SCOPES


def _alternation(pats: Sequence[str]) -> str:
    """One alternation of ``pats``, word-bounded unless a pattern is Arabic (proclitics attach)."""
    bounded = [p for p in pats if not _ARABIC.search(p)]
    parts = [rf"(?<![^\W_])(?:{'|'.join(f'(?:{p})' for p in bounded)})(?![^\W_])"] if bounded else []
    parts += [f"(?:{p})" for p in pats if _ARABIC.search(p)]
    return "|".join(parts)


def _compile(patterns: Iterable[str], literals: frozenset[str] | None = None) -> Cue | None:
    """One case-insensitive alternation (:func:`_alternation`), gated by the literals its matches contain
    (``cuegate``: most texts are never scanned) and narrowed to the patterns a document can match. Callers
    read only whole matches (group 0), never numbered groups: narrowing renumbers them."""
    pats = list(patterns)
    return Cue.alternation(pats, _alternation, re.IGNORECASE, literals) if pats else None


def _per_lang(table: dict[str, list[str]]) -> dict[str, Cue | None]:
    return {lang: _compile(pats) for lang, pats in table.items()}


@dataclass(frozen=True)
class Actor:
    """A possible party or mediator: a state, an armed group, or an organisation (never a party)."""

    id: str
    name: str
    kind: str
    conflict: bool


@dataclass
class _Occ:
    actor: Actor
    start: int
    end: int
    weak: bool = False  # an entity not in the rules: counts only when paired ("India and Pakistan")
    rank: int = 0  # 0 the rules' aliases, 1 a linked entity the rules list, 2 any other linked entity
    med: bool = False
    paired: bool = False


@dataclass
class _Frame:
    sent: int
    text: str
    weak: bool
    scope: str | None = None
    occasion: str | None = None
    duration: float | None = None
    extension: float | None = None
    until: datetime | None = None
    cues: list[tuple[str, str]] = field(default_factory=list)  # (state class, evidence when not this sentence)
    new: bool = False
    reference: bool = False
    months: set[int] = field(default_factory=set)
    descriptors: set[str] = field(default_factory=set)
    declared_by: Actor | None = None
    bilateral: bool = False
    future: bool = False
    places: list[str] = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        return {c for c, _ in self.cues}

    @property
    def polarity(self) -> int:
        if self.classes & POSITIVE:
            return 1
        return -1 if self.classes & NEGATIVE else 0


class CeasefireRules:
    """``ceasefire_rules.json`` compiled once per process."""

    def __init__(self, path: Path = RULES_PATH, gazetteer: Gazetteer | None = None) -> None:
        data = json.loads(path.read_text(encoding="utf-8"))
        self.version: str = data["version"]
        self.languages: set[str] = set(data["languages"])
        gaz = gazetteer or default_gazetteer()
        self.strong = {lang: _compile(t["strong"]) for lang, t in data["triggers"].items()}
        self.weak = {lang: _compile(t["weak"]) for lang, t in data["triggers"].items()}
        self.negative = _compile(data["negatives"])
        self.split = {lang: re.compile("|".join(p)) for lang, p in data["clause_split"].items()}
        self.scopes = {scope: _per_lang(t) for scope, t in data["scopes"].items()}
        self.states = {cls: _per_lang(t) for cls, t in data["states"].items()}
        self.state_cues = self._by_lang(self.states)
        self.words = {name: {lang: re.compile(rf"^(?:{'|'.join(ws)})$", re.I) for lang, ws in t.items() if ws}
                      for name, t in data["filters"].items() if name in ("negation", "modal", "after")}
        self.plan = {lang: re.compile("|".join(p), re.I) if p else None for lang, p in data["filters"]["plan"].items()}
        self.participle = _per_lang(data["filters"]["participle"])
        self.markers = {name: _per_lang(t) for name, t in data["markers"].items()}
        self.mediation = {name: _per_lang(t) for name, t in data["mediation"].items() if name != "announce_order"}
        self.announce_order: dict[str, str] = data["mediation"].get("announce_order", {})
        self.scope_cues = self._by_lang({s: self.scopes[s] for s in ("energy_infrastructure", "maritime",
                                                                    "humanitarian", "local")})
        self.mediation_after = self._by_lang({False: self.mediation["after"], True: self.mediation["after_weak"]})
        self.mediation_before = self._by_lang({False: self.mediation["before"], True: self.mediation["before_weak"]})
        self.clause_markers = self._by_lang({m: self.markers[m] for m in ("bilateral", "future", "new", "permanent",
                                                                          "unilateral", "reference_verbs")})
        self.numbers: dict[str, dict[str, float]] = data["numbers"]
        self.units: dict[str, float] = {k.lower(): v for k, v in data["units"].items()}
        # tuples: the clause loops read the ones a document can match (cuegate.live, keyed by identity)
        self.durations = {lang: tuple(Cue(p, re.I) for p in ps) for lang, ps in data["durations"].items()}
        self.extension = {lang: tuple(Cue(p, re.I) for p in ps) for lang, ps in data["extension"].items()}
        self.until = {lang: tuple(Cue(p) for p in ps) for lang, ps in data["until"].items()}
        self.months = {lang: [re.compile(rf"^(?:{m})$", re.I) for m in ms] for lang, ms in data["months"].items()}
        self.month_rx = _per_lang({lang: list(ms) for lang, ms in data["months"].items()})
        self.holidays = self._holidays(data)
        self.by_entity: dict[str, Actor] = {}
        self.actors: list[tuple[Actor, Cue | None]] = []
        for spec in data["actors"]:
            ent = gaz.by_name(spec["name"]) or gaz.by_id(spec["id"])
            actor = Actor(ent.id if ent else spec["id"], spec["name"], spec["kind"],
                          bool(spec["conflict"] or (ent is not None and ent.conflict)))
            pats = [a for ps in spec["aliases"].values() for a in ps]
            self.actors.append((actor, _compile(pats)))
            for eid in [*spec["entities"], actor.id]:
                self.by_entity[eid] = actor
            self.by_entity[spec["name"].lower()] = actor
        # every actor's gate literals at once: a document is searched for them in one pass, and only the actors
        # whose literals it holds are looked for (each cue's own gate would answer no for the others)
        by_literal: dict[str, list[int]] = {}
        for k, (_, rx) in enumerate(self.actors):
            for lit in (rx.literals or ()) if rx is not None else ():
                by_literal.setdefault(lit, []).append(k)
        self.actor_literals = tuple(by_literal)
        self.actor_literal_set = frozenset(by_literal)
        self.actor_ascii = tuple(lit for lit in by_literal if lit.isascii())
        self.actor_by_literal = {lit: tuple(ks) for lit, ks in by_literal.items()}
        self.actor_ungated = tuple(k for k, (_, rx) in enumerate(self.actors) if rx is not None and rx.literals is None)
        self.countries = _countries(gaz)
        self.theatres = [self._theatre(t) for t in data["theatres"]]
        self.theatre_names = {t["places"][0] for t in data["theatres"] if t["places"]}
        self.places = [(p["name"], _compile(p["aliases"])) for p in data["conflict_places"]]
        self.gazetteer = gaz

    @staticmethod
    def _by_lang(tables: dict[Any, dict[str, Cue | None]]) -> dict[str, tuple[tuple[Any, Cue], ...]]:
        """Per language, ``(key, cue)`` for each table in order that has a cue in it (for cuegate.live)."""
        langs = {lang for t in tables.values() for lang in t}
        return {lang: tuple((k, cue) for k, t in tables.items() if (cue := t.get(lang)) is not None) for lang in langs}

    def _holidays(self, data: dict[str, Any]) -> dict[str, tuple[tuple[str, Cue], ...]]:
        out: dict[str, tuple[tuple[str, Cue], ...]] = {}
        for lang, links in data["holiday_link"].items():
            nouns = "|".join(data["triggers"][lang]["strong"])
            for name, words in data["holidays"].items():
                # the script of the language only: an Arabic word would make the pattern unbounded, and "Eid"
                # must not match inside "El Obeid"
                own = [w for w in words if bool(_ARABIC.search(w)) == (lang == "ar")] or list(words)
                h = "(?:" + "|".join(own) + ")"
                gate = _compile(words)
                # every link names the holiday: a rarer word than "truce" to gate on
                rx = _compile((link.replace("{H}", h).replace("{T}", nouns) for link in links),
                              gate.literals if gate is not None else None)
                if rx is not None:
                    out[lang] = (*out.get(lang, ()), (name, rx))
        return out

    def _theatre(self, t: dict[str, Any]) -> dict[str, Any]:
        def actor(aid: str | None) -> Actor | None:
            return self.by_entity.get(aid) if aid else None

        return {"name": t["name"], "places": set(t["places"]), "aliases": _compile(t["aliases"]),
                "parties": [a for a in (actor(p) for p in t["parties"]) if a], "army": actor(t.get("army")),
                "army_words": _compile(t.get("army_words", [])), "other": actor(t.get("other")),
                "other_words": _compile(t.get("other_words", []))}


def _countries(gaz: Gazetteer) -> frozenset[str]:
    """Entity ids of countries and territories (CLDR, through the gazetteer), for actors the rules lack."""
    from . import countries

    try:
        return frozenset(t.id for code in countries.territory_codes() if (t := gaz.territory(code)) is not None)
    except (AttributeError, LookupError):  # a gazetteer without CLDR territories
        return frozenset()


@lru_cache(maxsize=1)
def default_rules() -> CeasefireRules:
    """The packaged rules, compiled once per process."""
    return CeasefireRules()


def _tokens_before(text: str, pos: int, n: int) -> list[str]:
    return [t.lower() for t in _TOKEN.findall(text[:pos])[-n:]]


def _find_word(doc: str, surface: str) -> Iterable[int]:
    start = doc.find(surface)
    while start >= 0 and surface:
        end = start + len(surface)
        if (start == 0 or not doc[start - 1].isalnum()) and (end >= len(doc) or not doc[end].isalnum()):
            yield start
        start = doc.find(surface, start + 1)


_COORD = re.compile(r"^(?:['’]s(?:\s+[\w-]+){0,2})?\s*,?\s*(?:and|et|y|e|und|и|і|та|ve|ile|و|-|–|—|/)\s*"
                    r"(?:the\s+|le\s+|la\s+|les\s+|l['’]|el\s+|los\s+|las\s+|die\s+|der\s+|den\s+)?$", re.I)
_CHAIN = re.compile(r"^\s*,?\s*(?:and|et|y|e|und|и|і|та|ve|ile|و)?\s*(?:the\s+|de\s+|du\s+|des\s+|d['’]|del\s+)?"
                    r"(?:la\s+|le\s+|les\s+|l['’]|el\s+|los\s+|las\s+)?$", re.I)
_CONJ = re.compile(r"(?<![^\W_])(?:and|et|y|e|und|и|і|та|ve|ile)(?![^\W_])|(?:^|\s)و", re.I)
_LIST_GOES_ON = re.compile(r"\s*(?:,|(?:and|et|y|e|und|и|і|та|ve|ile)(?![^\W_])|و)", re.I)
_FILLER = re.compile(r"^[\s'’-]*(?:s\s+)?(?:[\w'’]+[\s-]+){0,2}?$")
_PREPOSITION = re.compile(r"(?<![^\W_])(?:by|to|of|from|with|for|par|à|de|por|con|von|mit|zu|от|з|від)(?![^\W_])", re.I)


class CeasefireExtractor:
    """Reads ceasefire mentions out of one enriched document; stateless per call."""

    def __init__(self, rules: CeasefireRules | None = None) -> None:
        self.r = rules or default_rules()

    def extract(self, doc: str, sents: Sequence[Sentence], lang: str | None, entities: Sequence[EntityMention],
                published_at: datetime) -> list[CeasefireMention]:
        """The ceasefires ``doc`` (split into ``sents``) reports, most evidenced first."""
        strong = self.r.strong.get(lang or "")
        if lang is None or lang not in self.r.languages or strong is None or not sents:
            return []
        with document(doc):
            return self._extract(doc, sents, lang, entities, published_at)

    def _extract(self, doc: str, sents: Sequence[Sentence], lang: str, entities: Sequence[EntityMention],
                 published_at: datetime) -> list[CeasefireMention]:
        r = self.r
        strong = r.strong[lang]
        assert strong is not None
        weak = r.weak.get(lang)
        if not strong.search(doc) and not (weak is not None and weak.search(doc)):
            return []  # the common case: nothing here is about a ceasefire
        # which sentences name a ceasefire, and in how many of those the words are used of something else: when
        # that is most of them nothing is reported, so the verdict comes before the actors, frames and mentions
        # (the same searches as the loop below would run, read once)
        named = [strong.search(s.text) is not None for s in sents]
        used_otherwise = [t and r.negative is not None and r.negative.search(s.text) is not None
                          for t, s in zip(named, sents, strict=True)]
        negative, trigger_sents = sum(used_otherwise), sum(named)
        if negative and negative * 2 >= trigger_sents:
            return []  # a tariff, parliament or golf "truce": the ceasefire words are used of something else
        theatres = self._theatres(doc, entities)
        occs = self._actors(doc, entities, theatres)
        theatres += self._group_theatres(occs, theatres)
        places = self._places(doc, entities)
        if self._nothing_to_follow(doc, lang, occs, theatres, places):
            return []  # no frame could give a mention a side or a place: the frames are not read
        by_sent = self._by_sentence(sents, occs)
        for i, s in enumerate(sents):
            if by_sent[i]:  # a sentence naming no actor has nobody to pair or bind
                self._pair(s, by_sent[i])
                self._bind_mediators(s, lang, by_sent[i])
        frames: list[_Frame] = []
        for i, s in enumerate(sents):
            if named[i]:
                if used_otherwise[i]:
                    continue
            elif weak is None or not weak.search(s.text):
                if frames and frames[-1].sent == i - 1 and not frames[-1].weak:
                    self._continuation(frames[-1], s.text, lang)  # "... accused the Cambodian troops of opening fire"
                continue
            elif r.negative is not None and r.negative.search(s.text):
                continue
            found = self._frames(i, s, lang, published_at, by_sent[i], places)
            if not found and frames and frames[-1].sent == i - 1 and not frames[-1].weak:
                self._continuation(frames[-1], s.text, lang)  # "... accused the Cambodian troops of opening fire"
            frames += found
        return self._mentions(frames, sents, occs, by_sent, theatres)

    def _nothing_to_follow(self, doc: str, lang: str, occs: list[_Occ], theatres: list[dict[str, Any]],
                           places: list[tuple[str, int, int]]) -> bool:
        """Whether every mention the frames could make would be dropped for want of parties and places
        (:meth:`_mentions` keeps only those with one of them), so the frames need not be read.

        Why: about a fifth of the English dev texts with a ceasefire word name no actor, theatre or conflict
        place the rules know, and reading their clauses is most of the extraction's cost for them. Exact:
        parties come only from actor occurrences (the sentences', the article's ranking) and the theatres'
        sides, and a frame's places only from ``places`` and the maritime scope's own words
        (:meth:`_scope`); with none of those, and no maritime cue possible anywhere in the document (the cue
        gate: no clause can match what the whole document cannot), nothing is kept.
        """
        if occs or theatres or places:
            return False
        maritime = self.r.scopes["maritime"].get(lang)
        return maritime is None or not maritime.possible(doc)

    # -- actors -------------------------------------------------------------------------------------
    def _theatres(self, doc: str, entities: Sequence[EntityMention]) -> list[dict[str, Any]]:
        ids = {e.id for e in entities}
        return [t for t in self.r.theatres if ids & t["places"] or (t["aliases"] and t["aliases"].search(doc))]

    def _group_theatres(self, occs: list[_Occ], theatres: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The war of an armed group the article names when it names no place of it ("the ELN declared a
        Christmas truce"): the theatre whose side the group is, when it is the side of only one."""
        named = {o.actor.id for o in occs if o.actor.kind == "group" and o.actor.conflict}
        seen = {id(t) for t in theatres}
        out = []
        for gid in named:
            wars = [t for t in self.r.theatres if any(p.id == gid for p in t["parties"])]
            if len(wars) == 1 and id(wars[0]) not in seen:
                seen.add(id(wars[0]))
                out.append(wars[0])
        return out

    def _actors(self, doc: str, entities: Sequence[EntityMention], theatres: list[dict[str, Any]]) -> list[_Occ]:
        """Every place an actor is named: linked entities (their spans), then the rules' own aliases."""
        r, found = self.r, []
        for e in entities:
            actor, weak = r.by_entity.get(e.id) or r.by_entity.get(e.name.lower()), False
            if actor is None:
                actor, weak = self._fallback(e)
            if actor is None:
                continue
            spans = [(s.start, s.end) for s in getattr(e, "spans", ())] or [
                (p, p + len(s)) for s in (e.surface or [e.name]) for p in _find_word(doc, s)]
            rank = 1 if e.id in r.by_entity or e.name.lower() in r.by_entity else 2
            found += [_Occ(actor, a, b, weak, rank) for a, b in spans]
        low = fold(doc)
        hit = set(r.actor_ungated)
        held = document_literals()  # the literals of every cue the document holds, read from its words once
        for lit in (r.actor_literal_set.intersection(held) if held is not None
                    else filter(low.__contains__, r.actor_ascii if low.isascii() else r.actor_literals)):
            hit.update(r.actor_by_literal[lit])  # a substring test first, for all actors at once
        for k in sorted(hit):
            actor, rx = r.actors[k]
            assert rx is not None
            found += [_Occ(actor, m.start(), m.end()) for m in rx.finditer(doc, low)]
        for t in theatres:
            for words, actor in ((t["army_words"], t["army"]), (t["other_words"], t["other"])):
                if words is not None and actor is not None:
                    found += [_Occ(actor, m.start(), m.end()) for m in words.finditer(doc)]
        found.sort(key=lambda o: (o.start, -(o.end - o.start), o.rank))
        out: list[_Occ] = []
        for o in found:
            if not out or o.start >= out[-1].end:
                out.append(o)
        return out

    def _fallback(self, e: EntityMention) -> tuple[Actor | None, bool]:
        """An entity the rules do not list: an armed group the gazetteer flags, or a state-like name that
        counts only when paired with another actor ("Kyrgyzstan and Tajikistan agreed")."""
        known = self.r.gazetteer.by_id(e.id)
        if e.type == "ORG" and known is not None and known.conflict:
            return Actor(e.id, e.name, "group", True), False
        if e.type == "GPE" and e.id in self.r.countries:  # a country or territory: a side when paired
            return Actor(e.id, e.name, "state", bool(known and known.conflict)), True
        return None, False

    @staticmethod
    def _by_sentence(sents: Sequence[Sentence], occs: list[_Occ]) -> list[list[_Occ]]:
        out: list[list[_Occ]] = [[] for _ in sents]
        for o in occs:
            for i, s in enumerate(sents):
                if s.start <= o.start < s.end:
                    out[i].append(o)
                    break
        return out

    @staticmethod
    def _pair(s: Sentence, occs: list[_Occ]) -> None:
        """Mark actors named together as one side and the other: "Israel and Hamas", "Israel-Iran"."""
        for a, b in zip(occs, occs[1:], strict=False):
            between = s.text[a.end - s.start:b.start - s.start]
            proclitic = not between.strip() and s.text[b.start - s.start:b.start - s.start + 1] == "و"
            if a.actor.id != b.actor.id and (_COORD.match(between) or proclitic):
                a.paired = b.paired = True

    def _bind_mediators(self, s: Sentence, lang: str, occs: list[_Occ]) -> None:
        """Mark occurrences that a mediation cue binds: "mediated by X", "X-mediated", "X said A and B agreed"."""
        text, base = s.text, s.start
        rel = [(o, o.start - base, o.end - base) for o in occs]
        for weak, rx in live(self.r.mediation_after.get(lang, ()), 1):
            for m in rx.finditer(text):
                pos, first = m.end(), True
                for o, a, b in rel:
                    if a < pos:
                        continue
                    gap = text[pos:a]
                    if (first and len(_TOKEN.findall(gap)) > 2) or (not first and not (gap.strip() and _CHAIN.match(gap))):
                        break
                    if not first and not _CONJ.search(gap) and not _LIST_GOES_ON.match(text, b):
                        break  # "under the auspices of France, Russia accepted": a comma ends the phrase unless a list goes on
                    if not (weak and (o.actor.conflict or o.weak)):
                        o.med = True
                    pos, first = b, False  # a further mediator only after "and" or a comma ("by Russia Turkey and …": no)
        for weak, rx in live(self.r.mediation_before.get(lang, ()), 1):
            for m in rx.finditer(text):
                pos, first = m.start(), True
                for k in range(len(rel) - 1, -1, -1):
                    o, a, b = rel[k]
                    if b > pos:
                        continue
                    gap = text[b:pos]
                    if first and (not _FILLER.match(gap) or _PREPOSITION.search(gap)) or (not first and not _CHAIN.match(gap)):
                        break
                    if not first and k and self._sides(text, rel[k - 1], rel[k]):
                        break  # "İsrail ile Hamas, Mısır, Katar ve ABD'nin arabuluculuğunda": the pair are the sides
                    if not (weak and (o.actor.conflict or o.weak)):
                        o.med = True
                    pos, first = a, False
        self._bind_announcers(text, lang, rel)

    @staticmethod
    def _sides(text: str, x: tuple[_Occ, int, int], y: tuple[_Occ, int, int]) -> bool:
        """Whether two neighbouring occurrences are two warring actors named as a pair ("Israel and Hamas")."""
        return (x[0].actor.id != y[0].actor.id and x[0].actor.conflict and y[0].actor.conflict
                and not x[0].med and bool(_COORD.match(text[x[2]:y[1]])))

    def _bind_announcers(self, text: str, lang: str, rel: list[tuple[_Occ, int, int]]) -> None:
        """"X said (that) A and B agreed" / "A and B agreed ..., X said": X reports the deal, so X mediated it."""
        rx = self.r.mediation["announce"].get(lang)
        both = self.r.markers["both_sides"].get(lang)
        order = self.r.announce_order.get(lang, "svo")
        for m in rx.finditer(text) if rx is not None else ():
            if order == "vso":  # أعلنت تركيا أن باكستان وأفغانستان اتفقتا
                cut = next((c.start() for c in re.finditer(r"(?<!\S)[أإ]ن(?!\S)", text) if c.start() > m.end()), len(text))
                speaker = [x for x in rel if m.end() <= x[1] and x[2] <= cut]
                reported, told = [x for x in rel if x[1] >= cut], text[cut:]
            elif order == "sov":  # Katar Dışişleri Bakanlığı, ateşkesin ... yürürlüğe girdiğini açıkladı
                cut = text.find(",")
                speaker = [x for x in rel if x[2] <= cut]
                reported, told = [x for x in rel if cut < x[1] < m.start()], text[cut:m.start()]
            else:
                head = max(text.rfind(",", 0, m.start()), text.rfind(";", 0, m.start())) + 1
                speaker = [x for x in rel if head <= x[1] and x[2] <= m.start()]
                rest = text[m.end():]
                if head and not speaker and not any(c in rest for c in ",;"):  # "..., teilte Katar mit", "según Turquía"
                    speaker = [x for x in rel if x[1] >= m.end()]
                    rest = ""
                trailing = rest.strip(" .\"”") == "" or rest.lstrip().startswith(("after", "on "))
                reported = [x for x in rel if (x[2] <= head if trailing and head else x[1] >= m.end())]
                told = text[:head] if trailing and head else rest
            two = len({x[0].actor.id for x in reported if x[0].paired}) >= 2 or bool(both and both.search(told))
            if speaker and two and self._reports_state(told, lang) and not (
                    {x[0].actor.id for x in speaker} & {x[0].actor.id for x in reported}):
                for o, _, _ in speaker:
                    o.med = o.med or not o.weak or o.actor.kind == "state"

    def _reports_state(self, text: str, lang: str) -> bool:
        """Whether ``text`` says a ceasefire was agreed, declared, extended, violated or took effect."""
        return any(rx is not None and rx.search(text) for cls in ("agreed", "declared", "extended", "violated", "in_force")
                   for rx in [self.r.states[cls].get(lang)])

    # -- frames: one per clause that names a ceasefire -----------------------------------------------
    def _frames(self, i: int, s: Sentence, lang: str, published: datetime, occs: list[_Occ],
                places: list[tuple[str, int, int]]) -> list[_Frame]:
        r, text, out = self.r, s.text, []
        cuts = [0, *(m.end() for m in r.split[lang].finditer(text)), len(text)] if lang in r.split else [0, len(text)]
        triggers_of: dict[tuple[int, int], list[re.Match[str]]] = {}  # clause -> its strong triggers
        cuts = sorted({*cuts, *self._scope_cuts(text, cuts, lang, places, s.start, triggers_of)})
        for a, b in zip(cuts, cuts[1:], strict=False):
            clause = text[a:b]
            strong = triggers_of.get((a, b))  # found by _scope_cuts when no cut fell inside this clause
            if strong is None:
                strong = list(r.strong[lang].finditer(clause))  # type: ignore[union-attr]
            weak_rx = r.weak.get(lang)
            triggers = strong or (list(weak_rx.finditer(clause)) if weak_rx is not None else [])
            if not triggers:
                continue
            f = _Frame(i, text, weak=not strong)
            spans = [(m.start(), m.end()) for m in triggers]
            self._scope(f, clause, lang, spans, [(n, p - s.start - a, q - s.start - a) for n, p, q in places])
            self._terms(f, clause, lang, published)
            self._cues(f, clause, lang, spans, [o for o in occs if a <= o.start - s.start < b], s.start + a)
            out.append(f)
        return out

    def _scope_cuts(self, text: str, cuts: list[int], lang: str, places: list[tuple[str, int, int]],
                    base: int, triggers_of: dict[tuple[int, int], list[re.Match[str]]] | None = None) -> list[int]:
        """A clause naming two ceasefires of different scopes, a comma between them, is two clauses ("backs the
        energy truce, rebuffs a full ceasefire"): each keeps its own cues. ``triggers_of``: filled with each
        clause's strong triggers, for the caller."""
        strong, out = self.r.strong[lang], []
        assert strong is not None
        for a, b in zip(cuts, cuts[1:], strict=False):
            clause = text[a:b]
            found = list(strong.finditer(clause))
            if triggers_of is not None:
                triggers_of[(a, b)] = found
            for m, n in zip(found, found[1:], strict=False):
                comma = clause.rfind(",", m.end(), n.start())
                if comma < 0:
                    continue
                parts = []
                for lo, hi in ((0, comma + 1), (comma + 1, len(clause))):
                    f = _Frame(0, "", weak=False)
                    part = clause[lo:hi]
                    self._scope(f, part, lang, [(t.start(), t.end()) for t in strong.finditer(part)],
                                [(x, p - base - a - lo, q - base - a - lo) for x, p, q in places])
                    parts.append(f.scope)
                if parts[0] and parts[1] and parts[0] != parts[1]:
                    out.append(a + comma + 1)
        return out

    def _places(self, doc: str, entities: Sequence[EntityMention]) -> list[tuple[str, int, int]]:
        """Towns and sites in the conflict zone a local truce may be limited to (not actors, not theatres)."""
        r, out = self.r, []
        theatre_places = r.theatre_names  # "in Gaza" names the war; "in northern Shan State" a part of it
        for e in entities:
            known = r.gazetteer.by_id(e.id)
            if (e.type in ("GPE", "LOC") and known is not None and known.conflict and e.id not in r.by_entity
                    and e.id not in theatre_places and e.id not in r.countries):
                out += [(e.name, sp.start, sp.end) for sp in getattr(e, "spans", ())]
        for name, rx in r.places:
            if rx is not None:
                out += [(name, m.start(), m.end()) for m in rx.finditer(doc)]
        return out

    @staticmethod
    def _near(clause: str, a: tuple[int, int], b: tuple[int, int], n: int = NEAR) -> bool:
        lo, hi = (a[1], b[0]) if a[0] <= b[0] else (b[1], a[0])
        return lo >= hi or len(_TOKEN.findall(clause[lo:hi])) <= n

    def _scope(self, f: _Frame, clause: str, lang: str, triggers: list[tuple[int, int]],
               places: list[tuple[str, int, int]]) -> None:
        r = self.r
        found: list[str] = []
        for scope, rx in live(r.scope_cues.get(lang, ()), 1):
            for m in rx.finditer(clause):
                if any(self._near(clause, (m.start(), m.end()), t) for t in triggers):
                    found.append(scope)
                    break
        along = r.markers["along"].get(lang)
        for name, p, q in places:
            if along is not None and along.search(clause[max(0, p - 30):max(0, p)]):
                continue  # "along the Line of Control": the whole front, no local truce
            if 0 <= p < len(clause) and any(self._near(clause, t, (p, q), 4) for t in triggers):
                f.places.append(name)
                if "local" not in found:
                    found.append("local")
        for name, rx in live(r.holidays.get(lang, ()), 1):
            if rx.search(clause):
                f.occasion = name
                found.append("holiday")
                break
        if "maritime" in found and r.scopes["maritime"].get(lang):
            f.places += [m.group() for m in r.scopes["maritime"][lang].finditer(clause)  # type: ignore[union-attr]
                         if m.group()[:1].isupper()]
        full = r.scopes["full"].get(lang)
        if full is not None and any(self._near(clause, (m.start(), m.end()), t, 5)
                                    for m in full.finditer(clause) for t in triggers):
            found.append("full")
        f.scope = next((s for s in (*SCOPE_ORDER, "full") if s in found), None)

    def _number(self, word: str | None, lang: str) -> float | None:
        if word is None:
            return 1.0
        word = word.lower().strip("-")
        try:
            return float(word.replace(",", "."))
        except ValueError:
            table = self.r.numbers.get(lang, {})
            return next((float(v) for k, v in table.items() if word == k or word.startswith(k)), None)

    def _days(self, m: re.Match[str], lang: str) -> float | None:
        n = self._number(m.groupdict().get("n"), lang)
        unit = m.group("unit").lower()
        per = next((v for k, v in self.r.units.items() if unit.startswith(k) or k.startswith(unit)), None)
        return round(n * per, 3) if n is not None and per is not None else None

    def _terms(self, f: _Frame, clause: str, lang: str, published: datetime) -> None:
        """Duration ("30-day", "72-hour", "two-month"), an extension's length, an end date ("until 22 April")."""
        r = self.r
        for rx in live(r.durations.get(lang, ())):
            if (m := rx.search(clause)) and (d := self._days(m, lang)):
                f.duration = d
                if re.search(r"phase|Phase|фаз|مرحل|aşama", m.group()):
                    f.descriptors.add("phased")  # a first phase's length is no term: the truce outlives it
                break
        for rx in live(r.extension.get(lang, ())):
            if (m := rx.search(clause)) and (d := self._days(m, lang)):
                f.extension = d
                break
        for rx in live(r.until.get(lang, ())):
            if (m := rx.search(clause)) and (when := self._date(m, lang, published)):
                f.until = when
                break
        months = r.month_rx.get(lang)
        for m in months.finditer(clause) if months is not None else ():
            if f.until is None or not any(u.search(clause[max(0, m.start() - 30):m.end()]) for u in r.until[lang]):
                f.months |= {k + 1 for k, rx in enumerate(r.months[lang]) if rx.match(m.group())}

    def _date(self, m: re.Match[str], lang: str, published: datetime) -> datetime | None:
        month = next((k + 1 for k, rx in enumerate(self.r.months[lang]) if rx.match(m.group("month"))), None)
        if month is None:
            return None
        year = published.year + (1 if month < published.month - 6 else 0)
        groups = m.groupdict()
        day = calendar.monthrange(year, month)[1] if groups.get("end") or not groups.get("day") else int(groups["day"])
        try:
            return datetime(year, month, day, 23, 59, tzinfo=UTC)
        except ValueError:
            return None

    def _continuation(self, f: _Frame, text: str, lang: str) -> None:
        """A sentence right after a ceasefire sentence, naming no ceasefire itself, may still report its breach."""
        rx = self.r.states["violated"].get(lang)
        for m in rx.finditer(text) if rx is not None else ():
            before = _tokens_before(text, m.start(), 5)
            if not self._filtered("negation", lang, before[-3:]) and not self._modal(text, m.start(), lang, 5):
                f.cues.append(("violated", text))
                return

    def _modal(self, text: str, pos: int, lang: str, n: int) -> bool:
        """A modal among the ``n`` words before ``pos`` ("would agree"); a capitalised month is none ("On 10 May")."""
        months = self.r.months.get(lang, [])
        words = [t for t in _TOKEN.findall(text[:pos])[-n:] if not (t[:1].isupper() and any(rx.match(t) for rx in months))]
        return self._filtered("modal", lang, [t.lower() for t in words])

    def _filtered(self, name: str, lang: str, tokens: list[str]) -> bool:
        rx = self.r.words[name].get(lang)
        return rx is not None and any(rx.match(t) for t in tokens)

    def _cues(self, f: _Frame, clause: str, lang: str, triggers: list[tuple[int, int]], occs: list[_Occ],
              offset: int) -> None:
        """The lifecycle cues of a clause, minus negated, conditional and back-referring ones."""
        r, found = self.r, []
        participles = [m.span() for rx in [r.participle.get(lang)] if rx is not None for m in rx.finditer(clause)]
        acc = r.states["accepted"].get(lang)
        pair = any(o.paired and not o.med for o in occs)
        accepting = [] if acc is None or pair else [m.span() for m in acc.finditer(clause)]
        for cls, rx in live(r.state_cues.get(lang, ()), 1):
            for m in rx.finditer(clause):
                if cls == "agreed" and any(a <= m.start() < b for a, b in accepting):
                    continue  # "Ukraine agreed to the US proposal": one side accepts, the truce is still proposed
                before3 = _tokens_before(clause, m.start(), 3)
                if cls not in ("rejected", "proposed", "call", "accepted") and self._filtered("negation", lang, before3):
                    continue
                if cls in ("agreed", "declared", "in_force", "extended", "collapsed", "ended", "expired", "violated",
                           "rejected") and self._modal(clause, m.start(), lang, 5):
                    if cls == "agreed":
                        found.append(("accepted", m.start()))
                    continue
                plan = r.plan.get(lang)
                if cls == "extended" and plan is not None and plan.search(clause[:m.start()]):
                    found.append(("proposed", m.start()))
                    continue
                if cls in ("agreed", "declared") and (
                        any(a <= m.start() < b for a, b in participles)
                        or self._filtered("after", lang, _tokens_before(clause, m.start(), 6))):
                    f.reference = True
                    continue
                if cls in NEAR_TRIGGER and not any(self._near(clause, m.span(), t, NEAR_TRIGGER[cls]) for t in triggers
                                                   if cls != "call" or t[0] >= m.end()):
                    continue  # "urged Israel to recall its jets" is no call for a ceasefire
                found.append((cls, m.start()))
                if cls == "declared":
                    f.declared_by = self._declarer(m, occs, offset, self.r.announce_order.get(lang) == "vso")
        if any(c == "extended" for c, _ in found):  # "agreed to extend", "agreed on continuing": an extension
            ext = min(p for c, p in found if c == "extended")
            found = [(c, p) for c, p in found if not (c in ("agreed", "declared") and p < ext)]
        if f.weak:
            found = [(c, p) for c, p in found if c in WEAK_STATES]
        f.cues = [(c, "") for c, _ in sorted(found, key=lambda x: x[1])]
        for name, rx in live(r.clause_markers.get(lang, ()), 1):
            if rx.search(clause):
                if name in ("bilateral", "future", "new"):
                    setattr(f, name, True)
                elif name == "reference_verbs":
                    f.reference = True
                else:  # permanent, unilateral
                    f.descriptors.add(name)

    @staticmethod
    def _declarer(m: re.Match[str], occs: list[_Occ], offset: int, verb_first: bool) -> Actor | None:
        """The one side that declares ("PKK declares ceasefire"; Arabic: أعلنت وزارة الدفاع ...), or None when
        two sides are named as its subject."""
        if verb_first:
            subject = [o for o in occs if o.start - offset >= m.end() and o.actor.kind != "org"][:1]
        else:
            subject = [o for o in occs if o.end - offset <= m.start() and o.actor.kind != "org"]
        if not subject or any(o.paired for o in subject):
            return None
        return subject[-1].actor

    # -- mentions: frames grouped into the ceasefires they describe -------------------------------------
    def _mentions(self, frames: list[_Frame], sents: Sequence[Sentence], occs: list[_Occ],
                  by_sent: list[list[_Occ]], theatres: list[dict[str, Any]]) -> list[CeasefireMention]:
        if not any(not f.weak for f in frames):
            groups = [[f] for f in frames[:1]]  # only "the deal": one anchor, for the tracker to place
        else:
            groups = []
            for f in sorted(frames, key=lambda f: f.weak):
                fits = [(score, k) for k, g in enumerate(groups) if (score := self._fit(g, f)) is not None]
                best = max(fits, default=(None, -1))
                if best[0] is None:
                    groups.append([f])  # a weak frame no group fits stays an anchor ("l'accord sur la mer Noire")
                else:
                    groups[best[1]].append(f)
        mediators = self._article_mediators(occs)
        framed = {f.sent for f in frames}
        ambient = [o.actor for i, os in enumerate(by_sent) if i not in framed for o in os
                   if o.med and o.actor.id in mediators]
        ranked = self._ranked_parties(occs, mediators)
        out = [self._mention(g, sents, by_sent, mediators, ambient, ranked, theatres) for g in groups]
        return [m for m in out if m is not None and (m.parties or m.places)]

    @staticmethod
    def _fit(group: list[_Frame], f: _Frame) -> float | None:
        """How well frame ``f`` continues ``group`` (higher is better), or None when it cannot."""
        scopes = {g.scope for g in group if g.scope}
        if f.scope and scopes and f.scope not in scopes and not _narrowed(f.scope, scopes):
            return None
        durations = {g.duration for g in group if g.duration}
        if f.duration and durations and f.duration not in durations:
            return None
        polarity = {g.polarity for g in group} - {0}
        if f.polarity and polarity and -f.polarity in polarity:
            return None
        both = [*group, f]
        scoped = [g for g in both if g.scope in SCOPE_ORDER]
        refusals = [g for g in both if not g.scope and "rejected" in g.classes]
        if (scoped and refusals and not any(g.classes & NEGATIVE for g in scoped)
                and not {g.sent for g in scoped} & {g.sent for g in refusals}):
            return None  # "turned down the 30-day truce. ... talks on a maritime truce": the refusal is of another one
        terminal = {"collapsed", "ended", "expired"}
        if (f.new and any(g.classes & terminal and not g.new for g in group)) or (
                f.classes & terminal and not f.new and any(g.new for g in group)):
            return None
        score = 0.0
        if f.scope and f.scope in scopes:
            score += 3
        if f.classes & NEGATIVE and any(g.classes & NEGATIVE for g in group):
            score += 2
        if f.duration and f.duration in durations:
            score += 1
        distance = min(abs(g.sent - f.sent) for g in group)
        return score + (2 if distance == 0 else 0) - 0.1 * distance + (0.5 if group[0].sent <= f.sent else 0)

    @staticmethod
    def _article_mediators(occs: list[_Occ]) -> set[str]:
        """Actors bound to mediation cues at least as often as they are named as one of two sides."""
        med = Counter(o.actor.id for o in occs if o.med)
        side = Counter(o.actor.id for o in occs if o.paired and not o.med)
        return {a for a, n in med.items() if n >= max(1, side[a])}

    @staticmethod
    def _party_like(o: _Occ, mediators: set[str]) -> bool:
        return not o.med and o.actor.kind != "org" and o.actor.id not in mediators and (o.paired or not o.weak)

    def _ranked_parties(self, occs: list[_Occ], mediators: set[str]) -> list[Actor]:
        """The article's candidate sides, most likely first: named as a pair, armed, often, early."""
        stats: dict[str, list[Any]] = {}
        for k, o in enumerate(occs):
            if self._party_like(o, mediators):
                s = stats.setdefault(o.actor.id, [o.actor, 0, 0, k])
                s[1] += o.paired
                s[2] += 1
        order = sorted(stats.values(), key=lambda s: (-s[1], -s[0].conflict, -s[2], s[3]))
        return [s[0] for s in order]

    def _mention(self, group: list[_Frame], sents: Sequence[Sentence], by_sent: list[list[_Occ]],
                 mediators: set[str], ambient: list[Actor], ranked: list[Actor],
                 theatres: list[dict[str, Any]]) -> CeasefireMention | None:
        group.sort(key=lambda f: f.sent)
        parties = self._parties(group, by_sent, mediators, ranked, theatres)
        parties, brokers = self._warring_pair(parties, by_sent, theatres)
        if not parties and not any(f.places and not f.weak for f in group):
            return None  # no sides and no town it is limited to: nothing to follow ("the truce in Hodeidah" is)
        med: dict[str, Actor] = {}
        for f in group:
            for o in by_sent[f.sent]:
                if o.med and o.actor.id in mediators:
                    med.setdefault(o.actor.id, o.actor)
        for a in [*brokers, *ambient]:
            med.setdefault(a.id, a)
        ids = {p.id for p in parties}
        classes = set().union(*(f.classes for f in group))
        declarers = [f.declared_by for f in group if f.declared_by is not None and f.declared_by.id in ids]
        bilateral = ("agreed" in classes) or any(f.bilateral for f in group)
        unilateral = any("unilateral" in f.descriptors for f in group) or (bool(declarers) and not bilateral)
        if unilateral and declarers:
            parties.sort(key=lambda p: p.id != declarers[0].id)
        strong = [f for f in group if not f.weak]
        found = [f.scope for f in strong or group if f.scope]
        if "local" in found and SUBJECT_SCOPES & set(found):  # a humanitarian pause limited to a town: humanitarian
            found = [sc for sc in found if sc != "local"]
        scope = next(iter(found), None) or ("unilateral" if unilateral else None)
        # a call for a specified truce (a term, a subject matter, a town) offers it: "the UN called for a one-week
        # humanitarian truce in El Fasher"; a bare "calls for a ceasefire" is no proposal of anything
        concrete = "call" in classes and any(f.duration or f.places or f.scope in SPECIFIC_SCOPES
                                             for f in group if "call" in f.classes)
        states = self._states(group, sents, unilateral, concrete)
        until = next((f.until for f in group if f.until), None)
        return CeasefireMention(
            parties=[PartyRef(id=p.id, name=p.name) for p in parties],
            mediators=[PartyRef(id=a.id, name=a.name) for a in med.values() if a.id not in ids],
            scope=scope, unilateral=unilateral,  # type: ignore[arg-type]
            duration_days=next((f.duration for f in group if f.duration), None),
            extension_days=next((f.extension for f in group if f.extension and "extended" in f.classes), None),
            expires_at=until, places=list(dict.fromkeys(p for f in group for p in f.places)),
            occasion=next((f.occasion for f in group if f.occasion), None), states=states,
            evidence=(strong or group)[0].text, new=any(f.new for f in group), anchor_only=not strong,
            call_only=bool(classes & {"call"}) and not concrete and not classes & (POSITIVE | {"proposed", "rejected"}),
            months=sorted(set().union(*(f.months for f in group))),
            descriptors=sorted(set().union(*(f.descriptors for f in group), *({"reference"} for f in group if f.reference))
                               - {"unilateral"}),
        )

    def _parties(self, group: list[_Frame], by_sent: list[list[_Occ]], mediators: set[str], ranked: list[Actor],
                 theatres: list[dict[str, Any]]) -> list[Actor]:
        """The sides: those named where the ceasefire is, completed from the article and its theatre."""
        count: Counter[str] = Counter()
        actors: dict[str, Actor] = {}
        for f in group:
            for a in dict.fromkeys(o.actor for o in by_sent[f.sent] if self._party_like(o, mediators)):
                count[a.id] += 1
                actors[a.id] = a
        order = sorted(actors.values(), key=lambda a: (-count[a.id], ranked.index(a) if a in ranked else 99))
        if len(order) > 2:  # "Armenia and Azerbaijan agreed ... Russia said": the two named as a pair are the sides
            paired = {o.actor.id for f in group for o in by_sent[f.sent] if o.paired and self._party_like(o, mediators)}
            if len(paired) >= 2:
                order = [a for a in order if a.id in paired]
        if len(order) > 2:
            order = [a for a in order if count[a.id] * 2 >= len(group) or a.conflict] or order[:2]
        for a in ranked:
            if len(order) >= 2:
                break
            if a not in order:
                order.append(a)
        if len(order) == 1:  # "Russia accepted a plan to end the fighting in Georgia": a country the sentence names
            own = order[0].name.lower()  # (not the side's own country: "Government of National Unity (Libya)")
            order += [o.actor for f in group for o in by_sent[f.sent] if o.weak and not o.med
                      and o.actor.kind == "state" and o.actor.id not in mediators and o.actor not in order
                      and o.actor.name.lower() not in own and own not in o.actor.name.lower()][:1]
        for t in theatres:
            if len(order) >= 2:
                break
            if not order or order[0] in t["parties"]:
                order += [p for p in t["parties"] if p not in order]
        return order

    @staticmethod
    def _warring_pair(parties: list[Actor], by_sent: list[list[_Occ]],
                      theatres: list[dict[str, Any]]) -> tuple[list[Actor], list[Actor]]:
        """The sides of the war, when the two who agree are one side and an outsider ("Trump and Putin agree
        ..." in a report naming Ukraine): the theatre's other side, named in the article, replaces the outsider,
        who brokered it. Only for a state the rules do not flag as fighting, and a side of no war the report names
        (Israel and Iran agreeing in a report that also names Gaza stay Israel–Iran)."""
        if len(parties) != 2 or any({a.id for a in parties} == {p.id for p in t["parties"]} for t in theatres):
            return parties, []
        named = {o.actor.id for os in by_sent for o in os if not o.med}
        fighting = {p.id for t in theatres for p in t["parties"]}
        for t in theatres:
            sides = [p for p in parties if p in t["parties"]]
            outsider = [p for p in parties if p not in t["parties"]]
            other = [p for p in t["parties"] if p not in parties]
            if (len(sides) == 1 and len(outsider) == 1 and len(other) == 1 and other[0].id in named
                    and not outsider[0].conflict and outsider[0].kind == "state" and outsider[0].id not in fighting):
                return [sides[0], other[0]], outsider
        return parties, []

    def _states(self, group: list[_Frame], sents: Sequence[Sentence], unilateral: bool,
                concrete_call: bool = False) -> list[CeasefireCue]:
        """The group's cues as lifecycle states, one per state, each with its best sentence (body before title)."""
        best: dict[str, tuple[tuple[int, int], str, bool]] = {}

        def add(state: str, f: _Frame, implied: bool, text: str) -> None:
            rank = (int(implied), int(sents[f.sent].in_title and not text))
            if state not in best or rank < best[state][0]:
                best[state] = (rank, text or f.text, implied)

        for f in group:
            for cls, text in f.cues:
                state = {"declared": "agreed"}.get(cls, cls)
                if state in LIFECYCLE:
                    add(state, f, False, text)
                if cls == "declared" and unilateral and not f.future:
                    add("in_force", f, True, text)
                if cls == "call" and concrete_call:
                    add("proposed", f, False, text)
        if "agreed" in best:  # an agreement reported: earlier proposals and one side's refusals are history
            best.pop("proposed", None)
            best.pop("rejected", None)
        return [CeasefireCue(state=s, evidence=best[s][1], implied=best[s][2])  # type: ignore[arg-type]
                for s in LIFECYCLE if s in best]


@lru_cache(maxsize=1)
def default_extractor() -> CeasefireExtractor:
    """One extractor over the packaged rules per process."""
    return CeasefireExtractor()


def extract_ceasefires(doc: str, sents: Sequence[Sentence], lang: str | None, entities: Sequence[EntityMention],
                       published_at: datetime) -> list[CeasefireMention]:
    """The ceasefire mentions of one enriched document (what ``Enricher._finish`` stores on the event)."""
    return default_extractor().extract(doc, sents, lang, entities, published_at)
