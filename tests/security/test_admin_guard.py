"""Every admin route — found by walking app.routes for the admin dependencies, not by a hand-kept list —
refuses a missing, wrong or merely-reader token, and every state-changing route is admin-guarded."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant

from api.http.app import create_app
from api.http.deps import require_admin
from api.http.routes_dashboard import require_admin_form
from services.settings import Settings
from tests.security.conftest import ADMIN_TOKEN

ADMIN_GUARDS = {require_admin, require_admin_form}
# Mutating routes that are public on purpose, each with its own guard.
PUBLIC_MUTATIONS = {
    ("POST", "/websub/{feed_id}"),   # hub push: HMAC signature checked against the feed's secret
    ("POST", "/dashboard/login"),    # the login form itself (same-origin checked)
    ("POST", "/dashboard/logout"),   # only clears the caller's own cookie (same-origin checked)
}
ORIGIN = {"Origin": "http://wirewatch.test"}


def _calls(dep: Dependant) -> Iterator[Any]:
    for sub in dep.dependencies:
        yield sub.call
        yield from _calls(sub)


def api_routes(app: FastAPI) -> Iterator[tuple[set[str], str, Dependant]]:
    """(methods, full path, dependant) of every API route, through included routers.

    FastAPI >= 0.16x keeps included routers as lazy ``_IncludedRouter`` entries whose effective
    contexts carry the merged prefix and router-level dependencies; older versions flatten to APIRoute.
    """
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        for r in contexts() if contexts is not None else [route]:
            dependant = getattr(r, "dependant", None)
            if dependant is not None and getattr(r, "methods", None):
                yield set(r.methods), r.path, dependant


def admin_routes(settings: Settings) -> list[tuple[str, str]]:
    """(method, path template) of every route whose dependency tree holds an admin guard."""
    out = []
    for methods, path, dependant in api_routes(create_app(settings)):
        if ADMIN_GUARDS & set(_calls(dependant)):
            out.extend((m, path) for m in sorted(methods - {"HEAD"}))
    return out


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_admin_routes_are_found(make_settings):
    routes = set(admin_routes(make_settings()))
    # a sanity floor so an import refactor that hides the guard from this walk cannot pass silently
    for must in [("POST", "/webhooks"), ("GET", "/webhooks"), ("POST", "/webhooks/{webhook_id}/rotate-secret"),
                 ("POST", "/feeds"), ("DELETE", "/feeds/{feed_id}"), ("POST", "/feeds/import")]:
        assert must in routes, f"{must} is not admin-guarded"
    assert len(routes) >= 15, routes


def test_every_mutating_route_is_admin_guarded(make_settings):
    settings = make_settings()
    guarded = set(admin_routes(settings))
    unguarded = []
    for methods, path, _ in api_routes(create_app(settings)):
        for m in methods & {"POST", "PUT", "PATCH", "DELETE"}:
            if (m, path) not in guarded and (m, path) not in PUBLIC_MUTATIONS:
                unguarded.append((m, path))
    assert not unguarded, f"state-changing routes without the admin guard: {unguarded}"


@pytest.mark.parametrize("case", ["missing", "wrong bearer", "wrong cookie", "empty bearer", "reader token",
                                  "admin token in query", "basic auth"])
async def test_admin_routes_refuse_bad_credentials(api_for, make_settings, case):
    headers: dict[str, str] = dict(ORIGIN)
    cookies: dict[str, str] = {}
    params: dict[str, str] = {}
    if case == "wrong bearer":
        headers["Authorization"] = "Bearer " + ADMIN_TOKEN[:-1] + "X"
    elif case == "wrong cookie":
        cookies["wirewatch_admin"] = "not-the-admin-token-123456"
    elif case == "empty bearer":
        headers["Authorization"] = "Bearer "
    elif case == "reader token":
        headers["Authorization"] = "Bearer reader-token-0123456789"
    elif case == "admin token in query":
        params["token"] = ADMIN_TOKEN
    elif case == "basic auth":
        headers["Authorization"] = "Basic " + "YWRtaW46" + ADMIN_TOKEN
    async with api_for(read_tokens=["reader-token-0123456789"]) as (app, client):
        for method, path in admin_routes(make_settings()):
            client.cookies.clear()
            for k, v in cookies.items():
                client.cookies.set(k, v)
            r = await client.request(method, _concrete(path), headers=headers, params=params)
            assert r.status_code in (401, 403), f"{case}: {method} {path} -> {r.status_code} {r.text[:200]}"
            assert ADMIN_TOKEN not in r.text


async def test_admin_routes_accept_the_admin_token(api_for, make_settings):
    """The other half: with the right token the guard lets the request through (so the walk is meaningful)."""
    async with api_for() as (app, client):
        for method, path in admin_routes(make_settings()):
            r = await client.request(method, _concrete(path),
                                     headers={"Authorization": f"Bearer {ADMIN_TOKEN}", **ORIGIN})
            assert r.status_code not in (401, 403), f"{method} {path} -> {r.status_code} {r.text[:200]}"


async def test_admin_disabled_without_a_configured_token(api_for, make_settings):
    async with api_for(admin_token="") as (app, client):
        for method, path in admin_routes(make_settings(admin_token="")):
            for auth in ("Bearer ", "Bearer anything-goes-here", None):
                hs = {**ORIGIN, **({"Authorization": auth} if auth else {})}
                r = await client.request(method, _concrete(path), headers=hs)
                assert r.status_code in (401, 403), f"{method} {path} with {auth!r} -> {r.status_code}"


async def test_dashboard_admin_forms_refuse_cross_site_posts(api_for, make_settings):
    """CSRF: the admin cookie alone is not enough for a dashboard POST from another origin."""
    async with api_for() as (app, client):
        client.cookies.set("wirewatch_admin", ADMIN_TOKEN)
        for method, path in admin_routes(make_settings()):
            if not path.startswith("/dashboard"):
                continue
            for origin in ({"Origin": "https://evil.example"}, {"Referer": "https://evil.example/x"}, {}):
                r = await client.request(method, _concrete(path), headers=origin)
                assert r.status_code == 403, f"{method} {path} with {origin} -> {r.status_code}"
