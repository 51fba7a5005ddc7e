"""Feature queries that return GeoJSON built by PostGIS, from small named pieces.

The API and the maps ask for features of one layer by bbox, gemeente and property
values, paged, in a requested CRS. PostGIS transforms, simplifies and serialises the
geometry and aggregates the features into one JSON array, so Python never parses or
re-serialises feature JSON on the hot path.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import (
    JSON,
    Connection,
    Date,
    Float,
    Integer,
    Text,
    and_,
    cast,
    false,
    func,
    literal,
    null,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.sql.elements import ColumnElement

from layers.access import PUBLIC, Viewer, feature_visibility
from layers.cql import RD_AREA_DEGREES, FilterError, filter_clause, queryable_types
from layers.errors import LayerError
from layers.kinds import Kind
from layers.models import STORAGE_SRID, Feature
from layers.store import LayerInfo, version_filter


@dataclass(frozen=True)
class FeatureQuery:
    """What to select and how to serialise it."""

    bbox: tuple[float, float, float, float] | None = None
    """Box in ``bbox_srid``, x/y order."""
    bbox_srid: int = 4326
    gemeente: str | None = None
    filters: Mapping[str, str] = field(default_factory=dict)
    """Property name → value (compared by the field's type)."""
    at_least: Mapping[str, float] = field(default_factory=dict)
    """Property name → lowest numeric value (e.g. max_milieucategorie ≥ 4)."""
    limit: int = 100
    offset: int = 0
    out_srid: int = 4326
    latlon: bool = False
    """Swap axes in the output (EPSG:4258/4326 in their official lat/lon order)."""
    decimals: int = 7
    simplify: float | None = None
    """Simplification tolerance in metres (RD), for overview maps."""
    version: int | None = None
    fid: int | None = None
    interval: tuple[date | None, date | None] | None = None
    """Features whose validity period (the kind's ``temporal`` fields) meets this closed
    interval; None at either end is open (OGC ``datetime``). Kinds without time ignore it:
    every feature matches (OGC API – Features, /req/core/fc-time-response)."""
    cql: str | None = None
    """A CQL2 filter as its canonical CQL2 JSON text (:func:`layers.cql.parse_filter`)."""
    filter_srid: int = 4326
    """CRS of the geometries in ``cql`` (``filter-crs``)."""
    sortby: tuple[tuple[str, bool], ...] = ()
    """Properties to sort by, each with True for descending; then by ``fid``."""
    properties: tuple[str, ...] | None = None
    """Only these properties in the output (None: all)."""
    skip_geometry: bool = False
    """``geometry`` is null in the output."""
    family: str | None = None
    """Only geometries of this family (point, line, polygon): one part of a mixed layer."""
    viewer: Viewer | None = PUBLIC
    """Who reads: drafts and unpublished layers are left out unless they may see them."""


@dataclass
class FeaturePage:
    """A page of features: the JSON array text and how many it holds."""

    features_json: str
    number_returned: int


def _geom_expr(q: FeatureQuery) -> ColumnElement:
    geom: ColumnElement = Feature.geom
    if q.simplify:
        geom = func.ST_SimplifyPreserveTopology(geom, q.simplify)
    if q.out_srid != STORAGE_SRID:
        geom = func.ST_Transform(geom, q.out_srid)
    if q.latlon:
        geom = func.ST_FlipCoordinates(geom)
    # Options 0: no bbox and no ``crs`` member (RFC 7946 has none; Content-Crs says the CRS).
    return func.ST_AsGeoJSON(geom, q.decimals, 0)


def _bbox_filter(q: FeatureQuery) -> ColumnElement | None:
    if q.bbox is None:
        return None
    box = q.bbox
    if q.bbox_srid in (4326, 4258):
        # Cut to where RD New is defined first: a box around the world must hold every
        # feature, not turn into nonsense in RD.
        a = RD_AREA_DEGREES
        box = (max(box[0], a[0]), max(box[1], a[1]), min(box[2], a[2]), min(box[3], a[3]))
        if box[0] > box[2] or box[1] > box[3]:
            return false()
    env = func.ST_MakeEnvelope(*box, q.bbox_srid)
    if q.bbox_srid != STORAGE_SRID:
        # Densify before transforming so the box's curved edges in RD are followed.
        # 16 segments along the longer side (a box that is a line must not become millions).
        step = max(box[2] - box[0], box[3] - box[1]) / 16 or 1e-6
        env = func.ST_Transform(func.ST_Segmentize(env, step), STORAGE_SRID)
    return and_(Feature.geom.op("&&")(env), func.ST_Intersects(Feature.geom, env))


def property_clause(
    name: str, value: str, kind: Kind, extra_fields: Mapping[str, str]
) -> ColumnElement:
    """``properties->>name`` compared to ``value`` by the field's type; 400 for unknown names."""
    ftype = kind.fields[name].type if name in kind.fields else extra_fields.get(name)
    if ftype is None:
        raise LayerError(
            f"unknown property filter {name!r}; filterable: {', '.join([*kind.fields, *extra_fields])}"
        )
    raw = Feature.properties[name].astext
    if ftype in ("number", "integer"):
        try:
            number = float(value.replace(",", "."))
        except ValueError as exc:
            raise LayerError(f"filter {name}={value!r}: not a number") from exc
        return cast(raw, Float) == number
    if ftype == "boolean":
        truth = value.strip().lower()
        if truth not in {"true", "false", "ja", "nee", "1", "0"}:
            raise LayerError(f"filter {name}={value!r}: not true or false")
        return raw == ("true" if truth in {"true", "ja", "1"} else "false")
    return raw == value


def _where(layer: LayerInfo, kind: Kind, q: FeatureQuery) -> list[ColumnElement]:
    clauses: list[ColumnElement] = [
        Feature.layer_id == layer.id,
        version_filter(q.version),
        feature_visibility(q.viewer),
    ]
    box = _bbox_filter(q)
    if box is not None:
        clauses.append(box)
    if q.gemeente:
        clauses.append(Feature.gemeente == q.gemeente)
    if q.fid is not None:
        clauses.append(Feature.fid == q.fid)
    for name, value in q.filters.items():
        clauses.append(property_clause(name, value, kind, layer.extra_fields))
    for name, lowest in q.at_least.items():
        clauses.append(cast(Feature.properties[name].astext, Float) >= lowest)
    if q.interval is not None:
        clauses.extend(_interval_clauses(kind, q.interval))
    if q.cql is not None:
        clauses.append(filter_clause(json.loads(q.cql), kind, layer.extra_fields, q.filter_srid))
    if q.family is not None:
        clauses.append(func.ST_Dimension(Feature.geom) == FAMILY_DIMENSIONS[q.family])
    return clauses


#: ``ST_Dimension`` of each geometry family.
FAMILY_DIMENSIONS = {"point": 0, "line": 1, "polygon": 2}


def _interval_clauses(kind: Kind, interval: tuple[date | None, date | None]) -> list[ColumnElement]:
    """Validity period meets ``interval``: starts before its end and ends after its start.

    A kind without time has no clause: every feature matches."""
    if kind.temporal is None:
        return []
    start_field, end_field = kind.temporal
    lo, hi = interval
    out: list[ColumnElement] = []
    if hi is not None:
        start = Feature.properties[start_field].astext
        out.append(or_(start.is_(None), cast(start, Date) <= hi))
    if lo is not None:
        end = Feature.properties[end_field].astext
        out.append(or_(end.is_(None), cast(end, Date) >= lo))
    return out


def _sort_keys(layer: LayerInfo, kind: Kind, q: FeatureQuery) -> list[tuple[ColumnElement, bool]]:
    """The typed expressions of ``q.sortby`` with their direction (fid comes after them)."""
    types = queryable_types(kind, layer.extra_fields)
    out: list[tuple[ColumnElement, bool]] = []
    for name, descending in q.sortby:
        ftype = types.get(name)
        if ftype is None:
            raise FilterError(
                f"sortby: unknown property {name!r}; sortable: {', '.join(sorted(types))}"
            )
        col: ColumnElement = Feature.properties[name].astext
        if ftype in ("integer", "number"):
            col = cast(col, Float)
        elif ftype == "date":
            col = cast(col, Date)
        out.append((col, descending))
    return out


def _ordered(col: ColumnElement, descending: bool) -> ColumnElement:
    return (col.desc() if descending else col.asc()).nulls_last()


def _properties_expr(layer: LayerInfo, kind: Kind, q: FeatureQuery) -> ColumnElement:
    if q.properties is None:
        return Feature.properties
    types = queryable_types(kind, layer.extra_fields)
    unknown = [n for n in q.properties if n not in types]
    if unknown:
        raise FilterError(
            f"properties: unknown property {unknown[0]!r}; properties: {', '.join(sorted(types))}"
        )
    pairs: list[ColumnElement] = []
    for name in dict.fromkeys(q.properties):
        pairs += [literal(name), Feature.properties[name]]
    return func.jsonb_build_object(*pairs)


def query_features(conn: Connection, layer: LayerInfo, kind: Kind, q: FeatureQuery) -> FeaturePage:
    """One page of features as a GeoJSON ``features`` array (text), ordered by ``q.sortby``
    and then ``fid``."""
    keys = _sort_keys(layer, kind, q)
    geom = cast(null(), JSON) if q.skip_geometry else cast(_geom_expr(q), JSON)
    inner = (
        select(
            Feature.fid,
            geom.label("g"),
            _properties_expr(layer, kind, q).label("properties"),
            *(col.label(f"s{i}") for i, (col, _) in enumerate(keys)),
        )
        .where(*_where(layer, kind, q))
        .order_by(*(_ordered(col, d) for col, d in keys), Feature.fid)
        .limit(q.limit)
        .offset(q.offset)
        .subquery()
    )
    agg_order = [_ordered(inner.c[f"s{i}"], d) for i, (_, d) in enumerate(keys)]
    feature = func.json_build_object(
        literal("type"),
        literal("Feature"),
        literal("id"),
        inner.c.fid,
        literal("geometry"),
        inner.c.g,
        literal("properties"),
        inner.c.properties,
    )
    stmt = select(
        cast(
            func.coalesce(
                func.json_agg(aggregate_order_by(feature, *agg_order, inner.c.fid)),
                text("'[]'::json"),
            ),
            Text,
        ),
        cast(func.count(), Integer),
    )
    array, n = conn.execute(stmt).one()
    return FeaturePage(features_json=array, number_returned=int(n))


def count_features(
    conn: Connection, layer: LayerInfo, kind: Kind, q: FeatureQuery, cap: int
) -> int | None:
    """How many features match ``q`` (paging ignored), or None when more than ``cap``.

    The count stops after ``cap + 1`` rows, so it stays cheap on large layers.
    """
    matched = select(literal(1)).where(*_where(layer, kind, q)).limit(cap + 1).subquery()
    n = int(conn.execute(select(func.count()).select_from(matched)).scalar_one())
    return n if n <= cap else None


#: Bytes of GeoJSON per vertex at 6 decimals ("[5.123456,52.123456],") and per feature (envelope).
GEOJSON_BYTES_PER_VERTEX = 22
GEOJSON_BYTES_PER_FEATURE = 60


def feature_stats(
    conn: Connection, layer: LayerInfo, kind: Kind, q: FeatureQuery
) -> tuple[int, int]:
    """How many features match (without paging) and about how many bytes of GeoJSON they make."""
    stmt = select(
        func.count(),
        func.coalesce(func.sum(func.ST_NPoints(Feature.geom)), 0),
        func.coalesce(func.sum(func.length(cast(Feature.properties, Text))), 0),
    ).where(*_where(layer, kind, q))
    n, vertices, props = conn.execute(stmt).one()
    size = (
        int(vertices) * GEOJSON_BYTES_PER_VERTEX + int(props) + int(n) * GEOJSON_BYTES_PER_FEATURE
    )
    return int(n), size


# -- gemeenten: names, extents and the province outline (pages, maps) ---------------------


def gemeente_names(
    conn: Connection, layer: LayerInfo, viewer: Viewer | None = PUBLIC
) -> list[tuple[str, str]]:
    """(statcode, naam) of the current gemeenten in ``layer`` that ``viewer`` may see, by naam."""
    naam = Feature.properties["naam"].astext
    rows = conn.execute(
        select(Feature.gemeente, naam)
        .where(Feature.layer_id == layer.id, version_filter(None), feature_visibility(viewer))
        .order_by(naam)
    ).all()
    return [(r[0], r[1]) for r in rows]


def gemeente_extent(
    conn: Connection, layer: LayerInfo, statcode: str, viewer: Viewer | None = PUBLIC
) -> tuple[str, tuple[float, float, float, float]] | None:
    """Naam and RD bbox of gemeente ``statcode`` in ``layer`` as ``viewer`` sees it (None: none)."""
    row = conn.execute(
        select(
            Feature.properties["naam"].astext,
            func.ST_XMin(Feature.geom),
            func.ST_YMin(Feature.geom),
            func.ST_XMax(Feature.geom),
            func.ST_YMax(Feature.geom),
        ).where(
            Feature.layer_id == layer.id,
            version_filter(None),
            Feature.gemeente == statcode,
            feature_visibility(viewer),
        )
    ).first()
    if row is None:
        return None
    return row[0], (row[1], row[2], row[3], row[4])


def union_outline(
    conn: Connection, layer: LayerInfo, viewer: Viewer | None = PUBLIC, decimals: int = 6
) -> tuple[str | None, tuple[float, float, float, float] | None]:
    """The union of the features of ``layer`` (at its pinned version) that ``viewer`` may see,
    as CRS84 GeoJSON geometry text, and its lon/lat bounds (None, None: no feature)."""
    version = None if layer.version == layer.current_version else layer.version
    union = (
        select(func.ST_Transform(func.ST_Union(Feature.geom), 4326).label("g"))
        .where(Feature.layer_id == layer.id, version_filter(version), feature_visibility(viewer))
        .subquery()
    )
    geojson, xmin, ymin, xmax, ymax = conn.execute(
        select(
            func.ST_AsGeoJSON(union.c.g, decimals),
            func.ST_XMin(union.c.g),
            func.ST_YMin(union.c.g),
            func.ST_XMax(union.c.g),
            func.ST_YMax(union.c.g),
        )
    ).one()
    if geojson is None:
        return None, None
    return geojson, (xmin, ymin, xmax, ymax)
