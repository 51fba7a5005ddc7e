"""Mapbox vector tiles of a layer, made by PostGIS (``ST_AsMVT``), generalised per zoom.

Two tile matrix sets (OGC Two Dimensional Tile Matrix Set, 17-083r4):

- ``WebMercatorQuad`` (EPSG:3857), what web maps use;
- ``NetherlandsRDNewQuad`` (EPSG:28992), the Dutch tiling in the storage CRS, so that RD
  tiles need no reprojection.

Features are selected through :mod:`layers.query` (the same ``_where`` as every other
read, so one visibility rule applies), simplified in the tile CRS with a tolerance of half a
pixel of the zoom level, clipped and quantised by ``ST_AsMVTGeom``. Attributes are the JSONB
properties (PostGIS expands them); the MVT feature id is the stable ``fid``.

WebMercatorQuad tiles take each feature row's geometry in EPSG:3857 from ``tile_geometries``
(:class:`layers.models.TileGeometry`), where it is stored once per row after the first tile of
a layer version (:func:`prepare_tile_geometries`, in a background thread): transforming RD New
to Web Mercator cost about a microsecond per vertex, half of a cold z12 or z14 tile. Rows not
stored yet (an edit's new rows, a layer being prepared) are transformed when the tile is made,
to the same geometry, so a tile never depends on whether that work is done. Measured and not
taken: typed property columns at detail zooms (slower than ST_AsMVT's own JSONB expansion here,
as the columns have to be extracted from the JSONB first).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import morecantile
import numpy as np
import yaml
from pyproj import Transformer
from sqlalchemy import (
    BigInteger,
    Boolean,
    Connection,
    Float,
    LargeBinary,
    Select,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    select,
)
from sqlalchemy.sql.elements import ColumnElement

from layers.access import layer_visibility
from layers.errors import LayerError
from layers.kinds import Kind
from layers.models import STORAGE_SRID, TILE_SRID, Feature, Layer, TileGeometry
from layers.query import FeatureQuery, StatementCache, _where
from layers.store import LayerInfo
from layers.styles import style_field
from layers.tile_geometries import (  # noqa: F401 - prepare_now: bench.tile_bench calls it here
    prepare_later,
    prepare_now,
    same_row_tile_geometry,
)

EXTENT = 4096
"""Tile coordinate extent (MVT default)."""
BUFFER = 64
"""Buffer around each tile in tile coordinates, so that strokes join across tile edges."""
#: About how many RD metres one Web Mercator metre is at the latitude of Utrecht (52.1°).
MERCATOR_SCALE_AT_UTRECHT = math.cos(math.radians(52.1))


@dataclass(frozen=True)
class TileMatrixSet:
    """A tile matrix set (OGC 17-083r4) from ``morecantile``, with what the tile queries need.

    WebMercatorQuad is morecantile's own; NetherlandsRDNewQuad is data
    (``layers/data/tilematrixsets/NetherlandsRDNewQuad.json``, OGC TMS 2.0 JSON), as PDOK
    tiles RD New."""

    tms: morecantile.TileMatrixSet
    srid: int
    uri: str
    metres_per_unit_in_rd: float
    """RD metres per CRS unit near Utrecht (for the simplification tolerance)."""

    @property
    def id(self) -> str:
        """The tile matrix set's identifier (``WebMercatorQuad``)."""
        return str(self.tms.id)

    @property
    def title(self) -> str:
        """Its title."""
        return str(self.tms.title or self.tms.id)

    @property
    def max_zoom(self) -> int:
        """The deepest tile matrix."""
        return int(self.tms.maxzoom)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """Extent of the zoom-0 tile: minx, miny, maxx, maxy."""
        return self.tile_bounds(0, 0, 0)

    @property
    def size(self) -> float:
        """Width of the zoom-0 tile in CRS units."""
        minx, _, maxx, _ = self.bounds
        return maxx - minx

    def tile_bounds(self, z: int, x: int, y: int) -> tuple[float, float, float, float]:
        """Bounds of tile ``z/x/y`` (row ``y`` counted from the top, as in XYZ and OGC)."""
        self.check(z, x, y)
        b = self.tms.xy_bounds(morecantile.Tile(x, y, z))
        return (b.left, b.bottom, b.right, b.top)

    def pixel_size_rd(self, z: int) -> float:
        """About how many RD metres one pixel of a 256-pixel tile covers at zoom ``z``."""
        return float(self.tms.matrix(z).cellSize) * self.metres_per_unit_in_rd

    def check(self, z: int, x: int, y: int) -> None:
        """Raise :class:`LayerError` (400) for a tile outside the matrix set, at every zoom."""
        if not self.tms.minzoom <= z <= self.tms.maxzoom:
            raise LayerError(
                f"tile matrix {z} is outside {self.tms.minzoom}–{self.max_zoom} of {self.id}"
            )
        m = self.tms.matrix(z)
        if not (0 <= x < m.matrixWidth and 0 <= y < m.matrixHeight):
            raise LayerError(
                f"tile {z}/{x}/{y} is outside {self.id} (columns 0–{m.matrixWidth - 1}, "
                f"rows 0–{m.matrixHeight - 1} at tile matrix {z})"
            )

    def document(self) -> dict:
        """The tile matrix set as OGC TMS 2.0 JSON."""
        doc = json.loads(self.tms.model_dump_json(exclude_none=True))
        doc["uri"] = self.uri
        return doc


