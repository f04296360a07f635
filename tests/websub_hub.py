"""A real WebSub hub on loopback for the interop test: Flask-WebSub's hub (PyPI), not our own test hub.

Run as ``python -m tests.websub_hub --port N --db PATH``. Celery runs its tasks eagerly (no broker), so
a subscription is verified against the subscriber's callback before the hub answers, and a publish
(``hub.mode=publish``, enabled here for the test) fetches the topic and delivers it signed (sha512) to
every subscriber. Outbound requests go only to the loopback farm and API of the test.
"""

from __future__ import annotations

import argparse

from celery import Celery
from flask import Flask
from flask_websub.hub import Hub, SQLite3HubStorage


def make_app(db: str) -> Flask:
    app = Flask(__name__)
    app.config["PUBLISH_SUPPORTED"] = True  # the test publishes through the hub's own endpoint
    celery = Celery("websub_hub")
    celery.conf.task_always_eager = True
    celery.conf.task_eager_propagates = False
    hub = Hub(SQLite3HubStorage(db), celery, REQUEST_TIMEOUT=5, HUB_MIN_LEASE_SECONDS=60, MAX_ATTEMPTS=2,
              BACKOFF_BASE=0.1, PUBLISH_SUPPORTED=True)
    app.register_blueprint(hub.build_blueprint(url_prefix="/hub"))
    app.add_url_rule("/healthz", "healthz", lambda: "ok")
    return app


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--db", required=True)
    args = p.parse_args()
    make_app(args.db).run(host="127.0.0.1", port=args.port, threaded=True)


if __name__ == "__main__":
    main()
