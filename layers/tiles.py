"""Mapbox vector tiles of a layer, made by PostGIS (``ST_AsMVT``), generalised per zoom.

Two tile matrix sets (OGC Two Dimensional Tile Matrix Set, 17-083r4):

- ``WebMercatorQuad`` (EPSG:3857), what web maps use;
- ``NetherlandsRDNewQuad`` (EPSG:28992), the Dutch tiling in the storage CRS, so that RD
  tiles need no reprojection.

Features are selected through :mod:`layers.query` (the same ``_where`` as every other
read, so one visibility rule applies), simplified in RD with a tolerance of half a pixel
of the zoom level, transformed to the tile CRS, clipped and quantised by
``ST_AsMVTGeom``. Attributes are the JSONB properties (PostGIS expands them); the MVT
feature id is the stable ``fid``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from sqlalchemy import Connection, LargeBinary, cast, func, literal, select
from sqlalchemy.sql.elements import ColumnElement

from layers.errors import LayerError
from layers.kinds import Kind
from layers.models import STORAGE_SRID, Feature
from layers.query import FeatureQuery, _where
from layers.store import LayerInfo

EXTENT = 4096
"""Tile coordinate extent (MVT default)."""
BUFFER = 64
"""Buffer around each tile in tile coordinates, so that strokes join across tile edges."""
#: About how many RD metres one Web Mercator metre is at the latitude of Utrecht (52.1°).
MERCATOR_SCALE_AT_UTRECHT = math.cos(math.radians(52.1))


@dataclass(frozen=True)
class TileMatrixSet:
    """A quadtree tile matrix set: one tile at zoom 0 covering ``bounds`` (x/y, in ``srid``)."""

    id: str
    title: str
    srid: int
    uri: str
    bounds: tuple[float, float, float, float]
    """Extent of the zoom-0 tile: minx, miny, maxx, maxy (a square)."""
    max_zoom: int
    metres_per_unit_in_rd: float
    """RD metres per CRS unit near Utrecht (for the simplification tolerance)."""

    @property
    def size(self) -> float:
        """Width (= height) of the zoom-0 tile in CRS units."""
        return self.bounds[2] - self.bounds[0]

    def tile_bounds(self, z: int, x: int, y: int) -> tuple[float, float, float, float]:
        """Bounds of tile ``z/x/y`` (row ``y`` counted from the top, as in XYZ and OGC)."""
        self.check(z, x, y)
        step = self.size / (1 << z)
        minx = self.bounds[0] + x * step
        maxy = self.bounds[3] - y * step
        return (minx, maxy - step, minx + step, maxy)

    def pixel_size_rd(self, z: int) -> float:
        """About how many RD metres one pixel of a 256-pixel tile covers at zoom ``z``."""
        return self.size / (1 << z) / 256 * self.metres_per_unit_in_rd

    def check(self, z: int, x: int, y: int) -> None:
        """Raise :class:`LayerError` (400) for a tile outside the matrix set."""
        if not 0 <= z <= self.max_zoom:
            raise LayerError(f"zoom {z} is outside 0–{self.max_zoom} of {self.id}")
        n = 1 << z
        if not (0 <= x < n and 0 <= y < n):
            raise LayerError(f"tile {z}/{x}/{y} is outside {self.id} (0–{n - 1} at zoom {z})")


WEB_MERCATOR_QUAD = TileMatrixSet(
    id="WebMercatorQuad",
    title="Google Maps compatible for the World (EPSG:3857)",
    srid=3857,
    uri="http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad",
    bounds=(-20037508.3427892, -20037508.3427892, 20037508.3427892, 20037508.3427892),
    max_zoom=22,
    metres_per_unit_in_rd=MERCATOR_SCALE_AT_UTRECHT,
)
NETHERLANDS_RD_NEW_QUAD = TileMatrixSet(
    id="NetherlandsRDNewQuad",
    title="Netherlands RD New (EPSG:28992), PDOK tiling",
    srid=28992,
    uri="http://www.opengis.net/def/tilematrixset/OGC/1.0/NetherlandsRDNewQuad",
    bounds=(-285401.92, 22598.08, 595401.92, 903401.92),
    max_zoom=16,
    metres_per_unit_in_rd=1.0,
)
TILE_MATRIX_SETS = {t.id: t for t in (WEB_MERCATOR_QUAD, NETHERLANDS_RD_NEW_QUAD)}


@dataclass(frozen=True)
class TileRequest:
    """One tile: its matrix set, address, layer name inside the tile and feature cap."""

    tms: TileMatrixSet
    z: int
    x: int
    y: int
    layer_name: str
    max_features: int = 20_000
    """At most this many features per tile (as tipg's ``max_features_per_tile``)."""


def _envelope(tms: TileMatrixSet, bounds: tuple[float, float, float, float]) -> ColumnElement:
    return func.ST_MakeEnvelope(*bounds, tms.srid)


def _tile_geom(tms: TileMatrixSet, tile: ColumnElement, z: int, geometry_family: str) -> ColumnElement:
    geom: ColumnElement = Feature.geom
    if geometry_family != "point":
        # Half a pixel: invisible at this zoom, and it removes most vertices of detailed shapes.
        geom = func.ST_SimplifyPreserveTopology(geom, tms.pixel_size_rd(z) / 2)
    if tms.srid != STORAGE_SRID:
        geom = func.ST_Transform(geom, tms.srid)
    return func.ST_AsMVTGeom(geom, tile, EXTENT, BUFFER, True)


def tile_query(info: LayerInfo, kind: Kind, req: TileRequest, q: FeatureQuery | None = None) -> FeatureQuery:
    """The feature query of a tile: ``q`` (filters, viewer) with the buffered tile as bbox."""
    minx, miny, maxx, maxy = req.tms.tile_bounds(req.z, req.x, req.y)
    pad = (maxx - minx) * BUFFER / EXTENT
    return replace(q or FeatureQuery(), bbox=(minx - pad, miny - pad, maxx + pad, maxy + pad), bbox_srid=req.tms.srid)


def layer_tile(conn: Connection, info: LayerInfo, kind: Kind, req: TileRequest, q: FeatureQuery | None = None) -> bytes:
    """The tile as MVT bytes (empty when no feature falls in it)."""
    fq = tile_query(info, kind, req, q)
    tile = _envelope(req.tms, req.tms.tile_bounds(req.z, req.x, req.y))
    family = "point" if info.geometry_type.replace("Multi", "") == "Point" else "other"
    rows = (
        select(
            Feature.fid.label("fid"),
            _tile_geom(req.tms, tile, req.z, family).label("geom"),
            Feature.properties.label("properties"),
        )
        .where(*_where(info, kind, fq))
        .limit(req.max_features)
        .subquery("t")
    )
    # ``rows.table_valued()`` renders the whole row ``t``, which ST_AsMVT takes as its record.
    mvt = func.ST_AsMVT(rows.table_valued(), literal(req.layer_name), EXTENT, "geom", "fid")
    data = conn.execute(select(cast(mvt, LargeBinary)).select_from(rows)).scalar_one()
    return bytes(data or b"")
