"""Feature queries that return GeoJSON built by PostGIS, from small named pieces.

The API and the maps ask for features of one layer by bbox, gemeente and property
values, paged, in a requested CRS. PostGIS transforms, simplifies and serialises the
geometry and aggregates the features into one JSON array, so Python never parses or
re-serialises feature JSON on the hot path. A page's statement is made once per shape of query
and run with the box, limit and offset bound (:func:`_page_statement`); CRS84 geometry comes
from the row's stored Web Mercator geometry where it has one (:mod:`layers.tile_geometries`).
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import (
    JSON,
    Connection,
    Date,
    Float,
    Integer,
    Select,
    Text,
    and_,
    bindparam,
    case,
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
from layers.models import STORAGE_SRID, Feature, TileGeometry
from layers.store import LayerInfo, version_filter
from layers.tile_geometries import same_row_tile_geometry


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
    after: tuple | None = None
    """Keyset paging: the sort values and then the ``fid`` of the last feature of the page
    before (:attr:`FeaturePage.last_key`); the page starts after it (``offset`` is then 0)."""
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
    last_key: tuple | None = None
    """The sort values and ``fid`` of the page's last feature (for :attr:`FeatureQuery.after`)."""
    number_matched: int | None = None
    """With ``count_cap``: how many features match (paging ignored), None above the cap."""


def _geom_expr(q: FeatureQuery) -> ColumnElement:
    geom: ColumnElement = Feature.geom
    if q.simplify:
        geom = func.ST_SimplifyPreserveTopology(geom, q.simplify)
    if q.out_srid != STORAGE_SRID:
        geom = func.ST_Transform(geom, q.out_srid)
        if uses_tile_geometry(q):
            # WGS84 from the row's stored Web Mercator geometry when it has one: the inverse
            # Mercator is a few times cheaper than RD New's sterea and datum shift, which was
            # a third of a page's time in the database (issue 14); the coordinates agree to
            # the 7 decimals written (a test compares every feature of a layer).
            geom = func.coalesce(func.ST_Transform(TileGeometry.geom, q.out_srid), geom)
    if q.latlon:
        geom = func.ST_FlipCoordinates(geom)
    # Options 0: no bbox and no ``crs`` member (RFC 7946 has none; Content-Crs says the CRS).
    return func.ST_AsGeoJSON(geom, q.decimals, 0)


WGS84_SRID = 4326


def uses_tile_geometry(q: FeatureQuery) -> bool:
    """Whether the output geometry may come from ``tile_geometries`` (WGS84, unsimplified):
    then storing the layer's (:func:`layers.tile_geometries.prepare_later`) pays."""
    return q.out_srid == WGS84_SRID and not q.simplify and not q.skip_geometry


def _box_values(q: FeatureQuery) -> tuple[float, ...] | None:
    """``q.bbox`` as the filter uses it: cut to where RD New is defined (degrees), then the
    densification step (0 in RD); () when nothing is left of it, None without a bbox."""
    if q.bbox is None:
        return None
    box = q.bbox
    if q.bbox_srid in (4326, 4258):
        # Cut to where RD New is defined first: a box around the world must hold every
        # feature, not turn into nonsense in RD.
        a = RD_AREA_DEGREES
        box = (max(box[0], a[0]), max(box[1], a[1]), min(box[2], a[2]), min(box[3], a[3]))
        if box[0] > box[2] or box[1] > box[3]:
            return ()
    # Densify before transforming so the box's curved edges in RD are followed.
    # 16 segments along the longer side (a box that is a line must not become millions).
    step = max(box[2] - box[0], box[3] - box[1]) / 16 or 1e-6
    return (*box, step if q.bbox_srid != STORAGE_SRID else 0.0)


#: Names of the bound parameters of a page's box (:func:`_bbox_filter` with ``bound``).
_BOX_PARAMS = ("box_x0", "box_y0", "box_x1", "box_y1", "box_step")


def _bbox_filter(q: FeatureQuery, bound: bool = False) -> ColumnElement | None:
    """The bbox condition; with ``bound`` its numbers are the parameters :data:`_BOX_PARAMS`
    (:func:`_page_params` gives them), so that one statement serves every box."""
    values = _box_values(q)
    if values is None:
        return None
    if not values:
        return false()
    *box, step = (
        [bindparam(n, v, type_=Float) for n, v in zip(_BOX_PARAMS, values, strict=True)]
        if bound
        else values
    )
    env = func.ST_MakeEnvelope(*box, q.bbox_srid)
    if q.bbox_srid != STORAGE_SRID:
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


def _where(
    layer: LayerInfo, kind: Kind, q: FeatureQuery, bound: bool = False
) -> list[ColumnElement]:
    clauses: list[ColumnElement] = [
        Feature.layer_id == layer.id,
        version_filter(q.version),
        feature_visibility(q.viewer),
    ]
    box = _bbox_filter(q, bound)
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


#: Longest cursor accepted (a key of a few sort values and a fid is well under 200 characters).
CURSOR_MAX_CHARS = 2_000