TMS_DIR = Path(__file__).parent / "data" / "tilematrixsets"
WEB_MERCATOR_QUAD = TileMatrixSet(
    tms=morecantile.tms.get("WebMercatorQuad"),
    srid=3857,
    uri="http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad",
    metres_per_unit_in_rd=MERCATOR_SCALE_AT_UTRECHT,
)
NETHERLANDS_RD_NEW_QUAD = TileMatrixSet(
    tms=morecantile.TileMatrixSet.model_validate_json(
        (TMS_DIR / "NetherlandsRDNewQuad.json").read_text(encoding="utf-8")
    ),
    srid=28992,
    uri="http://www.opengis.net/def/tilematrixset/OGC/1.0/NetherlandsRDNewQuad",
    metres_per_unit_in_rd=1.0,
)
TILE_MATRIX_SETS = {t.id: t for t in (WEB_MERCATOR_QUAD, NETHERLANDS_RD_NEW_QUAD)}


@dataclass(frozen=True)
class TileRules:
    """How full a tile may be and how low zooms are generalised (``layers/data/tiles.yaml``)."""

    max_features: int = 20_000
    """At most this many features per tile; above it the smallest are cut (and counted)."""
    min_size_px: float = 1.0
    """Lines and polygons smaller than this (bounding box, in pixels) are left out (counted)."""
    overview_pixel_m: float = 20.0
    """Coarser pixels than this: tiles carry only the label and style fields."""

    def describe(self) -> str:
        """The rules in words, for the tileset metadata."""
        return (
            f"Tegels bevatten ten hoogste {self.max_features:,} objecten".replace(",", ".")
            + "; daarboven vallen de kleinste weg (grootste eerst). Lijnen en vlakken kleiner "
            f"dan {self.min_size_px:g} pixel vallen weg. Elke tegel meldt in de headers "
            "Ruimte-Tile-Matched, Ruimte-Tile-Returned, Ruimte-Tile-Dropped-Small en "
            "Ruimte-Tile-Cut hoeveel objecten er vielen, er in staan en wegvielen. Waar een "
            f"pixel meer dan {self.overview_pixel_m:g} m beslaat, hebben de objecten alleen "
            "hun naam en het veld van de kaartstijl."
        )


@lru_cache(maxsize=1)
def tile_rules() -> TileRules:
    """The shipped tile rules."""
    data = yaml.safe_load((Path(__file__).parent / "data" / "tiles.yaml").read_text("utf-8"))
    unknown = set(data) - set(TileRules.__dataclass_fields__)
    if unknown:
        raise LayerError(f"layers/data/tiles.yaml: unknown setting(s) {', '.join(sorted(unknown))}")
    rules = TileRules(**data)
    if rules.max_features < 1 or rules.min_size_px < 0 or rules.overview_pixel_m <= 0:
        raise LayerError(f"layers/data/tiles.yaml: out of range: {rules}")
    return rules


