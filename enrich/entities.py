"""Entity linking: NER spans merged with gazetteer hits into ``EntityMention``s.

Why: the gazetteer gives ids, canonical names, correct types and non-English
coverage; spaCy finds the people and groups nobody listed. Rules:

* gazetteer hits win: a NER span overlapping one is dropped (fixes "Kyiv" as
  PERSON, "Kursk" as PRODUCT, "Trump" as ORG);
* a NER span whose text is a known alias is linked to that entry;
* headlines are not run through spaCy (title case fools it: "Trump Agree
  Halt"); title entities come from the gazetteer, and ``in_title`` is also set
  for body entities whose surface form appears in the title;
* a dateline ("MOSCOW (Reuters) -", "SLOVIANSK, Ukraine —") names the city it
  was filed from: linked to the gazetteer city, else kept as a place;
* unknown spans get ``ww:<slug>`` ids and are kept only if plausible (no
  numbers-only, single letters, lowercase starts, all-caps phrases, long runs)
  and not junk (:func:`junk`: time zones, phrases built from news-topic words
  such as "Ceasefire Proposal", page furniture such as "Share on Facebook",
  bylines and agency credits);
* a bare surname of an unknown person merges into the full name seen earlier.

Each entity carries its mention count, its distinct surface forms and the
spans (text and offsets) where it is named.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from services.events import MAX_MENTION_SPANS, EntityMention, MentionSpan

from .gazetteer import Gazetteer, Match, slugify

KEEP_LABELS = frozenset({"PERSON", "ORG", "GPE", "LOC", "NORP"})
LABEL_MAP = {"PER": "PERSON", "MISC": "", "FAC": "", "EVENT": ""}
"""Other pipelines' labels (spaCy's French WikiNER scheme: PER, LOC, ORG, MISC) in ours; "" = not kept."""

_LEADING = re.compile(r"^(?:the|The|THE)\s+")
_TRAILING = re.compile(r"(?:['’]s|['’])$")
_STOP = frozenset({
    "ceasefire", "truce", "breaking", "update", "live", "analysis", "opinion", "exclusive", "watch", "video",
    "president", "minister", "prime minister", "government", "army", "state", "reuters", "ap", "afp",
})

# -- junk tables (data, not code: add a word, not a rule) -------------------
TIME_ZONES = frozenset({
    "GMT", "UTC", "UT", "Zulu", "BST", "CET", "CEST", "EET", "EEST", "WET", "WEST", "MSK", "EST", "EDT", "CST",
    "CDT", "MST", "MDT", "PST", "PDT", "AKST", "HST", "IST", "IDT", "JST", "KST", "AEST", "AEDT", "WAT", "EAT",
    "CAT", "SAST", "AST", "GST", "PKT", "ICT", "WIB", "HKT", "SGT", "IRST", "AFT", "ET", "PT", "CT", "MT",
})
"""Time zone abbreviations spaCy tags as ORG ("10:00 GMT")."""

TOPIC_WORDS = frozenset({
    "ceasefire", "cease", "fire", "cease-fire", "truce", "armistice", "pause", "halt", "moratorium", "proposal",
    "proposals", "plan", "deal", "agreement", "accord", "pact", "talks", "peace", "negotiations", "summit",
    "framework", "roadmap", "initiative", "resolution", "memorandum", "declaration", "statement", "offensive",
    "attack", "attacks", "strike", "strikes", "war", "invasion", "sanctions", "aid", "hostage", "hostages",
    "prisoner", "prisoners", "exchange", "swap", "violation", "violations", "collapse", "extension", "deadline",
    "phase", "breaking", "news", "update", "updates", "live", "exclusive", "analysis", "opinion", "explainer",
    "factbox", "timeline", "video", "watch", "photos", "complete", "total", "full", "immediate", "permanent",
    "temporary", "partial", "comprehensive", "humanitarian", "energy", "maritime", "unconditional", "lasting",
    "new", "first", "second", "final", "historic", "major", "wrapup", "insight", "focus", "graphic", "corrected",
    "refile", "urgent", "flash", "alert", "recap",
})
"""News-topic words: a span made only of these ("Ceasefire Proposal", "Complete and Total CEASEFIRE") is
a headline phrase, not a name."""

FURNITURE = frozenset({
    "ads", "adwords", "adchoices", "adsense", "api", "developers", "developer", "plus", "page", "pages", "share",
    "subscribe", "subscription", "subscriptions", "newsletter", "newsletters", "sign", "login", "log", "register",
    "menu", "home", "search", "cookie", "cookies", "privacy", "policy", "terms", "conditions", "contact", "about",
    "advertisement", "advertise", "advertising", "sponsored", "print", "email", "e-mail", "comments", "comment",
    "facebook", "twitter", "whatsapp", "telegram", "linkedin", "instagram", "youtube", "tiktok", "x", "google",
    "rss", "feed", "app", "apps", "download", "copyright", "rights", "reserved", "read", "more", "related",
    "follow", "tweet", "skip", "content", "navigation", "accessibility", "help", "settings", "account", "premium",
    "edition", "podcast", "podcasts", "listen", "gallery", "loading",
})
"""Page furniture words: a span made only of these ("Ads Developers Plus Page", "Share on Facebook") is
site navigation, not a name."""

FURNITURE_ALONE = frozenset({
    "Subscribe", "Advertisement", "Sponsored", "Newsletter", "Login", "Share", "Menu", "Cookies", "Print",
    "Email", "Comments", "AdWords", "AdChoices", "AdSense", "Copyright", "Podcast", "Loading",
})
"""Furniture that is junk even alone (unlike "Facebook" or "Google", which news does name)."""

FUNCTION_WORDS = frozenset({"and", "&", "of", "the", "a", "an", "for", "on", "to", "in", "with", "at", "by", "or",
                            "us", "our", "your", "all"})

CREDIT_TAILS = frozenset({"staff", "correspondent", "correspondents", "reporter", "reporters", "desk", "newsroom",
                          "editor", "editors", "writer", "writers", "bureau", "agencies", "wires"})
"""A span ending in one of these is a credit line ("Reuters Staff", "AFP Correspondent")."""

AGENCIES = frozenset({
    "Reuters", "AP", "AFP", "dpa", "DPA", "Xinhua", "Anadolu", "TASS", "Interfax", "UNIAN", "Ukrinform", "RIA",
    "IANS", "PTI", "ANI", "Bloomberg", "WAFA", "SANA", "IRNA", "Tasnim", "Fars", "EFE", "ANSA", "Kyodo", "Yonhap",
    "KUNA", "QNA", "SPA", "MENA", "NNA", "AA", "BBC", "CNN",
})
"""News agencies, as credited in a dateline's parentheses: "KYIV (Reuters) -"."""

