"""Decide, per normalised article, whether to publish it as new, as an update, or not at all.

Pure: the caller looks up what was already seen (services.db.feeds) and passes it in.

* same id seen with the same content hash → ``skip`` (a re-poll);
* same id with a changed title/body → ``update`` (published with ``is_update=True``);
* unseen id whose title key another URL had within the window → ``duplicate`` (not published:
  one story, one article id);
* otherwise → ``new``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from services import ids
from services.events import RawArticle

Decision = Literal["new", "update", "duplicate", "skip"]


class SeenLike(Protocol):
    """Anything with these attributes (a SeenArticle row or a Seen)."""

    @property
    def id(self) -> str: ...
    @property
    def content_hash(self) -> str: ...
    @property
    def title_key(self) -> str: ...
    @property
    def first_seen(self) -> datetime: ...


@dataclass(frozen=True)
class Seen:
    """What the store remembers of an article ingest already published."""

    id: str
    content_hash: str
    title_key: str
    first_seen: datetime


def decide(article: RawArticle, *, by_id: SeenLike | None, by_title: SeenLike | None, now: datetime,
           window_s: float) -> Decision:
    """The fate of one article given what was seen under its id and under its title key."""
    if by_id is not None:
        return "skip" if by_id.content_hash == article.content_hash else "update"
    if (by_title is not None and by_title.id != article.id
            and (now - by_title.first_seen).total_seconds() <= window_s):
        return "duplicate"
    return "new"


def plan(articles: list[RawArticle], *, seen_ids: dict[str, SeenLike], seen_titles: dict[str, SeenLike],
         now: datetime, window_s: float) -> list[tuple[RawArticle, Decision]]:
    """Decisions for a whole batch, treating earlier articles of the batch as already seen."""
    ids_now: dict[str, SeenLike] = dict(seen_ids)
    titles_now: dict[str, SeenLike] = dict(seen_titles)
    out: list[tuple[RawArticle, Decision]] = []
    for art in articles:
        key = ids.title_key(art.title)
        decision = decide(art, by_id=ids_now.get(art.id), by_title=titles_now.get(key) if key else None,
                          now=now, window_s=window_s)
        if decision == "update":
            art = art.model_copy(update={"is_update": True})
        out.append((art, decision))
        if decision in ("new", "update"):
            seen = Seen(art.id, art.content_hash, key, ids_now[art.id].first_seen if art.id in ids_now else now)
            ids_now[art.id] = seen
            if key and key not in titles_now:
                titles_now[key] = seen
    return out
