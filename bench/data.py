"""Benchmark data in two shapes (issue 14): nobody's benchmark may flatter by its data.

``grid``
    The first shape (issues 2–5): valid, non-overlapping star-shaped polygons of 10–30
    vertices, one per cell of a grid over the province's bounding box, with the 12 attributes
    of ``tests/helpers.py::terreinen``.
``realistic``
    What a province's IBIS export looks like to the code: polygons of 20–60 vertices placed at
    random (clustered around 40 centres, as terreinen cluster around towns), so that many
    overlap their neighbours, with every field of the ``bedrijventerreinen`` kind filled (16),
    ``bruto_ha`` within 3 % of the polygon area as in IBIS, and one extra source column kept
    (``ibis_id``): 17 properties.

Both are deterministic per seed, in EPSG:28992, coordinates rounded to millimetres, and pass
every check of the kind (so an import stores them all).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely

SHAPES = ("grid", "realistic")

#: The province of Utrecht's 26 gemeenten (CBS 2025) and their bounding box in RD New: the
#: benchmarks' work area, fixed here so that they do not follow the work-area setting.
BBOX = (114_244.0, 430_005.0, 171_506.0, 479_450.0)
GEMEENTEN = (
    "GM0307", "GM0308", "GM0310", "GM0312", "GM0313", "GM0317", "GM0321", "GM0327", "GM0331",
    "GM0335", "GM0339", "GM0340", "GM0342", "GM0344", "GM0345", "GM0351", "GM0352", "GM0353",
    "GM0355", "GM0356", "GM0589", "GM0632", "GM0736", "GM1581", "GM1904", "GM1961",
)  # fmt: skip
MILIEUCATEGORIEEN = ("2", "3.1", "3.2", "4.1", "4.2", "5.1")
PLANSTATUS = (
    "bestaand",
    "in_aanleg",
    "harde_plancapaciteit",
    "zachte_plancapaciteit",
    "transformatie",
)
TERREINTYPEN = ("gemengd", "zware_industrie", "distributie", "hoogwaardig", "zeehaven")


def _stars(
    rng: np.random.Generator,
    cx: np.ndarray,
    cy: np.ndarray,
    radius: np.ndarray,
    vertices: tuple[int, int],
) -> np.ndarray:
    """Star-shaped polygons (increasing angles: simple, hence valid) around the centres."""
    n = len(cx)
    nverts = rng.integers(vertices[0], vertices[1] + 1, size=n)
    offsets = np.concatenate([[0], np.cumsum(nverts)])
    total = int(offsets[-1])
    owner = np.repeat(np.arange(n), nverts)
    step = np.arange(total) - offsets[:-1][owner]
    jitter = rng.uniform(0.0, 0.6, size=total)
    angle = (step + jitter) / nverts[owner] * 2 * np.pi + rng.uniform(0, 2 * np.pi, size=n)[owner]
    r = rng.uniform(0.55, 1.0, size=total) * radius[owner]
    xy = np.column_stack([cx[owner] + r * np.cos(angle), cy[owner] + r * np.sin(angle)]).round(3)
    ring_offsets = np.concatenate([[0], np.cumsum(nverts + 1)])
    coords = np.empty((int(ring_offsets[-1]), 2))
    coords[np.arange(total) + owner] = xy
    coords[ring_offsets[1:] - 1] = xy[offsets[:-1]]  # close each ring
    polygons = shapely.from_ragged_array(
        shapely.GeometryType.POLYGON, coords, (ring_offsets, np.arange(n + 1))
    )
    if not shapely.is_valid(polygons).all():
        raise RuntimeError("generated an invalid polygon; change the generator")
    return polygons


def _grid_geometry(n: int, rng: np.random.Generator) -> np.ndarray:
    minx, miny, maxx, maxy = BBOX
    width, height = maxx - minx, maxy - miny
    cols = int(np.ceil(np.sqrt(n * width / height)))
    rows = int(np.ceil(n / cols))
    cw, ch = width / cols, height / rows
    idx = np.arange(n)
    cx = minx + (idx % cols + 0.5) * cw
    cy = miny + (idx // cols + 0.5) * ch
    # Radii 25–45 % of the cell: inside its own cell, so no two overlap.
    return _stars(rng, cx, cy, np.full(n, 0.45 * min(cw, ch)), (10, 30))


def _realistic_geometry(n: int, rng: np.random.Generator) -> np.ndarray:
    minx, miny, maxx, maxy = BBOX
    centres = np.column_stack(
        [rng.uniform(minx + 3000, maxx - 3000, 40), rng.uniform(miny + 3000, maxy - 3000, 40)]
    )
    town = rng.integers(0, len(centres), n)
    spread = rng.uniform(1500, 6000, len(centres))[town]
    cx = np.clip(centres[town, 0] + rng.normal(0, 1, n) * spread, minx + 500, maxx - 500)
    cy = np.clip(centres[town, 1] + rng.normal(0, 1, n) * spread, miny + 500, maxy - 500)
    # Mean spacing of n points over the box, and radii around it: many polygons overlap.
    spacing = np.sqrt((maxx - minx) * (maxy - miny) / n)
    radius = spacing * rng.lognormal(mean=-0.2, sigma=0.5, size=n)
    return _stars(rng, cx, cy, np.clip(radius, 15, 2000), (20, 60))


def generate_terreinen(n: int, shape: str = "grid", seed: int = 20261128) -> gpd.GeoDataFrame:
    """``n`` bedrijventerreinen of ``shape`` (see the module), the same for the same seed."""
    if shape not in SHAPES:
        raise ValueError(f"unknown shape {shape!r}; one of {', '.join(SHAPES)}")
    rng = np.random.default_rng(seed)
    polygons = _grid_geometry(n, rng) if shape == "grid" else _realistic_geometry(n, rng)
    idx = np.arange(n)
    if shape == "grid":
        bruto = rng.uniform(1.0, 150.0, size=n).round(2)
    else:  # as IBIS: the bruto area within a few % of the polygon's
        bruto = (shapely.area(polygons) / 10_000 * rng.uniform(0.97, 1.03, size=n)).round(2)
    netto = (bruto * rng.uniform(0.6, 0.95, size=n)).round(2)
    uitgegeven = (netto * rng.uniform(0.0, 1.0, size=n)).round(2)
    uitgeefbaar = np.maximum(netto - uitgegeven, 0.0).round(2)

    def pick(values: tuple[str, ...], which: np.ndarray) -> np.ndarray:
        return np.array(values, dtype=object)[which]

    columns: dict[str, object] = {
        "naam": [f"Terrein {i + 1}" for i in range(n)],
        "gemeente": pick(GEMEENTEN, idx % len(GEMEENTEN)),
        "bruto_ha": bruto,
        "netto_ha": netto,
        "uitgegeven_ha": uitgegeven,
        "uitgeefbaar_ha": uitgeefbaar,
        "max_milieucategorie": pick(MILIEUCATEGORIEEN, rng.integers(0, len(MILIEUCATEGORIEEN), n)),
        "type_werklocatie": pick(("A", "B", "C"), rng.choice(3, n, p=[0.05, 0.85, 0.10])),
        "planstatus": pick(PLANSTATUS, rng.integers(0, len(PLANSTATUS), n)),
        "ontsluiting_water": rng.random(n) < 0.2,
        "ontsluiting_spoor": rng.random(n) < 0.1,
        "ontsluiting_weg": rng.random(n) < 0.9,
    }
    if shape == "realistic":
        terstond = (uitgeefbaar * rng.uniform(0.0, 1.0, size=n)).round(2)
        columns |= {
            "rin_nummer": [f"{26:02d}{i:06d}" for i in range(n)],
            "uitgeefbaar_terstond_ha": terstond,
            "uitgeefbaar_niet_terstond_ha": np.maximum(uitgeefbaar - terstond, 0.0).round(2),
            "terreintype": pick(TERREINTYPEN, rng.integers(0, len(TERREINTYPEN), n)),
            "ibis_id": [f"IBIS-{i + 1:07d}" for i in range(n)],
        }
    return gpd.GeoDataFrame(columns, geometry=polygons, crs=28992)


def write_gpkg(n: int, path: Path, shape: str = "grid") -> Path:
    """Write the generated terreinen to a GeoPackage (layer ``terreinen``).

    GeoPackage 1.2, as our exports: the GDAL 3.6 of Debian's ogr2ogr warns about 1.4.
    """
    pyogrio.write_dataframe(
        generate_terreinen(n, shape),
        path,
        layer="terreinen",
        driver="GPKG",
        dataset_options={"VERSION": "1.2"},
    )
    return path
