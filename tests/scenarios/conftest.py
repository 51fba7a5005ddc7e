"""Databases with demo data for the scenario tests, each created once per test run.

- ``demo_db``: the demo (on the CBS 2025 gemeenten shipped with the package), for the CLI
  and store tests;
- ``real_db``: the real CBS gemeenten and Natura 2000 (``../shared/data``) with demo
  layers on them, plus a second version of the bedrijventerreinen that adds two terreinen
  straddling gemeente borders (so splitting by area is exercised, and version pinning).

They are databases of their own, so the ``db`` fixture's truncation does not touch them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from sqlalchemy import Engine, create_engine, text

from app.database import migrate
from app.settings import WorkAreaSettings
from layers.demo import DemoOptions, load_demo_data
from layers.importer import ImportPolicy, ImportRequest, PrepareOptions, import_file
from layers.store import read_features
from tests.conftest import ROOT, create_database, drop_database

SEED = 2025
#: Two terreinen laid across gemeente borders: (statcode A, statcode B, naam, category).
BORDER_TERREINEN = (
    ("GM0344", "GM0356", "Grensterrein Utrecht-Nieuwegein", "4.2"),
    ("GM0307", "GM0327", "Grensterrein Amersfoort-Leusden", "3.2"),
)


def policy() -> ImportPolicy:
    """The import policy of the default settings (the province's work area)."""
    province = WorkAreaSettings(_env_file=None).resolve()
    return ImportPolicy(work_area=province.work_area, work_area_name="the province of Utrecht")


@dataclass
class DemoDatabase:
    """A database with demo data: its URL and an engine."""

    url: str
    engine: Engine

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run ``ruimte ARGS`` against this database."""
        env = dict(os.environ, DATABASE_URL=self.url, COLUMNS="200")
        proc = subprocess.run(
            [sys.executable, "-m", "app.cli", *map(str, args)],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"ruimte {' '.join(map(str, args))} failed:\n{proc.stdout}\n{proc.stderr}"
            )
        return proc

    def rows(self, sql: str, **params) -> list:
        """Rows of a SQL query."""
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).all()

    def scalar(self, sql: str, **params):
        """One value of a SQL query."""
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar_one()


def _database(pg_server: str, suffix: str) -> tuple[str, str]:
    name = f"ruimte_test_scen_{suffix}_{os.getpid()}"
    url = create_database(pg_server, name)
    migrate(url)
    return name, url


@pytest.fixture(scope="session")
def demo_db(pg_server):
    """The demo data (seed 2025), offline."""
    name, url = _database(pg_server, "demo")
    eng = create_engine(url)
    load_demo_data(eng, DemoOptions(seed=SEED, online=False), policy())
    yield DemoDatabase(url, eng)
    eng.dispose()
    drop_database(pg_server, name)


def _border_terreinen(eng: Engine, shared_data: Path, tmp: Path) -> Path:
    """The demo terreinen plus two across gemeente borders, as a GeoPackage."""
    with eng.connect() as conn:
        current = read_features(conn, "bedrijventerreinen")
        gem = read_features(conn, "gemeenten")
    frame = gpd.GeoDataFrame(current.properties, geometry=list(current.geometries), crs=28992)
    by_code = dict(zip(gem.properties["statcode"], gem.geometries, strict=True))
    taken = shapely.union_all(current.geometries)
    extra = []
    for a, b, naam, cat in BORDER_TERREINEN:
        border = shapely.intersection(shapely.boundary(by_code[a]), shapely.boundary(by_code[b]))
        for frac in (0.5, 0.3, 0.7, 0.2, 0.8):
            p = (
                shapely.line_interpolate_point(shapely.line_merge(border), frac, normalized=True)
                if border.geom_type != "Point"
                else border
            )
            box = shapely.box(p.x - 200, p.y - 150, p.x + 200, p.y + 150)
            inside = shapely.area(shapely.intersection(box, shapely.union(by_code[a], by_code[b])))
            if box.disjoint(taken) and abs(inside - box.area) < 1e-3:
                break
        else:
            raise AssertionError(f"no free border spot between {a} and {b}")
        bruto = round(box.area / 10_000, 2)
        extra.append(
            {
                "naam": naam,
                "gemeente": a,
                "bruto_ha": bruto,
                "netto_ha": 10.0,
                "uitgegeven_ha": 7.0,
                "uitgeefbaar_ha": 3.0,
                "max_milieucategorie": cat,
                "type_werklocatie": "B",
                "planstatus": "bestaand",
                "ontsluiting_water": False,
                "ontsluiting_spoor": False,
                "ontsluiting_weg": True,
                "geometry": box,
            }
        )
    both = gpd.GeoDataFrame(
        [*frame.to_dict(orient="records"), *extra], geometry="geometry", crs=28992
    )
    path = tmp / "terreinen_v2.gpkg"
    both.to_file(path, driver="GPKG")
    return path


@pytest.fixture(scope="session")
def real_db(pg_server, shared_data, tmp_path_factory):
    """Real gemeenten and Natura 2000, demo layers, bedrijventerreinen v2 with border terreinen."""
    name, url = _database(pg_server, "real")
    eng = create_engine(url)
    gpkg = shared_data / "cbs_gemeenten_provincie_utrecht_2025.gpkg"
    load_demo_data(
        eng,
        DemoOptions(seed=SEED, gemeenten_path=gpkg, gemeenten_layer="gemeente_2025_utrecht"),
        policy(),
    )
    import_file(
        eng,
        ImportRequest(
            path=shared_data / "natura2000_provincie_utrecht_5km.gpkg",
            kind="constraints",
            name="natura2000",
            source_layer="natura2000_utrecht_5km",
            options=PrepareOptions(set_values={"category": "natuur"}, drop_empty=False),
            licence="CC BY 4.0",
            attribution="RVO via PDOK (geometry); RCE; BoerderijenNatura2000NL",
        ),
        policy(),
    )
    import_file(
        eng,
        ImportRequest(
            path=_border_terreinen(eng, shared_data, tmp_path_factory.mktemp("terreinen")),
            kind="bedrijventerreinen",
            name="bedrijventerreinen",
            new_version=True,
            synthetic=True,
        ),
        policy(),
    )
    yield DemoDatabase(url, eng)
    eng.dispose()
    drop_database(pg_server, name)