def encode_cursor(key: tuple) -> str:
    """The ``cursor`` query parameter for the page after the one that ended at ``key``."""
    raw = json.dumps(list(key), separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str) -> tuple:
    """:func:`encode_cursor` undone; :class:`FilterError` (400) for anything else."""
    problem = FilterError(
        "cursor: not a cursor of this service; follow the next link, or page with offset"
    )
    if len(token) > CURSOR_MAX_CHARS:
        raise problem
    try:
        key = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, UnicodeDecodeError) as exc:
        raise problem from exc
    if (
        not isinstance(key, list)
        or not key
        or not isinstance(key[-1], int)
        or isinstance(key[-1], bool)
        or not all(v is None or isinstance(v, (str, int, float)) for v in key[:-1])
        or any(isinstance(v, bool) for v in key)
        or not -(2**63) <= key[-1] < 2**63
    ):
        raise problem
    return tuple(key)


def _after_clause(keys: list[tuple[ColumnElement, bool]], after: tuple) -> ColumnElement:
    """Rows that come after ``after`` (sort values, then fid) in the order of :func:`_ordered`
    (nulls last): equal on a prefix of the keys and later on the next one, or equal on all and
    a higher fid."""
    if len(after) != len(keys) + 1:
        raise FilterError(
            f"cursor: holds {len(after) - 1} sort values, the query sorts by {len(keys)}; "
            "follow the next link of the same query"
        )
    *values, fid = after
    branches: list[ColumnElement] = []
    prefix: list[ColumnElement] = []
    for (col, descending), value in zip(keys, values, strict=True):
        if isinstance(col.type, Date) and isinstance(value, str):
            try:
                value = date.fromisoformat(value)
            except ValueError as exc:
                raise FilterError(f"cursor: {value!r} is not a date") from exc
        if value is not None:  # after a null only nulls follow (nulls last)
            later = col < value if descending else col > value
            branches.append(and_(*prefix, or_(later, col.is_(None))))
            prefix.append(col == value)
        else:
            prefix.append(col.is_(None))
    branches.append(and_(*prefix, Feature.fid > fid))
    return or_(*branches)


def query_features(
    conn: Connection, layer: LayerInfo, kind: Kind, q: FeatureQuery, count_cap: int | None = None
) -> FeaturePage:
    """One page of features as a GeoJSON ``features`` array (text), ordered by ``q.sortby``
    and then ``fid``.

    The page is chosen first from the keys alone (fid and sort values: with no ``sortby`` the
    primary key is walked in order), and only its rows are read again by primary key to encode
    geometry and properties: a page deep in a layer costs about what the first does
    (issue 14). ``q.after`` pages by keyset instead of ``offset``.

    With ``count_cap``, :attr:`FeaturePage.number_matched` says how many features match, in
    the same statement: exactly from the page when it is the last one (fewer rows than the
    limit, none counted), else counted up to ``count_cap + 1`` rows (as
    :func:`count_features`; None above the cap).
    """
    box = _box_values(q)
    row = conn.execute(_page_statement(layer, kind, q, count_cap, box), _page_params(q, box)).one()
    array, n, last_key = row[0], int(row[1]), row[2]
    matched = None
    if count_cap is not None:
        raw = row[3]
        matched = q.offset + n if raw is None else (int(raw) if raw <= count_cap else None)
    return FeaturePage(
        features_json=array,
        number_returned=n,
        last_key=tuple(json.loads(last_key)) if last_key else None,
        number_matched=matched,
    )


def _page_params(q: FeatureQuery, box: tuple[float, ...] | None) -> dict[str, object]:
    """The bound parameters of :func:`_page_statement`: the box (:func:`_box_values`), limit
    and offset."""
    params: dict[str, object] = {"page_limit": q.limit, "page_offset": q.offset}
    if box:
        params.update(zip(_BOX_PARAMS, box, strict=True))
    return params


class StatementCache:
    """Statements by a key of everything but their bound parameters, shared by the threads
    of the pool: building a statement and deriving SQLAlchemy's cache key for it cost more
    Python than the rest of a small request (issue 14). Cleared when ``size`` is reached."""

    def __init__(self, size: int = 1024) -> None:
        self._size = size
        self._statements: dict[tuple, Select] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple) -> Select | None:
        """The statement made for ``key``, or None."""
        with self._lock:
            return self._statements.get(key)

    def put(self, key: tuple, stmt: Select) -> Select:
        """Keep ``stmt`` for ``key``; return it."""
        with self._lock:
            if len(self._statements) >= self._size:
                self._statements.clear()
            self._statements[key] = stmt
        return stmt

    def clear(self) -> None:
        """Forget every statement."""
        with self._lock:
            self._statements.clear()

    def __len__(self) -> int:
        return len(self._statements)


#: Page statements by :func:`_page_key`.
_statements = StatementCache()