@dataclass(frozen=True)
class TileRequest:
    """One tile: its matrix set, address, layer name inside the tile and the rules."""

    tms: TileMatrixSet
    z: int
    x: int
    y: int
    layer_name: str
    rules: TileRules = field(default_factory=tile_rules)

    @property
    def max_features(self) -> int:
        """At most this many features in the tile."""
        return self.rules.max_features

    @property
    def overview(self) -> bool:
        """Whether this zoom is an overview (fewer properties)."""
        return self.tms.pixel_size_rd(self.z) > self.rules.overview_pixel_m


@dataclass(frozen=True)
class Tile:
    """A tile's MVT bytes and what it holds: never cut without saying so."""

    data: bytes
    matched: int
    """Features of the (buffered) tile that the query selects."""
    dropped_small: int
    """Left out as smaller than ``min_size_px`` at this zoom."""
    cut: int
    """Left out at the cap (the smallest of the rest)."""

    @property
    def returned(self) -> int:
        """Features in the tile."""
        return self.matched - self.dropped_small - self.cut

    def headers(self) -> dict[str, str]:
        """The counts as response headers."""
        return {
            "Ruimte-Tile-Matched": str(self.matched),
            "Ruimte-Tile-Returned": str(self.returned),
            "Ruimte-Tile-Dropped-Small": str(self.dropped_small),
            "Ruimte-Tile-Cut": str(self.cut),
        }


#: Response headers every tile carries (for CORS ``Access-Control-Expose-Headers``).
TILE_COUNT_HEADERS = (
    "Ruimte-Tile-Matched",
    "Ruimte-Tile-Returned",
    "Ruimte-Tile-Dropped-Small",
    "Ruimte-Tile-Cut",
)


@lru_cache(maxsize=4)
def _to_rd(srid: int) -> Transformer:
    return Transformer.from_crs(srid, STORAGE_SRID, always_xy=True)


def rd_bounds(
    tms: TileMatrixSet, bounds: tuple[float, float, float, float]
) -> tuple[float, float, float, float]:
    """An RD New rectangle holding ``bounds`` (in the tile CRS; edges densified)."""
    if tms.srid == STORAGE_SRID:
        return bounds
    minx, miny, maxx, maxy = bounds
    t = np.linspace(0.0, 1.0, 9)
    xs = np.concatenate(
        [minx + (maxx - minx) * t, np.full(9, maxx), minx + (maxx - minx) * t, np.full(9, minx)]
    )
    ys = np.concatenate(
        [np.full(9, miny), miny + (maxy - miny) * t, np.full(9, maxy), miny + (maxy - miny) * t]
    )
    x, y = _to_rd(tms.srid).transform(xs, ys)
    return (float(x.min()), float(y.min()), float(x.max()), float(y.max()))


def tile_query(
    info: LayerInfo, kind: Kind, req: TileRequest, q: FeatureQuery | None = None
) -> FeatureQuery:
    """The feature query of a tile: ``q`` (filters, viewer) with the buffered tile as bbox.

    The bbox is an RD New rectangle around the buffered tile, so the index test and the
    intersection run against a plain box in the storage CRS (PostGIS's fast path); the
    few features it lets through beyond the tile are clipped away by ``ST_AsMVTGeom``.
    """
    minx, miny, maxx, maxy = req.tms.tile_bounds(req.z, req.x, req.y)
    pad = (maxx - minx) * BUFFER / EXTENT
    box = rd_bounds(req.tms, (minx - pad, miny - pad, maxx + pad, maxy + pad))
    return replace(q or FeatureQuery(), bbox=box, bbox_srid=STORAGE_SRID)


