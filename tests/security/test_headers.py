"""Every dashboard page carries a Content-Security-Policy that forbids inline and foreign script,
framing and plugins; API error bodies never echo the credentials sent."""

from __future__ import annotations

import pytest

from tests.security.conftest import ADMIN_TOKEN, seed_stories

PAGES = ["/dashboard", "/dashboard/feeds", "/dashboard/stories", "/dashboard/webhooks", "/dashboard/login",
         "/dashboard/feeds?status=failing&q=%3Cscript%3E", "/dashboard/stories?topic=%22%3E%3Cscript%3E"]


def _directives(csp: str) -> dict[str, list[str]]:
    out = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            out[words[0].lower()] = words[1:]
    return out


@pytest.mark.parametrize("as_admin", [False, True])
async def test_dashboard_sends_a_strict_csp(api_for, as_admin):
    async with api_for() as (app, client):
        await seed_stories(app)
        if as_admin:
            client.cookies.set("wirewatch_admin", ADMIN_TOKEN)
        for page in PAGES:
            r = await client.get(page)
            assert r.status_code == 200, (page, r.status_code)
            csp = r.headers.get("content-security-policy")
            assert csp, f"{page} has no Content-Security-Policy"
            d = _directives(csp)
            script = d.get("script-src", d.get("default-src"))
            assert script is not None, csp
            assert not {"'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:"} & set(script), csp
            assert d.get("frame-ancestors") == ["'none'"] or r.headers.get("x-frame-options") == "DENY", csp
            assert d.get("object-src") == ["'none'"] or d.get("default-src") == ["'none'"], csp
            assert r.headers.get("x-content-type-options") == "nosniff"
            assert "<script>" not in r.text.lower().replace('<script src', ''), f"inline script on {page}"
            assert ADMIN_TOKEN not in r.text


async def test_login_page_csp_and_failed_login(api_for):
    async with api_for() as (app, client):
        r = await client.post("/dashboard/login", data={"token": "wrong-token-0123456789"},
                              headers={"Origin": "http://wirewatch.test"})
        assert r.status_code == 401
        assert r.headers.get("content-security-policy")
        assert "wrong-token-0123456789" not in r.text  # the rejected token is not echoed back
