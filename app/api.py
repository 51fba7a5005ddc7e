"""All routers, included in one place."""

from __future__ import annotations

from fastapi import APIRouter

from app.routes import (
    beheer,
    health,
    layers,
    monitor,
    monitor_api,
    ogc,
    ogc_tiles,
    ogc_transactions,
    pages,
    qgis,
    scenario_pages,
    scenarios,
    session,
    styles,
    tiles,
)

api_router = APIRouter()
api_router.include_router(health.router)
api_router.include_router(layers.router)
api_router.include_router(pages.router)
api_router.include_router(session.router)
api_router.include_router(beheer.router)
api_router.include_router(scenarios.router)
api_router.include_router(scenario_pages.router)
api_router.include_router(monitor.router)
api_router.include_router(monitor_api.router)
api_router.include_router(ogc.router)
api_router.include_router(ogc_transactions.router)
api_router.include_router(ogc_tiles.router)
api_router.include_router(tiles.router)
api_router.include_router(styles.router)
api_router.include_router(qgis.router)