_NAME = r"[A-Z][\w'’.\-]+(?:[ \t]+(?:[A-Z][\w'’.\-]+|de|van|von|al|el|bin|ibn)){0,4}"
_BYLINE = re.compile(
    r"(?:^|(?<=[\n(;]))[ \t]*(?:By|BY|Reporting by|Additional reporting by|Writing by|Editing by|Compiled by|"
    r"Reported by|Written by|Edited by|Photos? by|Photographs? by|Text by|Video by|Graphics by|Von|Par|Por|Di)"
    rf"[ \t]+{_NAME}(?:[ \t]*(?:,|and|&|und|et|e|y)[ \t]*{_NAME})*"
    r"(?:[ \t]+in[ \t]+[A-Z][\w.\-]+(?:[ \t]+[A-Z][\w.\-]+)?)?"
    r"[ \t.]*(?=$|\n|;|\)|,[ \t]*[A-Z])")
"""Byline and credit lines ("By Jane Doe" on its own line; "(Reporting by X in Kyiv; Editing by Y)"): names
in them are the newsroom's, not the story's. A name must follow, so "By the end of the day" is prose."""

_DATELINE = re.compile(
    r"(?:^|(?<=\n))[ \t]*(?P<city>[A-ZÀ-ÞĀ-Ž][A-ZÀ-ÞĀ-Ž'’.\-]+(?:[ \t]+[A-ZÀ-ÞĀ-Ž][A-ZÀ-ÞĀ-Ž'’.\-]+){0,3})"
    r"(?P<tail>(?:,[ \t]*[A-Z][\w.]*(?:[ \t]+[A-Z][\w.]*){0,2})?(?:[ \t]*\((?P<agency>[^)\n]{1,30})\))?[ \t]*[-–—:])")
"""An all-caps city at the start of a paragraph, an optional ", Country", an optional (agency), a dash."""

_BYLINE_AFTER = re.compile(r"[\n(;]")
_DATELINE_AFTER = re.compile(r"\n")
"""Where :data:`_BYLINE` and :data:`_DATELINE` may start (besides the start of the text): after these."""


