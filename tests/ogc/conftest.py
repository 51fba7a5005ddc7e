"""A database of its own for the interoperability tests: the demo layers on the real CBS
gemeenten, read from ``../shared/data`` when it is there (so the round trip can be compared
with that file; else the same polygons shipped with the package), served in-process
(``ogc_client``) and by uvicorn on 127.0.0.1 (``ogc_server``) for GDAL, owslib and QGIS."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine

from app.database import migrate
from layers.demo import DemoOptions, load_demo_data
from layers.importer import ImportPolicy
from tests.app.conftest import LiveServer, make_app
from tests.conftest import SHARED_DATA, create_database, drop_database

GEMEENTEN_GPKG = SHARED_DATA / "cbs_gemeenten_provincie_utrecht_2025.gpkg"
GEMEENTEN_LAYER = "gemeente_2025_utrecht"


@dataclass
class OgcDatabase:
    """The test database: URL, engine and whether the gemeenten are the real CBS ones."""

    url: str
    engine: Engine
    real_gemeenten: bool


@pytest.fixture(scope="session")
def ogc_db(pg_server) -> OgcDatabase:
    """Demo data (seed 2025) on the real gemeenten where available, in a database of its own."""
    name = f"ruimte_ogc_{os.getpid()}"
    url = create_database(pg_server, name)
    migrate(url)
    eng = create_engine(url, pool_size=10)
    real = GEMEENTEN_GPKG.exists()
    opts = DemoOptions(
        seed=2025,
        online=False,
        gemeenten_path=GEMEENTEN_GPKG if real else None,
        gemeenten_layer=GEMEENTEN_LAYER if real else None,
    )
    load_demo_data(eng, opts, ImportPolicy())
    yield OgcDatabase(url, eng, real)
    eng.dispose()
    drop_database(pg_server, name)


@pytest.fixture(scope="session")
def ogc_app(ogc_db):
    """The app on the OGC test database (no basemap, default settings)."""
    return make_app(ogc_db.engine)


@pytest.fixture(scope="session")
def ogc_client(ogc_app):
    """A TestClient on the app."""
    with TestClient(ogc_app) as c:
        yield c


@pytest.fixture(scope="session")
def ogc_server(ogc_app):
    """The app served by uvicorn on 127.0.0.1 (for clients that speak HTTP themselves)."""
    with LiveServer(ogc_app) as server:
        yield server


def gemeenten_source() -> Path:
    """The real gemeenten file (tests using it take the ``shared_data`` fixture, which skips)."""
    return GEMEENTEN_GPKG