_BOX = ("bx0", "by0", "bx1", "by1")
_TILE = ("tx0", "ty0", "tx1", "ty1")
#: Tile statements by the key :func:`_statement` makes.
_statements = StatementCache()


def _overview_columns(kind: Kind) -> list[ColumnElement]:
    """The properties an overview tile carries, as typed columns (ST_AsMVT encodes columns
    several times faster than a JSONB object): the kind's label field and its style's field."""
    names = [n for n in dict.fromkeys([kind.label_field, style_field(kind.name)]) if n]
    columns: list[ColumnElement] = []
    for name in names:
        value: ColumnElement = Feature.properties[name].astext
        ftype = kind.fields[name].type if name in kind.fields else "text"
        if ftype == "number":
            value = cast(value, Float)
        elif ftype == "integer":
            value = cast(value, BigInteger)
        elif ftype == "boolean":
            value = cast(value, Boolean)
        columns.append(value.label(name))
    return columns


def _statement(
    info: LayerInfo,
    kind: Kind,
    req: TileRequest,
    q: FeatureQuery,
    family: str,
    state: bool,
    capped: bool = True,
) -> Select:
    """The tile query for this layer version, matrix set and filters, with the boxes, the
    tolerance and the smallest size as bound parameters: built once and reused (SQLAlchemy
    then reuses the compiled form). With ``state`` it also returns the layer's current version
    and ``updated_at`` as ``viewer`` sees it.

    ``capped``: the tile may hold more features than the cap. Its features are then chosen
    from their keys alone (fid, version and size, in a small materialised list): every one is
    counted, those smaller than the smallest size are left out, the rest ordered by size
    (largest first) and cut at the cap. Only the chosen rows are read again by primary key to
    be simplified, transformed and encoded. Otherwise one pass reads, counts and encodes, at
    most one feature more than the cap (so that the caller sees when the capped query is
    needed after all): at overview zooms a feature too small for a pixel gets no geometry,
    which ST_AsMVT leaves out; at detail zooms only what the tile grid collapses is left out
    (no size is computed there: it would cost a third of a small tile's time).

    Both return (MVT, matched, small, returned[, version, updated_at]).
    """
    key = (
        info.id,
        info.version,
        req.tms.id,
        family,
        req.layer_name,
        req.rules,
        req.overview,
        state,
        tuple(sorted(q.filters.items())),
        tuple(sorted(q.at_least.items())),
        q.gemeente,
        q.interval,
        q.family,
        q.viewer,
        capped,
    )
    stmt = _statements.get(key)
    if stmt is not None:
        return stmt
    p = {n: bindparam(n, type_=Float) for n in (*_BOX, *_TILE, "tol", "min_size")}
    box = func.ST_MakeEnvelope(*(p[n] for n in _BOX), STORAGE_SRID)
    tile = func.ST_MakeEnvelope(*(p[n] for n in _TILE), req.tms.srid)
    # The selection goes through layers.query._where (layer, version, visibility, filters);
    # the bbox is added here as bound parameters instead of the query's literal box.
    where = _where(info, kind, replace(q, bbox=None))
    if family == "point" or q.family == "point":
        size: ColumnElement = literal(math.inf, Float)
    else:  # points (of a mixed layer) are never too small
        size = case(
            (func.ST_Dimension(Feature.geom) == 0, literal(math.inf, Float)),
            else_=func.greatest(
                func.ST_XMax(Feature.geom) - func.ST_XMin(Feature.geom),
                func.ST_YMax(Feature.geom) - func.ST_YMin(Feature.geom),
            ),
        )
    geom: ColumnElement = Feature.geom
    web = req.tms.srid == TILE_SRID
    if web:
        # Transformed once (tile_geometries) where that was done, else now: the same geometry.
        geom = func.coalesce(TileGeometry.geom, func.ST_Transform(geom, TILE_SRID))
    if family != "point":
        # Half a pixel: invisible at this zoom, and it removes most vertices of detailed shapes.
        # Douglas-Peucker keeping collapsed shapes: a quarter cheaper than the topology-
        # preserving variant, and the quantisation by ST_AsMVTGeom follows anyway.
        geom = func.ST_Simplify(geom, p["tol"], True)
    if not web and req.tms.srid != STORAGE_SRID:
        geom = func.ST_Transform(geom, req.tms.srid)
    mvt_geom = func.ST_AsMVTGeom(geom, tile, EXTENT, BUFFER, True)
    properties = (
        _overview_columns(kind) if req.overview else [Feature.properties.label("properties")]
    )
    in_tile = (Feature.geom.op("&&")(box), func.ST_Intersects(Feature.geom, box))
    if capped:
        stmt = _capped(info, req, where, in_tile, size, mvt_geom, properties, p["min_size"], web)
    else:
        shown = case((size >= p["min_size"], mvt_geom), else_=None) if req.overview else mvt_geom
        rows = select(Feature.fid.label("fid"), shown.label("geom"), *properties)
        if web:
            rows = rows.select_from(Feature).outerjoin(TileGeometry, same_row_tile_geometry())
        rows = rows.where(*where, *in_tile).limit(req.max_features + 1).subquery("t")
        mvt = func.ST_AsMVT(rows.table_valued(), literal(req.layer_name), EXTENT, "geom", "fid")
        # count(*): matched; count(geom): in the tile. The rest is too small (or collapsed).
        stmt = select(
            cast(mvt, LargeBinary), func.count(), literal(0), func.count(rows.c.geom)
        ).select_from(rows)
    if state:
        visible = and_(Layer.id == info.id, layer_visibility(q.viewer))
        stmt = stmt.add_columns(
            select(Layer.current_version).where(visible).scalar_subquery(),
            select(Layer.updated_at).where(visible).scalar_subquery(),
        )
    return _statements.put(key, stmt)


