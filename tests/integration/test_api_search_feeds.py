"""Full-text search, every /stories filter, and the feeds out (RSS, Atom, JSON Feed), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import feedparser
import pytest

from services.db import stories as repo
from tests.factories import enriched, raw
from tests.integration.test_api import client_for

PUTIN = ("Q7747", "Vladimir Putin", "PERSON")
ZELENSKY = ("Q3874799", "Volodymyr Zelensky", "PERSON")


def ev(n, title, *, text="Body text.", source="Test Wire", feed_id=None, lang="en", topics=None,
       entities=None, state=None, published=None, story_id=None):
    e = enriched(raw(n, title=title, text=text, source=source, feed_id=feed_id, published=published),
                 topics=topics, entities=entities, state=state, story_id=story_id)
    e.lang = lang
    return e


@pytest.fixture
async def api(store_url, make_settings):
    settings = make_settings(database_url=store_url)
    async with client_for(settings) as (app, client):
        async with app.state.ctx.sessions() as s, s.begin():
            for e in [
                ev(1, "Truce agreed in Gaza after Élysée talks", text="Mediators in Cairo confirmed the truce.",
                   source="Reuters", feed_id=1, topics={"ceasefire": 0.93}, entities=[PUTIN], state="agreed",
                   published=datetime(2026, 3, 1, 12, tzinfo=UTC)),
                ev(2, "Sanctions widened against oil exporters", source="AP", feed_id=2,
                   topics={"sanctions": 0.6}, published=datetime(2026, 3, 2, 12, tzinfo=UTC)),
                ev(3, "Cessez-le-feu violé dans le Donbass", source="AFP", feed_id=3, lang="fr",
                   topics={"ceasefire": 0.55}, entities=[ZELENSKY], state="violated",
                   published=datetime(2026, 3, 3, 12, tzinfo=UTC)),
                ev(4, "Weather: storms in the north", source="AP", feed_id=2,
                   published=datetime(2026, 3, 4, 12, tzinfo=UTC)),
            ]:
                await repo.upsert_enriched(s, event=e)
            # A second article joins story 1: its title becomes searchable for the story.
            await repo.upsert_enriched(s, event=ev(5, "Hostage exchange scheduled for Sunday", source="AP",
                                                   feed_id=2, topics={"ceasefire": 0.8},
                                                   story_id=raw(1).id,
                                                   published=datetime(2026, 3, 1, 13, tzinfo=UTC)))
        yield client


async def headlines(api, **params):
    r = await api.get("/stories", params=params)
    assert r.status_code == 200, r.text
    return [s["headline"] for s in r.json()["items"]]


SEARCHES = [
    ("gaza", ["Truce agreed in Gaza after Élysée talks"]),
    ("GAZA truce", ["Truce agreed in Gaza after Élysée talks"]),
    ("cairo", ["Truce agreed in Gaza after Élysée talks"]),            # summary
    ("hostage", ["Truce agreed in Gaza after Élysée talks"]),          # title of a later article
    ("donbass", ["Cessez-le-feu violé dans le Donbass"]),
    ("gaza sanctions", []),                                            # every word must match
    ("zanzibar", []),
    ("truce:gaza", ["Truce agreed in Gaza after Élysée talks"]),   # punctuation separates words
    ('"gaza" OR "weather"', []),                                   # OR is a word, not an operator
    ("NOT storms", []),
]


async def test_full_text_search(api):
    for q, expected in SEARCHES:
        assert await headlines(api, q=q) == expected, q


async def test_search_combines_with_filters_and_paging(api):
    assert await headlines(api, q="truce", topic="ceasefire", lang="en") == ["Truce agreed in Gaza after Élysée talks"]
    assert await headlines(api, q="truce", lang="fr") == []
    r = (await api.get("/stories", params={"q": "in", "limit": 1})).json()
    page2 = (await api.get("/stories", params={"q": "in", "limit": 1, "cursor": r["next_cursor"]})).json()
    assert {s["id"] for s in r["items"]}.isdisjoint(s["id"] for s in page2["items"])


ODD_QUERIES = [
    '"', "'", '" OR 1=1 --', "'; DROP TABLE stories; --", "NEAR(gaza truce)", "gaza*", "*", "-gaza",
    "title:gaza", "a AND", "OR", "NOT gaza", "(((", "^gaza", "gaza | sanctions", "!!!", "\\", "%_%",
    "ga:*", "x" * 500, "停火 协议", "وقف إطلاق النار", "🕊️ peace", "\u200b", " ", " ".join(["w"] * 200),
]


async def test_search_never_fails_on_operators_or_unicode(api):
    for q in ODD_QUERIES:
        for path in ("/stories", "/stories.rss"):
            r = await api.get(path, params={"q": q})
            assert r.status_code == 200, (q, r.text)


async def test_too_long_q_is_422(api):
    r = await api.get("/stories", params={"q": "x" * 501})
    assert r.status_code == 422 and "q" in r.json()["detail"][0]["loc"]


FILTERS = [
    ({"source": "Reuters"}, ["Truce agreed in Gaza after Élysée talks"]),
    ({"source": "AP"}, ["Weather: storms in the north", "Sanctions widened against oil exporters",
                        "Truce agreed in Gaza after Élysée talks"]),  # story 1 has an AP article too
    ({"source": "Nobody"}, []),
    ({"feed": 3}, ["Cessez-le-feu violé dans le Donbass"]),
    ({"feed": 1}, ["Truce agreed in Gaza after Élysée talks"]),
    ({"feed": 99}, []),
    ({"lang": "fr"}, ["Cessez-le-feu violé dans le Donbass"]),
    ({"lang": "de"}, []),
    ({"since": "2026-03-03T12:00:00Z"}, ["Weather: storms in the north", "Cessez-le-feu violé dans le Donbass"]),
    ({"until": "2026-03-02T12:00:00Z"}, ["Truce agreed in Gaza after Élysée talks"]),
    ({"since": "2026-03-02T00:00:00+02:00", "until": "2026-03-03T00:00:00"},
     ["Sanctions widened against oil exporters"]),
    ({"since": "2026-03-02"}, ["Weather: storms in the north", "Cessez-le-feu violé dans le Donbass",
                               "Sanctions widened against oil exporters"]),
    ({"min_confidence": 0.9}, ["Truce agreed in Gaza after Élysée talks"]),
    ({"min_confidence": 0.58}, ["Sanctions widened against oil exporters", "Truce agreed in Gaza after Élysée talks"]),
    ({"topic": "ceasefire", "min_confidence": 0.6}, ["Truce agreed in Gaza after Élysée talks"]),
    ({"state": "violated"}, ["Cessez-le-feu violé dans le Donbass"]),
    ({"state": ["violated", "agreed"]}, ["Cessez-le-feu violé dans le Donbass",
                                         "Truce agreed in Gaza after Élysée talks"]),
    ({"state": "collapsed"}, []),
    ({"entity": "Q3874799"}, ["Cessez-le-feu violé dans le Donbass"]),
    ({"entity": ["Q7747", "Q3874799"]}, []),
    ({"topic": ["ceasefire", "sanctions"]}, []),
    ({"topic": ["ceasefire", "ceasefire"]}, ["Cessez-le-feu violé dans le Donbass",
                                             "Truce agreed in Gaza after Élysée talks"]),
]


async def test_each_filter(api):
    for params, expected in FILTERS:
        assert await headlines(api, **params) == expected, params


# --- feeds out ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "ctype"), [
    ("/stories.rss", "application/rss+xml"),
    ("/stories.atom", "application/atom+xml"),
])
async def test_xml_feeds_parse_with_feedparser(api, path, ctype):
    r = await api.get(path, params={"topic": "ceasefire", "token": "ignored-when-open"})
    assert r.status_code == 200 and r.headers["content-type"].startswith(ctype)
    d = feedparser.parse(r.content)
    assert not d.bozo, d.bozo_exception
    assert "ceasefire" in d.feed.title
    assert [e.title for e in d.entries] == ["Cessez-le-feu violé dans le Donbass",
                                            "Truce agreed in Gaza after Élysée talks"]
    truce = d.entries[1]
    story_id = raw(1).id
    assert truce.link == "https://news.example.org/1"  # the original article
    hrefs = {lnk.href for lnk in truce.get("links", [])} | {truce.id}
    assert f"http://wirewatch.test/stories/{story_id}" in hrefs
    assert [t.term for t in truce.tags] == ["ceasefire"]
    assert truce.published_parsed[:4] == (2026, 3, 1, 12)
    self_links = [lnk.href for lnk in d.feed.links if lnk.rel == "self"]
    assert self_links and "topic=ceasefire" in self_links[0] and "token" not in self_links[0]
    again = await api.get(path, params={"topic": "ceasefire"}, headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304


async def test_json_feed_follows_spec(api):
    r = await api.get("/stories.json", params={"entity": "vladimir putin"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/feed+json")
    feed = r.json()
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["title"] and feed["feed_url"].startswith("http://wirewatch.test/stories.json?entity=")
    assert feed["home_page_url"] == "http://wirewatch.test/stories"
    (item,) = feed["items"]
    assert item["id"] == raw(1).id and item["url"] == f"http://wirewatch.test/stories/{raw(1).id}"
    assert item["external_url"] == "https://news.example.org/1"
    assert item["title"] == "Truce agreed in Gaza after Élysée talks"
    assert item["content_text"] and item["tags"] == ["ceasefire"]
    assert item["date_published"] == "2026-03-01T12:00:00Z"
    assert {a["name"] for a in item["authors"]} == {"Reuters", "AP"}
    assert "next_url" not in feed


async def test_feeds_page_with_next_url(api):
    feed = (await api.get("/stories.json", params={"limit": 2})).json()
    assert len(feed["items"]) == 2 and "cursor=" in feed["next_url"]
    nxt = (await api.get(feed["next_url"].replace("http://wirewatch.test", ""))).json()
    assert len(nxt["items"]) == 2 and "next_url" not in nxt
    assert {i["id"] for i in feed["items"]}.isdisjoint(i["id"] for i in nxt["items"])


async def test_empty_and_invalid_feed_queries(api):
    for path in ("/stories.rss", "/stories.atom", "/stories.json"):
        r = await api.get(path, params={"q": "zanzibar"})
        assert r.status_code == 200
        if path.endswith(".json"):
            assert r.json()["items"] == []
        else:
            d = feedparser.parse(r.content)
            assert not d.bozo and d.entries == []
        assert (await api.get(path, params={"topic": "golf"})).status_code == 422
        assert (await api.get(path, params={"limit": 100000})).status_code == 422


async def test_control_characters_do_not_break_xml(store_url, make_settings):
    async with client_for(make_settings(database_url=store_url)) as (app, client):
        async with app.state.ctx.sessions() as s, s.begin():
            await repo.upsert_enriched(s, event=ev(9, "Bad\x0bbytes & <tags> \"quoted\"", text="a\x01b",
                                                   topics={"ceasefire": 0.9}))
        for path in ("/stories.rss", "/stories.atom"):
            d = feedparser.parse((await client.get(path)).content)
            assert not d.bozo and d.entries[0].title == 'Badbytes & <tags> "quoted"'


async def test_patch_feed_refuses_nulls_with_a_422_not_a_500(tmp_path, make_settings) -> None:
    """Schemathesis found PATCH /feeds/{id} {"enabled": null} answered 500; every 422 has the declared shape."""
    import httpx

    from api.http.app import create_app

    token = "t" * 20
    settings = make_settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'w.db'}", admin_token=token,
                             feed_allowed_hosts="")
    app = create_app(settings)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t",
                               headers={"authorization": f"Bearer {token}"})
    async with app.router.lifespan_context(app), client as c:
            from services.clock import utcnow
            from services.db import feeds as repo

            async with app.state.ctx.sessions() as s:
                feed = await repo.add_feed(s, url="https://a.example.org/rss", title="A", tags=[], now=utcnow())
            for body in ({"enabled": None}, {"title": None}, {"tags": None}):
                r = await c.patch(f"/feeds/{feed.id}", json=body)
                assert r.status_code == 422 and isinstance(r.json()["detail"], list), r.text
                assert "cannot be null" in r.json()["detail"][0]["msg"]
            ok = await c.patch(f"/feeds/{feed.id}", json={"interval_override_s": None, "enabled": False})
            assert ok.status_code == 200 and ok.json()["enabled"] is False
            refused = await c.post("/feeds", json={"url": "http://127.0.0.1/x"})
            assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", "url"]
            assert "WIREWATCH_FEED_ALLOWED_HOSTS" in refused.json()["detail"][0]["msg"]
