"""One same-origin rule (api.http.deps.same_origin) for everything the admin cookie can do: the API's cookie writes
and the dashboard's forms accept and refuse the same origins."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from api.http.deps import same_origin
from tests.security.conftest import ADMIN_TOKEN

HOST = "wirewatch.test"
PUBLIC = "https://news.example.org"


def request(headers: dict[str, str]) -> Request:
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    return Request({"type": "http", "method": "POST", "path": "/", "headers": raw, "query_string": b""})


@pytest.mark.parametrize(("headers", "public_url", "ours"), [
    pytest.param({"Host": HOST, "Origin": f"http://{HOST}"}, "", True, id="origin is the host"),
    pytest.param({"Host": HOST, "Referer": f"http://{HOST}/dashboard/feeds"}, "", True, id="referer is the host"),
    pytest.param({"Host": HOST, "Origin": f"https://{HOST}", "Referer": "https://evil.example/"}, "", True,
                 id="origin wins over referer"),
    pytest.param({"Host": HOST, "Origin": "https://evil.example", "Referer": f"http://{HOST}/"}, "", False,
                 id="a foreign origin is not excused by the referer"),
    pytest.param({"Host": HOST}, "", False, id="neither origin nor referer"),
    pytest.param({"Host": HOST, "Origin": "null"}, "", False, id="opaque origin"),
    pytest.param({"Host": HOST, "Origin": HOST}, "", False, id="no scheme"),
    pytest.param({"Host": HOST, "Origin": f"http://{HOST}.evil.example"}, "", False, id="suffix of another host"),
    pytest.param({"Host": HOST, "Origin": f"http://{HOST}:8080"}, "", False, id="another port"),
    pytest.param({"Host": "api:8000", "Origin": PUBLIC}, PUBLIC, True, id="public URL behind a proxy"),
    pytest.param({"Host": "api:8000", "Origin": PUBLIC}, "", False, id="public URL not configured"),
    pytest.param({"Origin": "http://"}, "", False, id="no host, empty origin host"),
])
def test_same_origin_rule(make_settings, headers, public_url, ours):
    assert same_origin(request(headers), make_settings(public_url=public_url)) is ours


@pytest.mark.parametrize(("origin", "allowed"), [(f"http://{HOST}", True), (PUBLIC, True),
                                                 ("https://evil.example", False), (None, False)])
async def test_api_cookie_writes_and_dashboard_forms_agree(api_for, origin, allowed):
    async with api_for(public_url=PUBLIC) as (app, client):
        client.cookies.set("wirewatch_admin", ADMIN_TOKEN)
        headers = {"Origin": origin} if origin else {}
        api = await client.post("/feeds/1/fetch", headers=headers)  # no such feed: 404 once past the guard
        dashboard = await client.post("/dashboard/feeds/1/fetch", headers=headers)  # 303 back once past it
        assert (api.status_code, dashboard.status_code) == ((404, 303) if allowed else (403, 403)), (
            api.text, dashboard.text)
