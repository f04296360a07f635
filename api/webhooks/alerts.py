"""Alert channels through Apprise: Slack, Teams, Telegram, Discord, Matrix, Mattermost, ntfy, Gotify,
e-mail over SMTP, and the generic json:// and form:// targets.

An alert is a subscription whose target is an Apprise URL instead of an http(s) Standard Webhooks URL;
it shares the delivery rows, the log, retries, dead letters and replay with webhooks (the dispatcher's
Sender calls :func:`send` instead of a signed POST). The SSRF policy applies to the host a target will
contact when that host is in the URL (self-hosted services and SMTP servers); hosted services (Slack,
Telegram, …) talk to their public APIs. Apprise is synchronous (requests/smtplib): each send runs in a
worker thread with the webhook timeout.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

from api.webhooks.messages import render
from services import netguard

SELF_HOSTED = frozenset({"NotifyJSON", "NotifyForm", "NotifyXML", "NotifyNtfy", "NotifyGotify", "NotifyMattermost",
                         "NotifyMatrix", "NotifyEmail", "NotifyApprise"})


class BadTarget(ValueError):
    """Not an Apprise URL this server can send to."""


def is_alert(url: str) -> bool:
    """An alert target (Apprise URL), as opposed to an http(s) webhook."""
    return urlsplit(url).scheme.lower() not in ("http", "https")


def _plugin(url: str) -> Any:
    import apprise  # imported where alerts are used: a webhook-only dispatcher never pays for it

    obj = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    if obj is None:
        raise BadTarget("not an Apprise URL Wirewatch can send to (see https://github.com/caronc/apprise/wiki)")
    return obj


def contacted_host(url: str) -> str | None:
    """The host a target will connect to when the URL names it (SMTP server, self-hosted service)."""
    obj = _plugin(url)
    if type(obj).__name__ not in SELF_HOSTED:
        return None
    return str(getattr(obj, "smtp_host", None) or getattr(obj, "host", "") or "") or None


def check_static(url: str, allowed: list[str]) -> None:
    """Refuse at registration: unknown schemes, and internal hosts not allowlisted."""
    host = contacted_host(url)
    if host:
        netguard.check_url_static(f"http://{host}/", allowed, setting=netguard.WEBHOOKS)


async def send(url: str, payload: dict[str, Any], *, allowed: list[str], timeout_s: float) -> str | None:
    """Send one event; None on success, else the error to record (the caller retries as for webhooks)."""
    host = await asyncio.to_thread(contacted_host, url)
    if host:
        await netguard.check_url(f"http://{host}/", allowed, setting=netguard.WEBHOOKS)
    title, body = render(payload)

    def notify() -> bool:
        import apprise

        box = apprise.Apprise()
        box.add(url)
        return bool(box.notify(title=title, body=body, body_format=apprise.NotifyFormat.MARKDOWN))

    try:
        ok = await asyncio.wait_for(asyncio.to_thread(notify), timeout_s)
    except TimeoutError:
        return f"timed out after {timeout_s:g} s"
    return None if ok else "the channel refused or could not be reached (see the dispatcher log)"
