#!/opt/venv/bin/python
"""Container HEALTHCHECK for every Wirewatch service (no curl in python:slim).

GETs http://127.0.0.1:<port>/healthz where <port> is WIREWATCH_API_PORT for the
API (PID 1 is `wirewatch run api`) and WIREWATCH_METRICS_PORT for the workers.
A worker without a metrics port has no HTTP endpoint; it is then reported
healthy as long as PID 1 is alive (the container would not exist otherwise).
Usage: wirewatch-healthcheck [PORT]
"""

from __future__ import annotations

import os
import sys
import urllib.request


def _pid1_args() -> list[str]:
    try:
        with open("/proc/1/cmdline", "rb") as fh:
            return [a.decode() for a in fh.read().split(b"\0") if a]
    except OSError:
        return []


def main() -> int:
    if len(sys.argv) > 1:
        port = sys.argv[1]
    elif "api" in _pid1_args()[-2:]:
        port = os.environ.get("WIREWATCH_API_PORT", "8000")
    else:
        port = os.environ.get("WIREWATCH_METRICS_PORT", "0")
    if port in ("", "0"):
        return 0
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=4) as resp:
            return 0 if resp.status == 200 else 1
    except Exception as exc:  # any failure = unhealthy
        print(f"healthcheck: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
