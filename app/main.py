"""The FastAPI application: ``create_app()`` builds it; ``ruimte serve`` runs it with uvicorn."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import xstatic.pkg.leaflet as xleaflet
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine

from app.api import api_router
from app.basemap import resolve_basemap
from app.database import get_engine
from app.errors import register_error_handlers
from app.settings import get_web_settings

STATIC_DIR = Path(__file__).parent / "static"
log = logging.getLogger("ruimte")


def create_app(engine: Engine | None = None) -> FastAPI:
    """Build the app; ``engine`` defaults to DATABASE_URL or the local cluster."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.engine = engine or get_engine()
        app.state.basemap = resolve_basemap(get_web_settings())
        log.info("basemap: %s", app.state.basemap.name if app.state.basemap else "none")
        yield

    app = FastAPI(
        title="Ruimte Circulair",
        summary="Kaartlagen, ruimtebeslag scenarios and maps for circular spatial planning in the province of Utrecht.",
        version=_version(),
        lifespan=lifespan,
        license_info={"name": "EUPL-1.2", "identifier": "EUPL-1.2"},
    )
    register_error_handlers(app)
    app.include_router(api_router)
    app.mount("/static/leaflet", StaticFiles(directory=xleaflet.BASE_DIR), name="leaflet")
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ruimte-circulair")
    except PackageNotFoundError:
        return "0+unknown"
