"""The ops dashboard in a real browser against a real stack: every service as its own process, real Kafka,
a feed server with conflict news and a failing feed, and a webhook receiver that fails until the delivery
is dead-lettered. Headless Chromium loads each page, waits for the charts to draw real numbers, logs in,
replays the dead delivery from the Webhooks page, and saves full-page screenshots under var/screenshots/."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.conftest import CHROMIUM_ARGS
from tests.conftest import ROOT, free_port
from tests.feedserver import FeedServer, rss
from tests.receiver import Receiver
from tests.waiting import poll

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.kafka]

SHOTS = ROOT / "var" / "screenshots"
TOKEN = "browser-admin-token-0123456789"
SEED = (ROOT / "tests" / "data" / "seed_article.txt").read_text(encoding="utf-8")
SERVICES = ("ingest", "enrich", "sink", "webhooks", "tracker", "api")
PAGES = {"overview": "/dashboard", "feeds": "/dashboard/feeds", "failing": "/dashboard/feeds?status=failing",
         "stories": "/dashboard/stories", "ceasefires": "/dashboard/ceasefires", "webhooks": "/dashboard/webhooks", "login": "/dashboard/login"}
SIZES = {"desktop": (1280, 800), "phone": (390, 844)}


def conflict_feed() -> bytes:
    headline, body = SEED.split("\n", 1)
    return rss("Browser Wire", [
        {"title": headline.strip(), "link": "https://news.example.org/browser-ceasefire",
         "description": body.strip(), "pubDate": "Tue, 18 Mar 2025 18:00:00 GMT"},
    ])


class Stack:
    """Each service as its own process (what `wirewatch run all` spawns), each with its own metrics port."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log_path = env, log
        self.log = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def cli(self, *args: str, **extra: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-m", "services.cli", *args], env={**self.env, **extra}, cwd=ROOT,
                                stdout=self.log, stderr=subprocess.STDOUT)

    def start(self) -> None:
        for prep in (("migrate",), ("topics", "create")):
            assert self.cli(*prep).wait(120) == 0, f"wirewatch {' '.join(prep)} failed; see {self.log_path}"
        for name in SERVICES:
            extra = {} if name == "api" else {"WIREWATCH_METRICS_PORT": str(free_port())}
            self.procs[name] = self.cli("run", name, **extra)

    def dead(self) -> list[str]:
        return [n for n, p in self.procs.items() if p.poll() is not None]

    def stop(self) -> None:
        for p in self.procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs.values():
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
        self.log.close()


async def test_dashboard_in_a_browser(chromium_path: Path, kafka_bootstrap: str, unique_topics: dict[str, str],
                                      tmp_path: Path) -> None:
    from playwright.async_api import async_playwright

    api_port = free_port()
    var = tmp_path / "var"
    var.mkdir()
    with FeedServer() as feeds:
        feeds.routes["/wire.rss"] = (200, "application/rss+xml", rss("Browser Wire", []))
        feeds.routes["/down.rss"] = (503, "text/plain", b"upstream down")
        opml = tmp_path / "feeds.opml"
        opml.write_text('<?xml version="1.0"?><opml version="2.0"><head/><body>'
                        f'<outline type="rss" text="wire" xmlUrl="{feeds.url("/wire.rss")}"/>'
                        f'<outline type="rss" text="down" xmlUrl="{feeds.url("/down.rss")}"/></body></opml>')
        env = {
            **os.environ,
            "WIREWATCH_KAFKA_BOOTSTRAP": kafka_bootstrap,
            "WIREWATCH_VAR_DIR": str(var),
            "WIREWATCH_API_PORT": str(api_port),
            "WIREWATCH_ADMIN_TOKEN": TOKEN,
            "WIREWATCH_FEED_ALLOWED_HOSTS": "127.0.0.1",
            "WIREWATCH_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
            "WIREWATCH_WEBHOOK_RETRY_SCHEDULE_S": "0",
            "WIREWATCH_FEEDS_OPML": str(opml),
            "WIREWATCH_POLL_MIN_INTERVAL_S": "1",
            "WIREWATCH_POLL_DEFAULT_INTERVAL_S": "1",
            "WIREWATCH_POLL_MAX_INTERVAL_S": "2",
            "WIREWATCH_POLL_ERROR_MAX_INTERVAL_S": "2",
            "WIREWATCH_FETCH_PER_HOST_MIN_SPACING_S": "0",
            "WIREWATCH_FETCH_TOTAL_TIMEOUT_S": "5",
            "WIREWATCH_HEARTBEAT_INTERVAL_S": "1",
            **{f"WIREWATCH_{k.upper()}": v for k, v in unique_topics.items()},
        }
        stack = Stack(env, tmp_path / "services.log")
        stack.start()
        try:
            async with async_playwright() as pw, Receiver() as rx:
                browser = await pw.chromium.launch(executable_path=str(chromium_path), headless=True,
                                                   args=CHROMIUM_ARGS)
                try:
                    await scenario(browser, f"http://127.0.0.1:{api_port}", feeds, rx, stack)
                finally:
                    await browser.close()
        except BaseException:
            stack.log.flush()
            print(stack.log_path.read_text(errors="replace")[-8000:])
            raise
        finally:
            stack.stop()