def _anchored(rx: re.Pattern[str], after: re.Pattern[str], doc: str, start: int = 0) -> Iterator[re.Match[str]]:
    """``rx.finditer(doc, start)`` for a pattern that matches only at the start of ``doc`` or right after a
    character ``after`` matches: ``rx`` is tried at those places alone (scanning every position of the
    document cost the linker a fifth of its time)."""
    end = 0
    for pos in (*((0,) if start == 0 else ()), *(m.end() for m in after.finditer(doc, max(start - 1, 0)))):
        if pos >= end and (m := rx.match(doc, pos)):
            end = m.end()
            yield m

_FURNITURE_BEFORE = re.compile(r"(?:Share|Follow(?: us)?|Like us|Find us|Join us|Subscribe|Watch|Listen|Read more)"
                               r"[ \t]+(?:on|via|to|at)[ \t]+$", re.IGNORECASE)
"""What precedes a site named as page furniture: "Share on Facebook", "Follow us on X"."""

_WORDS = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")


@dataclass(frozen=True)
class Span:
    """A NER entity in document coordinates."""

    start: int
    end: int
    label: str
    text: str


@dataclass
class _Acc:
    id: str
    name: str
    type: str
    first: int
    mentions: int = 0
    in_title: bool = False
    surface: list[str] = field(default_factory=list)
    spans: list[MentionSpan] = field(default_factory=list)
    labels: dict[str, int] = field(default_factory=dict)

    def add(self, surface: str, in_title: bool, start: int, end: int) -> None:
        self.mentions += 1
        self.in_title = self.in_title or in_title
        if surface not in self.surface:
            self.surface.append(surface)
        if len(self.spans) < MAX_MENTION_SPANS:
            self.spans.append(MentionSpan(text=surface, start=start, end=end))


def plausible(text: str, label: str) -> bool:
    """Whether an unknown NER entity looks like a real name rather than noise."""
    letters = sum(c.isalpha() for c in text)
    if letters < 2 or "\n" in text or len(text) > 60:
        return False
    if any(c.isdigit() for c in text) and (label != "ORG" or letters < len(text) / 2):
        return False
    first = text[0]
    if first.isalpha() and first.islower():
        return False
    words = text.split()
    if len(words) > 6:
        return False
    if text.isupper() and (len(words) > 1 or letters > 6):
        return False
    if label == "PERSON" and len(words) > 4:
        return False
    return text.lower() not in _STOP and not junk(text)


def junk(text: str) -> bool:
    """Whether ``text`` is a time zone, a topic phrase, page furniture or a credit line (see the tables)."""
    words = _WORDS.findall(text)
    if not words:
        return True
    if all(w in TIME_ZONES for w in words) or text in FURNITURE_ALONE or text in AGENCIES:
        return True
    low = [w.lower() for w in words]
    content = [w for w in low if w not in FUNCTION_WORDS]
    if not content:
        return True
    if all(w in TOPIC_WORDS for w in content):
        return True
    if len(words) > 1 and all(w in FURNITURE for w in content):
        return True
    return len(words) > 1 and low[-1] in CREDIT_TAILS


def clean(text: str) -> str:
    """Strip a leading article and a trailing possessive."""
    return _TRAILING.sub("", _LEADING.sub("", text.strip())).strip(" -–,.;:\"'“”")


@dataclass(frozen=True)
class Dateline:
    """The city a paragraph says it was filed from, with the span of the whole dateline."""

    city: str
    start: int
    end: int
    line_end: int


def datelines(doc: str, start: int = 0) -> list[Dateline]:
    """Datelines in ``doc[start:]``: "MOSCOW (Reuters) -", "KYIV, Ukraine —", "DOHA:"."""
    out = []
    for m in _anchored(_DATELINE, _DATELINE_AFTER, doc, start):
        city = m.group("city").strip(" .-")
        agency = m.group("agency")
        if agency is not None and not any(w in AGENCIES for w in _WORDS.findall(agency)):
            continue
        if sum(c.isalpha() for c in city) < 3 or not city.isupper() or junk(city) or city.lower() in _STOP:
            continue
        out.append(Dateline(city, m.start("city"), m.start("city") + len(city), m.end()))
    return out


def bylines(doc: str) -> list[tuple[int, int]]:
    """Character ranges of byline and credit lines."""
    return [(m.start(), m.end()) for m in _anchored(_BYLINE, _BYLINE_AFTER, doc)]


