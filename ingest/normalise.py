"""ParsedEntry -> RawArticle: absolute links, stable ids, UTC dates, plain text, declared language, content hash.

Pure: ``now`` is a parameter.
"""

from __future__ import annotations

import html
import re
from datetime import datetime
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from ingest.parse import ParsedEntry, ParsedFeed
from services import ids
from services.events import RawArticle

SUMMARY_MAX_CHARS = 1_000
CONTENT_MAX_CHARS = 100_000
TITLE_MAX_CHARS = 500
_SKIP = frozenset({"script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "math",
                   "head", "title", "select", "textarea", "button"})
_BLOCK = frozenset({"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "td", "th",
                    "table", "blockquote", "pre", "section", "article", "header", "footer", "figure",
                    "figcaption", "hr", "dd", "dt"})
_BLANK = r"\t\f\v\u00a0\u2000-\u200b\u202f\u205f\u3000"  # besides the plain space
# A run of blanks becomes one space; a lone plain space (most runs) is not matched at all.
_WS = re.compile(rf" [ {_BLANK}]+|[{_BLANK}][ {_BLANK}]*")
_NL = re.compile(r"\s*\n\s*")
# One translate: C1 controls used as windows-1252 punctuation inside UTF-8 ("demoronize") become that
# punctuation, other control characters (not \t \n \r) go.
_CLEAN = {i: bytes([i]).decode("cp1252", "replace") for i in range(0x80, 0xA0)} | {
    i: None for i in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F)}


# A start tag with plainly written attributes (or none), or an end tag: where HTMLParser and this
# pattern agree on the tag's extent. Whitespace is HTML's, so "\xa0" is not a separator.
_PLAIN_TAG = re.compile(r"<(?:([a-zA-Z][a-zA-Z0-9]*)(?:[ \t\n\r\f]+[a-zA-Z_:][-a-zA-Z0-9_:.]*(?:[ \t\n\r\f]*=[ \t\n\r\f]*"
                        r"(?:\"[^\"]*\"|'[^']*'|[^\s\"'=<>`]+))?)*[ \t\n\r\f]*/?|/([a-zA-Z][a-zA-Z0-9]*)[ \t\n\r\f]*)>")


class _TextExtractor(HTMLParser):
    def __init__(self, limit: int) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.size = 0
        self.limit = limit
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip += 1
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skip and self.size < self.limit:
            self.parts.append(data)
            self.size += len(data)


def html_to_text(value: str, limit: int = CONTENT_MAX_CHARS) -> str:
    """Visible text of an HTML fragment (no script/style content), whitespace collapsed, cut at ``limit``."""
    if not value:
        return ""
    if "<" not in value and "&" not in value:
        text = value
    else:
        simple = _plain_tags_text(value, limit * 2)
        text = simple if simple is not None else _via_htmlparser(value, limit * 2)
    return clean_text(text, limit)


def _via_htmlparser(value: str, limit: int) -> str:
    """Text through HTMLParser, fed only up to the last ">"; what follows becomes text (or nothing, inside
    a skipped element or an unfinished construct). Why: CPython 3.11's HTMLParser rescans to the end of
    the input for every "<" it cannot close, so a tail like ``<a x=<y x=<y …`` without any ">" costs
    quadratic time (240 KB took 4 minutes); up to a ">" every scan ends there."""
    end = value.rfind(">") + 1
    parser = _TextExtractor(limit)
    try:
        parser.feed(value[:end])
        tail = value[end:]
        if tail and not parser.skip and not parser.rawdata:
            parser.handle_data(html.unescape(tail))
        parser.close()
    except (AssertionError, ValueError):
        pass
    return "".join(parser.parts)


