"""The FastAPI application: ``create_app()`` builds it; ``ruimte serve`` runs it with uvicorn."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import xstatic.pkg.leaflet as xleaflet
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from sqlalchemy import Engine

from app.api import api_router
from app.basemap import resolve_basemap
from app.database import get_engine
from app.errors import register_error_handlers
from app.guards import RequestGuards, SecurityHeaders
from app.http_extras import install_http_extras
from app.openapi import install_openapi
from app.ratelimit import RateLimiter
from app.session import SessionSigner
from app.settings import (
    AuthSettings,
    PlanningSettings,
    WebSettings,
    WorkArea,
    get_auth_settings,
    get_planning_settings,
    get_web_settings,
    get_work_area,
)
from app.static_files import STATIC_DIR, VersionedStatic
from app.text_guard import RequestTextGuard
from app.tile_cache import TileCache
from app.warm_tiles import WarmTiles, dispose_check_engine

log = logging.getLogger("ruimte")


def create_app(
    engine: Engine | None = None,
    *,
    web: WebSettings | None = None,
    auth: AuthSettings | None = None,
    planning: PlanningSettings | None = None,
    work_area: WorkArea | None = None,
) -> FastAPI:
    """Build the app; ``engine`` defaults to DATABASE_URL or the local cluster, settings (and
    the work area, ``RUIMTE_WORK_AREA``) to the environment (tests pass their own)."""
    area = work_area or get_work_area()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.engine = engine or get_engine()
        app.state.basemap = resolve_basemap(app.state.web)
        log.info("basemap: %s", app.state.basemap.name if app.state.basemap else "none")
        yield
        dispose_check_engine(app.state)

    app = FastAPI(
        title="Ruimte Circulair",
        summary="Kaartlagen, ruimtebeslag scenarios and maps for circular spatial planning "
        f"in {area.title} ({area.statcode}).",
        version=_version(),
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        license_info={"name": "EUPL-1.2", "identifier": "EUPL-1.2"},
    )
    app.state.work_area = area
    app.state.web = web or get_web_settings()
    app.state.auth = auth or get_auth_settings()
    app.state.rate_limiter = RateLimiter(app.state.auth.write_rate_per_minute)
    max_age = int(app.state.auth.session_hours * 3600)
    secret = app.state.auth.session_secret
    app.state.sessions = (
        SessionSigner(secret, max_age) if secret else SessionSigner.ephemeral(max_age)
    )
    app.state.planning = planning or get_planning_settings()
    app.state.tile_cache = TileCache(app.state.web.tile_cache_mb * 2**20)
    register_error_handlers(app)
    # A cached public tile, answered before routing (innermost: every guard below applies).
    app.add_middleware(WarmTiles)
    # URL length, Host / public URL, download limits (inside the security headers).
    app.add_middleware(RequestGuards, web=app.state.web)
    app.add_middleware(SecurityHeaders)
    app.include_router(api_router)
    app.add_middleware(RequestTextGuard)
    install_http_extras(app)  # HEAD on every GET; CORS when RUIMTE_WEB_CORS_ORIGINS is set
    install_openapi(app)

    @app.get("/api-docs", include_in_schema=False)
    def api_docs() -> HTMLResponse:
        """Swagger UI served from this app (no CDN, no inline script)."""
        return HTMLResponse(SWAGGER_PAGE)

    # Asset URLs carry their content hash (app.static_files.asset_url): kept for a year.
    app.mount("/static/leaflet", VersionedStatic(directory=xleaflet.BASE_DIR), name="leaflet")
    app.mount("/static", VersionedStatic(directory=STATIC_DIR), name="static")
    return app


#: The Swagger UI page: its set-up is a file (static/swagger-init.js), so the CSP needs no nonce.
SWAGGER_PAGE = """<!DOCTYPE html>
<html lang="nl">
<head>
<meta charset="utf-8">
<title>Ruimte Circulair – API</title>
<link rel="icon" href="/favicon.ico" type="image/svg+xml">
<link rel="stylesheet" href="/static/vendor/swagger-ui/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/static/vendor/swagger-ui/swagger-ui-bundle.js"></script>
<script src="/static/swagger-init.js"></script>
</body>
</html>
"""


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ruimte-circulair")
    except PackageNotFoundError:
        return "0+unknown"