class EntityLinker:
    """Merge gazetteer matches and NER spans for one document."""

    def __init__(self, gazetteer: Gazetteer) -> None:
        self.gazetteer = gazetteer

    def link(self, doc: str, title_end: int, matches: Sequence[Match], spans: Iterable[Span] = (),
             lang: str | None = None) -> list[EntityMention]:
        """Entities of ``doc`` (title occupies ``doc[:title_end]``), most mentioned first."""
        accs: dict[str, _Acc] = {}
        taken: list[tuple[int, int]] = []
        for m in matches:
            self._acc(accs, m.entity.id, m.entity.name, m.entity.type, m.start).add(
                m.surface, m.start < title_end, m.start, m.end)
            taken.append((m.start, m.end))
        self._datelines(doc, title_end, accs, taken, lang)
        taken.sort()
        starts = [t[0] for t in taken]
        credits = bylines(doc)
        unknown: list[tuple[Span, str]] = []
        for sp in spans:
            label = LABEL_MAP.get(sp.label, sp.label)
            if label not in KEEP_LABELS or _overlaps(taken, starts, sp.start, sp.end):
                continue
            text = clean(sp.text)
            if not text:
                continue
            known = self.gazetteer.lookup(text, lang)
            if known is not None:
                self._acc(accs, known.id, known.name, known.type, sp.start).add(text, False, sp.start, sp.end)
            elif (plausible(text, label) and not _inside(credits, sp.start, sp.end)
                  and not _FURNITURE_BEFORE.search(doc, max(0, sp.start - 24), sp.start)):
                unknown.append((Span(sp.start, sp.end, label, sp.text), text))
        self._add_unknown(accs, unknown)
        title = doc[:title_end]
        for acc in accs.values():
            if not acc.in_title and title and any(_word_in(s, title) for s in acc.surface):
                acc.in_title = True
        ordered = sorted(accs.values(), key=lambda a: (-a.mentions, a.first))
        return [EntityMention(id=a.id, name=a.name, type=a.type, mentions=a.mentions,  # type: ignore[arg-type]
                              in_title=a.in_title, surface=a.surface,
                              spans=sorted(a.spans, key=lambda s: s.start)) for a in ordered]

    @staticmethod
    def _acc(accs: dict[str, _Acc], id_: str, name: str, type_: str, first: int) -> _Acc:
        acc = accs.get(id_)
        if acc is None:
            acc = accs[id_] = _Acc(id_, name, type_, first)
        return acc

    def _datelines(self, doc: str, title_end: int, accs: dict[str, _Acc], taken: list[tuple[int, int]],
                   lang: str | None) -> None:
        """Link each dateline's city; the agency credit and the dash after it are taken (never entities)."""
        for d in datelines(doc, title_end):
            if not _inside(taken, d.start, d.end):
                ent = self.gazetteer.lookup(d.city, lang)
                name = " ".join(w.capitalize() for w in d.city.split())
                if ent is not None:
                    self._acc(accs, ent.id, ent.name, ent.type, d.start).add(d.city, False, d.start, d.end)
                else:
                    self._acc(accs, "ww:" + slugify(name), name, "GPE", d.start).add(d.city, False, d.start, d.end)
            taken.append((d.start, d.line_end))

    @staticmethod
    def _add_unknown(accs: dict[str, _Acc], unknown: list[tuple[Span, str]]) -> None:
        full_names: dict[str, str] = {}
        for sp, text in unknown:
            words = text.split()
            if sp.label == "PERSON" and len(words) > 1:
                full_names.setdefault(words[-1], text)
        for sp, text in unknown:
            name = text
            if sp.label == "PERSON" and " " not in text and text in full_names:
                name = full_names[text]
            key = "ww:" + slugify(name)
            acc = accs.get(key)
            if acc is None:
                acc = accs[key] = _Acc(key, name, sp.label, sp.start)
            acc.labels[sp.label] = acc.labels.get(sp.label, 0) + 1
            acc.type = max(acc.labels, key=lambda lab: acc.labels[lab])
            acc.add(text, False, sp.start, sp.end)


def _overlaps(taken: list[tuple[int, int]], starts: list[int], start: int, end: int) -> bool:
    i = bisect.bisect_left(starts, end)
    return any(taken[j][1] > start for j in range(max(0, i - 3), i))


def _inside(ranges: Sequence[tuple[int, int]], start: int, end: int) -> bool:
    return any(s <= start and end <= e for s, e in ranges)


def _word_in(surface: str, text: str) -> bool:
    pos = text.find(surface)
    while pos >= 0:
        before = text[pos - 1] if pos else " "
        after_i = pos + len(surface)
        after = text[after_i] if after_i < len(text) else " "
        if not before.isalnum() and not after.isalnum():
            return True
        pos = text.find(surface, pos + 1)
    return False