async def scenario(browser: Any, base: str, feeds: FeedServer, rx: Receiver, stack: Stack) -> None:
    from playwright.async_api import expect

    problems: list[str] = []

    async def new_page(size: str) -> Any:
        w, h = SIZES[size]
        page = await browser.new_page(viewport={"width": w, "height": h})
        page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
        page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
                if m.type == "error" or "Content Security Policy" in m.text else None)
        return page

    async with httpx.AsyncClient(base_url=base, timeout=10) as api:
        async def up() -> bool:
            try:
                return (await api.get("/healthz")).status_code == 200
            except httpx.TransportError:
                return False

        await poll(up, 90, "the API to answer /healthz")
        # Open the overview first, as an operator would: its polling samples /metrics while data flows.
        live = await new_page("desktop")
        await live.goto(base + "/dashboard")
        assert "script-src 'self'" in (await api.get("/dashboard")).headers["content-security-policy"]

        rx.responses["/hook"] = [(500, {}, 0.0), (500, {}, 0.0)]  # schedule "0": two failures dead-letter
        hook = (await api.post("/webhooks", json={"url": rx.url(), "topics": ["ceasefire"]},
                               headers={"Authorization": f"Bearer {TOKEN}"})).json()
        feeds.routes["/wire.rss"] = (200, "application/rss+xml", conflict_feed())

        async def ceasefire_story() -> list[dict[str, Any]]:
            return (await api.get("/stories", params={"topic": "ceasefire"})).json()["items"]

        (story,) = await poll(ceasefire_story, 150, "the conflict story at /stories?topic=ceasefire")
        await rx.wait_for(2, timeout=60)

        async def dead() -> list[dict[str, Any]]:
            r = await api.get(f"/webhooks/{hook['id']}/deliveries", params={"status": "dead"},
                              headers={"Authorization": f"Bearer {TOKEN}"})
            return r.json() if r.status_code == 200 else []

        (dead_delivery,) = await poll(dead, 30, "the delivery to be dead-lettered")

        async def seed_ceasefires() -> list[dict[str, Any]]:
            items = (await api.get("/ceasefires")).json()["items"]
            return items if len(items) == 2 else []

        records = {r["scope"]: r for r in await poll(seed_ceasefires, 60, "the seed's two ceasefire records")}
        histories = {scope: [c["state"] for c in (await api.get(f"/ceasefires/{r['id']}")).json()["history"]]
                     for scope, r in records.items()}
        # The seed is from March 2025: its 30-day pause was agreed, then ran out (the clock may expire it).
        assert histories["energy_infrastructure"][:1] == ["agreed"] and set(histories["energy_infrastructure"]) <= {
            "agreed", "expired"}
        assert histories["full"] == ["proposed", "rejected"], histories

        async def failing() -> bool:
            return any(f["url"] == feeds.url("/down.rss") for f in (await api.get("/feeds?failing=true")).json())

        await poll(failing, 60, "the failing feed to be recorded")

        # Charts: the JS marks each figure with how many points it drew and the largest value.
        throughput = live.locator('figure[data-chart="throughput"]')
        await expect(throughput).not_to_have_attribute("data-max", re.compile(r"^0?$"), timeout=60_000)
        for name in ("throughput", "freshness", "errors", "lag", "topics"):
            fig = live.locator(f'figure[data-chart="{name}"]')
            await expect(fig).to_have_attribute("data-points", re.compile(r"^[1-9]\d*$"), timeout=30_000)
            await expect(fig.locator("canvas")).to_have_count(1)
        await expect(live.locator("#lag tbody tr")).to_have_count(12)  # 4 groups x 3 partitions
        await expect(live.locator("#health tr.source")).not_to_have_count(1)  # workers beside the API
        await live.close()

        SHOTS.mkdir(parents=True, exist_ok=True)
        for size in SIZES:
            page = await new_page(size)
            for name, path in PAGES.items():
                await page.goto(base + path)
                if name == "overview":
                    await page.wait_for_selector('body[data-polls="1"]', state="attached")
                    await expect(page.locator('figure[data-chart="throughput"] canvas')).to_have_count(1)
                    await expect(page.locator("#latest-stories")).to_contain_text(story["headline"][:30])
                elif name == "feeds":
                    await expect(page.locator("#feeds tbody tr")).to_have_count(2)
                elif name == "failing":
                    rows = page.locator("#feeds tbody tr")
                    await expect(rows).to_have_count(1)
                    await expect(rows).to_contain_text(feeds.url("/down.rss"))
                    await expect(rows.locator(".badge")).to_have_text("failing")
                elif name == "stories":
                    await expect(page.locator(f'#stories tr[data-story-id="{story["id"]}"]')).to_contain_text(
                        "ceasefire")
                elif name == "ceasefires":
                    for scope, r in records.items():
                        section = page.locator(f'section[data-ceasefire-id="{r["id"]}"]')
                        await expect(section).to_contain_text(scope.replace("_", " "))
                        await expect(section.locator(".timeline blockquote").first).not_to_be_empty()
                elif name == "webhooks":
                    await expect(page.locator(f'#webhooks tr[data-webhook-id="{hook["id"]}"]')).to_be_visible()
                    await expect(page.locator(f'#dead tr[data-delivery-id="{dead_delivery["id"]}"]')).to_be_visible()
                await page.screenshot(path=str(SHOTS / f"{name}-{SIZES[size][0]}x{SIZES[size][1]}.png"),
                                      full_page=True)
            await page.close()

        # Admin: log in, fetch the failing feed now, then replay the dead delivery.
        page = await new_page("desktop")
        await page.goto(base + "/dashboard/webhooks")
        assert await page.locator("#dead button").count() == 0, "Replay must need the admin login"
        await page.get_by_role("link", name="Admin login").click()
        await page.get_by_label("Admin token").fill(TOKEN)
        await page.get_by_role("button", name="Log in").click()
        await expect(page).to_have_url(re.compile(r"/dashboard/webhooks\?notice=login$"))
        cookie = next(c for c in await page.context.cookies() if c["name"] == "wirewatch_admin")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"

        await page.goto(base + "/dashboard/feeds?status=failing")
        await page.get_by_role("button", name=re.compile("^Fetch .* now$")).click()
        await expect(page.locator(".notice")).to_have_text("Feed scheduled to be fetched now.")

        await page.goto(base + "/dashboard/webhooks")
        before = len(rx.on("/hook"))
        await page.locator(f'#dead tr[data-delivery-id="{dead_delivery["id"]}"] button',
                           has_text="Replay").click()
        await expect(page.locator(".notice")).to_have_text("Delivery queued for replay.")
        (*_, again) = await rx.wait_for(before + 1, timeout=30)
        assert again.headers["webhook-id"] == dead_delivery["id"]  # same id: subscribers can dedup
        await page.reload()
        await expect(page.locator(f'#dead tr[data-delivery-id="{dead_delivery["id"]}"]')).to_have_count(0)
        await page.screenshot(path=str(SHOTS / "webhooks-after-replay-1280x800.png"), full_page=True)

        # A cross-site POST is refused even with the cookie (Origin check).
        r = await api.post(f"/dashboard/feeds/{1}/disable", headers={"Origin": "http://evil.example"},
                           cookies={"wirewatch_admin": TOKEN})
        assert r.status_code == 403
        await page.close()

    assert not stack.dead(), f"services died: {stack.dead()}"
    assert not problems, problems
