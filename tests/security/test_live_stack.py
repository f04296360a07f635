"""Hostile input against a live stack, and secrets kept out of logs and API responses.

One stack (every service its own process, PostgreSQL store with a password in its URL) is fed the farm's
generated attacks, XXE variants that point at a canary file, and every file of ../shared/realworld-feeds.
Then: no service crashed, memory stayed bounded (RSS per service sampled throughout with psutil), every
bad feed shows its error class in GET /feeds, the canary never surfaces anywhere, and the admin token, the
webhook secrets (original and rotated) and the DB password appear in no log line and no API response
other than the one-time create/rotate answers.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
import pytest_asyncio
from sqlalchemy import update

from ingest.errors import ERROR_CLASSES
from services.db.engine import make_engine
from services.db.models import Feed
from tests.chaos.stack import Stack, StoreView, Subscriber, poll
from tests.conftest import SHARED, _create_pg_database, free_port
from tests.farm import Farm
from tests.feedserver import FeedServer, rss

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.postgres, pytest.mark.timeout(300)]

REALWORLD = SHARED / "realworld-feeds"
DB_PASSWORD = "Pg-Secret-" + uuid.uuid4().hex[:12]
ADMIN_TOKEN = "live-admin-" + uuid.uuid4().hex
# hostile farm path -> error classes it may legitimately end as
HOSTILE: dict[str, set[str | None]] = {
    "/hostile/billion-laughs": {"parse"},
    "/hostile/quadratic": {"parse", "too_large"},
    "/hostile/xxe": {"parse"},
    "/hostile/html-tail": {None},  # parses: one item, in milliseconds (HTMLParser alone took minutes)
    "/hostile/gzip-bomb": {"too_large"},
    "/hostile/deflate-bomb": {"too_large"},
    "/hostile/html": {"parse"},
    "/hostile/junk": {"parse"},
    "/hostile/empty": {"empty"},
    "/hostile/huge-length": {"too_large"},
    "/hostile/endless": {"too_large", "timeout"},
    "/hostile/slow": {"timeout"},
    "/hostile/path-body": {"parse"},
    "/loop/a": {"redirect"},
    "/chain/9": {"redirect"},
    "/status/503": {"http"},
    "/status/404": {"http"},
    "/status/410": {"http"},
}
# Retained growth after the attacks; the transient peak is bounded by design by the decompression limit:
# each concurrent bomb may buffer fetch_max_decompressed_bytes (50 MB by default) before it is refused.
RSS_RETAINED_LIMIT_MB = 150.0
BOMBS_IN_FLIGHT = 3  # gzip-bomb, deflate-bomb, endless
# Measured: ingest peaks at +325..+445 MB over baseline with the 50 MB default (one 50 MB bytes object per
# zlib.decompress call, plus allocator growth across repeated bomb fetches); reported to the ingest owner.
PEAK_FACTOR = 3


@dataclass
class Live:
    stack: Stack
    farm: Farm
    canary: str
    canary_server: FeedServer
    sub: Subscriber
    store: StoreView
    secrets: list[str] = field(default_factory=list)
    responses: list[tuple[str, str]] = field(default_factory=list)  # (what, body) of every API answer read
    rss_before: dict[str, float] = field(default_factory=dict)
    rss_peak: dict[str, float] = field(default_factory=dict)
    rss_after: dict[str, float] = field(default_factory=dict)
    hostile_urls: dict[str, set[str | None]] = field(default_factory=dict)
    realworld_urls: list[str] = field(default_factory=list)
    feeds: list[dict[str, Any]] = field(default_factory=list)


def xxe_feeds(canary_path: Path, ssrf_url: str) -> dict[str, bytes]:
    """XXE variants reading ``canary_path`` (general entity, parameter entity, XInclude, external DTD)."""
    file_url = canary_path.as_uri()
    item = '<item><title>{t}</title><link>https://news.example.org/xxe/{n}</link><description>{d}</description></item>'
    head = '<?xml version="1.0"?>\n'
    chan = '<rss version="2.0"><channel><title>xxe</title>{items}</channel></rss>'
    return {
        "/xxe-general.rss": (head + f'<!DOCTYPE rss [<!ENTITY c SYSTEM "{file_url}">]>'
                             + chan.format(items=item.format(t="Ceasefire &c;", n=1, d="&c;"))).encode(),
        "/xxe-param.rss": (head + f'<!DOCTYPE rss [<!ENTITY % p SYSTEM "{file_url}"> %p;]>'
                           + chan.format(items=item.format(t="Ceasefire p", n=2, d="x"))).encode(),
        "/xxe-http.rss": (head + f'<!DOCTYPE rss [<!ENTITY h SYSTEM "{ssrf_url}">]>'
                          + chan.format(items=item.format(t="Ceasefire &h;", n=3, d="&h;"))).encode(),
        "/xxe-dtd.rss": (head + f'<!DOCTYPE rss SYSTEM "{ssrf_url}">'
                         + chan.format(items=item.format(t="Ceasefire dtd", n=4, d="x"))).encode(),
        "/xxe-xinclude.rss": (head + '<rss version="2.0" xmlns:xi="http://www.w3.org/2001/XInclude"><channel>'
                              '<title>xi</title><item><title>Ceasefire xinclude</title>'
                              '<link>https://news.example.org/xxe/5</link><description>'
                              f'<xi:include href="{file_url}" parse="text"/></description></item>'
                              '</channel></rss>').encode(),
    }


async def _sample_rss(live: Live, stop: asyncio.Event) -> None:
    while not stop.is_set():
        for k, mb in live.stack.rss_mb().items():
            live.rss_peak[k] = max(live.rss_peak.get(k, 0.0), mb)
        await asyncio.sleep(0.2)


@pytest_asyncio.fixture(scope="module")
async def live(tmp_path_factory: pytest.TempPathFactory, kafka_bootstrap: str, pg_server: str) -> AsyncIterator[Live]:
    tmp = tmp_path_factory.mktemp("live")
    canary = "WIREWATCH-CANARY-" + uuid.uuid4().hex
    canary_path = tmp / "canary.txt"
    canary_path.write_text(canary + "\n")
    db = await _create_pg_database(pg_server)
    db_with_password = db.replace("postgresql+asyncpg://postgres@", f"postgresql://postgres:{DB_PASSWORD}@")
    assert DB_PASSWORD in db_with_password
    suffix = uuid.uuid4().hex[:8]
    topics = {"topic_raw": f"s{suffix}.raw", "topic_enriched": f"s{suffix}.enriched",
              "topic_feeds": f"s{suffix}.feeds", "group_enrich": f"s{suffix}-e", "group_sink": f"s{suffix}-s",
              "group_webhooks": f"s{suffix}-w", "group_ingest": f"s{suffix}-i"}
    static = REALWORLD if REALWORLD.is_dir() else None
    farm = Farm(feeds=4, items=5, static=static)
    farm.start_thread()
    canary_server = FeedServer()
    canary_server.__enter__()
    canary_server.routes["/ssrf"] = (200, "text/plain", canary.encode())
    for path, body in xxe_feeds(canary_path, canary_server.url("/ssrf")).items():
        canary_server.routes[path] = (200, "application/rss+xml", body)
    canary_server.routes["/ok.rss"] = (200, "application/rss+xml", rss("ok", [
        {"title": "Ceasefire holds in the north", "link": "https://news.example.org/ok/1",
         "description": "Both sides said the truce held overnight.", "pubDate": "Tue, 18 Mar 2025 18:00:00 GMT"}]))
    stack = Stack(workdir=tmp, bootstrap=kafka_bootstrap, database_url=db_with_password, topics=topics,
                  admin_token=ADMIN_TOKEN, env_extra={"WIREWATCH_LOG_LEVEL": "INFO",
                                                       "WIREWATCH_ENRICH_NER_LANGUAGES": ""})  # English feeds
    hostile = {farm.base + p: classes for p, classes in HOSTILE.items()}
    # entity-declaring prologs are refused; a bare external DTD is stripped and XInclude is never processed,
    # so those two may parse (the canary test below proves nothing was read)
    hostile.update({canary_server.url(p): {"parse"} if "dtd" not in p and "xinclude" not in p else {"parse", None}
                    for p in xxe_feeds(canary_path, "")})
    hostile[f"http://127.0.0.1:{free_port()}/nothing"] = {"tcp"}
    realworld = ([f"{farm.base}/static/{f.name}" for f in sorted(REALWORLD.iterdir())
                  if f.is_file() and f.suffix != ".tsv"] if static else [])
    normal = [farm.url(i) for i in range(4)] + [canary_server.url("/ok.rss")]
    await stack.prepare(normal + list(hostile) + realworld)
    engine = make_engine(stack.settings())
    try:
        async with engine.begin() as conn:  # hostile and real-world feeds start disabled: baseline first
            await conn.execute(update(Feed).where(Feed.url.in_(list(hostile) + realworld)).values(enabled=False))
    finally:
        await engine.dispose()
    sub = Subscriber()
    await sub.start()
    store = StoreView(db)
    live = Live(stack, farm, canary, canary_server, sub, store, hostile_urls=hostile, realworld_urls=realworld)
    stop = asyncio.Event()
    try:
        stack.start_all()
        await stack.wait_api()
        await _drive(live, stop)
        yield live
    except BaseException:
        print(stack.tail(10000))
        raise
    finally:
        stop.set()
        stack.stop_all()
        await sub.stop()
        await store.close()
        canary_server.__exit__()
        farm.stop_thread()


async def _drive(live: Live, stop: asyncio.Event) -> None:
    stack = live.stack
    t0 = time.monotonic()

    def mark(what: str) -> None:
        print(f"[live stack {time.monotonic() - t0:5.1f}s] {what}")

    async with httpx.AsyncClient(base_url=stack.api, timeout=15) as api:
        async def get(path: str, **kw: Any) -> httpx.Response:
            r = await api.get(path, **kw)
            live.responses.append((f"GET {path}", r.text))
            return r

        r = await api.post("/webhooks", json={"url": live.sub.url()}, headers=stack.admin())
        assert r.status_code == 201, r.text
        hook = r.json()
        live.secrets.append(hook["secret"])
        r = await api.post(f"/webhooks/{hook['id']}/rotate-secret", headers=stack.admin())
        assert r.status_code == 200, r.text
        live.secrets.append(r.json()["secret"])
        assert live.secrets[0] != live.secrets[1] and all(s.startswith("whsec_") for s in live.secrets)

        # baseline: the normal feeds flow through to the store and to the subscriber
        async def stored() -> int | None:
            rows = await live.store.rows("SELECT count(*) FROM articles")
            return rows[0][0] if rows and rows[0][0] >= 21 else None

        mark("subscribed")
        await poll(stored, timeout=120, what="the normal feeds' 21 articles stored")
        mark("baseline articles stored")
        await poll(lambda: _ready(len(live.sub.hits) > 0), timeout=60, what="a first webhook delivery")
        await asyncio.sleep(2)  # let allocators settle after the first burst before the baseline sample
        live.rss_before = stack.rss_mb()
        sampler = asyncio.create_task(_sample_rss(live, stop))

        # now the hostile and real-world feeds, enabled through the admin API
        feeds = (await get("/feeds", params={"limit": 5000})).json()
        for f in feeds:
            if not f["enabled"]:
                r = await api.patch(f"/feeds/{f['id']}", json={"enabled": True}, headers=stack.admin())
                assert r.status_code == 200, r.text
                await api.post(f"/feeds/{f['id']}/fetch", headers=stack.admin())

        async def all_fetched_twice() -> list[dict[str, Any]] | None:
            listed = (await api.get("/feeds", params={"limit": 5000})).json()
            # twice each (a hostile feed that parses, bare DTD or XInclude, counts once it succeeded);
            # once for a 503 with Retry-After: 120, which must not be asked again before then
            waiting = [f["url"] for f in listed if f["url"] in live.hostile_urls and not f["last_success_at"]
                       and (f["consecutive_failures"] or 0) < (1 if f["url"].endswith("/status/503") else 2)]

            waiting += [f["url"] for f in listed if f["url"] in live.realworld_urls and not f["last_fetch_at"]]
            return listed if not waiting else None

        mark("hostile feeds enabled")
        live.feeds = await poll(all_fetched_twice, timeout=120, every=1,
                                what="every hostile feed fetched twice and every real-world feed once")
        mark("hostile feeds fetched")
        for f in live.feeds:  # the attack stops; whatever is still held afterwards is retained memory
            if f["url"] in live.hostile_urls or f["url"] in live.realworld_urls:
                await api.patch(f"/feeds/{f['id']}", json={"enabled": False}, headers=stack.admin())
        await asyncio.sleep(stack.settings().fetch_total_timeout_s + 2)  # in-flight fetches end by then
        stop.set()
        await sampler
        live.rss_after = stack.rss_mb()
        mark("attack stopped, memory sampled")

        # read what a client could read, for the leak checks
        live.responses.append(("GET /feeds", json.dumps(live.feeds)))
        for path in ("/stories?limit=200", "/topics", "/entities", "/readyz", "/metrics", "/openapi.json",
                     "/feeds/export.opml", "/dashboard", "/dashboard/feeds", "/dashboard/stories",
                     "/dashboard/webhooks", "/dashboard/data.json", f"/webhooks/{hook['id']}/deliveries"):
            await get(path, headers=stack.admin() if path.startswith("/webhooks") else {})
        for path in ("/webhooks", f"/webhooks/{hook['id']}"):
            await get(path, headers=stack.admin())
        api.cookies.set("wirewatch_admin", ADMIN_TOKEN)
        for path in ("/dashboard", "/dashboard/webhooks", "/dashboard/feeds?status=failing"):
            r = await get(path)
            assert r.status_code == 200
        api.cookies.clear()
        for story in (await api.get("/stories", params={"limit": 200})).json()["items"]:
            await get(f"/stories/{story['id']}")
        r = await api.get("/webhooks", headers={"Authorization": "Bearer " + ADMIN_TOKEN[:-2] + "zz"})
        live.responses.append(("GET /webhooks (wrong token)", r.text))
    await asyncio.sleep(0.5)
    stack.stop_all()  # flush and close every log before the log checks


async def _ready(value: bool) -> bool:
    return value


# --- the checks ---------------------------------------------------------------------


def test_no_service_crashed(live: Live) -> None:
    assert not live.stack.dead() or all(code in (0, -15) for code in live.stack.dead().values()), live.stack.dead()
    text = live.stack.log_text()
    assert "Traceback" not in text, text[text.index("Traceback") - 2000:][:6000]


def test_memory_stays_bounded(live: Live) -> None:
    rows = [f"{k:10s} before {live.rss_before.get(k, 0):7.1f} MB  peak {live.rss_peak.get(k, 0):7.1f} MB  "
            f"after {live.rss_after.get(k, 0):7.1f} MB" for k in sorted(live.rss_before)]
    print("\n".join(rows))
    (live.stack.workdir / "rss.txt").write_text("\n".join(rows))
    limit_mb = live.stack.settings().fetch_max_decompressed_bytes / 2**20
    peak_bound = {"ingest": BOMBS_IN_FLIGHT * PEAK_FACTOR * limit_mb + 100}
    # glibc keeps part of the freed bomb buffers mapped (measured +40..+156 MB for ingest once the attack stops)
    retained_bound = {"ingest": BOMBS_IN_FLIGHT * limit_mb + 100}
    for k, before in live.rss_before.items():
        assert live.rss_peak.get(k, 0) - before <= peak_bound.get(k, RSS_RETAINED_LIMIT_MB), "\n".join(rows)
        assert live.rss_after.get(k, 0) - before <= retained_bound.get(k, RSS_RETAINED_LIMIT_MB), "\n".join(rows)


def test_every_hostile_feed_shows_its_error_class(live: Live) -> None:
    by_url = {f["url"]: f for f in live.feeds}
    wrong = {}
    for url, classes in live.hostile_urls.items():
        f = by_url[url]
        if f["last_error_class"] not in classes:
            wrong[url] = (f["last_error_class"], f["last_error"], f["last_status"], f["items_total"])
    assert not wrong, json.dumps(wrong, indent=1)


def test_html_that_never_closes_its_tags_is_parsed_not_stalled(live: Live) -> None:
    (f,) = [f for f in live.feeds if f["url"].endswith("/hostile/html-tail")]
    assert f["last_success_at"] and f["items_total"] == 1 and f["last_error_class"] is None, f


def test_retry_after_is_honoured(live: Live) -> None:
    (f,) = [f for f in live.feeds if f["url"].endswith("/status/503")]
    assert f["consecutive_failures"] == 1 and f["last_fetch_at"] and f["next_check_at"]
    from datetime import datetime

    wait = (datetime.fromisoformat(f["next_check_at"]) - datetime.fromisoformat(f["last_fetch_at"])).total_seconds()
    assert wait >= 110, f"Retry-After: 120 not honoured (next check after {wait:.0f}s)"


def test_realworld_feeds_parse_or_show_an_error_class(live: Live) -> None:
    if not live.realworld_urls:
        pytest.skip(f"{REALWORLD} is absent")
    by_url = {f["url"]: f for f in live.feeds}
    report = {u.rsplit("/", 1)[1]: (by_url[u]["last_error_class"], by_url[u]["items_total"]) for u in live.realworld_urls}
    print(json.dumps(report, indent=1))
    for url in live.realworld_urls:
        f = by_url[url]
        assert f["last_fetch_at"], url
        assert f["last_error_class"] is None or f["last_error_class"] in ERROR_CLASSES, (url, f["last_error_class"])
    ok = [u for u, (cls, n) in report.items() if cls is None]
    assert len(ok) >= len(report) * 0.8, f"most real-world feeds should parse: {report}"


async def test_xxe_never_reads_a_local_file(live: Live) -> None:
    assert live.canary_server.hits.get("/ssrf", 0) == 0, "an external entity or DTD was fetched"
    rows = await live.store.rows("SELECT title, summary, content FROM articles")
    assert rows is not None
    assert not [r for r in rows if any(live.canary in (c or "") for c in r)], "canary in the store"
    for what, body in live.responses:
        assert live.canary not in body, f"canary in {what}"
    assert live.canary not in live.stack.log_text()
    assert all(live.canary.encode() not in h.body for h in live.sub.hits)


def test_secrets_never_in_logs(live: Live) -> None:
    text = live.stack.log_text()
    assert text.count("\n") > 20, "the services logged almost nothing; the check would be vacuous"
    for name, secret in [("admin token", ADMIN_TOKEN), ("DB password", DB_PASSWORD),
                         *[(f"webhook secret {i}", s) for i, s in enumerate(live.secrets)],
                         *[(f"webhook secret {i} (key part)", s.removeprefix("whsec_")) for i, s in enumerate(live.secrets)]]:
        assert secret not in text, f"{name} appears in the service logs"


def test_secrets_never_in_api_responses(live: Live) -> None:
    assert len(live.responses) > 15
    for what, body in live.responses:
        assert ADMIN_TOKEN not in body, f"admin token in {what}"
        assert DB_PASSWORD not in body, f"DB password in {what}"
        if what != "GET /openapi.json":  # the schema's prose mentions the prefix
            assert "whsec_" not in body, f"a webhook secret in {what}"
        for s in live.secrets:
            assert s.removeprefix("whsec_") not in body, f"webhook secret material in {what}"


def test_rss_probe_sees_every_service(live: Live) -> None:
    assert set(live.rss_before) == {"ingest", "enrich", "sink", "webhooks", "api"}
    assert all(psutil.pid_exists(p.pid) is False or p.poll() is not None for p in live.stack.procs.values())
