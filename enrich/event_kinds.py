"""What a headline says happened: language-independent event kinds ("attack", "ceasefire", "talks" …).

Why: reports of different events between the same parties on the same day share their entities, their
country words and often their numbers; what tells them apart is what happened. A ceasefire between India
and Pakistan and Pakistan's retaliatory strikes that morning, a prisoner swap and a call between leaders
the day before, a missile strike on Sumy and the talks in Riyadh: each pair names the same parties, and
each headline names a different kind of event. The sink compares the kinds (``api/sink/linking.py``):
a shared kind is evidence for one event, two headlines whose main kinds each miss from the other are
evidence against.

- :func:`kinds` returns the kinds a headline cues, in the order they first appear: the first one that is
  not generic is the headline's main kind (the verb of "Putin agrees to a halt on energy strikes after a
  call with Trump" is the halt, not the strikes or the call).
- A clause opened by a word such as "after" or "since" is about an earlier event ("India suspends the Indus
  treaty after the Kashmir attack"): its cues are left out, up to the end of the clause.
- The cues are data (``enrich/event_kinds.json``), per language, matched in the headline only: a body
  text reports the background as well ("since the truce collapsed …"), a headline reports the event.
  A language without cues gets no kinds, which the sink reads as no evidence either way.

Pure: no I/O beyond reading the data file once.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path

from services.vocabulary import EVENT_KINDS, GENERIC_EVENT_KINDS

KINDS_PATH = Path(__file__).with_name("event_kinds.json")
_CLAUSE_END = re.compile(r"[,;:|«»\"“”]|\s[-–—]\s")


@dataclass(frozen=True)
class KindModel:
    """The compiled cues: per language, one alternation whose named groups are the kinds."""

    patterns: dict[str, re.Pattern[str]]
    names: dict[str, str]  # regex group name -> kind
    background: dict[str, re.Pattern[str]]  # per language: a word opening a clause about an earlier event

    @classmethod
    def load(cls, path: Path = KINDS_PATH) -> KindModel:
        data = json.loads(path.read_text(encoding="utf-8"))
        unknown = set(data["kinds"]) - set(EVENT_KINDS)
        if unknown:
            raise ValueError(f"{path.name}: kinds not in services.vocabulary.EVENT_KINDS: {sorted(unknown)}")
        generic = {k for k, v in data["kinds"].items() if v.get("generic")}
        if generic != set(GENERIC_EVENT_KINDS):
            raise ValueError(f"{path.name}: generic kinds {sorted(generic)} differ from GENERIC_EVENT_KINDS")
        no_boundary = set(data.get("no_boundary", ()))
        per_lang: dict[str, list[str]] = {}
        names: dict[str, str] = {}
        for kind, spec in data["kinds"].items():
            for lang, cues in spec["cues"].items():
                group = f"k{len(names)}"
                names[group] = kind
                wrapped = f"(?:{'|'.join(cues)})" if lang in no_boundary else rf"(?:{'|'.join(cues)})(?!\w)"
                per_lang.setdefault(lang, []).append(f"(?P<{group}>{wrapped})")
        background = {lang: re.compile(rf"(?<!\w)(?:{'|'.join(words)})(?!\w)", re.IGNORECASE)
                      for lang, words in data.get("background", {}).items()}
        # The word-start test is shared by every cue of a language, so it runs once per position, not once per cue
        # (a headline is scanned at every character).
        patterns = {lang: re.compile(("" if lang in no_boundary else r"(?<!\w)(?=\w)") + f"(?:{'|'.join(alts)})",
                                     re.IGNORECASE) for lang, alts in per_lang.items()}
        return cls(patterns, names, background)

    def _background(self, headline: str, lang: str) -> list[tuple[int, int]]:
        """The spans of ``headline`` that tell an earlier event: from an "after" word to the clause's end."""
        rx = self.background.get(lang)
        if rx is None:
            return []
        spans = []
        for m in rx.finditer(headline):
            end = _CLAUSE_END.search(headline, m.end())
            spans.append((m.start(), end.start() if end else len(headline)))
        return spans

    def kinds(self, headline: str, lang: str | None) -> list[str]:
        """The kinds ``headline`` cues, each once, in the order of their first cue."""
        rx = self.patterns.get(lang or "")
        if rx is None or not headline:
            return []
        background = self._background(headline, lang or "")
        found: dict[str, int] = {}
        # finditer takes the leftmost match at each position; overlapping cues of other kinds further right
        # are still found, because a match consumes only its own words
        for m in rx.finditer(headline):
            if any(start <= m.start() < end for start, end in background):
                continue
            kind = self.names[m.lastgroup or ""]
            found.setdefault(kind, m.start())
        return sorted(found, key=found.__getitem__)


@functools.cache
def model() -> KindModel:
    return KindModel.load()


def kinds(headline: str, lang: str | None) -> list[str]:
    """:meth:`KindModel.kinds` with the shipped cues."""
    return model().kinds(headline, lang)
