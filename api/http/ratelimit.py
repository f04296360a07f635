"""Per-client rate limiting of the public endpoints: a token bucket per reader token or client IP.

WIREWATCH_RATE_LIMIT_PER_MINUTE requests a minute on average, bursts up to the same number;
0 turns it off (the app context then holds no limiter). A client over its budget gets 429 with
Retry-After. Buckets live in the process (each API replica limits on its own). The guard of a
public route (this limit, then the read token) is ``api.http.deps.PublicDep``.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from dataclasses import dataclass

from fastapi import HTTPException, Request

MAX_CLIENTS = 50_000


@dataclass
class Bucket:
    tokens: float
    at: float


class RateLimiter:
    """Token buckets keyed by client; ``take`` returns 0 when allowed, else seconds until it would be."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self._buckets: dict[str, Bucket] = {}

    def take(self, key: str, now: float) -> float:
        b = self._buckets.get(key)
        if b is None:
            if len(self._buckets) >= MAX_CLIENTS:
                self._prune(now)
            b = self._buckets[key] = Bucket(self.capacity, now)
        b.tokens = min(self.capacity, b.tokens + (now - b.at) * self.rate)
        b.at = now
        if b.tokens >= 1:
            b.tokens -= 1
            return 0.0
        return (1 - b.tokens) / self.rate

    def _prune(self, now: float) -> None:
        """Forget clients whose bucket has refilled (they would start full anyway), else the oldest half."""
        full = [k for k, b in self._buckets.items() if b.tokens + (now - b.at) * self.rate >= self.capacity]
        for k in full or sorted(self._buckets, key=lambda k: self._buckets[k].at)[: len(self._buckets) // 2]:
            del self._buckets[k]


def client_key(request: Request, token: str | None, valid_tokens: list[str], admin: bool) -> str:
    """A configured reader (or admin) token identifies the client; anything else counts by IP,
    so inventing tokens buys no extra budget."""
    if token and (admin or any(hmac.compare_digest(token.encode(), t.encode()) for t in valid_tokens)):
        return "t:" + hashlib.sha256(token.encode()).hexdigest()[:24]
    return "ip:" + (request.client.host if request.client else "unknown")


def check_rate(limiter: RateLimiter, key: str) -> None:
    """Take one request from the client's bucket; 429 with Retry-After when it is empty."""
    wait = limiter.take(key, time.monotonic())
    if wait > 0:
        raise HTTPException(429, f"rate limit of {limiter.per_minute} requests per minute exceeded; retry later",
                            headers={"Retry-After": str(max(1, math.ceil(wait)))})
