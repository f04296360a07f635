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
import io
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

import feedparser

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
    headers = {"content-location": url} if url else {}
    # Without a content type feedparser flags every feed bozo; XML rules (the declaration) then decide the charset.
    headers["content-type"] = content_type or "application/xml"
    # HTML bodies become plain text in normalise, so feedparser neither sanitises them nor rewrites
    # relative URIs inside them (the two cost ~40% of a parse); entry links still honour xml:base.
    fp = feedparser.parse(io.BytesIO(safe), response_headers=headers, sanitize_html=False,
                          resolve_relative_uris=False)
    version = fp.get("version") or ""
    if not fp.entries and (not version or fp.get("bozo")):
        reason = str(fp.get("bozo_exception") or "no feed elements found")
        if b"<html" in body[:4096].lower():
            raise ParseError("an HTML page, not a feed", feed_links=discover_feeds(body, url))
        raise ParseError(f"not a feed: {reason[:200]}")
    ch = fp.feed
    links = ch.get("links") or []
    hub = next((lk.get("href") for lk in links if lk.get("rel") == "hub" and lk.get("href")), None)
    self_url = next((lk.get("href") for lk in links if lk.get("rel") == "self" and lk.get("href")), None)
    feed = ParsedFeed(
        format=version,
        title=(ch.get("title") or "").strip(),
        site_url=ch.get("link") or "",
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
        link = e.get("link") or ""
        if not link:
            alt = [lk.get("href") for lk in e.get("links") or [] if lk.get("href")]
            link = alt[0] if alt else ""
        feed.entries.append(ParsedEntry(
            title=e.get("title") or "",
            link=urljoin(url, link) if url and link else link,
            guid=str(e.get("id") or ""),
            summary_html=summary,
            content_html=content,
            author=e.get("author") or "",
            published=_dt(e.get("published_parsed")) or _dt(e.get("updated_parsed")),
            updated=_dt(e.get("updated_parsed")),
            lang=(e.get("language") or _detail_lang(e) or None),
        ))
    return feed


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
                      title=str(doc.get("title") or ""), site_url=str(doc.get("home_page_url") or ""),
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
