"""FastAPI dependencies (settings, DB sessions, admin guard) as short Annotated aliases; the read-token check."""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from services.settings import Settings

_bearer = HTTPBearer(auto_error=False)


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.sessions() as session:
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
    if creds is None and request.method not in ("GET", "HEAD") and not same_origin(request):
        # The dashboard's cookie may only drive writes from our own pages (CSRF guard).
        raise HTTPException(status.HTTP_403_FORBIDDEN, "cross-origin write with a session cookie refused")


def same_origin(request: Request) -> bool:
    origin = request.headers.get("origin") or request.headers.get("referer") or ""
    host = request.headers.get("host", "")
    return bool(host) and origin.split("://", 1)[-1].split("/", 1)[0] == host


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


AdminDep = Depends(require_admin)