def _capped(
    info: LayerInfo,
    req: TileRequest,
    where: list[ColumnElement],
    in_tile: tuple[ColumnElement, ...],
    size: ColumnElement,
    mvt_geom: ColumnElement,
    properties: list[ColumnElement],
    min_size: ColumnElement,
    web: bool,
) -> Select:
    """The tile query choosing at most the cap (see :func:`_statement`)."""
    keys = (
        select(Feature.fid, Feature.version_from, size.label("size"))
        .where(*where, *in_tile)
        .cte("keys")
        .prefix_with("MATERIALIZED")
    )
    chosen = (
        select(keys.c.fid, keys.c.version_from)
        .where(keys.c.size >= min_size)
        .order_by(keys.c.size.desc(), keys.c.fid)
        .limit(req.max_features)
        .subquery("chosen")
    )
    rows = (
        select(Feature.fid.label("fid"), mvt_geom.label("geom"), *properties)
        .select_from(Feature)
        .join(
            chosen,
            and_(
                Feature.layer_id == info.id,
                Feature.fid == chosen.c.fid,
                Feature.version_from == chosen.c.version_from,
            ),
        )
    )
    if web:
        rows = rows.outerjoin(TileGeometry, same_row_tile_geometry())
    rows = rows.subquery("t")
    # ``rows.table_valued()`` renders the whole row ``t``, which ST_AsMVT takes as its record.
    mvt = func.ST_AsMVT(rows.table_valued(), literal(req.layer_name), EXTENT, "geom", "fid")
    matched = select(func.count()).select_from(keys).scalar_subquery()
    small = select(func.count()).select_from(keys).where(keys.c.size < min_size)
    # count(geom): the chosen features ST_AsMVTGeom kept (it drops what collapses at this zoom).
    return select(
        cast(mvt, LargeBinary), matched, small.scalar_subquery(), func.count(rows.c.geom)
    ).select_from(rows)


