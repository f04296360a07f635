"""FastAPI dependencies (settings, DB sessions, admin guard, public guard) as short Annotated aliases;
the read-token check and the one same-origin rule for the admin cookie."""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from api.http.context import context_of
from api.http.ratelimit import check_rate, client_key
from services.settings import Settings

_bearer = HTTPBearer(auto_error=False)


async def get_settings(request: Request) -> Settings:
    return context_of(request).settings


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with context_of(request).sessions() as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def token_from(request: Request, creds: HTTPAuthorizationCredentials | None) -> str | None:
    """The bearer token, else the dashboard's session cookie."""
    if creds is not None:
        return creds.credentials
    return request.cookies.get("wirewatch_admin")


def is_admin(settings: Settings, token: str | None) -> bool:
    """Constant-time check; with no admin token configured nobody is admin."""
    if not settings.admin_token or not token:
        return False
    return hmac.compare_digest(token.encode(), settings.admin_token.encode())


def same_origin(request: Request, settings: Settings) -> bool:
    """The CSRF rule for anything the admin cookie can do (with SameSite=Strict as the first line):
    the request's Origin, else its Referer, is an absolute URL on this site: the Host it was sent to,
    or WIREWATCH_PUBLIC_URL's host (behind a proxy that rewrites Host)."""
    parts = urlsplit(request.headers.get("origin") or request.headers.get("referer") or "")
    ours = {request.headers.get("host", "")} - {""}
    if settings.public_url:
        ours.add(urlsplit(settings.public_url).netloc)
    return bool(parts.scheme) and parts.netloc in ours


async def require_admin(request: Request, settings: SettingsDep, creds: Credentials) -> None:
    if not settings.admin_token:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "admin endpoints are disabled: set WIREWATCH_ADMIN_TOKEN to enable them",
        )
    if not is_admin(settings, token_from(request, creds)):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing or wrong admin token (send Authorization: Bearer $WIREWATCH_ADMIN_TOKEN)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if creds is None and request.method not in ("GET", "HEAD") and not same_origin(request, settings):
        # The dashboard's cookie may only drive writes from our own pages (CSRF guard).
        raise HTTPException(status.HTTP_403_FORBIDDEN, "cross-origin write with a session cookie refused")


def reader_token(request: Request, creds: HTTPAuthorizationCredentials | None) -> str | None:
    """The token a public request carries: bearer, dashboard cookie, or ?token= (for feed readers)."""
    return token_from(request, creds) or request.query_params.get("token")


def check_reader(settings: Settings, token: str | None) -> None:
    """Public endpoints are open unless read tokens are configured; the admin token always reads."""
    if not settings.read_tokens:
        return
    if token and (is_admin(settings, token) or any(
        hmac.compare_digest(token.encode(), t.encode()) for t in settings.read_tokens
    )):
        return
    raise HTTPException(status.HTTP_401_UNAUTHORIZED, "a read token is required",
                        headers={"WWW-Authenticate": "Bearer"})


async def public_access(request: Request, creds: Credentials) -> None:
    """The guard of every public route, as one dependency: the rate limit first (so guessing tokens spends
    the caller's budget), then the read token. One dependency, not two: each costs FastAPI work on every
    request."""
    ctx = context_of(request)
    settings, limiter = ctx.settings, ctx.rate_limiter
    if limiter is None and not settings.read_tokens:
        return
    token = reader_token(request, creds)
    if limiter is not None:
        check_rate(limiter, client_key(request, token, settings.read_tokens, is_admin(settings, token)))
    check_reader(settings, token)


AdminDep = Depends(require_admin)
PublicDep = Depends(public_access)
