"""Webhook and feed targets on loopback, private, link-local or metadata addresses are refused unless
allowlisted: at registration (API) and again at send time (dispatcher, fetcher, every redirect hop)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from sqlalchemy import select

from api.webhooks.dispatcher import Sender
from api.webhooks.signing import new_secret
from ingest.errors import Blocked, DNSError, FetchError
from ingest.fetch import fetch, make_client
from services.db import webhooks as hooks_repo
from services.db.engine import make_engine, make_sessions
from services.db.migrate import upgrade_async
from services.db.models import Delivery, Feed
from tests.feedserver import FeedServer, rss
from tests.receiver import Receiver
from tests.security.conftest import ADMIN_TOKEN

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}

INTERNAL = [
    "http://127.0.0.1/hook",
    "http://127.1.2.3:8080/hook",
    "http://localhost/hook",
    "http://LOCALHOST./hook",            # trailing dot (fixed in netguard.check_url_static)
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://0.0.0.0/hook",
    "http://10.0.0.5/hook",
    "http://172.16.3.4/hook",
    "http://192.168.1.1/hook",
    "http://100.64.0.1/hook",            # carrier-grade NAT
    "http://169.254.169.254/latest/meta-data/",   # cloud metadata (link-local)
    "http://[fd00:ec2::254]/latest/meta-data/",   # AWS IMDS over IPv6 (unique local)
    "http://[fe80::1]/hook",
    "http://2130706433/hook",            # 127.0.0.1 as one decimal number
    "http://0x7f.0.0.1/hook",            # hex octet
    "http://0177.0.0.1/hook",            # octal octet
    "http://127.1/hook",                 # short form
]
# Spellings the HTTP API normalises (pydantic's WHATWG URL parser) but an OPML file carries verbatim.
OBFUSCATED = ["http://2130706433/hook", "http://0x7f.0.0.1/hook", "http://0177.0.0.1/hook", "http://127.1/hook",
              "http://LOCALHOST./hook"]
NOT_HTTP = ["file:///etc/passwd", "ftp://10.0.0.1/x", "gopher://127.0.0.1:25/x", "javascript:alert(1)"]



@pytest.mark.parametrize("url", INTERNAL + NOT_HTTP)
async def test_api_refuses_internal_webhook_targets(api_for, url):
    async with api_for(webhook_allowed_hosts=[], feed_allowed_hosts=[]) as (app, client):
        r = await client.post("/webhooks", json={"url": url}, headers=ADMIN)
        assert r.status_code == 422, f"{url} -> {r.status_code} {r.text[:200]}"
        r = await client.post("/feeds", json={"url": url}, headers=ADMIN)
        assert r.status_code == 422, f"feed {url} -> {r.status_code} {r.text[:200]}"
        # PATCH cannot move an existing (public) subscription onto an internal target either
        ok = await client.post("/webhooks", json={"url": "https://hooks.example.org/x"}, headers=ADMIN)
        assert ok.status_code == 201, ok.text
        r = await client.patch(f"/webhooks/{ok.json()['id']}", json={"url": url}, headers=ADMIN)
        assert r.status_code == 422, f"patch {url} -> {r.status_code} {r.text[:200]}"
        assert (await client.get("/webhooks", headers=ADMIN)).json()[0]["url"] == "https://hooks.example.org/x"


@pytest.mark.parametrize("url", INTERNAL)
async def test_opml_import_drops_internal_feeds(api_for, url):
    opml = (f'<?xml version="1.0"?><opml version="2.0"><head/><body><outline type="rss" text="x" xmlUrl="{url}"/>'
            '<outline type="rss" text="ok" xmlUrl="https://news.example.org/rss"/></body></opml>')
    async with api_for(feed_allowed_hosts=[]) as (app, client):
        r = await client.post("/feeds/import", content=opml.encode(), headers=ADMIN)
        assert r.status_code == 200, r.text
        async with app.state.ctx.sessions() as s:
            urls = set((await s.scalars(select(Feed.url))).all())
        assert urls == {"https://news.example.org/rss"}, urls


@pytest.mark.parametrize("url", OBFUSCATED)
async def test_fetcher_refuses_obfuscated_loopback(make_settings, url):
    """Whatever got past registration, the send-time check (after DNS / inet_aton) refuses it."""
    settings = make_settings(feed_allowed_hosts=[])
    client = make_client(settings)
    try:
        with pytest.raises((Blocked, DNSError)):  # refused, or (offline "localhost.") never resolved
            await fetch(client, url, settings)
    finally:
        await client.aclose()


async def test_allowlisted_loopback_is_accepted(api_for):
    async with api_for(webhook_allowed_hosts=["127.0.0.1"]) as (app, client):
        r = await client.post("/webhooks", json={"url": "http://127.0.0.1:9/hook"}, headers=ADMIN)
        assert r.status_code == 201, r.text
        r = await client.post("/webhooks", json={"url": "http://10.0.0.5/hook"}, headers=ADMIN)
        assert r.status_code == 422  # the allowlist is exact, not "anything non-public"


async def test_dispatcher_refuses_at_send_time(make_settings, tmp_path):
    """A subscription registered while loopback was allowlisted is not sent once the allowlist is gone."""
    async with Receiver() as rx:
        settings = make_settings(webhook_allowed_hosts=[], database_url=f"sqlite+aiosqlite:///{tmp_path / 's.db'}")
        await upgrade_async(settings)
        engine = make_engine(settings)
        sessions = make_sessions(engine)
        try:
            async with sessions() as s, s.begin():
                hook = await hooks_repo.create_webhook(s, url=rx.url(), filters={}, secret=new_secret())
                d = await hooks_repo.enqueue(s, webhook_id=hook.id, story_id="st1", event_type="story.created",
                                             version=1, payload={"type": "story.created", "data": {"id": "st1"}})
                assert d is not None
            async with sessions() as s:
                delivery = await s.get(Delivery, d.id)
            async with httpx.AsyncClient(follow_redirects=False) as client:
                outcome = await Sender(settings, sessions, client).send_one(delivery)
            assert outcome in ("retry", "dead")
            async with sessions() as s:
                row = await s.get(Delivery, d.id)
            assert row is not None and "blocked" in (row.last_error or ""), row.last_error
            assert rx.requests == []
        finally:
            await engine.dispose()


class _Redirector:
    """127.0.0.1 server answering every GET with a 302 to ``location`` (set per case)."""

    def __init__(self) -> None:
        outer = self
        self.location = ""
        self.hits = 0

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server API
                outer.hits += 1
                self.send_response(302)
                self.send_header("Location", outer.location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/feed.xml"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


async def test_fetcher_refuses_internal_targets(make_settings):
    """Nothing allowlisted: a loopback feed is refused before any connection is made."""
    with FeedServer() as srv:
        srv.routes["/feed.xml"] = (200, "application/rss+xml", rss("x", []))
        settings = make_settings(feed_allowed_hosts=[])
        client = make_client(settings)
        try:
            with pytest.raises(Blocked):
                await fetch(client, srv.url("/feed.xml"), settings)
        finally:
            await client.aclose()
        assert srv.hits.get("/feed.xml", 0) == 0


@pytest.mark.parametrize("location", [
    "http://169.254.169.254/latest/meta-data/", "http://10.0.0.5/feed.xml", "http://[::1]/feed.xml",
    "http://127.0.0.2/feed.xml", "http://0x7f.0.0.2/feed.xml", "file:///etc/passwd", "gopher://127.0.0.1:25/",
])
async def test_fetcher_checks_every_redirect_hop(make_settings, location):
    """Only 127.0.0.1 is allowlisted; a redirect from it to anything internal is refused, not followed."""
    redirector = _Redirector()
    redirector.location = location
    settings = make_settings(feed_allowed_hosts=["127.0.0.1"], fetch_total_timeout_s=5, fetch_connect_timeout_s=2)
    client = make_client(settings)
    try:
        with pytest.raises(FetchError) as info:
            await fetch(client, redirector.url, settings)
        assert info.value.error_class in ("blocked", "redirect"), (info.value.error_class, str(info.value))
        assert info.value.error_class != "timeout"  # refused before connecting, not after trying
        assert redirector.hits == 1
    finally:
        await client.aclose()
        redirector.close()
