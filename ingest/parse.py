"""Bytes in, ParsedFeed out: RSS 0.9x/1.0/2.0 and Atom via feedparser, JSON Feed 1.0/1.1 by hand.

Pure: never touches HTTP, the database or the file system. Hostile XML is
refused before feedparser sees it: any DTD that declares entities (billion
laughs, XXE) is a ParseError, any other DOCTYPE is stripped. feedparser only
ever receives a file-like object (given bytes that look like a path, it would
open that file). ``bozo`` feeds that still yield entries are accepted with a flag.
"""

from __future__ import annotations

import calendar
import contextlib
import html
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

import feedparser
from feedparser.urls import _urljoin, make_safe_absolute_uri

from ingest.errors import EmptyBody, ParseError

FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json", "application/json",
              "application/rdf+xml", "application/xml", "text/xml")
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_ENTITY = re.compile(rb"<!ENTITY", re.IGNORECASE)
_HTML_START = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)[\s>]", re.IGNORECASE | re.DOTALL)
_PROLOG_LIMIT = 64 * 1024
_COMMENT = re.compile(rb"<!--.*?(?:-->|$)", re.DOTALL)
_ROOT = re.compile(rb"<[A-Za-z_]")
_DOCTYPE_DECL = re.compile(rb"<!DOCTYPE\s[^\[>]*(?:\[[^\]]*\])?\s*>", re.IGNORECASE)
# Given a base URI, feedparser re-joins it for every element it opens (~30% of a parse). Without any
# base-setting attribute (xml:base, or an empty href/url/uri, which resolves to the base itself) the
# base is the feed URL throughout, so the URIs we read are joined after the parse with feedparser's
# own join instead: same result (tests/unit/test_ingest_fast_paths.py compares both ways). The checks run
# on the lower-cased bytes, so only ASCII-compatible documents qualify (not UTF-16/32, EBCDIC, UTF-7).
_XML_START = re.compile(rb"(?:\xef\xbb\xbf)?\s*<")
_UTF7 = re.compile(rb"u(?:tf)?[-_]?7")
_BASE_ATTR = re.compile(rb"base\s*=")
_EMPTY_VALUE = re.compile(rb"=\s*(?:\"\"|'')")
# feedparser joins an entry id only when it came from a permalink <guid>/<id> (no isPermaLink other
# than "true"; not rdf:about). When the bytes cannot tell, the feed is parsed again with the base.
_ABOUT_ATTR = re.compile(rb"about\s*=")
_ID_START = re.compile(rb"<(?:[^\s<>/:]+:)?(?:guid|id)[\s>/]")
_ID_NOT_PERMALINK = re.compile(rb"<(?:[^\s<>/:]+:)?(?:guid|id)\s[^<>]*ispermalink\s*=\s*"
                               rb"(?:\"(?!true\")[^\"&<]*\"|'(?!true')[^'&<]*')")  # a subset of _ID_START's matches


@dataclass
class ParsedEntry:
    """One entry, format-agnostic; HTML fields are still HTML (normalise strips them)."""

    title: str = ""
    link: str = ""
    guid: str = ""
    summary_html: str = ""
    content_html: str = ""
    author: str = ""
    published: datetime | None = None
    updated: datetime | None = None
    lang: str | None = None
    source: str = ""  # the outlet an aggregator names for this entry (RSS/Atom <source>)


@dataclass
class ParsedFeed:
    """A feed as data; ``bozo`` marks a feed that was ill-formed but still usable."""

    format: str
    title: str = ""
    site_url: str = ""
    lang: str | None = None
    hub_url: str | None = None
    self_url: str | None = None
    ttl: str | None = None
    update_period: str | None = None
    update_frequency: str | None = None
    bozo: bool = False
    bozo_reason: str = ""
    entries: list[ParsedEntry] = field(default_factory=list)


