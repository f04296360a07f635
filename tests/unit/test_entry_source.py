"""An aggregator's item names its outlet (RSS/Atom <source>): the article's source is that outlet."""

from __future__ import annotations

from datetime import UTC, datetime

from ingest.normalise import normalise_feed
from ingest.parse import parse

RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Aggregator</title>
<item><title>Truce agreed</title><link>https://a.example/1</link><source url="https://bt.example/rss">Bosphorus Today</source></item>
<item><title>Truce holds</title><link>https://a.example/2</link></item>
</channel></rss>"""


def test_item_source_names_the_outlet_else_the_feed() -> None:
    feed = parse(RSS, url="https://agg.example/rss", content_type="application/rss+xml")
    arts = normalise_feed(feed, feed_url="https://agg.example/rss", feed_id=1, now=datetime(2026, 1, 1, tzinfo=UTC))
    assert [a.source for a in arts] == ["Bosphorus Today", "Aggregator"]


def test_demo_feed_carries_four_reports_of_the_seed_call_from_four_outlets() -> None:
    from pathlib import Path

    body = (Path(__file__).resolve().parents[2] / "deploy" / "demo" / "demo.rss").read_bytes()
    feed = parse(body, url="http://127.0.0.1:8765/demo.rss", content_type="application/rss+xml")
    arts = normalise_feed(feed, feed_url="http://127.0.0.1:8765/demo.rss", feed_id=1,
                          now=datetime(2026, 1, 1, tzinfo=UTC))
    call = [a for a in arts if "Putin" in a.title or "Kremlin" in a.title]
    assert len({a.source for a in call}) == 4


def test_feed_titles_with_escaped_entities_read_as_text() -> None:
    body = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>Blog &amp;#8211; InfluxData</title>'
            b'<item><title>x</title><link>https://a.example/1</link></item></channel></rss>')
    assert parse(body, url="https://a.example/rss", content_type="application/rss+xml").title == "Blog – InfluxData"
