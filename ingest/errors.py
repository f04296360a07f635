"""The one tree of ingest errors, so callers catch a whole category and branch on behaviour.

Every failure a feed can have ends as a ``FetchError`` with an ``error_class``
(the value stored in ``feeds.last_error_class``), a ``retriable`` flag and,
when the server said so, ``retry_after`` seconds.

``retriable`` is what the scheduler branches on (``ingest.service``): a retriable failure
(the network, a timeout, 408/425/429/5xx) backs off exponentially from the feed's interval,
as a passing fault deserves; a permanent one (the same request would fail the same way:
other 4xx, a refused target, an oversized or unparsable body, a redirect loop) goes straight
to the error ceiling (``poll_error_max_interval_s``) instead of being asked again soon.
The fetcher sets it from the exception's type, never from its message (``ingest.transport``).

    FetchError
    ├── DNSError          dns        name does not resolve
    ├── ConnectError      tcp        refused / reset / protocol garbage
    ├── TLSError          tls        handshake or certificate failure
    ├── FetchTimeout      timeout    connect, read or total deadline passed
    ├── HTTPStatusError   http       4xx/5xx (retriable for 408/429/5xx)
    ├── TooLarge          too_large  body or decompressed body over its limit
    ├── RedirectError     redirect   too many hops, loop, or a bad Location
    ├── Blocked           blocked    SSRF guard refused the target
    ├── ParseError        parse      not a feed (HTML page, junk, hostile DTD)
    └── EmptyBody         empty      200 with nothing in it
"""

from __future__ import annotations

ERROR_CLASSES = ("dns", "tcp", "tls", "timeout", "http", "too_large", "redirect", "blocked", "parse", "empty")


class FetchError(Exception):
    """Base of every ingest failure; ``error_class`` is what the feed row records."""

    error_class = "tcp"
    retriable = True

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None,
                 retriable: bool | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.retry_after = retry_after
        if retriable is not None:
            self.retriable = retriable

    def __str__(self) -> str:
        return self.message


class DNSError(FetchError):
    error_class = "dns"


class ConnectError(FetchError):
    error_class = "tcp"


class TLSError(FetchError):
    error_class = "tls"


class FetchTimeout(FetchError):
    error_class = "timeout"


class HTTPStatusError(FetchError):
    error_class = "http"


class TooLarge(FetchError):
    error_class = "too_large"
    retriable = False


class RedirectError(FetchError):
    error_class = "redirect"
    retriable = False


class Blocked(FetchError):
    error_class = "blocked"
    retriable = False


class ParseError(FetchError):
    error_class = "parse"
    retriable = False

    def __init__(self, message: str, *, feed_links: list[str] | None = None, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.feed_links = feed_links or []


class EmptyBody(ParseError):
    error_class = "empty"
