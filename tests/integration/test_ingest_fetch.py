"""Fetch against the local feed farm: every attack ends as a recorded error class within its limit
and with bounded memory; every real-world feed goes farm → fetch → parse → normalise without a crash."""

from __future__ import annotations

import csv
import resource
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio

from ingest.errors import FetchError
from ingest.fetch import fetch, make_client
from ingest.normalise import normalise_feed
from ingest.parse import parse
from services.settings import Settings
from tests.farm import Farm

REALWORLD = Path(__file__).resolve().parents[2].parent / "shared" / "realworld-feeds"
MB = 1024 * 1024


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def farm() -> AsyncIterator[Farm]:
    static = REALWORLD if REALWORLD.is_dir() else None
    async with Farm(feeds=5, static=static) as f:
        yield f


@pytest.fixture
def limits(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(fetch_total_timeout_s=3.0, fetch_read_timeout_s=2.0, fetch_connect_timeout_s=2.0,
                         fetch_max_body_bytes=4 * MB, fetch_max_decompressed_bytes=8 * MB, fetch_max_redirects=4)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def fetch_and_parse(url: str, settings: Settings) -> int:
    client = make_client(settings)
    try:
        result = await fetch(client, url, settings)
        assert result.body is not None
        feed = parse(result.body, url=result.url, content_type=result.headers.get("content-type", ""))
        return len(normalise_feed(feed, feed_url=result.url, feed_id=1, now=datetime.now(UTC)))
    finally:
        await client.aclose()


@pytest.mark.parametrize("kind,error_class", [
    ("billion-laughs", "parse"),
    ("quadratic", "parse"),
    ("xxe", "parse"),
    ("path-body", "parse"),
    ("gzip-bomb", "too_large"),
    ("deflate-bomb", "too_large"),
    ("endless", "too_large"),
    ("huge-length", "too_large"),
    ("trickle", "timeout"),
    ("html", "parse"),
    ("junk", "parse"),
    ("empty", "empty"),
])
async def test_attack_ends_as_error_class(farm: Farm, limits: Settings, kind: str, error_class: str) -> None:
    before = rss_mb()
    started = time.monotonic()
    with pytest.raises(FetchError) as info:
        await fetch_and_parse(farm.hostile(kind), limits)
    assert info.value.error_class == error_class, str(info.value)
    assert time.monotonic() - started < limits.fetch_total_timeout_s + 1.5
    assert rss_mb() - before < 64, "memory grew beyond the configured limits"
    assert "root:" not in str(info.value)


@pytest.mark.parametrize("path,error_class", [
    ("/loop/a", "redirect"),
    ("/chain/10", "redirect"),
    ("/status/404", "http"),
    ("/status/503", "http"),
])
async def test_redirect_and_status_errors(farm: Farm, limits: Settings, path: str, error_class: str) -> None:
    with pytest.raises(FetchError) as info:
        await fetch_and_parse(farm.base + path, limits)
    assert info.value.error_class == error_class
    if path == "/status/503":
        assert info.value.retry_after == 120 and info.value.retriable


async def test_ssrf_guard_blocks_unlisted_hosts(farm: Farm, make_settings: Callable[..., Settings]) -> None:
    with pytest.raises(FetchError) as info:
        await fetch_and_parse(farm.url(0), make_settings(feed_allowed_hosts=[]))
    assert info.value.error_class == "blocked"


async def test_refused_connection_and_dns(limits: Settings) -> None:
    with pytest.raises(FetchError) as info:
        await fetch_and_parse("http://127.0.0.1:1/feed", limits)
    assert info.value.error_class == "tcp"
    with pytest.raises(FetchError) as info:
        await fetch_and_parse("http://no-such-host.invalid/feed", limits.model_copy(
            update={"feed_allowed_hosts": ["no-such-host.invalid"]}))
    assert info.value.error_class == "dns"


async def test_redirects_conditional_get_and_gzip(farm: Farm, limits: Settings) -> None:
    client = make_client(limits)
    try:
        moved = await fetch(client, f"{farm.base}/redirect/301/2", limits)
        assert moved.permanent_redirect == farm.url(2) and moved.url == farm.url(2)
        temp = await fetch(client, f"{farm.base}/redirect/302/2", limits)
        assert temp.permanent_redirect is None and temp.url == farm.url(2)
        first = await fetch(client, farm.url(2), limits)
        assert first.status == 200 and first.body and first.body.startswith(b"<?xml")  # gunzipped by us
        again = await fetch(client, farm.url(2), limits, etag=first.headers["etag"])
        assert again.status == 304 and again.body is None
        farm.publish(2)
        changed = await fetch(client, farm.url(2), limits, etag=first.headers["etag"])
        assert changed.status == 200
    finally:
        await client.aclose()


def _realworld() -> list[dict[str, str]]:
    if not (REALWORLD / "SOURCES.tsv").exists():
        return []
    with open(REALWORLD / "SOURCES.tsv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


# Item counts SOURCES.tsv states (or implies) for a file.
EXPECTED = {"guardian_us_2018.rss.xml": 55, "golem_rss20_iso8859-1.rss.xml": 40, "ibash_ru_windows-1251.rss.xml": 50,
            "heise_rss090_rdf.rdf.xml": 60, "washingtonpost_wellness.rss.xml": 29,
            "pcmag_dvorak_illegally_nested.rss.xml": 10, "fp_utf16le_bom.xml": 0,
            "kernelorg_nonurl_guid.rss.xml": 1, "daringfireball_jsonfeed_1.0.json": 2}


# Ill-formed documents that yield no item at all are recorded as parse errors, not as empty feeds.
TRUNCATED = {"reuters_mostread_invalid.rss.xml"}


@pytest.mark.parametrize("row", _realworld() or [None], ids=lambda r: r["file"] if r else "absent")
async def test_realworld_feed_via_farm(farm: Farm, limits: Settings, row: dict[str, str] | None) -> None:
    if row is None:
        pytest.skip(f"no real-world feed corpus at {REALWORLD}")
    name = row["file"]
    try:
        count = await fetch_and_parse(f"{farm.base}/{name}", limits)
    except FetchError as exc:
        # raw gzip bytes served as XML, and a document cut off before any item: clean parse errors
        assert name.endswith(".gz") or name in TRUNCATED, f"{name}: {exc}"
        assert exc.error_class == "parse"
        return
    if name in EXPECTED:
        assert count == EXPECTED[name]
    if name == "tpm_talkingpointsmemo.atom.xml":  # relative hrefs resolved against the feed URL
        client = make_client(limits)
        try:
            res = await fetch(client, f"{farm.base}/{name}", limits)
        finally:
            await client.aclose()
        assert res.body is not None
        arts = normalise_feed(parse(res.body, url=res.url), feed_url=res.url, feed_id=1, now=datetime.now(UTC))
        assert all(a.link.startswith(farm.base + "/livewire/") or a.link.startswith("http") for a in arts)
        assert any(a.link.startswith(farm.base + "/livewire/") for a in arts)