def _page_key(
    layer: LayerInfo,
    kind: Kind,
    q: FeatureQuery,
    count_cap: int | None,
    box: tuple[float, ...] | None,
) -> tuple:
    """What a page statement is made of, apart from its bound parameters: every other value
    in it is a literal of one of these."""
    return (
        layer.id,
        layer.version,
        tuple(sorted(layer.extra_fields.items())),
        kind.name,
        None if box is None else bool(box),
        q.bbox_srid,
        q.gemeente,
        tuple(sorted(q.filters.items())),
        tuple(sorted(q.at_least.items())),
        q.out_srid,
        q.latlon,
        q.decimals,
        q.simplify,
        q.version,
        q.fid,
        q.interval,
        q.cql,
        q.filter_srid,
        q.sortby,
        q.properties,
        q.skip_geometry,
        q.family,
        q.viewer,
        q.offset == 0,
        count_cap,
    )


def _page_statement(
    layer: LayerInfo,
    kind: Kind,
    q: FeatureQuery,
    count_cap: int | None,
    box: tuple[float, ...] | None,
) -> Select:
    """The statement of :func:`query_features` for ``q``, with the box, limit and offset as
    bound parameters (:func:`_page_params`); made once per :func:`_page_key`. A keyset's
    values are literals: such a statement serves one page and is not kept."""
    key = _page_key(layer, kind, q, count_cap, box)
    stmt = _statements.get(key) if q.after is None else None
    if stmt is not None:
        return stmt
    limit = bindparam("page_limit", type_=Integer)
    keys = _sort_keys(layer, kind, q)
    where = _where(layer, kind, q, bound=True)
    matching = list(where)
    if q.after is not None:
        where.append(_after_clause(keys, q.after))
    page = (
        select(
            Feature.fid,
            Feature.version_from,
            *(col.label(f"s{i}") for i, (col, _) in enumerate(keys)),
        )
        .where(*where)
        .order_by(*(_ordered(col, d) for col, d in keys), Feature.fid)
        .limit(limit)
        .offset(bindparam("page_offset", type_=Integer))
        .cte("page")
    )
    geom = cast(null(), JSON) if q.skip_geometry else cast(_geom_expr(q), JSON)
    joined = select(
        page,
        geom.label("g"),
        _properties_expr(layer, kind, q).label("properties"),
    ).join(
        Feature,
        and_(
            Feature.layer_id == layer.id,
            Feature.fid == page.c.fid,
            Feature.version_from == page.c.version_from,
        ),
    )
    if uses_tile_geometry(q):
        joined = joined.outerjoin(TileGeometry, same_row_tile_geometry())
    rows = joined.subquery()
    agg_order = [_ordered(rows.c[f"s{i}"], d) for i, (_, d) in enumerate(keys)]
    feature = func.json_build_object(
        literal("type"),
        literal("Feature"),
        literal("id"),
        rows.c.fid,
        literal("geometry"),
        rows.c.g,
        literal("properties"),
        rows.c.properties,
    )
    # The page's order reversed (nulls first), to pick its last row.
    last_order = [
        (page.c[f"s{i}"].asc() if d else page.c[f"s{i}"].desc()).nulls_first()
        for i, (_, d) in enumerate(keys)
    ]
    last = (
        select(func.json_build_array(*(page.c[f"s{i}"] for i in range(len(keys))), page.c.fid))
        .order_by(*last_order, page.c.fid.desc())
        .limit(1)
        .scalar_subquery()
    )
    columns = [
        cast(
            func.coalesce(
                func.json_agg(aggregate_order_by(feature, *agg_order, rows.c.fid)),
                text("'[]'::json"),
            ),
            Text,
        ),
        cast(func.count(), Integer),
        cast(last, Text),
    ]
    if count_cap is not None:
        counted = (
            select(func.count())
            .select_from(select(literal(1)).where(*matching).limit(count_cap + 1).subquery())
            .scalar_subquery()
        )
        # Counted only when the page does not tell (PostgreSQL runs the subquery when the
        # CASE needs it): a full page, an empty page after an offset, any keyset page.
        returned = func.count()
        if q.after is not None:
            columns.append(counted)
        else:
            need = returned >= limit if q.offset == 0 else or_(returned >= limit, returned == 0)
            columns.append(case((need, counted), else_=null()))
    stmt = select(*columns)
    return stmt if q.after is not None else _statements.put(key, stmt)


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
    conn: Connection, layer: LayerInfo, kind: Kind, q: FeatureQuery, cap: int | None = None
) -> tuple[int, int]:
    """How many features match (without paging) and about how many bytes of GeoJSON they make.

    With ``cap``, at most ``cap + 1`` rows are read: a count above ``cap`` comes back as
    ``cap + 1`` with the size of those rows only, so a caller that only embeds layers of up to
    ``cap`` features does not read (and detoast) every geometry of a large one.
    """
    rows = select(Feature.geom, Feature.properties).where(*_where(layer, kind, q))
    if cap is not None:
        rows = rows.limit(cap + 1)
    sub = rows.subquery()
    stmt = select(
        func.count(),
        func.coalesce(func.sum(func.ST_NPoints(sub.c.geom)), 0),
        func.coalesce(func.sum(func.length(cast(sub.c.properties, Text))), 0),
    )
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