def _probe(body: bytes) -> tuple[bytes, bool]:
    """An ASCII-compatible view of the document for the DTD check (UTF-16/32 transcoded), and whether it was."""
    for bom, codec in ((b"\xff\xfe\x00\x00", "utf-32-le"), (b"\x00\x00\xfe\xff", "utf-32-be"),
                       (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if body.startswith(bom):
            return body[len(bom):].decode(codec, "ignore").encode("utf-8", "ignore"), True
    if body[:4] in (b"<\x00?\x00", b"\x00<\x00?"):
        return body.decode("utf-16-le" if body[0] == 0x3C else "utf-16-be", "ignore").encode("utf-8", "ignore"), True
    return body, False


def defuse(body: bytes) -> bytes:
    """Refuse a prolog that declares entities; strip any other DOCTYPE. Returns the bytes to parse."""
    probe, transcoded = _probe(body)
    prolog = _COMMENT.sub(b"", probe[:_PROLOG_LIMIT * 16])
    root = _ROOT.search(prolog)
    prolog = prolog[:root.start()] if root else prolog
    if _ENTITY.search(prolog):
        raise ParseError("refused: the document's DTD declares entities (entity expansion / external entity)")
    if transcoded or not _DOCTYPE.search(prolog):
        return body
    return _DOCTYPE_DECL.sub(b"", body, count=1)


def _dt(struct: Any) -> datetime | None:
    if not struct:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(struct), UTC)
    except (OverflowError, ValueError, TypeError, OSError):
        return None


def _iso(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        struct = feedparser.datetimes._parse_date(value)  # type: ignore[attr-defined]
        return _dt(struct)
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _detail_lang(entry: Any) -> str | None:
    """xml:lang declared on an entry shows up on its title/content details in feedparser."""
    for detail in [entry.get("title_detail"), *(entry.get("content") or [])]:
        if detail and detail.get("language"):
            return str(detail["language"])
    return None


def looks_like_json(body: bytes, content_type: str = "") -> bool:
    head = body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return head == b"{" or ("json" in content_type.lower() and head in (b"{", b"["))


def parse(body: bytes, *, url: str = "", content_type: str = "") -> ParsedFeed:
    """Parse a feed body; raises EmptyBody for nothing, ParseError for anything that is not a feed."""
    if not body or not body.strip():
        raise EmptyBody("empty body (200 with no content)")
    if looks_like_json(body, content_type):
        return parse_json_feed(body, url=url)
    if _HTML_START.match(body[:4096]) and b"<rss" not in body[:2048] and b"<feed" not in body[:2048]:
        raise ParseError("an HTML page, not a feed", feed_links=discover_feeds(body, url))
    safe = defuse(body)
    fp, join, join_id = _feedparser(safe, url, content_type)
    version = fp.get("version") or ""
    if not fp.entries and (not version or fp.get("bozo")):
        reason = str(fp.get("bozo_exception") or "no feed elements found")
        if b"<html" in body[:4096].lower():
            raise ParseError("an HTML page, not a feed", feed_links=discover_feeds(body, url))
        raise ParseError(f"not a feed: {reason[:200]}")
    ch = fp.feed
    links = ch.get("links") or []
    hub = next((h for lk in links if lk.get("rel") == "hub" and (h := join(lk.get("href") or ""))), None)
    self_url = next((h for lk in links if lk.get("rel") == "self" and (h := join(lk.get("href") or ""))), None)
    feed = ParsedFeed(
        format=version,
        title=feed_title(ch.get("title") or ""),
        site_url=join(ch.get("link") or ""),
        lang=(ch.get("language") or None),
        hub_url=hub,
        self_url=self_url,
        ttl=ch.get("ttl"),
        update_period=ch.get("sy_updateperiod"),
        update_frequency=ch.get("sy_updatefrequency"),
        bozo=bool(fp.get("bozo")),
        bozo_reason=str(fp.get("bozo_exception") or "")[:300],
    )
    for e in fp.entries:
        content = ""
        if e.get("content"):
            content = max((c.get("value") or "" for c in e.content), key=len)
        summary = e.get("summary") or ""
        if summary == content:
            summary = ""
        link = join(e.get("link") or "")
        if not link:  # the first usable href, as feedparser gave it (enclosure hrefs are not joined)
            link = next((h for lk in e.get("links") or [] if join(h := lk.get("href") or "")), "")
        feed.entries.append(ParsedEntry(
            title=e.get("title") or "",
            link=_absolute(url, link),
            guid=str(join_id(e.get("id") or "")),
            summary_html=summary,
            content_html=content,
            author=e.get("author") or "",
            published=_dt(e.get("published_parsed")) or _dt(e.get("updated_parsed")),
            updated=_dt(e.get("updated_parsed")),
            lang=(e.get("language") or _detail_lang(e) or None),
            source=str((e.get("source") or {}).get("title") or ""),
        ))
    return feed


def feed_title(raw: str) -> str:
    """A feed's title as text: publishers often escape entities twice ("Blog &#8211; InfluxData")."""
    return html.unescape(raw).strip()


def _absolute(base: str, link: str) -> str:
    """``link`` joined to ``base``; an unusable URL (say a bad IPv6 host) is no link rather than a failed feed."""
    try:
        return urljoin(base, link) if base and link else link
    except ValueError:
        return ""


def _same(uri: str) -> str:
    return uri


def _join(base: str, uri: str) -> str:
    """feedparser's own join (an unusable URI becomes "")."""
    return _urljoin(base, uri) if uri else uri  # type: ignore[no-any-return]


def _feedparser(safe: bytes, url: str, content_type: str) -> tuple[Any, Callable[[str], str], Callable[[str], str]]:
    """feedparser's result and the joins to apply to the links and to the entry ids read from it (see _XML_START)."""
    low = safe.lower()
    if not _join_late(low, url, content_type):
        return _feedparse(safe, url, content_type), _same, _same
    base = make_safe_absolute_uri(url, url) or url  # the base feedparser would have used
    join = partial(_join, base)
    fp = _feedparse(safe, "", content_type)
    if b"ispermalink" not in low and not _ABOUT_ATTR.search(low):
        return fp, join, join  # every id came from a permalink <guid>/<id>
    if len(_ID_START.findall(low)) == len(_ID_NOT_PERMALINK.findall(low)):
        return fp, join, _same  # every <guid>/<id> says it is not a permalink: none was joined
    if all(join(e.get("id") or "") == (e.get("id") or "") for e in fp.entries):
        return fp, join, join  # joined or not, no id changes
    return _feedparse(safe, url, content_type), _same, _same


def _join_late(low: bytes, url: str, content_type: str) -> bool:
    """Whether the base may be left out of feedparser and joined afterwards (see _XML_START)."""
    if not url or not url.isascii() or b"\x00" in low[:4] or not _XML_START.match(low):
        return False
    if _UTF7.search(low, 0, 1024) or _UTF7.search(content_type.lower().encode("latin-1", "replace")):
        return False
    if b"base" in low and _BASE_ATTR.search(low):
        return False
    for m in _EMPTY_VALUE.finditer(low):  # href="" and the like resolve to the base itself
        name_end = m.start()
        while name_end and low[name_end - 1] in b" \t\r\n\f\v":
            name_end -= 1
        if low.endswith((b"href", b"url", b"uri"), 0, name_end):
            return False
    return True


def _feedparse(safe: bytes, base: str, content_type: str) -> Any:
    headers = {"content-location": base} if base else {}
    # Without a content type feedparser flags every feed bozo; XML rules (the declaration) then decide the charset.
    headers["content-type"] = content_type or "application/xml"
    # HTML bodies become plain text in normalise, so feedparser neither sanitises them nor rewrites
    # relative URIs inside them (the two cost ~40% of a parse); entry links still honour xml:base.
    return feedparser.parse(io.BytesIO(safe), response_headers=headers, sanitize_html=False,
                            resolve_relative_uris=False)


def parse_json_feed(body: bytes, *, url: str = "") -> ParsedFeed:
    """JSON Feed 1.0/1.1 (https://jsonfeed.org/version/1.1)."""
    try:
        doc = json.loads(body.decode("utf-8-sig", "replace"))
    except (ValueError, RecursionError) as exc:
        raise ParseError(f"not a feed: invalid JSON ({exc})") from exc
    if not isinstance(doc, dict) or not str(doc.get("version", "")).startswith("https://jsonfeed.org/version/"):
        raise ParseError("not a feed: JSON without a jsonfeed.org version")
    items = doc.get("items")
    if not isinstance(items, list):
        raise ParseError("not a feed: JSON Feed without an items array")
    raw_hubs = doc.get("hubs")
    hubs: list[Any] = raw_hubs if isinstance(raw_hubs, list) else []
    hub = next((h.get("url") for h in hubs if isinstance(h, dict) and h.get("url")
                and str(h.get("type", "")).lower() in ("websub", "")), None)
    feed = ParsedFeed(format="json" + str(doc["version"]).rsplit("/", 1)[-1],
                      title=feed_title(str(doc.get("title") or "")), site_url=str(doc.get("home_page_url") or ""),
                      lang=doc.get("language") if isinstance(doc.get("language"), str) else None,
                      hub_url=hub, self_url=doc.get("feed_url") if isinstance(doc.get("feed_url"), str) else None)
    for item in items:
        if not isinstance(item, dict):
            feed.bozo = True
            continue
        raw_authors = item.get("authors")
        authors: list[Any] = raw_authors if isinstance(raw_authors, list) else []
        if not authors and isinstance(item.get("author"), dict):
            authors = [item["author"]]
        author = ", ".join(str(a.get("name")) for a in authors if isinstance(a, dict) and a.get("name"))
        link = item.get("url") or item.get("external_url") or ""
        content = item.get("content_html") or ""
        if not content and item.get("content_text"):
            content = _text_to_html(str(item["content_text"]))
        feed.entries.append(ParsedEntry(
            title=str(item.get("title") or ""),
            link=urljoin(url, str(link)) if link else "",
            guid=str(item.get("id") or ""),
            summary_html=str(item.get("summary") or ""),
            content_html=str(content),
            author=author,
            published=_iso(item.get("date_published")) or _iso(item.get("date_modified")),
            updated=_iso(item.get("date_modified")),
            lang=item.get("language") if isinstance(item.get("language"), str) else None,
        ))
    return feed


def _text_to_html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class _LinkFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []
        self.base: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "base" and a.get("href") and self.base is None:
            self.base = a["href"]
        if tag == "link" and "alternate" in a.get("rel", "").lower().split() and a.get("href"):
            self.links.append((a.get("type", "").lower().split(";")[0].strip(), a["href"]))


def discover_feeds(html: bytes, url: str = "") -> list[str]:
    """Feed URLs an HTML page advertises with <link rel="alternate" type="…rss/atom/feed+json">."""
    finder = _LinkFinder()
    with contextlib.suppress(AssertionError, ValueError):
        finder.feed(html[:512 * 1024].decode("utf-8", "replace"))
    base = urljoin(url, finder.base) if finder.base else url
    wanted = ("application/rss+xml", "application/atom+xml", "application/feed+json", "application/json",
              "application/rdf+xml")
    out: list[str] = []
    for kind, href in finder.links:
        if kind in wanted:
            full = urljoin(base, href.strip())
            if full not in out:
                out.append(full)
    return out
