"""Digests as feeds: ``/digests/{hourly|daily}.rss|atom|json``, one entry per ended period.

The same digest an e-mail subscriber gets (api/webhooks/digests.py builds both), for readers who would
rather follow a feed: each entry is one hour or day — its new stories grouped by topic, then the
ceasefire state changes recorded in it — filtered by the ``/stories`` parameters (``topic``, ``entity``,
``lang``, ``state``, ``source``, ``min_confidence``, ``q``), validated the same way. Periods with
nothing in them have no entry. Entries are stable (their id is the period), so a reader sees each once.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlencode
from xml.etree import ElementTree as ET

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from api.http import feeds_out
from api.http.context import context_of
from api.http.deps import PublicDep, SessionDep
from api.http.routes_stories import (
    VALIDATION,
    base_url,
    conditional,
    parse_query,
    query_doc,
    story_filter,
    tag_of,
)
from api.http.schemas import MAX_Q, Lifecycle, StoryQuery
from api.webhooks import digests
from api.webhooks.messages import render
from services.clock import utcnow
from services.matching import CeasefireFilter

router = APIRouter(tags=["stories"], dependencies=[PublicDep])
Period = Literal["hourly", "daily"]


class DigestQuery(BaseModel):
    """The /stories filters a digest feed takes (no paging or dates: the periods are the pages)."""

    topic: list[str] | None = Field(None, description="topic name; repeat for AND")
    entity: list[str] | None = Field(None, description="canonical entity id or name; repeat for AND")
    lang: str | None = Field(None, pattern=r"^[a-z]{2,3}$", description="ISO 639-1 language code")
    state: list[Lifecycle] | None = Field(None, description="ceasefire lifecycle state")
    source: str | None = Field(None, max_length=512)
    min_confidence: float | None = Field(None, ge=0, le=1)
    q: str | None = Field(None, max_length=MAX_Q, description="full-text search: every word must appear")


def periods(kind: Period, now: datetime, count: int) -> list[tuple[datetime, datetime]]:
    """The ``count`` most recent ended periods, newest first."""
    out = [digests.last_period(kind, now)]
    while len(out) < count:
        start = out[-1][0]
        out.append((start - digests.PERIODS[kind], start))
    return out


def _period_url(base: str, start: str, end: str, params: list[tuple[str, str]]) -> str:
    return f"{base}/stories?{urlencode([*params, ('since', start), ('until', end)])}"


def entry_html(data: dict[str, Any]) -> str:
    """An entry's body: headings per topic with linked headlines, then the ceasefire state changes."""
    parts = []
    for group in data["topics"]:
        items = "".join(f'<li><a href="{html.escape(feeds_out.uri(s["link"]))}">{html.escape(s["headline"])}</a>'
                        f'{" — " + html.escape(s["state"]) if s.get("state") else ""} '
                        f'({int(s["article_count"])} reports)</li>' for s in group["stories"])
        parts.append(f"<h3>{html.escape(group['name'])}</h3><ul>{items}</ul>")
    if data["ceasefires"]:
        items = "".join(f'<li><a href="{html.escape(feeds_out.uri(c["link"]))}">{html.escape(c["title"])}</a>: '
                        f'{html.escape(c["state"])}{" (was " + html.escape(c["previous_state"]) + ")" if c["previous_state"] else ""}'
                        f'{". " + html.escape(c["evidence"]) if c["evidence"] else ""}</li>' for c in data["ceasefires"])
        parts.append(f"<h3>Ceasefires</h3><ul>{items}</ul>")
    return "".join(parts)


def rss(entries: list[dict[str, Any]], meta: feeds_out.FeedMeta, urls: list[str]) -> bytes:
    root, ch = feeds_out.rss_channel(meta, meta.home_url + "/stories", _updated(entries))
    for data, url in zip(entries, urls, strict=True):
        item = ET.SubElement(ch, "item")
        ET.SubElement(item, "title").text = _title(data)
        ET.SubElement(item, "link").text = url
        ET.SubElement(item, "description").text = entry_html(data)
        ET.SubElement(item, "guid", {"isPermaLink": "false"}).text = _entry_id(meta, data)
        ET.SubElement(item, "pubDate").text = feeds_out.rfc822(datetime.fromisoformat(data["end"]))
    return feeds_out._xml(root)


