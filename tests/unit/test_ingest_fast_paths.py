"""Each fast path of parse/normalise gives exactly what the plain path gives.

* URIs joined after feedparser (no base handed to it) = feedparser joining them with the feed URL as base;
* the one-pass HTML-to-text for plain tags = the HTMLParser extractor;
* clean_text's single translate and skipped passes = the rules it documents.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from ingest import normalise
from ingest import parse as parse_mod

DATA = Path(__file__).resolve().parents[1] / "data"
REALWORLD = Path(__file__).resolve().parents[2].parent / "shared" / "realworld-feeds"
URLS = ("https://news.example.org/feeds/main.xml", "http://h.example/", "https://n.example/a/b?x=1#y")

CRAFTED = {
    "relative links, hub, permalink and plain guids": (
        b'<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>t</title><link>/site</link>'
        b'<atom:link rel="hub" href="../hub"/><atom:link rel="self" href="feed.xml"/>'
        b'<item><title>a</title><guid>123</guid></item>'
        b'<item><title>b</title><guid isPermaLink="false">456</guid><link>x?a=1&amp;b=2</link></item></channel></rss>'),
    "guids that are not permalinks": (
        b'<rss version="2.0"><channel><title>t</title><item><title>a</title><guid isPermaLink="false">1</guid>'
        b'<link>/a</link></item><item><title>b</title><guid ispermalink=\'no\'>2</guid></item></channel></rss>'),
    "mixed isPermaLink: parsed again with the base": (
        b'<rss version="2.0"><channel><title>t</title><item><title>a</title><guid isPermaLink="false">1</guid></item>'
        b'<item><title>b</title><guid>2</guid></item><item><title>c</title><guid isPermaLink="False">3</guid>'
        b'</item></channel></rss>'),
    "atom relative ids and links, enclosure only": (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><link href="/"/><entry><title>a</title>'
        b'<id>rel-id</id><link href="p/1"/></entry><entry><title>b</title><id>tag:x,2020:1</id>'
        b'<link rel="enclosure" href="e.mp3"/></entry></feed>'),
    "rss enclosure only (hrefs feedparser does not join)": (
        b'<rss version="2.0"><channel><title>t</title><item><title>a</title>'
        b'<enclosure url="media/a.mp3" type="audio/mpeg"/></item></channel></rss>'),
    "xml:base (feedparser joins)": (
        b'<feed xmlns="http://www.w3.org/2005/Atom" xml:base="http://other.example/base/"><title>t</title>'
        b'<entry><title>a</title><id>7</id><link href="p/1"/></entry></feed>'),
    "empty href (the base itself)": (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><link href=""/><entry><title>a</title>'
        b'<id>x</id><link href=""/></entry></feed>'),
    "rdf:about ids": (
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">'
        b'<channel rdf:about="x"><title>t</title><link>/</link></channel><item rdf:about="rel/1"><title>a</title>'
        b'<link>rel/1</link></item></rdf:RDF>'),
    "odd URLs": (
        b'<rss version="2.0"><channel><title>t</title><item><title>a</title><link>a&amp;b;c/../d;e</link>'
        b'<guid>g/../h</guid></item><item><title>b</title><link>HTTP://UP.example/A?</link><guid>http:///x//y</guid>'
        b'</item><item><title>c</title><link>javascript:alert(1)</link><guid>mailto:x@y</guid></item></channel></rss>'),
    "an unusable URL": (
        b'<rss version="2.0"><channel><title>t</title><item><title>a</title><link>http://[bad/x</link>'
        b'<enclosure url="http://[bad" type="audio/mpeg"/></item></channel></rss>'),
    "latin-1, ill-formed": (
        b'<?xml version="1.0" encoding="iso-8859-1"?><rss version="2.0"><channel><title>t\xe9</title><item>'
        b'<title>a <b>b</title><link>caf\xe9/x</link><guid>caf\xe9</guid></item></channel>'),
}


def _files() -> list[Path]:
    files = sorted(DATA.glob("ingest_*"))
    return files + (sorted(p for p in REALWORLD.iterdir() if p.is_file()) if REALWORLD.is_dir() else [])


def _outcome(body: bytes, url: str) -> Any:
    try:
        return dataclasses.asdict(parse_mod.parse(body, url=url))
    except Exception as exc:  # noqa: BLE001 - the error itself is the outcome compared
        return (type(exc).__name__, str(exc))


def _both(body: bytes, url: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    """(as parsed, as parsed with feedparser joining every URI against the feed URL itself)."""
    fast = _outcome(body, url)
    with monkeypatch.context() as m:
        m.setattr(parse_mod, "_join_late", lambda *_: False)
        return fast, _outcome(body, url)


@pytest.mark.parametrize("path", _files(), ids=lambda p: p.name)
def test_late_join_matches_feedparser_on_real_feeds(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    body = path.read_bytes()
    for url in URLS:
        fast, ref = _both(body, url, monkeypatch)
        assert fast == ref, url


@pytest.mark.parametrize("name", list(CRAFTED))
def test_late_join_matches_feedparser_on_edge_cases(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for url in URLS:
        fast, ref = _both(CRAFTED[name], url, monkeypatch)
        assert fast == ref, url


def test_late_join_results() -> None:
    feed = parse_mod.parse(CRAFTED["relative links, hub, permalink and plain guids"],
                           url="https://news.example.org/feeds/main.xml")
    assert (feed.site_url, feed.hub_url, feed.self_url) == (
        "https://news.example.org/site", "https://news.example.org/hub", "https://news.example.org/feeds/feed.xml")
    assert [(e.link, e.guid) for e in feed.entries] == [
        ("https://news.example.org/feeds/123", "https://news.example.org/feeds/123"),  # a permalink guid
        ("https://news.example.org/feeds/x?a=1&b=2", "456")]
    bad = parse_mod.parse(CRAFTED["an unusable URL"], url="https://news.example.org/feeds/main.xml")
    assert bad.entries[0].link == ""  # no link, rather than a failed feed


@pytest.mark.parametrize("body,late", [
    (b"<rss><channel><item><link>a</link></item></channel></rss>", True),
    (b'\xef\xbb\xbf\n <feed xmlns="http://www.w3.org/2005/Atom"><link href="a"/></feed>', True),
    (b'<feed xmlns="http://www.w3.org/2005/Atom" xml:base="http://x/"/>', False),
    (b'<rss><channel><item><link>a</link><enclosure URL = "" /></item></channel></rss>', False),
    (b"<feed><link href" + b" " * 100 + b"=''/></feed>", False),
    (b'<rss><channel><item><description>&lt;img alt=""&gt;</description></item></channel></rss>', True),
    (b'<?xml version="1.0" encoding="utf-7"?><rss/>', False),
    ('<?xml version="1.0"?><rss/>'.encode("utf-16"), False),
])
def test_which_documents_are_joined_late(body: bytes, late: bool) -> None:
    assert parse_mod._join_late(body.lower(), "https://n.example/f", "") is late


def test_which_urls_and_charsets_are_joined_late() -> None:
    assert not parse_mod._join_late(b"<rss/>", "", "")
    assert not parse_mod._join_late(b"<rss/>", "https://n.example/caf\u00e9", "")  # an IRI keeps feedparser's join
    assert not parse_mod._join_late(b"<rss/>", "https://n.example/f", "application/xml; charset=UTF-7")


@pytest.mark.parametrize("name,parses", [
    ("atom relative ids and links, enclosure only", 1),  # no isPermaLink anywhere: every id was joined
    ("guids that are not permalinks", 1),  # every <guid> says isPermaLink="false": none was joined
    ("relative links, hub, permalink and plain guids", 2),  # which of them were joined is not visible
    ("rss enclosure only (hrefs feedparser does not join)", 1),
    ("mixed isPermaLink: parsed again with the base", 2),
    ("xml:base (feedparser joins)", 1),
])
def test_feedparser_runs_once_unless_the_ids_are_ambiguous(name: str, parses: int,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = parse_mod._feedparse

    def counting(safe: bytes, base: str, content_type: str) -> Any:
        calls.append(base)
        return real(safe, base, content_type)

    monkeypatch.setattr(parse_mod, "_feedparse", counting)
    parse_mod.parse(CRAFTED[name], url=URLS[0])
    assert len(calls) == parses


def _via_htmlparser(value: str, limit: int) -> str:
    extractor = normalise._TextExtractor(limit)
    extractor.feed(value)
    extractor.close()
    return "".join(extractor.parts)


@pytest.mark.parametrize("html", [
    "<p>a</p><p>b</p>",
    '<P CLASS="x">Truce &amp; talks</P><br/><img src=a.png alt=\'\'>after<hr />',
    '<a href="http://x/?a=1&amp;b=2" title="a>b">link</a> &#8217;quoted&#x2019; &nbsp;&copy &unknown; a & b &',
    "<div\n  id='d'\tdata-x=1/>text</div >tail &amp",
    "plain &lt;tag&gt; text",
    "<h1>T</h1>\r\n<ul><li>one<li>two</ul>",
])
@pytest.mark.parametrize("limit", [4, 1000])
def test_plain_tags_pass_matches_htmlparser(html: str, limit: int) -> None:
    assert normalise._plain_tags_text(html, limit) == _via_htmlparser(html, limit)


@pytest.mark.parametrize("html", [
    "x<script>a<b</script>y", "<p>a<!-- c --></p>", "a < b", "<o:p>x</o:p>", '<a title="<b>">x</a>',
    "<p\xa0class=x>y</p>", "<iframe/>z", "<img alt=>", "</p x=1>", "<!DOCTYPE html><p>x",
])
def test_other_markup_goes_to_htmlparser(html: str) -> None:
    assert normalise._plain_tags_text(html, 1000) is None
    assert normalise.html_to_text(html) == normalise.clean_text(_via_htmlparser(html, 2000), 1000)


@pytest.mark.parametrize("text,clean", [
    ("a \t\u00a0 b", "a b"),
    ("a\u2003b\u200bc\u3000\u202fd", "a b c d"),
    (" a \n\n \r\n b \n", "a\nb"),
    ("x\x00y\x0bz\x7f\x1f", "xyz"),
    ("don\x92t \x85 \x81", "don\u2019t \u2026 \ufffd"),
    ("keep\u2028this\x1cand\x85", "keep\u2028thisand\u2026"),
])
def test_clean_text(text: str, clean: str) -> None:
    assert normalise.clean_text(text, 100) == clean