def _run(
    conn: Connection,
    info: LayerInfo,
    kind: Kind,
    req: TileRequest,
    q: FeatureQuery | None,
    state: bool,
):  # noqa: ANN202
    fq = tile_query(info, kind, req, q)
    family = "point" if info.geometry_type.replace("Multi", "") == "Point" else "other"
    params = dict(zip(_BOX, fq.bbox or (), strict=True))
    params.update(zip(_TILE, req.tms.tile_bounds(req.z, req.x, req.y), strict=True))
    pixel = req.tms.pixel_size_rd(req.z)
    # Half a pixel, in the CRS the geometry is simplified in (the tile's, or RD New).
    in_tile_crs = req.tms.srid in (TILE_SRID, STORAGE_SRID)
    params["tol"] = (pixel / req.tms.metres_per_unit_in_rd if in_tile_crs else pixel) / 2
    if req.tms.srid == TILE_SRID:
        prepare_later(conn, info)
    params["min_size"] = pixel * req.rules.min_size_px
    big = info.feature_count > req.max_features
    # At overview zooms a big layer's tile often exceeds the cap: the index decides first. At
    # detail zooms it rarely does: the one-pass query says so (a row more than the cap).
    capped = big and req.overview and _may_exceed(conn, info, kind, req, fq)
    row = conn.execute(_statement(info, kind, req, fq, family, state, capped), params).one()
    if big and not capped and row[1] > req.max_features:
        row = conn.execute(_statement(info, kind, req, fq, family, state, True), params).one()
    return row


def _may_exceed(
    conn: Connection, info: LayerInfo, kind: Kind, req: TileRequest, fq: FeatureQuery
) -> bool:
    """Whether more features than the cap touch the tile's box (the index alone, no geometry
    read): only then must the tile choose which to keep. Layers no larger than the cap never
    ask."""
    box = func.ST_MakeEnvelope(*(fq.bbox or ()), STORAGE_SRID)
    near = (
        select(literal(1))
        .where(*_where(info, kind, replace(fq, bbox=None)), Feature.geom.op("&&")(box))
        .limit(req.max_features + 1)
        .subquery()
    )
    n = conn.execute(select(func.count()).select_from(near)).scalar_one()
    return n > req.max_features


def _tile(row, req: TileRequest) -> Tile:  # noqa: ANN001 - a result row
    data, matched, small, returned = row[0], int(row[1] or 0), int(row[2] or 0), int(row[3] or 0)
    cut = max(matched - small - req.max_features, 0)
    # Chosen but collapsed to nothing by the quantisation: smaller than a tile unit, so small.
    return Tile(
        data=bytes(data or b""),
        matched=matched,
        dropped_small=matched - cut - returned,
        cut=cut,
    )


def layer_tile(
    conn: Connection, info: LayerInfo, kind: Kind, req: TileRequest, q: FeatureQuery | None = None
) -> Tile:
    """The tile (MVT bytes, empty when no feature falls in it) and its counts."""
    return _tile(_run(conn, info, kind, req, q, False), req)


def layer_tile_checked(
    conn: Connection, info: LayerInfo, kind: Kind, req: TileRequest, q: FeatureQuery | None = None
) -> tuple[Tile, tuple[int, datetime] | None]:
    """The tile, and in the same round trip the layer's (current version, updated_at) as the
    viewer of ``q`` sees it (None: gone or hidden). When that differs from ``info``, ``info``
    was stale and the tile must not be used."""
    row = _run(conn, info, kind, req, q, True)
    version, updated = row[4], row[5]
    return _tile(row, req), (None if version is None else (version, updated))


def layer_states(
    conn: Connection, ids: Iterable[int], q: FeatureQuery
) -> dict[int, tuple[int, datetime]]:
    """Per layer id, the layer's (current version, updated_at) as the viewer of ``q`` sees it
    (missing: gone or hidden): what a cached tile of the layer must still match."""
    rows = conn.execute(
        select(Layer.id, Layer.current_version, Layer.updated_at).where(
            Layer.id.in_(sorted(ids)), layer_visibility(q.viewer)
        )
    )
    return {row[0]: (row[1], row[2]) for row in rows}


def layer_state(conn: Connection, info: LayerInfo, q: FeatureQuery) -> tuple[int, datetime] | None:
    """The state of one layer (:func:`layer_states`; None: gone or hidden)."""
    return layer_states(conn, (info.id,), q).get(info.id)
