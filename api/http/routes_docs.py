"""The API's own reference pages (/docs, /redoc) and the front door (/ -> the dashboard).

Why own routes: FastAPI's default pages load Swagger UI and ReDoc from a CDN, so they are blank
offline. These serve the same pages with the assets ``deploy/ui/build.sh`` vendors from npm into
``/static/vendor/``.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, RedirectResponse

router = APIRouter(include_in_schema=False)
VENDOR = "/static/vendor"


@router.get("/")
async def front_door() -> RedirectResponse:
    return RedirectResponse("/dashboard", status_code=307)


@router.get("/docs")
async def swagger_ui() -> HTMLResponse:
    return get_swagger_ui_html(openapi_url="/openapi.json", title="Wirewatch API",
                               swagger_js_url=f"{VENDOR}/swagger-ui-bundle.js",
                               swagger_css_url=f"{VENDOR}/swagger-ui.css", swagger_favicon_url="/static/favicon.svg")


@router.get("/redoc")
async def redoc() -> HTMLResponse:
    return get_redoc_html(openapi_url="/openapi.json", title="Wirewatch API", redoc_js_url=f"{VENDOR}/redoc.standalone.js",
                          redoc_favicon_url="/static/favicon.svg", with_google_fonts=False)
