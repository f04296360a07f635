"""OPML 1.0/2.0 import and export (pure). Nested outlines become tags: the folder titles above a feed.

Parsed with defusedxml, so a hostile OPML file cannot expand entities or read files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from xml.etree.ElementTree import Element, SubElement, tostring

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException


class OPMLError(ValueError):
    """The document is not usable OPML."""


@dataclass
class OutlineFeed:
    url: str
    title: str = ""
    site_url: str = ""
    tags: list[str] = field(default_factory=list)


def parse_opml(data: bytes | str) -> list[OutlineFeed]:
    """Every feed outline (one with xmlUrl), with its enclosing folders and ``category`` as tags."""
    try:
        root = SafeET.fromstring(data, forbid_dtd=True)
    except (SafeET.ParseError, DefusedXmlException, ValueError) as exc:
        raise OPMLError(f"not valid OPML: {exc}") from exc
    if root.tag.lower() != "opml":
        raise OPMLError("not OPML: the root element is not <opml>")
    body = next((c for c in root if c.tag.lower() == "body"), None)
    if body is None:
        raise OPMLError("OPML without <body>")
    out: list[OutlineFeed] = []
    seen: set[str] = set()

    def walk(node: Element, folders: list[str]) -> None:
        for child in node:
            if child.tag.lower() != "outline":
                continue
            attrs = {k.lower(): v for k, v in child.attrib.items()}
            url = (attrs.get("xmlurl") or "").strip()
            title = (attrs.get("title") or attrs.get("text") or "").strip()
            if url:
                tags = list(folders)
                for cat in (attrs.get("category") or "").split(","):
                    cat = cat.strip().strip("/")
                    if cat:
                        tags.extend(p for p in cat.split("/") if p)
                if url not in seen:
                    seen.add(url)
                    out.append(OutlineFeed(url=url, title=title, site_url=(attrs.get("htmlurl") or "").strip(),
                                           tags=list(dict.fromkeys(tags))))
                walk(child, folders)
            else:
                walk(child, folders + ([title] if title else []))

    walk(body, [])
    return out


def export_opml(feeds: list[OutlineFeed], *, title: str = "Wirewatch feeds", now: datetime | None = None) -> bytes:
    """OPML 2.0 with one folder per first tag (untagged feeds at top level)."""
    root = Element("opml", version="2.0")
    head = SubElement(root, "head")
    SubElement(head, "title").text = title
    SubElement(head, "dateCreated").text = (now or datetime.now(UTC)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    body = SubElement(root, "body")
    folders: dict[str, Element] = {}
    for f in feeds:
        parent = body
        if f.tags:
            first = f.tags[0]
            if first not in folders:
                folders[first] = SubElement(body, "outline", text=first, title=first)
            parent = folders[first]
        attrs = {"type": "rss", "text": f.title or f.url, "title": f.title or f.url, "xmlUrl": f.url}
        if f.site_url:
            attrs["htmlUrl"] = f.site_url
        if len(f.tags) > 1:
            attrs["category"] = ",".join(f.tags[1:])
        SubElement(parent, "outline", attrs)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(root, encoding="unicode").encode()
