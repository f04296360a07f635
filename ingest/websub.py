"""WebSub (W3C PubSubHubbub) pure parts: hub discovery, subscription requests, signatures, leases.

The I/O lives elsewhere: the ingest service sends the subscription requests,
``api/routes_feeds.py`` answers the hub's verification and receives pushes.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta

from ingest.parse import ParsedFeed

ALGORITHMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}
_LINK = re.compile(r'<([^>]*)>\s*((?:;\s*[^;,]+)*)')


def parse_link_header(value: str) -> dict[str, str]:
    """rel → URL from an HTTP Link header (first URL per rel)."""
    out: dict[str, str] = {}
    for m in _LINK.finditer(value or ""):
        url, params = m.group(1).strip(), m.group(2)
        rel = re.search(r'rel\s*=\s*"?([^";]+)"?', params)
        if rel:
            for r in rel.group(1).split():
                out.setdefault(r.lower(), url)
    return out


def discover_hub(feed: ParsedFeed | None, headers: Mapping[str, str], feed_url: str) -> tuple[str | None, str]:
    """(hub URL, topic URL): HTTP Link headers win over the feed's own atom:link rel=hub/self."""
    links = parse_link_header(headers.get("link", ""))
    hub = links.get("hub") or (feed.hub_url if feed else None)
    topic = links.get("self") or (feed.self_url if feed else None) or feed_url
    return hub, topic


def new_secret() -> str:
    return secrets.token_hex(24)


def subscription_form(*, topic: str, callback: str, secret: str | None, lease_s: int,
                      mode: str = "subscribe") -> dict[str, str]:
    """The form body POSTed to the hub."""
    form = {"hub.mode": mode, "hub.topic": topic, "hub.callback": callback}
    if mode == "subscribe":
        form["hub.lease_seconds"] = str(lease_s)
        if secret:
            form["hub.secret"] = secret
    return form


def callback_url(public_url: str, feed_id: int) -> str:
    return f"{public_url.rstrip('/')}/websub/{feed_id}"


def sign(body: bytes, secret: str, algorithm: str = "sha256") -> str:
    """The X-Hub-Signature value a hub sends for ``body``."""
    return f"{algorithm}=" + hmac.new(secret.encode(), body, ALGORITHMS[algorithm]).hexdigest()


def verify_signature(body: bytes, header: str | None, secret: str | None) -> bool:
    """True when X-Hub-Signature (sha1/sha256/sha384/sha512=hex) matches the body under the secret."""
    if not header or not secret or "=" not in header:
        return False
    algorithm, _, digest = header.strip().partition("=")
    algo = ALGORITHMS.get(algorithm.lower())
    if algo is None:
        return False
    expected = hmac.new(secret.encode(), body, algo).hexdigest()
    return hmac.compare_digest(expected, digest.strip().lower())


def verify_intent(params: Mapping[str, str], *, topic: str, state: str | None) -> str | None:
    """The challenge to echo when the hub confirms an intent we have; None to refuse (404)."""
    mode = params.get("hub.mode", "")
    challenge = params.get("hub.challenge")
    if not challenge or params.get("hub.topic") != topic:
        return None
    if mode == "subscribe" and state in ("requested", "subscribed"):
        return challenge
    if mode == "unsubscribe" and state in ("unsubscribing", None, "failed", "denied"):
        return challenge
    return None


def lease_until(now: datetime, lease_seconds: str | int | None, default_s: int) -> datetime:
    """When the subscription lapses (the hub's lease, else ours)."""
    try:
        seconds = int(str(lease_seconds)) if lease_seconds not in (None, "") else default_s
    except ValueError:
        seconds = default_s
    return now + timedelta(seconds=max(60, seconds))


def renew_at(lease_end: datetime, renew_before_s: float) -> datetime:
    return lease_end - timedelta(seconds=renew_before_s)


def needs_renewal(now: datetime, lease_end: datetime | None, renew_before_s: float) -> bool:
    return lease_end is None or now >= renew_at(lease_end, renew_before_s)
