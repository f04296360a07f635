"""SSRF guard for every outbound request (feeds and webhooks).

Targets that resolve to loopback, private, link-local, multicast, reserved or
cloud-metadata addresses are refused unless the host or one of its addresses is
in an allowlist (``WIREWATCH_FEED_ALLOWED_HOSTS`` / ``WIREWATCH_WEBHOOK_ALLOWED_HOSTS``:
host names or CIDRs). The check runs at send time, after DNS, on every address
the name resolves to; callers then connect to the checked address family.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class BlockedTarget(Exception):
    """The URL points somewhere Wirewatch must not connect to (not retriable)."""

    retriable = False


def _networks(allowed: Sequence[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    nets = []
    for entry in allowed:
        try:
            nets.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            continue
    return nets


def is_public(addr: IPAddress) -> bool:
    """True when the address is globally routable and not a metadata endpoint."""
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return is_public(addr.ipv4_mapped)
    return not (
        addr.is_loopback
        or addr.is_private
        or addr.is_link_local
        or addr.is_multicast
        or addr.is_reserved
        or addr.is_unspecified
        or not addr.is_global
    )


def address_allowed(host: str, addr: IPAddress, allowed: Sequence[str]) -> bool:
    """Public addresses always pass; others only when their host or a CIDR is allowlisted."""
    if is_public(addr):
        return True
    if host.lower().rstrip(".") in {a for a in allowed if "/" not in a}:
        return True
    if str(addr) in allowed:
        return True
    return any(addr in net for net in _networks(allowed) if net.version == addr.version)


async def resolve(host: str, port: int) -> list[IPAddress]:
    """All addresses a name resolves to (an IP literal resolves to itself)."""
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos))


FEEDS = "WIREWATCH_FEED_ALLOWED_HOSTS"
WEBHOOKS = "WIREWATCH_WEBHOOK_ALLOWED_HOSTS"


async def check_url(url: str, allowed: Sequence[str], *, setting: str = FEEDS) -> list[IPAddress]:
    """Raise BlockedTarget unless every address of the URL's host may be contacted; the message names
    ``setting``, the variable that would allowlist it."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise BlockedTarget(f"scheme {parts.scheme!r} is not allowed (http/https only)")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise BlockedTarget("URL has no host")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addrs = await resolve(host, port)
    except OSError as exc:
        raise OSError(f"DNS lookup failed for {host}: {exc}") from exc
    for addr in addrs:
        if not address_allowed(host, addr, allowed):
            raise BlockedTarget(f"{host} resolves to non-public address {addr}; to permit it, add {host} "
                                f"(or its network) to {setting}")
    return addrs


def _literal_address(host: str) -> IPAddress | None:
    """The address a host literal denotes, including the legacy IPv4 spellings resolvers accept
    ("127.1", "2130706433", "0x7f.0.0.1", "0177.0.0.1"); None for a name."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    if host and all(part and (part.isdigit() or part.lower().startswith("0x")) for part in host.split(".")):
        try:
            return ipaddress.ip_address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def check_url_static(url: str, allowed: Sequence[str], *, setting: str = FEEDS) -> None:
    """Refuse an obviously internal target at registration time (the send-time check still runs)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BlockedTarget("URL must be http(s) with a host")
    host = parts.hostname.rstrip(".").lower()
    addr = _literal_address(host)
    if addr is None:
        if (host == "localhost" or host.endswith(".localhost")) and not address_allowed(
            host, ipaddress.ip_address("127.0.0.1"), allowed
        ):
            raise BlockedTarget(f"{host} is a loopback name; to permit it, add {host} to {setting}")
        return
    if not address_allowed(host, addr, allowed):
        raise BlockedTarget(f"{host} is a non-public address ({addr}); to permit it, add {host} to {setting}")