def _plain_tags_text(value: str, limit: int) -> str | None:
    """What _TextExtractor gives, in one regex pass, for a fragment of plain tags and text only (most
    feed HTML); None for anything else (comments, skipped elements, a stray "<", odd attributes)."""
    tags = list(_PLAIN_TAG.finditer(value))
    if len(tags) != value.count("<"):  # every "<" opens a plain tag, none hides in an attribute
        return None
    parts: list[str] = []
    size = pos = 0
    for m in [*tags, None]:
        end = m.start() if m else len(value)
        if end > pos and size < limit:  # the text before the tag, as HTMLParser hands it over
            data = html.unescape(value[pos:end])
            parts.append(data)
            size += len(data)
        if m:
            name = (m.group(1) or m.group(2)).lower()
            if name in _SKIP:
                return None
            if name in _BLOCK:
                parts.append("\n")
            pos = m.end()
    return "".join(parts)


def clean_text(text: str, limit: int) -> str:
    """Control characters out, blank runs to one space, line breaks (with the blanks around them) to one."""
    text = _WS.sub(" ", text.translate(_CLEAN))
    if "\n" in text:  # \s*\n\s* also swallows repeated line breaks, so no blank lines remain
        text = _NL.sub("\n", text)
    return _cut(text.strip(), limit)


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ", int(limit * 0.8))
    return (cut[:space] if space > 0 else cut).rstrip() + "…"


def _code(tag: str | None) -> str | None:
    """"en-US" / "pt_BR" / " FR " → the primary language subtag ("en", "pt", "fr")."""
    return (tag or "").strip().lower().replace("_", "-").split("-")[0] or None


def absolute(link: str, base: str) -> str:
    link = html.unescape(link.strip())
    if not link:
        return ""
    full = urljoin(base, link) if base else link
    return full if urlsplit(full).scheme in ("http", "https") else ""


def normalise(entry: ParsedEntry, feed: ParsedFeed, *, feed_url: str, feed_id: int | None, now: datetime,
              source: str = "", via: str = "poll") -> RawArticle | None:
    """One entry as a RawArticle; None when it has neither a usable link nor a GUID."""
    link = absolute(entry.link, feed_url)
    guid = entry.guid.strip()
    if not link and guid and urlsplit(guid).scheme in ("http", "https"):
        link = guid
    try:
        art_id = ids.article_id(link=link or None, guid=guid or None, feed_url=feed_url)
    except ValueError:
        return None
    title = clean_text(html.unescape(html_to_text(entry.title, TITLE_MAX_CHARS * 2)), TITLE_MAX_CHARS)
    content = html_to_text(entry.content_html, CONTENT_MAX_CHARS)
    summary = html_to_text(entry.summary_html, SUMMARY_MAX_CHARS) or _cut(content, SUMMARY_MAX_CHARS)
    if not title and not summary and not content:
        return None
    published = entry.published or entry.updated or now
    if published > now:
        published = now
    # The language the source declares (entry, else feed) travels as a hint; the language is detected
    # from the text once per article, in enrichment (enrich.language), which needs it anyway.
    lang = _code(entry.lang) or _code(feed.lang)
    return RawArticle(
        id=art_id,
        feed_id=feed_id,
        feed_url=feed_url,
        # An aggregator's item names its outlet (<source>): that is who reported it, not the aggregator.
        source=clean_text(entry.source, 200) or source or feed.title or (urlsplit(feed_url).hostname or ""),
        url=ids.canonical_url(link) if link else "",
        link=link,
        guid=guid,
        title=title,
        summary=summary,
        content=content,
        author=clean_text(entry.author, 200),
        lang=lang,
        published_at=published,
        fetched_at=now,
        content_hash=ids.content_hash(title, content or summary),
        via=via,  # type: ignore[arg-type]
    )


def normalise_feed(feed: ParsedFeed, *, feed_url: str, feed_id: int | None, now: datetime,
                   max_entries: int = 500, source: str = "", via: str = "poll") -> list[RawArticle]:
    """Every usable entry of a feed (first ``max_entries``), in feed order."""
    out: list[RawArticle] = []
    for entry in feed.entries[:max_entries]:
        art = normalise(entry, feed, feed_url=feed_url, feed_id=feed_id, now=now, source=source, via=via)
        if art is not None:
            out.append(art)
    return out
