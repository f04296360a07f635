"""Every feed out — stories, the tracker's, the digests — is valid for whatever the store holds, on both stores.

The content is what real feeds bring: links with Cyrillic paths and Arabic query strings, an IDN host,
titles in several scripts with ampersands and angle brackets, a control character. The checks are the
W3C Feed Validator's rules and the JSON Feed 1.1 schema (tests/feedcheck.py); with
``WIREWATCH_W3C_FEEDVALIDATOR`` set, the real W3C validator runs on the same bodies too.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from services.db import stories as story_repo
from services.db.models import Ceasefire, CeasefireChange, Story
from tests import feedcheck
from tests.factories import enriched, raw
from tests.integration.test_api import client_for

LINKS = ["https://www.example.org/ukrainian/перемир'я-на-енергетику?utm=головна",
         "https://news.example.org/ar/وقف-إطلاق-النار?q=غزة&x=1",
         "https://bücher.example/path with space",
         "https://news.example.org/already%20escaped?a=b"]
TITLES = ["Перемир'я на енергетику: Київ & Москва погодилися", "وقف إطلاق النار في غزة <عاجل>",
          "Ceasefire \x0b holds in the north", "US & Qatar broker a truce"]


def _yesterday_noon() -> datetime:
    return datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=1)


@pytest.fixture
async def api(store_url, make_settings):
    settings = make_settings(database_url=store_url, digest_feed_periods=48)  # back to yesterday noon
    async with client_for(settings) as (app, client):
        sessions = app.state.ctx.sessions
        async with sessions() as s, s.begin():
            for i, (link, title) in enumerate(zip(LINKS, TITLES, strict=True)):
                a = raw(100 + i, title=title, text=f"{title}. Second sentence.").model_copy(update={"url": link,
                                                                                                  "link": link})
                await story_repo.upsert_enriched(s, event=enriched(a, topics={"ceasefire": 0.9}, state="agreed"))
        at = _yesterday_noon()
        async with sessions() as s, s.begin():
            await s.execute(update(Story).values(first_seen=at))
            s.add(Ceasefire(id="cf_test1", title="Russia–Ukraine: pause on strikes on energy infrastructure",
                            scope="energy_infrastructure", state="agreed",
                            parties=[{"id": "Q159", "name": "Russia"}, {"id": "Q212", "name": "Ukraine"}],
                            first_reported=at, last_reported=at, state_changed_at=at))
            await s.flush()
            s.add(CeasefireChange(ceasefire_id="cf_test1", seq=1, key="agreed:1", state="agreed", at=at,
                                  evidence="Both sides agreed to a 30-day pause on strikes on energy sites & ports.",
                                  recorded_at=at + timedelta(minutes=5)))
        yield client


FEEDS = {".rss": feedcheck.check_rss, ".atom": feedcheck.check_atom, ".json": feedcheck.check_json_feed}


@pytest.mark.parametrize("path", ["/stories", "/ceasefires", "/digests/daily", "/digests/hourly"])
@pytest.mark.parametrize("suffix", list(FEEDS))
async def test_feeds_are_valid_with_real_world_content(api, path, suffix, tmp_path):
    r = await api.get(path + suffix)
    assert r.status_code == 200, r.text[:300]
    entries = FEEDS[suffix](r.content)
    expected = {"/stories": 4, "/ceasefires": 1, "/digests/daily": 1, "/digests/hourly": 1}[path]
    assert entries == expected, (path, suffix, entries)
    if (errors := feedcheck.w3c_errors(r.content, suffix, tmp_path)) is not None and suffix != ".json":
        assert errors == [], errors


async def test_non_ascii_links_are_percent_encoded_not_mangled(api):
    body = (await api.get("/stories.rss")).text
    assert "https://www.example.org/ukrainian/%D0%BF%D0%B5%D1%80%D0%B5%D0%BC%D0%B8%D1%80'%D1%8F" in body
    assert "https://xn--bcher-kva.example/path%20with%20space" in body
    assert "https://news.example.org/already%20escaped?a=b" in body  # escapes kept, not doubled


async def test_a_daily_digest_feed_has_the_days_stories_by_topic_and_the_state_changes(api):
    feed = (await api.get("/digests/daily.json", params={"topic": "ceasefire"})).json()
    (item,) = feed["items"]
    day = _yesterday_noon().date().isoformat()
    assert item["title"] == f"Daily digest, {day}: 4 new stories, 1 ceasefire state change"
    assert item["_wirewatch"] == {"period": "daily", "start": f"{day}T00:00:00+00:00",
                                  "end": f"{(_yesterday_noon() + timedelta(days=1)).date()}T00:00:00+00:00",
                                  "story_count": 4, "change_count": 1}
    html = item["content_html"]
    assert html.index("<h3>ceasefire</h3>") < html.index("US &amp; Qatar") < html.index("<h3>Ceasefires</h3>")
    assert "Russia–Ukraine: pause on strikes on energy infrastructure</a>: agreed. Both sides agreed" in html
    other = (await api.get("/digests/daily.json", params={"topic": "sanctions"})).json()
    assert other["items"] == []  # no sanctions stories, and state changes belong to the ceasefire topic
    party = (await api.get("/digests/daily.json", params={"entity": "Q159"})).json()
    assert [i["_wirewatch"]["change_count"] for i in party["items"]] == [1]
    bad = await api.get("/digests/daily.rss", params={"topic": "weather"})
    assert bad.status_code == 422 and "allowed: ceasefire" in bad.text
    assert (await api.get("/digests/weekly.rss")).status_code == 404
