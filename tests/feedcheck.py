"""Checks a feed we serve against the rules the W3C Feed Validator and the JSON Feed 1.1 spec apply.

Why our own: the W3C validator is not on PyPI, so ``make test`` cannot install it. These are the rules
it reports as errors for the feeds we write (required elements, URIs that are ASCII and parse, RFC 822
and RFC 3339 dates, unique ids, an author for every Atom entry), plus a JSON Schema of JSON Feed 1.1
written from https://jsonfeed.org/version/1.1. When ``WIREWATCH_W3C_FEEDVALIDATOR`` names a checkout of
github.com/w3c/feedvalidator, :func:`w3c_errors` also runs the real one (outside the repository).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

import jsonschema

ATOM = "{http://www.w3.org/2005/Atom}"
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
URI_CHARS = re.compile(r"^[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+$")
JSONFEED_SCHEMA = json.loads((Path(__file__).parent / "data" / "jsonfeed-1.1.schema.json").read_text())


def check_uri(value: str | None, where: str) -> None:
    assert value, f"{where}: empty URI"
    assert URI_CHARS.match(value), f"{where}: not a URI (non-ASCII or a space must be percent-encoded): {value!r}"
    parts = urlsplit(value)
    assert parts.scheme in ("http", "https") and parts.netloc, f"{where}: not an absolute http(s) URI: {value!r}"
    assert not re.search(r"%(?![0-9A-Fa-f]{2})", value), f"{where}: a % that is not an escape: {value!r}"


def check_rss(body: bytes) -> int:
    """RSS 2.0 as the validator sees it; the number of items."""
    root = ET.fromstring(body)
    assert root.tag == "rss" and root.get("version") == "2.0"
    ch = root.find("channel")
    assert ch is not None
    for tag in ("title", "link", "description"):
        assert ch.find(tag) is not None, f"channel lacks <{tag}>"
    check_uri(ch.findtext("link"), "channel/link")
    for link in ch.findall(f"{ATOM}link"):
        check_uri(link.get("href"), "atom:link")
    if (built := ch.findtext("lastBuildDate")) is not None:
        _rfc822(built, "lastBuildDate")
    guids = []
    for i, item in enumerate(ch.findall("item")):
        assert item.findtext("title") or item.findtext("description"), f"item {i}: no title nor description"
        if (link := item.findtext("link")) is not None:
            check_uri(link, f"item {i} link")
        guid = item.find("guid")
        assert guid is not None and guid.text, f"item {i}: no guid"
        if guid.get("isPermaLink", "true") == "true":
            check_uri(guid.text, f"item {i} guid")
        guids.append(guid.text)
        _rfc822(item.findtext("pubDate") or "", f"item {i} pubDate")
    assert len(guids) == len(set(guids)), "guids repeat"
    return len(guids)


def check_atom(body: bytes) -> int:
    """Atom 1.0 (RFC 4287) as the validator sees it; the number of entries."""
    root = ET.fromstring(body)
    assert root.tag == f"{ATOM}feed"
    for tag in ("id", "title", "updated"):
        assert root.find(f"{ATOM}{tag}") is not None, f"feed lacks <{tag}>"
    _rfc3339(root.findtext(f"{ATOM}updated") or "", "feed updated")
    feed_author = root.find(f"{ATOM}author") is not None
    ids = []
    for node in root.iter(f"{ATOM}link"):
        check_uri(node.get("href"), f"link rel={node.get('rel')}")
    for i, entry in enumerate(root.findall(f"{ATOM}entry")):
        for tag in ("id", "title", "updated"):
            assert entry.find(f"{ATOM}{tag}") is not None, f"entry {i} lacks <{tag}>"
        _rfc3339(entry.findtext(f"{ATOM}updated") or "", f"entry {i} updated")
        if (published := entry.findtext(f"{ATOM}published")) is not None:
            _rfc3339(published, f"entry {i} published")
        assert feed_author or entry.find(f"{ATOM}author") is not None, f"entry {i}: no author"
        assert (entry.find(f"{ATOM}content") is not None or entry.find(f"{ATOM}summary") is not None
                or entry.find(f"{ATOM}link[@rel='alternate']") is not None), f"entry {i}: no content nor alternate link"
        ids.append(entry.findtext(f"{ATOM}id"))
    assert len(ids) == len(set(ids)), "entry ids repeat"
    return len(ids)


def check_json_feed(body: bytes) -> int:
    """JSON Feed 1.1 against its schema, plus URIs and dates; the number of items."""
    feed = json.loads(body)
    jsonschema.validate(feed, JSONFEED_SCHEMA)
    for key in ("home_page_url", "feed_url", "next_url"):
        if key in feed:
            check_uri(feed[key], key)
    ids = []
    for i, item in enumerate(feed["items"]):
        for key in ("url", "external_url"):
            if key in item:
                check_uri(item[key], f"item {i} {key}")
        for key in ("date_published", "date_modified"):
            if key in item:
                _rfc3339(item[key], f"item {i} {key}")
        ids.append(item["id"])
    assert len(ids) == len(set(ids)), "item ids repeat"
    return len(ids)


def _rfc822(value: str, where: str) -> None:
    try:
        dt = parsedate_to_datetime(value)
    except (TypeError, ValueError) as exc:
        raise AssertionError(f"{where}: not an RFC 822 date: {value!r}") from exc
    assert dt.tzinfo is not None and value.endswith(("GMT", "+0000")), f"{where}: give the zone: {value!r}"


def _rfc3339(value: str, where: str) -> None:
    assert RFC3339.match(value), f"{where}: not an RFC 3339 date: {value!r}"
    datetime.fromisoformat(value.replace("Z", "+00:00"))


FILE_ARTEFACTS = ("should not be served with", "Self reference doesn't match document location")  # a local file


def w3c_errors(body: bytes, suffix: str, tmp: Path) -> list[str] | None:
    """The W3C Feed Validator's errors and warnings for a feed body (None when no checkout is configured:
    ``WIREWATCH_W3C_FEEDVALIDATOR`` = its path, ``WIREWATCH_W3C_FEEDVALIDATOR_PYTHON`` = an interpreter
    with html5lib)."""
    home = os.environ.get("WIREWATCH_W3C_FEEDVALIDATOR")
    if not home:
        return None
    path = tmp / f"feed{suffix}"
    path.write_bytes(body)
    python = os.environ.get("WIREWATCH_W3C_FEEDVALIDATOR_PYTHON", sys.executable)
    out = subprocess.run([python, "demo.py", str(path), "AA"], capture_output=True, text=True, timeout=120,
                         cwd=Path(home) / "src")
    assert out.returncode in (0, 1), out.stderr[-2000:]
    lines = [ln for ln in out.stdout.splitlines()[1:] if ln.strip() and not any(a in ln for a in FILE_ARTEFACTS)]
    return [] if lines in ([], ["No errors or warnings"]) else lines