def atom(entries: list[dict[str, Any]], meta: feeds_out.FeedMeta, urls: list[str]) -> bytes:
    el = feeds_out.el
    root = feeds_out.atom_feed(meta, meta.home_url + "/stories", _updated(entries))
    for data, url in zip(entries, urls, strict=True):
        entry = el(root, "entry")
        el(entry, "id", _entry_id(meta, data))
        el(entry, "title", _title(data))
        el(entry, "link", rel="alternate", href=url, type="application/json")
        el(entry, "updated", feeds_out._iso(datetime.fromisoformat(data["end"])))
        el(entry, "content", entry_html(data), type="html")
    return feeds_out._xml(root)


def json_feed(entries: list[dict[str, Any]], meta: feeds_out.FeedMeta, urls: list[str]) -> bytes:
    items = [{"id": _entry_id(meta, data), "url": url, "title": _title(data), "content_html": entry_html(data),
              "date_published": feeds_out._iso(datetime.fromisoformat(data["end"])),
              "_wirewatch": {"period": data["period"], "start": data["start"], "end": data["end"],
                             "story_count": data["story_count"], "change_count": data["change_count"]}}
             for data, url in zip(entries, urls, strict=True)]
    feed = {"version": "https://jsonfeed.org/version/1.1", "title": meta.title, "home_page_url": meta.home_url,
            "feed_url": meta.self_url, "description": meta.description, "authors": [{"name": feeds_out.GENERATOR}],
            "items": items}
    return json.dumps(feed, ensure_ascii=False, separators=(",", ":")).encode()


def _title(data: dict[str, Any]) -> str:
    """``Daily digest, 2026-12-01: 3 new stories, 1 ceasefire state change`` (hourly: ``… 2026-12-01 14:00 UTC``)."""
    what = render({"type": "digest", "data": data})[0].removeprefix("Wirewatch ")
    head, _, counts = what.partition(": ")
    when = data["start"][:10] if data["period"] == "daily" else f"{data['start'][:10]} {data['start'][11:16]} UTC"
    return f"{head[:1].upper()}{head[1:]}, {when}: {counts}"


def _entry_id(meta: feeds_out.FeedMeta, data: dict[str, Any]) -> str:
    return f"{meta.self_url.split('?', 1)[0]}#{data['start']}"


def _updated(entries: list[dict[str, Any]]) -> datetime:
    return max((datetime.fromisoformat(d["end"]) for d in entries), default=feeds_out.EPOCH)


def feed_route(renderer: Callable[..., bytes], media_type: str, kind: Period) -> Callable[..., Any]:
    async def route(request: Request, session: SessionDep) -> Response:
        query = parse_query(request, DigestQuery)
        flt = story_filter(request, StoryQuery(**query.model_dump()))
        cflt = CeasefireFilter(states=query.state or (), parties=query.entity or ())
        settings = context_of(request).settings
        base = base_url(request, settings)
        params = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
        entries, urls = [], []
        for start, end in periods(kind, utcnow(), settings.digest_feed_periods):
            stories, changes = await digests.period_contents(session, flt, cflt, start, end)
            if stories or changes:
                entries.append(digests.digest_payload(kind, start, end, stories, base, changes)["data"])
                urls.append(feeds_out.uri(_period_url(base, start.isoformat(), end.isoformat(), params)))
        self_url = f"{base}{request.url.path}" + (f"?{urlencode(params)}" if params else "")
        what = " + ".join([*flt.topics, *flt.entities]) or "all stories"
        meta = feeds_out.FeedMeta(title=f"Wirewatch {kind} digest: {what}", home_url=base, self_url=self_url,
                                  description=f"One entry per {'hour' if kind == 'hourly' else 'day'}: its new "
                                              f"stories by topic and the ceasefire state changes ({what})")
        body = renderer(entries, meta, urls)
        return conditional(request, body, tag_of(body), media_type)

    return route


for _kind in ("hourly", "daily"):
    for _suffix, _render, _type, _what in ((".rss", rss, feeds_out.RSS_TYPE, "RSS 2.0"),
                                           (".atom", atom, feeds_out.ATOM_TYPE, "Atom"),
                                           (".json", json_feed, feeds_out.JSONFEED_TYPE, "JSON Feed 1.1")):
        router.add_api_route(f"/digests/{_kind}{_suffix}", feed_route(_render, _type, _kind),  # type: ignore[arg-type]
                             methods=["GET"], summary=f"The {_kind} digest as {_what}: one entry per period",
                             response_class=Response, responses=VALIDATION, openapi_extra=query_doc(DigestQuery))
