"""Stable identifiers: canonical URLs and the article id every stage keys on.

An article is the same article whichever feed it came from and whatever
tracking parameters were glued to its link, so its id is a hash of the
canonical URL (else of the feed GUID). Pure functions, no I/O.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

# Query parameters that only track the reader; removing them never changes the page.
TRACKING_PARAMS = re.compile(
    r"^(utm_[a-z_]+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|mc_cid|mc_eid|yclid|igshid|_hsenc|_hsmi|"
    r"ocid|cmpid|ncid|ito|at_medium|at_campaign|at_custom\d|cid|ref|ref_src|rss|feed|smid|partner|"
    r"taid|mbid|guccounter|guce_referrer|guce_referrer_sig|s_cid|spm)$",
    re.IGNORECASE,
)


@lru_cache(maxsize=65_536)
def canonical_url(url: str) -> str:
    """Lower-case scheme/host, drop default ports, fragments and tracking parameters, sort the query."""
    url = url.strip()
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return url
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not TRACKING_PARAMS.match(k)]
    cleaned = urlunsplit((parts.scheme, parts.netloc, parts.path or "/", urlencode(query), ""))
    canon = canonicalize_url(cleaned, keep_fragments=False)
    # w3lib keeps the explicit default port and leaves "http" vs "https" alone (they may differ).
    parts = urlsplit(canon)
    host = (parts.hostname or "").lower().rstrip(".")
    port = parts.port
    if port is not None and not ((parts.scheme == "http" and port == 80) or (parts.scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    userinfo = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    return urlunsplit((parts.scheme.lower(), userinfo + host, parts.path, parts.query, ""))


def _digest(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()[:32]


def article_id(*, link: str | None, guid: str | None, feed_url: str = "") -> str:
    """The stable article id: a hash of the canonical link, else of the GUID scoped to its feed."""
    if link and urlsplit(link).scheme in ("http", "https"):
        return _digest("url", canonical_url(link))
    if guid:
        # A GUID is only unique within its feed unless it is itself a URL.
        if urlsplit(guid).scheme in ("http", "https"):
            return _digest("url", canonical_url(guid))
        return _digest("guid", f"{canonical_url(feed_url)}#{guid.strip()}")
    raise ValueError("an article needs a link or a guid to be identified")


def title_key(title: str) -> str:
    """A normalised title used to spot the same story syndicated under another URL."""
    words = re.findall(r"\w+", title.casefold())
    return hashlib.sha256(" ".join(words).encode()).hexdigest()[:32] if words else ""


def content_hash(*parts: str) -> str:
    """A short hash of an article's visible content, to tell an update from a replay."""
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode("utf-8", "replace"))
        h.update(b"\x00")
    return h.hexdigest()[:32]
