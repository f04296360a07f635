"""The live stream behind GET /stories/stream: one store poller per process, fanned out to every listener.

A ``StoreWatch`` polls the store every ``sse_poll_interval_s`` for stories whose ``last_seen``
moved (one indexed query, however many clients listen), turns each change into one
pre-serialised event, and hands it to the listeners whose filter it matches. A listener
that falls too far behind is closed; its client reconnects with ``Last-Event-ID`` and the
route replays what it missed from the store. The same poll tells the response cache of /stories
(api.http.pagecache) which stories changed and which ids merges removed, so it drops only the pages a
change concerns; ``generation`` counts the polls that found a change.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from api.http.schemas import StoryOut
from services.db import merges
from services.db import stories as repo
from services.db.engine import Sessions
from services.db.models import Story
from services.matching import StoryFacts, StoryFilter, matches

log = logging.getLogger(__name__)

# A transaction that set last_seen before our last poll may commit after it: re-read this window.
OVERLAP = timedelta(seconds=10)
PAGE = 500
QUEUE_SIZE = 1000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class StoryEvent:
    """One stored change of a story, serialised once for every listener, with the facts filters test."""

    story_id: str
    version: int
    position: str
    kind: str
    data: str
    facts: StoryFacts


def position_of(story: Story) -> str:
    return f"{story.last_seen.astimezone(UTC).isoformat()}|{story.id}"


def parse_position(value: str) -> tuple[datetime, str]:
    """Raise ValueError unless value is an event id this stream issued ("<last_seen iso>|<story id>")."""
    ts, sep, sid = value.partition("|")
    if not sep or len(value) > 200:
        raise ValueError("Last-Event-ID is not an event id of this stream")
    try:
        when = datetime.fromisoformat(ts)
        when = (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise ValueError("Last-Event-ID is not an event id of this stream") from exc
    return when, sid


def to_event(story: Story, feed_ids: set[int], titles: str) -> StoryEvent:
    out = StoryOut.model_validate(story, from_attributes=True)
    facts = StoryFacts.of(topics=story.topics or [], entities=story.entities or [], lang=story.lang,
                          state=story.state, sources=story.sources or [], published_at=story.published_at,
                          feed_ids=feed_ids, text=f"{story.headline} {story.summary} {titles}")
    return StoryEvent(story_id=story.id, version=story.version, position=position_of(story),
                      kind="created" if story.first_seen == story.last_seen else "updated",
                      data=out.model_dump_json(), facts=facts)


@dataclass(eq=False)
class Listener:
    filter: StoryFilter
    queue: asyncio.Queue[StoryEvent | None] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    overflowed: bool = False


class StoreWatch:
    """The per-process poller: watermark over (last_seen, id), fan-out, and a change generation."""

    def __init__(self, sessions: Sessions, *, interval_s: float) -> None:
        self._sessions = sessions
        self._interval = interval_s
        self._listeners: set[Listener] = set()
        self._seen: dict[tuple[str, int, datetime], None] = {}
        self._watermark = EPOCH
        self._watermark_id = ""
        self._task: asyncio.Task[None] | None = None
        self._last_ok = 0.0
        self._merged_after = EPOCH
        self.generation = 0
        self.on_change: list[Callable[[list[tuple[str, StoryFacts]], list[str]], object]] = []

    @property
    def listeners(self) -> int:
        return len(self._listeners)

    @property
    def position(self) -> str:
        """Where the watch has read up to: a new listener's starting event id."""
        return f"{self._watermark.isoformat()}|{self._watermark_id}"

    @property
    def running(self) -> bool:
        """True between ``start`` and ``stop``: only then does the stream follow the store."""
        return self._task is not None and not self._task.done()

    @property
    def fresh(self) -> bool:
        """True while the last successful poll is recent: only then may /stories serve cached pages."""
        return time.monotonic() - self._last_ok < 3 * self._interval + 1

    async def start(self) -> None:
        try:
            async with self._sessions() as session:
                newest = await repo.last_change(session)
                merged = await merges.last_merge(session)
            if newest is not None:  # begin at the newest change, not by reading (and skipping) the whole store
                self._watermark = newest
            if merged is not None:
                self._merged_after = merged
            await self.poll(emit=False)
        except SQLAlchemyError as exc:
            log.warning("stream: store not reachable at start: %s", exc)
        self._task = asyncio.create_task(self._run(), name="wirewatch-store-watch")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for lst in list(self._listeners):
            self._close(lst)

    def subscribe(self, f: StoryFilter) -> Listener:
        lst = Listener(f)
        self._listeners.add(lst)
        return lst

    def unsubscribe(self, lst: Listener) -> None:
        self._listeners.discard(lst)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.poll()
            except SQLAlchemyError as exc:
                log.warning("stream: poll failed, retrying: %s", exc)

    async def poll(self, *, emit: bool = True) -> int:
        """Read what changed since the watermark (minus the overlap); return how many events were new."""
        after: tuple[datetime, str] = (max(self._watermark - OVERLAP, EPOCH), "")
        fresh: list[Story] = []
        async with self._sessions() as session:
            while True:
                rows = await repo.changed_after(session, after=after, limit=PAGE)
                fresh += [s for s in rows if (s.id, s.version, s.last_seen) not in self._seen]
                if len(rows) < PAGE:
                    break
                after = (rows[-1].last_seen, rows[-1].id)
            wanted = emit and bool(fresh) and bool(self._listeners or self.on_change)
            facets = await repo.article_facets(session, story_ids=[s.id for s in fresh]) if wanted else {}
            removed = await merges.merged_since(session, after=max(self._merged_after - OVERLAP, EPOCH))
        self._last_ok = time.monotonic()
        for s in fresh:
            self._seen[(s.id, s.version, s.last_seen)] = None
            if (s.last_seen, s.id) > (self._watermark, self._watermark_id):
                self._watermark, self._watermark_id = s.last_seen, s.id
        horizon = self._watermark - OVERLAP
        for key in [k for k in self._seen if k[2] < horizon]:
            del self._seen[key]
        if removed:
            self._merged_after = max(self._merged_after, removed[-1][1])
        if fresh:
            self.generation += 1
        if not emit or not (fresh or removed):
            return len(fresh)
        events = [to_event(s, *facets.get(s.id, (set(), ""))) for s in fresh] if wanted else []
        for hook in self.on_change:
            hook([(ev.story_id, ev.facts) for ev in events], [old for old, _ in removed])
        for ev in events if self._listeners else ():
            self._fan_out(ev)
        return len(fresh)

    def _fan_out(self, ev: StoryEvent) -> None:
        for lst in list(self._listeners):
            if not matches(lst.filter, ev.facts):
                continue
            try:
                lst.queue.put_nowait(ev)
            except asyncio.QueueFull:
                lst.overflowed = True
                self._close(lst)

    def _close(self, lst: Listener) -> None:
        self._listeners.discard(lst)
        try:
            lst.queue.put_nowait(None)
        except asyncio.QueueFull:  # make room for the end marker; the client replays what was dropped
            lst.queue.get_nowait()
            lst.queue.put_nowait(None)


