"""A newcomer's tour of the dashboard in a real browser against a real stack (every service its own process
with its own metrics port, as `make run` starts them; real Kafka; a feed server; a webhook receiver).

Headless Chromium logs in with the admin token, adds a feed by giving a web page's URL, imports and exports
OPML, disables, enables and deletes a feed; creates a webhook and sees its secret once, sends a test and
checks the signed ping arrives; creates an alert on a json:// target and tests it; watches a failing
subscriber's last error, next retry and dead letter; searches stories by words, follows the subscribe
links and a headline to the story page; and finds every chart with data points and every service healthy.
The services' logs (JSON, not a terminal) must hold no ERROR line. Screenshots go to var/screenshots/.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.webhooks import signing
from tests.browser.conftest import CHROMIUM_ARGS
from tests.browser.test_dashboard import SHOTS, Stack, conflict_feed
from tests.conftest import free_port
from tests.feedserver import FeedServer, rss
from tests.receiver import Receiver
from tests.waiting import poll

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.kafka]

TOKEN = "browser-admin-token-0123456789"
WORKERS = ("ingest", "enrich", "sink", "webhooks")
PAGE = (b'<!doctype html><html><head><title>Added Wire home</title>'
        b'<link rel="alternate" type="application/rss+xml" title="Added Wire" href="/added.rss"></head>'
        b'<body><h1>Added Wire</h1></body></html>')


async def test_admin_forms_end_to_end(chromium_path: Path, kafka_bootstrap: str, unique_topics: dict[str, str],
                                      tmp_path: Path) -> None:
    from playwright.async_api import async_playwright

    api_port = free_port()
    var = tmp_path / "var"
    var.mkdir()
    with FeedServer() as feeds:
        feeds.routes["/wire.rss"] = (200, "application/rss+xml", conflict_feed())
        feeds.routes["/page.html"] = (200, "text/html; charset=utf-8", PAGE)
        feeds.routes["/added.rss"] = (200, "application/rss+xml", rss("Added Wire", []))
        for name in ("one", "two"):
            feeds.routes[f"/imported-{name}.rss"] = (200, "application/rss+xml", rss(f"Imported {name}", []))
        seed = tmp_path / "seed.opml"
        seed.write_text('<?xml version="1.0"?><opml version="2.0"><head/><body>'
                        f'<outline type="rss" text="Browser Wire" xmlUrl="{feeds.url("/wire.rss")}"/></body></opml>')
        env = {
            **os.environ,
            "WIREWATCH_KAFKA_BOOTSTRAP": kafka_bootstrap,
            "WIREWATCH_KAFKA_PARTITIONS": "3",
            "WIREWATCH_VAR_DIR": str(var),
            "WIREWATCH_API_PORT": str(api_port),
            "WIREWATCH_ADMIN_TOKEN": TOKEN,
            "WIREWATCH_FEED_ALLOWED_HOSTS": "127.0.0.1",
            "WIREWATCH_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
            "WIREWATCH_WEBHOOK_RETRY_SCHEDULE_S": "0,0",  # two quick retries, then the dead letter
            "WIREWATCH_FEEDS_OPML": str(seed),
            "WIREWATCH_POLL_MIN_INTERVAL_S": "1",
            "WIREWATCH_POLL_DEFAULT_INTERVAL_S": "1",
            "WIREWATCH_POLL_MAX_INTERVAL_S": "2",
            "WIREWATCH_FETCH_PER_HOST_MIN_SPACING_S": "0",
            "WIREWATCH_HEARTBEAT_INTERVAL_S": "1",
            **{f"WIREWATCH_{k.upper()}": v for k, v in unique_topics.items()},
        }
        env.pop("WIREWATCH_LOG_JSON", None)  # the default: JSON, since the log is a file and not a terminal
        stack = Stack(env, tmp_path / "services.log")
        stack.start()
        try:
            async with async_playwright() as pw, Receiver() as rx:
                browser = await pw.chromium.launch(executable_path=str(chromium_path), headless=True,
                                                   args=CHROMIUM_ARGS)
                try:
                    await tour(browser, f"http://127.0.0.1:{api_port}", feeds, rx, tmp_path)
                finally:
                    await browser.close()
            assert not stack.dead(), f"services died: {stack.dead()}"
        except BaseException:
            stack.log.flush()
            print(stack.log_path.read_text(errors="replace")[-8000:])
            raise
        finally:
            stack.stop()
    errors = [line for line in stack.log_path.read_text(errors="replace").splitlines()
              if line.startswith("{") and json.loads(line).get("level") in ("ERROR", "CRITICAL")]
    assert not errors, "ERROR lines in the services' log:\n" + "\n".join(errors[:20])


async def tour(browser: Any, base: str, feeds: FeedServer, rx: Receiver, tmp: Path) -> None:
    from playwright.async_api import expect

    problems: list[str] = []
    refused: list[str] = []  # Chromium reports a form answered 422 as a console error: counted, not a problem

    def console(m: Any) -> None:
        if "status of 422" in m.text:
            refused.append(m.text)
        elif m.type == "error" or "Content Security Policy" in m.text:
            problems.append(f"console {m.type}: {m.text}")

    async def new_page() -> Any:
        p = await browser.new_page(viewport={"width": 1280, "height": 800}, accept_downloads=True)
        p.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
        p.on("console", console)
        p.on("dialog", lambda dialog: dialog.accept())  # the delete buttons ask first
        return p

    SHOTS.mkdir(parents=True, exist_ok=True)
    page = await new_page()

    async with httpx.AsyncClient(base_url=base, timeout=10) as api:
        async def up() -> bool:
            try:
                return (await api.get("/healthz")).status_code == 200
            except httpx.TransportError:
                return False

        await poll(up, 90, "the API to answer /healthz")
        await page.goto(base + "/dashboard")  # the overview polls (and so samples /metrics) while we work

        async def ceasefire_story() -> list[dict[str, Any]]:
            return (await api.get("/stories", params={"topic": "ceasefire"})).json()["items"]

        (story,) = await poll(ceasefire_story, 150, "the conflict story at /stories?topic=ceasefire")

        # --- log in --------------------------------------------------------------------------------------
        admin = await new_page()
        await admin.goto(base + "/dashboard/feeds")
        assert await admin.locator("#add-feed").count() == 0, "the forms need the admin login"
        await admin.get_by_role("link", name="Admin login").click()
        await admin.get_by_label("Admin token").fill(TOKEN)
        await admin.get_by_role("button", name="Log in").click()
        await expect(admin).to_have_url(re.compile(r"/dashboard/feeds\?notice=login$"))

        # --- feeds: add by a web page's URL (discovery), import, export, disable/enable/delete --------------
        await admin.get_by_label("Feed or web page URL").fill(feeds.url("/page.html"))
        await admin.get_by_label("Tags").fill("browser, added")
        await admin.get_by_role("button", name="Add feed").click()
        await expect(admin.locator(".notice")).to_have_text("Feed added; its first fetch is due now.")
        added = admin.locator("#feeds tbody tr", has_text=feeds.url("/added.rss"))
        await expect(added).to_have_count(1)
        await expect(added).to_contain_text("Added Wire")
        await admin.get_by_label("Feed or web page URL").fill(feeds.url("/missing.html"))
        await admin.get_by_role("button", name="Add feed").click()
        await expect(admin.locator("#add-error")).to_contain_text("not a usable feed (http)")

        opml = tmp / "import.opml"
        opml.write_text('<?xml version="1.0"?><opml version="2.0"><head/><body><outline text="Imported">'
                        f'<outline type="rss" text="Imported one" xmlUrl="{feeds.url("/imported-one.rss")}"/>'
                        f'<outline type="rss" text="Imported two" xmlUrl="{feeds.url("/imported-two.rss")}"/>'
                        f'<outline type="rss" text="again" xmlUrl="{feeds.url("/added.rss")}"/>'
                        '</outline></body></opml>')
        await admin.goto(base + "/dashboard/feeds")
        await admin.get_by_label("OPML file from another feed reader").set_input_files(str(opml))
        await admin.get_by_role("button", name="Import feeds").click()
        await expect(admin.locator(".notice")).to_have_text(
            "OPML imported: 2 new feeds, 1 already present, 0 refused.")
        await expect(admin.locator("#feeds tbody tr")).to_have_count(4)  # the seed, the added, two imported
        await admin.screenshot(path=str(SHOTS / "admin-feeds-1280x800.png"), full_page=True)

        async with admin.expect_download() as info:
            await admin.locator("#export-opml").click()
        download = Path(await (await info.value).path())
        exported = await asyncio.to_thread(download.read_text, encoding="utf-8")
        for path in ("/wire.rss", "/added.rss", "/imported-one.rss", "/imported-two.rss"):
            assert feeds.url(path) in exported, (path, exported[:500])

        row = admin.locator("#feeds tbody tr", has_text=feeds.url("/imported-two.rss"))
        await row.get_by_role("button", name="Disable Imported two").click()
        await expect(admin.locator(".notice")).to_have_text("Feed disabled.")
        await expect(row.locator(".badge")).to_have_text("disabled")
        await row.get_by_role("button", name="Enable Imported two").click()
        await expect(admin.locator(".notice")).to_have_text("Feed enabled.")
        await expect(row.locator(".badge")).not_to_have_text("disabled")
        await row.get_by_role("button", name="Delete Imported two").click()
        await expect(admin.locator(".notice")).to_have_text("Feed deleted.")
        await expect(row).to_have_count(0)
        assert feeds.url("/imported-two.rss") not in [f["url"] for f in (await api.get("/feeds")).json()]

        # --- a webhook: the secret once, a signed test ping ---------------------------------------------------
        await admin.goto(base + "/dashboard/webhooks")
        await admin.get_by_label("Endpoint URL").fill(rx.url("/ok"))
        await admin.locator("#wh-description").fill("browser test")
        await admin.get_by_role("button", name="Create webhook").click()
        secret = await admin.locator("#new-secret").input_value()
        hook_id = (await admin.locator("#new-webhook-id").text_content() or "").strip()
        assert secret.startswith("whsec_") and hook_id.startswith("wh_")
        await admin.screenshot(path=str(SHOTS / "admin-webhook-secret-1280x800.png"), full_page=True)
        await admin.goto(base + "/dashboard/webhooks")
        assert secret not in await admin.content(), "the secret is shown once"
        await admin.locator(f'tr[data-webhook-id="{hook_id}"]').get_by_role("button", name="Send test").click()
        await expect(admin.locator(".notice")).to_contain_text("Test event queued")
        ping = await _ping(rx, "/ok")
        assert signing.verify(secret, ping.headers["webhook-id"], int(ping.headers["webhook-timestamp"]), ping.body,
                              ping.headers["webhook-signature"]), "the ping is signed with the secret shown"

        # --- an alert on a json:// target ----------------------------------------------------------------
        await admin.get_by_label("Apprise URL").fill(f"json://127.0.0.1:{rx.port}/alert")
        await admin.locator("#al-description").fill("browser alert")
        await admin.get_by_role("button", name="Create alert").click()
        await expect(admin.locator(".notice")).to_contain_text("Alert created")
        alert_row = admin.locator('#webhooks tr[data-kind="alert"]')
        await expect(alert_row).to_contain_text(f"json://127.0.0.1:{rx.port}/…")
        await alert_row.get_by_role("button", name="Send test").click()
        (got,) = await rx.wait_for(1, path="/alert", timeout=60)
        assert "title" in json.loads(got.body)

        # --- a failing subscriber: last error, next retry, dead letter ----------------------------------------
        rx.responses["/failing"] = [(500, {}, 0.0)] * 3 + [(503, {"Retry-After": "600"}, 0.0)]
        await admin.get_by_label("Endpoint URL").fill(rx.url("/failing"))
        await admin.locator("#wh-entities").fill("nobody-matches-this")  # only the test pings go there
        await admin.get_by_role("button", name="Create webhook").click()
        failing_id = (await admin.locator("#new-webhook-id").text_content() or "").strip()
        await admin.goto(base + "/dashboard/webhooks")
        failing = admin.locator(f'tr[data-webhook-id="{failing_id}"]')
        await failing.get_by_role("button", name="Send test").click()
        await rx.wait_for(3, path="/failing", timeout=60)  # the first try and two retries: dead

        async def dead_lettered() -> bool:
            await admin.reload()
            return (await failing.locator('[data-col="dead"]').text_content() or "").strip() == "1"

        await poll(dead_lettered, 30, "the test ping to be dead-lettered")
        await failing.get_by_role("button", name="Send test").click()
        await rx.wait_for(4, path="/failing", timeout=60)  # 503 with Retry-After: 600

        async def retry_shown() -> bool:
            await admin.reload()
            return "in 1" in (await failing.locator('[data-col="next-retry"]').text_content() or "")

        await poll(retry_shown, 30, "the next retry of the failing subscriber")
        await expect(failing).to_have_attribute("data-failing", "true")
        await expect(failing.locator('[data-col="last-error"]')).to_contain_text("HTTP 503")
        await expect(failing.locator('[data-col="next-retry"]')).to_have_text(re.compile(r"in (9|10) min"))
        await expect(admin.locator("#dead tbody tr")).to_have_count(1)
        await admin.screenshot(path=str(SHOTS / "admin-webhooks-1280x800.png"), full_page=True)

        # --- delete the alert ----------------------------------------------------------------------------------
        await alert_row.get_by_role("button", name=re.compile("^Delete the alert")).click()
        await expect(admin.locator(".notice")).to_have_text("Subscription deleted.")
        await expect(admin.locator('#webhooks tr[data-kind="alert"]')).to_have_count(0)

        # --- stories: words, subscribe links, chips that keep the filter, the story page ------------------------
        word = next(w for w in re.findall(r"[A-Za-z]{5,}", story["headline"]))
        await admin.goto(base + "/dashboard/stories")
        await admin.get_by_label("Words").fill(word)
        await admin.get_by_role("button", name="Filter").click()
        await expect(admin).to_have_url(re.compile(rf"[?&]q={word}(&|$)"))
        row = admin.locator(f'#stories tr[data-story-id="{story["id"]}"]')
        await expect(row).to_be_visible()
        for fmt in ("rss", "atom", "json"):
            link = admin.locator(f'#subscribe a[data-format="{fmt}"]')
            href = await link.get_attribute("href") or ""
            assert href.startswith(f"{base}/stories.{fmt}?") and f"q={word}" in href, href
            body = (await api.get(href)).text
            assert story["headline"][:30] in body.replace("&quot;", '"').replace("&#x27;", "'"), (fmt, body[:300])
        chips = row.locator("td[data-label=entities] a.chip")
        if await chips.count():
            assert f"q={word}" in (await chips.first.get_attribute("href") or "")
        await admin.screenshot(path=str(SHOTS / "admin-stories-search-1280x800.png"), full_page=True)
        await row.get_by_role("link", name=story["headline"]).click()
        await expect(admin.locator("#story-headline")).to_have_text(story["headline"])
        await expect(admin.locator("#story-articles tbody tr")).to_have_count(story["article_count"])
        await admin.screenshot(path=str(SHOTS / "story-page-1280x800.png"), full_page=True)

        # --- the overview: every chart has points, every service is healthy --------------------------------------
        await page.reload()
        await page.wait_for_selector('body[data-polls="1"]', state="attached")
        for name in ("throughput", "freshness", "errors", "lag", "topics"):
            fig = page.locator(f'figure[data-chart="{name}"]')
            await expect(fig).to_have_attribute("data-points", re.compile(r"^[1-9]\d*$"), timeout=60_000)
            await expect(fig.locator("canvas")).to_have_count(1)

        async def health() -> dict[str, list[str]]:
            """Service name -> the badge of each of its rows (the overview's Service health table)."""
            await page.reload()
            rows = await page.locator("#health tr.source").evaluate_all(
                "rows => rows.map(r => [r.cells[0].innerText.split('\\n')[0].trim(),"
                " r.querySelector('.badge').textContent.trim()])")
            out: dict[str, list[str]] = {}
            for service, badge in rows:
                out.setdefault(service, []).append(badge)
            return out

        async def all_healthy() -> dict[str, list[str]] | None:
            seen = await health()
            return seen if all(seen.get(s) == ["ok"] for s in ("api", *WORKERS)) else None

        seen = await poll(all_healthy, 30, "every service listed healthy on the overview")
        assert all(badges == ["ok"] for badges in seen.values()), seen
        await page.screenshot(path=str(SHOTS / "admin-overview-1280x800.png"), full_page=True)
    assert not problems, problems
    assert len(refused) == 1, refused  # the one add-feed form refused on purpose


async def _ping(rx: Receiver, path: str) -> Any:
    """The first webhook.ping on ``path`` (story events may arrive there too)."""
    async def found() -> Any:
        return next((r for r in rx.on(path) if json.loads(r.body).get("type") == "webhook.ping"), None)

    return await poll(found, 60, f"a webhook.ping at {path}")
