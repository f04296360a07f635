"""Stories as feeds a reader can subscribe to: RSS 2.0, Atom 1.0 and JSON Feed 1.1.

Pure renderers (no HTTP, no database): the route hands over a page of StoryOut and the
URLs; every format links each item to its original article and to /stories/{id}, and
carries the story's topics as categories.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import quote, urlsplit, urlunsplit
from xml.etree import ElementTree as ET

from api.http.schemas import StoryOut

RSS_TYPE = "application/rss+xml; charset=utf-8"
ATOM_TYPE = "application/atom+xml; charset=utf-8"
JSONFEED_TYPE = "application/feed+json; charset=utf-8"
ATOM_NS = "http://www.w3.org/2005/Atom"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
GENERATOR = "Wirewatch"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True)
class FeedMeta:
    title: str
    description: str
    self_url: str  # this feed, with its filters (never the reader's token)
    home_url: str  # the API base
    next_url: str | None = None

    def story_url(self, story_id: str) -> str:
        return f"{self.home_url}/stories/{story_id}"


_PATH_SAFE = "/%:@!$&'()*+,;=~-._"
_QUERY_SAFE = _PATH_SAFE + "?"


def uri(url: str) -> str:
    """An IRI as the URI RSS 2.0 and Atom require: non-ASCII characters and spaces in the path, query and
    fragment percent-encoded as UTF-8, a non-ASCII host name in its IDNA form; escapes and reserved
    characters already there are kept, so an ASCII URL comes back unchanged."""
    if url.isascii() and " " not in url:
        return url
    parts = urlsplit(url.strip())
    netloc = parts.netloc
    if not netloc.isascii():
        try:
            netloc = netloc.encode("idna").decode("ascii")
        except UnicodeError:
            netloc = quote(netloc, safe=_PATH_SAFE)
    return urlunsplit((parts.scheme, netloc, quote(parts.path, safe=_PATH_SAFE),
                       quote(parts.query, safe=_QUERY_SAFE), quote(parts.fragment, safe=_QUERY_SAFE)))


def rfc822(dt: datetime) -> str:
    """RSS 2.0's date format, in GMT."""
    return format_datetime(dt.astimezone(UTC), usegmt=True)


def _updated(stories: Sequence[StoryOut]) -> datetime:
    """The newest change in the page; a fixed date for an empty page keeps its ETag stable."""
    return max((s.last_seen for s in stories), default=EPOCH).astimezone(UTC)


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _xml(root: ET.Element) -> bytes:
    for node in root.iter():  # characters XML 1.0 cannot carry at all, even escaped
        if node.text:
            node.text = _NOT_XML.sub("", node.text)
        for k, v in node.attrib.items():
            node.attrib[k] = _NOT_XML.sub("", v)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def el(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    """A child element with its text and attributes, in one call."""
    node = ET.SubElement(parent, tag, attrs)
    node.text = text
    return node


def rss_channel(meta: FeedMeta, home: str, updated: datetime) -> tuple[ET.Element, ET.Element]:
    """An RSS 2.0 root and its channel, with what every feed of ours carries (``home``: the JSON it mirrors)."""
    root = ET.Element("rss", {"version": "2.0", "xmlns:atom": ATOM_NS})
    ch = ET.SubElement(root, "channel")
    el(ch, "title", meta.title)
    el(ch, "link", home)
    el(ch, "description", meta.description)
    el(ch, "atom:link", rel="self", href=uri(meta.self_url), type=RSS_TYPE.split(";")[0])
    if meta.next_url:
        el(ch, "atom:link", rel="next", href=uri(meta.next_url))
    el(ch, "lastBuildDate", rfc822(updated))
    el(ch, "generator", GENERATOR)
    return root, ch


def atom_feed(meta: FeedMeta, home: str, updated: datetime) -> ET.Element:
    """An Atom feed element with what every feed of ours carries, the entries still to add."""
    root = ET.Element("feed", {"xmlns": ATOM_NS})
    el(root, "id", uri(meta.self_url))
    el(root, "title", meta.title)
    el(root, "subtitle", meta.description)
    el(root, "updated", _iso(updated))
    el(root, "link", rel="self", href=uri(meta.self_url), type=ATOM_TYPE.split(";")[0])
    el(root, "link", rel="alternate", href=home, type="application/json")
    if meta.next_url:
        el(root, "link", rel="next", href=uri(meta.next_url))
    el(el(root, "author"), "name", GENERATOR)
    el(root, "generator", GENERATOR)
    return root


def rss(stories: Sequence[StoryOut], meta: FeedMeta) -> bytes:
    root, ch = rss_channel(meta, meta.home_url + "/stories", _updated(stories))
    for s in stories:
        item = ET.SubElement(ch, "item")
        ET.SubElement(item, "title").text = s.headline
        ET.SubElement(item, "link").text = uri(s.url)
        ET.SubElement(item, "description").text = html.escape(s.summary, quote=False)  # RSS reads HTML
        ET.SubElement(item, "guid", {"isPermaLink": "true"}).text = meta.story_url(s.id)
        ET.SubElement(item, "pubDate").text = format_datetime(s.published_at.astimezone(UTC), usegmt=True)
        for t in s.topics:
            ET.SubElement(item, "category", {"domain": meta.home_url + "/topics"}).text = t.name
    return _xml(root)


def atom(stories: Sequence[StoryOut], meta: FeedMeta) -> bytes:
    root = atom_feed(meta, meta.home_url + "/stories", _updated(stories))
    for s in stories:
        entry = el(root, "entry")
        el(entry, "id", meta.story_url(s.id))
        el(entry, "title", s.headline)
        el(entry, "link", rel="alternate", href=uri(s.url), type="text/html")
        el(entry, "link", rel="related", href=meta.story_url(s.id), type="application/json")
        el(entry, "published", _iso(s.published_at))
        el(entry, "updated", _iso(s.last_seen))
        el(entry, "summary", s.summary)
        author = el(entry, "author")
        el(author, "name", ", ".join(s.sources) or GENERATOR)
        for t in s.topics:
            el(entry, "category", term=t.name, label=t.name.replace("_", " "))
    return _xml(root)


def json_feed(stories: Sequence[StoryOut], meta: FeedMeta) -> bytes:
    """JSON Feed 1.1 (https://jsonfeed.org/version/1.1): url is our story, external_url the article."""
    items = [{
        "id": s.id,
        "url": meta.story_url(s.id),
        "external_url": uri(s.url),
        "title": s.headline,
        "content_text": s.summary or s.headline,
        "summary": s.summary,
        "date_published": _iso(s.published_at),
        "date_modified": _iso(s.last_seen),
        "authors": [{"name": src} for src in s.sources],
        "tags": [t.name for t in s.topics],
        "language": s.lang,
        "_wirewatch": {"state": s.state, "version": s.version, "article_count": s.article_count,
                       "entities": [e.name for e in s.entities]},
    } for s in stories]
    for item in items:
        if item["language"] is None:
            del item["language"]
    feed: dict[str, object] = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": meta.title,
        "home_page_url": meta.home_url + "/stories",
        "feed_url": uri(meta.self_url),
        "description": meta.description,
        "items": items,
    }
    if meta.next_url:
        feed["next_url"] = meta.next_url
    return json.dumps(feed, ensure_ascii=False, separators=(",", ":")).encode()