def sse(ev: StoryEvent) -> dict[str, Any]:
    return {"id": ev.position, "event": ev.kind, "data": ev.data}


async def events(watch: StoreWatch, sessions: Sessions, f: StoryFilter,
                 resume: tuple[datetime, str] | None) -> AsyncIterator[dict[str, Any]]:
    """Replay what a reconnecting client missed, then follow the watch; unsubscribe on the way out."""
    lst = watch.subscribe(f)  # before the replay query, so nothing falls between the two
    sent: set[tuple[str, int]] = set()
    try:
        # Tell the client where it starts, so a reconnect resumes there even if nothing arrived meanwhile.
        yield {"id": watch.position if resume is None else f"{resume[0].isoformat()}|{resume[1]}",
               "event": "ready", "data": "{}", "retry": 3000}
        if resume is not None:
            after = resume
            while True:
                async with sessions() as session:
                    rows = await repo.changed_after(session, after=after, limit=PAGE, filter=f)
                    facets = await repo.article_facets(session, story_ids=[s.id for s in rows])
                for s in rows:
                    feeds, titles = facets.get(s.id, (set(), ""))
                    sent.add((s.id, s.version))
                    yield sse(to_event(s, feeds, titles))
                if len(rows) < PAGE:
                    break
                after = (rows[-1].last_seen, rows[-1].id)
        while True:
            ev = await lst.queue.get()
            if ev is None:  # closed: too slow, or shutting down; the client resumes from its last id
                return
            if (ev.story_id, ev.version) in sent:
                continue
            yield sse(ev)
    finally:
        watch.unsubscribe(lst)
