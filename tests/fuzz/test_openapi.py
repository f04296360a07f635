"""schemathesis against the OpenAPI schema of a RUNNING API (its own uvicorn process on a free port, over a
store holding a few stories and a webhook): no 5xx, and responses conform to the schema. Every operation
is exercised without credentials and with the admin token; a few hundred cases in total."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from services.db import stories as stories_repo
from services.db import webhooks as hooks_repo
from services.db.engine import make_engine, make_sessions
from services.db.migrate import upgrade_async
from services.settings import Settings
from tests.conftest import ROOT, free_port
from tests.factories import enriched, raw
from tests.waiting import stop_process

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

TOKEN = "fuzz-admin-token-0123456789"
EXAMPLES = int(os.environ.get("WIREWATCH_FUZZ_EXAMPLES", "8"))
# /stories/stream is an endless SSE stream; POST /feeds fetches the URL it is given (off-loopback DNS).
SKIP_AUTHED = {("GET", "/stories/stream"), ("POST", "/feeds")}
SKIP_ANON = {("GET", "/stories/stream")}
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
# Operations with a known, reported product bug: the fuzz run prints them instead of failing. Empty now that
# the bugs this suite found (huge feed ids -> 500, /metrics content type) are fixed; see the regression tests.
KNOWN: dict[tuple[str, str], str] = {}


@pytest_asyncio.fixture(scope="module")
async def live_api(tmp_path_factory: pytest.TempPathFactory, kafka_bootstrap: str) -> AsyncIterator[str]:
    tmp = tmp_path_factory.mktemp("fuzz")
    db = f"sqlite+aiosqlite:///{tmp / 'store.db'}"
    settings = Settings(database_url=db, var_dir=tmp)
    await upgrade_async(settings)
    engine = make_engine(settings)
    try:
        async with make_sessions(engine)() as s, s.begin():
            for i in range(1, 13):
                await stories_repo.upsert_enriched(s, event=enriched(
                    raw(i, title=f"Ceasefire talks round {i}", source=f"Wire {i % 3}"),
                    topics={"ceasefire": 0.9} if i % 2 else {"sanctions": 0.7},
                    entities=[("Q7747", "Vladimir Putin", "PERSON")] if i % 3 else [],
                    state="agreed" if i % 2 else None))
            await hooks_repo.create_webhook(s, url="https://hooks.example.org/ww", filters={"topics": ["ceasefire"]},
                                            secret="whsec_" + "A" * 32)
    finally:
        await engine.dispose()
    port = free_port()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("WIREWATCH_")},
           "WIREWATCH_DATABASE_URL": db, "WIREWATCH_VAR_DIR": str(tmp), "WIREWATCH_API_PORT": str(port),
           "WIREWATCH_ADMIN_TOKEN": TOKEN, "WIREWATCH_KAFKA_BOOTSTRAP": kafka_bootstrap,
           "WIREWATCH_FEEDS_OPML": str(tmp / "none.opml"), "WIREWATCH_LOG_JSON": "true",
           "WIREWATCH_WEBHOOK_ALLOWED_HOSTS": "", "WIREWATCH_FEED_ALLOWED_HOSTS": ""}
    log = open(tmp / "api.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "services.cli", "run", "api"], env=env, cwd=ROOT,
                            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient(timeout=1) as client:
            while True:
                try:
                    if (await client.get(base + "/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert proc.poll() is None and time.monotonic() < deadline, (tmp / "api.log").read_text()[-3000:]
                await asyncio.sleep(0.2)
        yield base
        assert proc.poll() is None, "the API died under fuzzing:\n" + (tmp / "api.log").read_text()[-3000:]
        text = (tmp / "api.log").read_text(errors="replace")
        assert "Traceback" not in text, "unhandled exceptions in the API log:\n" + text[-4000:]
    finally:
        stop_process(proc, 15)
        log.close()


def _run_operation(op: Any, base: str, headers: dict[str, str], seen: list[int]) -> None:
    """Up to EXAMPLES generated cases against one operation; raises what schemathesis finds."""

    @given(case=op.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        seen.append(1)
        case.call_and_validate(base_url=base, headers=headers, checks=CHECKS, timeout=10)

    run()


def _fuzz(base: str, headers: dict[str, str], skip: set[tuple[str, str]]) -> tuple[int, list[str]]:
    schema = schemathesis.openapi.from_url(base + "/openapi.json")
    cases = 0
    failures: list[str] = []
    for result in schema.get_all_operations():
        op: Any = result.ok()
        if (op.method.upper(), op.path) in skip:
            continue
        seen: list[int] = []
        try:
            _run_operation(op, base, headers, seen)
        except (Exception, BaseExceptionGroup) as exc:  # collected per operation: one report, every route
            key = (op.method.upper(), op.path)
            if key in KNOWN:
                print(f"known bug, still present: {key}: {KNOWN[key]}")
            else:
                failures.append(f"{op.method.upper()} {op.path}: {str(exc)[:1500]}")
        cases += len(seen)
    return cases, failures


@pytest.mark.parametrize("who", ["anonymous", "admin"])
def test_openapi_conformance(live_api: str, who: str) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"} if who == "admin" else {}
    cases, failures = _fuzz(live_api, headers, SKIP_AUTHED if who == "admin" else SKIP_ANON)
    print(f"{who}: {cases} cases")
    assert cases >= 100, cases
    assert not failures, "\n\n".join(failures)


def test_schema_is_served_and_names_the_admin_routes(live_api: str) -> None:
    schema = httpx.get(live_api + "/openapi.json", timeout=5).json()
    assert {"/stories", "/feeds", "/webhooks"} <= set(schema["paths"])


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_huge_feed_id_is_a_client_error(live_api: str, method: str) -> None:
    """Regression: an id beyond the integer column reached the driver (OverflowError -> 500)."""
    r = httpx.request(method, live_api + "/feeds/388746527900508903079656407695360", json={},
                      headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
    assert r.status_code in (404, 422), r.status_code


def test_metrics_content_type_is_documented(live_api: str) -> None:
    schema = httpx.get(live_api + "/openapi.json", timeout=5).json()
    documented = set(schema["paths"]["/metrics"]["get"]["responses"]["200"].get("content", {}))
    served = httpx.get(live_api + "/metrics", timeout=5).headers["content-type"].split(";")[0]
    assert served in documented, (served, documented)


PHASES = "examples,coverage,fuzzing,stateful"
STRICT = ("not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,"
          "response_headers_conformance")


def test_every_phase_of_schemathesis_finds_nothing(live_api: str, tmp_path) -> None:
    """schemathesis's own runner with all four phases: the schema's examples, its coverage phase (boundary
    and invalid values, requests without credentials), random fuzzing and stateful sequences. No 5xx,
    every status documented, every body (422s included) and header as declared. ``make fuzz`` runs it
    with WIREWATCH_FUZZ_EXAMPLES=200. Not covered: the SSE streams (endless), POST /feeds (it fetches
    the URL it is given) and /readyz (503 by design while Kafka is down)."""
    n = max(EXAMPLES, 5)
    cmd = [str(Path(sys.executable).with_name("schemathesis")), "run", f"{live_api}/openapi.json", "--phases", PHASES,
           "--checks", STRICT, "-H", f"Authorization: Bearer {TOKEN}", "-n", str(n), "--seed", "7", "--no-color",
           "--exclude-path-regex", "/stream$", "--exclude-path", "/feeds", "--exclude-path", "/readyz",
           "--report", "junit", "--report-dir", str(tmp_path)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=900, cwd=tmp_path)
    tail = out.stdout[-6000:]
    assert out.returncode == 0, tail
    generated = re.search(r"(\d+) generated, (\d+) passed", out.stdout)
    assert generated and generated[1] == generated[2] and int(generated[1]) >= 300, tail
    for phase in ("Coverage", "Fuzzing", "Stateful"):
        assert re.search(rf"✅ {phase}", out.stdout), f"the {phase} phase did not run and pass:\n{tail}"
