"""Fixtures of the fault-injection suite: a private Kafka broker and a private PostgreSQL that a test
may stop and start without disturbing the session's shared ones."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT, TEST_VAR, free_port


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "chaos: fault injection against a live stack (WIREWATCH_CHAOS=long for N>=2000)")


@dataclass
class Broker:
    """A Kafka broker on its own ports and data dir, started and stopped by deploy/kafka.sh."""

    data: Path
    port: int
    cport: int

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _env(self) -> dict[str, str]:
        return {**os.environ, "KAFKA_PORT": str(self.port), "KAFKA_CONTROLLER_PORT": str(self.cport),
                "KAFKA_HEAP": "384m"}

    def start(self) -> None:
        subprocess.run([str(ROOT / "deploy" / "kafka.sh"), "start", str(self.data)], check=True, env=self._env(),
                       capture_output=True)

    def stop(self) -> None:
        subprocess.run([str(ROOT / "deploy" / "kafka.sh"), "stop", str(self.data)], check=False, env=self._env(),
                       capture_output=True)


@dataclass
class Postgres:
    """A PostgreSQL server on its own port and data dir, started and stopped by deploy/postgres.sh."""

    data: Path
    port: int
    url: str = ""

    def _env(self) -> dict[str, str]:
        return {**os.environ, "PG_PORT": str(self.port), "PG_DB": "chaos"}

    def start(self) -> None:
        out = subprocess.run([str(ROOT / "deploy" / "postgres.sh"), "start", str(self.data)], check=True,
                             env=self._env(), capture_output=True, text=True)
        self.url = out.stdout.strip().splitlines()[-1]

    def stop(self) -> None:
        subprocess.run([str(ROOT / "deploy" / "postgres.sh"), "stop", str(self.data)], check=False, env=self._env(),
                       capture_output=True)


@pytest.fixture
def own_broker() -> Iterator[Broker]:
    broker = Broker(TEST_VAR / f"chaos-kafka-{uuid.uuid4().hex[:8]}", free_port(), free_port())
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()
        subprocess.run(["rm", "-rf", str(broker.data)], check=False)


@pytest.fixture
def own_postgres() -> Iterator[Postgres]:
    pg = Postgres(Path(f"/tmp/ww-chaos-pg-{uuid.uuid4().hex[:8]}"), free_port())
    pg.start()
    try:
        yield pg
    finally:
        pg.stop()
        subprocess.run(["rm", "-rf", str(pg.data)], check=False)
