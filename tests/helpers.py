"""Small builders of test data: valid features of each kind, written to files."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pyogrio
import shapely
from sqlalchemy import Engine, text

# A point in the middle of the province (Utrecht city, RD New).
X0, Y0 = 136_000.0, 456_000.0


def square(x: float, y: float, size: float = 200.0) -> shapely.Polygon:
    """An axis-aligned square with its lower-left corner at (x, y)."""
    return shapely.box(x, y, x + size, y + size)


def bowtie(x: float, y: float, size: float = 200.0) -> shapely.Polygon:
    """A self-intersecting polygon (invalid)."""
    return shapely.Polygon([(x, y), (x + size, y + size), (x + size, y), (x, y + size), (x, y)])


def terreinen(n: int = 3, **overrides) -> gpd.GeoDataFrame:
    """``n`` valid bedrijventerreinen in EPSG:28992."""
    rows = []
    for i in range(n):
        row = {
            "naam": f"Terrein {i + 1}",
            "gemeente": "GM0344",
            "bruto_ha": 10.0 + i,
            "netto_ha": 8.0 + i,
            "uitgegeven_ha": 6.0,
            "uitgeefbaar_ha": 2.0 + i,
            "max_milieucategorie": "4.2" if i % 2 else "3.1",
            "type_werklocatie": "B",
            "planstatus": "bestaand",
            "ontsluiting_water": bool(i % 2),
            "ontsluiting_spoor": False,
            "ontsluiting_weg": True,
        }
        row.update(overrides)
        rows.append(row)
    geoms = [square(X0 + i * 1000.0, Y0) for i in range(n)]
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=28992)


def write(frame: gpd.GeoDataFrame, path: Path, **kwargs) -> Path:
    """Write a frame with GDAL (driver from the suffix)."""
    pyogrio.write_dataframe(frame, path, **kwargs)
    return path


def geojson_with_crs(features: list[dict], crs_name: str | None, path: Path) -> Path:
    """A GeoJSON FeatureCollection, optionally with a (legacy) ``crs`` member."""
    doc: dict = {"type": "FeatureCollection", "features": features}
    if crs_name:
        doc["crs"] = {"type": "name", "properties": {"name": crs_name}}
    path.write_text(json.dumps(doc))
    return path


def table_counts(engine: Engine) -> dict[str, int]:
    """Row counts of the store's tables, and the number of per-layer partitions of
    ``features`` (to prove a failed request left no trace)."""
    with engine.connect() as conn:
        counts = {
            t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()  # noqa: S608 - fixed names
            for t in ("layers", "layer_versions", "features")
        }
        counts["partitions"] = conn.execute(
            text("SELECT count(*) FROM pg_class WHERE relname ~ '^features_l[0-9]+$'")
        ).scalar_one()
        return counts


# A small reservering in the city of Utrecht (GM0344), as GeoJSON in CRS84.
RESERVERING_FEATURE = {
    "type": "Feature",
    "properties": {"naam": "Link", "gemeente": "GM0344", "doel": "opslag", "status": "zacht"},
    "geometry": {
        "type": "Polygon",
        "coordinates": [
            [[5.10, 52.08], [5.102, 52.08], [5.102, 52.081], [5.10, 52.081], [5.10, 52.08]]
        ],
    },
}


def run_context(engine=None):
    """The run context of the default settings (work area, shipped milieucategorie table, the
    chunked raster engine on the threaded scheduler), or with ``engine``."""
    from app.runs import raster_engine
    from app.runs import run_context as context
    from app.settings import DaskSettings, PlanningSettings, RasterSettings

    default = raster_engine(RasterSettings(_env_file=None), DaskSettings(_env_file=None))
    return context(PlanningSettings(_env_file=None), engine=engine or default)
