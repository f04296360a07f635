"""`make run` (deploy/stack.sh) runs one stack at a time: a second one says so and touches nothing."""

from __future__ import annotations

import fcntl
import os
import socket
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    # PY=/bin/false: were the script to go on and start anything, it would fail loudly, not start services.
    full = {**os.environ, "VAR": str(tmp_path), "PY": "/bin/false", "KAFKA_DATA_DIR": str(tmp_path / "kafka"), **env}
    return subprocess.run([str(ROOT / "deploy" / "stack.sh")], capture_output=True, text=True, env=full, timeout=30,
                          cwd=ROOT)


def test_a_second_stack_of_this_checkout_says_so_and_exits(tmp_path) -> None:
    with open(tmp_path / "stack.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        (tmp_path / "stack.pid").write_text("4242")
        out = _run(tmp_path)
    assert out.returncode == 1
    assert "already running" in out.stderr and "4242" in out.stderr and "nothing was started" in out.stderr
    assert not (tmp_path / "log" / "demo-feed.log").exists()


def test_a_busy_api_port_is_refused_before_anything_starts(tmp_path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        out = _run(tmp_path, WIREWATCH_API_PORT=str(port))
    assert out.returncode == 1 and f"127.0.0.1:{port} is already in use" in out.stderr
    assert not (tmp_path / "log" / "demo-feed.log").exists() and not (tmp_path / "stack.pid").exists()
