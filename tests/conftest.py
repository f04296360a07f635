"""Session fixtures: one real Kafka broker and one real PostgreSQL per test run, started by the
project's own scripts on free ports with their own data dirs, and stopped at the end."""

from __future__ import annotations

import os
import socket
import subprocess
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from services.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
TEST_VAR = ROOT / "var" / "test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def run_id() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture(scope="session")
def kafka_bootstrap(run_id: str) -> Iterator[str]:
    """A real single-node Kafka (KRaft) started by deploy/kafka.sh for this test session."""
    external = os.environ.get("WIREWATCH_TEST_KAFKA_BOOTSTRAP")
    if external:
        yield external
        return
    port, cport = free_port(), free_port()
    data = TEST_VAR / f"kafka-{run_id}"
    env = {**os.environ, "KAFKA_PORT": str(port), "KAFKA_CONTROLLER_PORT": str(cport), "KAFKA_HEAP": "384m"}
    subprocess.run([str(ROOT / "deploy" / "kafka.sh"), "start", str(data)], check=True, env=env)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        # The session's broker is thrown away with its data: no controlled shutdown to wait for.
        subprocess.run([str(ROOT / "deploy" / "kafka.sh"), "stop", str(data)], check=False,
                       env={**env, "KAFKA_STOP_GRACE_S": "0"})


@pytest.fixture(scope="session")
def pg_server(run_id: str) -> Iterator[str]:
    """A real PostgreSQL started by deploy/postgres.sh; yields its base URL (without database)."""
    external = os.environ.get("WIREWATCH_TEST_PG_URL")
    if external:
        yield external.rsplit("/", 1)[0]
        return
    port = free_port()
    data = Path(f"/tmp/wirewatch-pg-{run_id}")  # short path: the socket lives in the data dir
    env = {**os.environ, "PG_PORT": str(port)}
    out = subprocess.run([str(ROOT / "deploy" / "postgres.sh"), "start", str(data)], check=True, env=env,
                         capture_output=True, text=True)
    url = out.stdout.strip().splitlines()[-1]
    try:
        yield url.rsplit("/", 1)[0]
    finally:
        subprocess.run([str(ROOT / "deploy" / "postgres.sh"), "stop", str(data)], check=False, env=env)
        subprocess.run(["rm", "-rf", str(data)], check=False)


async def _create_pg_database(base_url: str) -> str:
    import asyncpg

    name = f"t_{uuid.uuid4().hex[:12]}"
    dsn = base_url.replace("postgresql+asyncpg://", "postgresql://") + "/postgres"
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return f"{base_url}/{name}"


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Settings for a test: its own var dir and SQLite file unless overridden."""

    def _make(**overrides: Any) -> Settings:
        base: dict[str, Any] = {
            "env": "test",
            "var_dir": tmp_path / "var",
            "log_json": False,
            "admin_token": "test-admin-token-0123456789",
            "feed_allowed_hosts": ["127.0.0.1", "localhost"],
            "webhook_allowed_hosts": ["127.0.0.1", "localhost"],
            "feeds_opml": tmp_path / "empty.opml",
        }
        base.update(overrides)
        return Settings(**base)

    return _make


@pytest_asyncio.fixture(params=["sqlite", "postgres"])
async def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A migrated, empty store on each backend: the same tests run on SQLite and PostgreSQL."""
    from services.db.migrate import upgrade_async

    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"
    else:
        url = await _create_pg_database(request.getfixturevalue("pg_server"))
    await upgrade_async(Settings(), url=url)
    yield url


@pytest.fixture
def unique_topics(run_id: str) -> dict[str, str]:
    """Topic names no other test uses, so tests on one broker never see each other's records."""
    suffix = uuid.uuid4().hex[:8]
    return {
        "topic_raw": f"t{suffix}.articles.raw",
        "topic_enriched": f"t{suffix}.articles.enriched",
        "topic_feeds": f"t{suffix}.feeds.assign",
        "group_enrich": f"g{suffix}-enrich",
        "group_sink": f"g{suffix}-sink",
        "group_webhooks": f"g{suffix}-webhooks",
        "group_ingest": f"g{suffix}-ingest",
        "group_tracker": f"g{suffix}-tracker",
    }


# --- running the suite on two workers (pytest-xdist, `make test`) -------------------------------------------
# Tests that start whole stacks of service processes with deadlines to meet, or drive a browser, run one after
# another on one worker (the "live-stacks" scope): two of them at once on two cores would make each other miss
# their deadlines. Every other test runs with the rest of its file (module-scoped fixtures are set up once), on
# whichever worker is free. (A scheduler rather than xdist_group marks: pytest 9.2 keeps test ids where
# pytest-xdist 3.8 can no longer append the group to them.)
LIVE_STACKS = ("tests/chaos/", "tests/browser/", "tests/security/test_live_stack.py")


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's hook; without xdist the suite runs serially
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    from xdist.scheduler import LoadScopeScheduling

    class LiveStacksApart(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return "live-stacks" if path.startswith(LIVE_STACKS) else path

    return LiveStacksApart(config, log)
